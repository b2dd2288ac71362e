"""Shared interface of the mutual-information estimators.

Every estimator is an :class:`torch.nn.Module` with

* ``loss(x, y)``      -- the scalar the optimiser minimises on a batch;
* ``estimate(x, y)``  -- the estimate (nats, 0-d tensor) on a batch, computed
  from scratch (no cache shared with ``loss``; it does not change any state);
* ``loss_and_estimate(x, y)`` -- both from one forward pass, used by the one
  training loop :func:`fit` (the estimate is detached).

Shapes: ``x`` is ``(N, d_x)`` float, ``y`` is ``(N, d_y)`` float, or ``(N,)``
integer class indices for estimators with a categorical ``q(y|x)``. All values are
in nats. ``kind`` says what the number is: ``"upper bound"``, ``"lower bound"`` or
``"point estimate"``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

__all__ = [
    "MIEstimator",
    "mlp",
    "SkipMLP",
    "logmeanexp_offdiag",
    "offdiag_mean",
    "fit",
    "check_batch",
    "KINDS",
    "MIResult",
    "check_units",
    "frozen_copy",
    "WeightAveraged",
]

KINDS = ("upper bound", "lower bound", "point estimate")


def mlp(
    in_dim: int, hidden: Sequence[int], out_dim: int, activation: type[nn.Module] = nn.ReLU
) -> nn.Sequential:
    """Multilayer perceptron ``in_dim -> hidden... -> out_dim`` (linear output)."""
    if in_dim < 1 or out_dim < 1:
        raise ValueError(f"mlp: in_dim and out_dim must be >= 1, got {in_dim}, {out_dim}")
    hidden = tuple(int(h) for h in hidden)
    if any(h < 1 for h in hidden):
        raise ValueError(f"hidden: every layer width must be >= 1, got {hidden}")
    layers: list[nn.Module] = []
    prev = in_dim
    for h in hidden:
        layers += [nn.Linear(prev, h), activation()]
        prev = h
    layers.append(nn.Linear(prev, out_dim))
    return nn.Sequential(*layers)


class SkipMLP(nn.Module):
    """``mlp(x) + W x``: an MLP plus a linear skip path (bias-free), so that linear
    functions, the exact answer for Gaussian data, are available from the start and
    the MLP learns only the non-linear part."""

    def __init__(
        self, in_dim: int, hidden: Sequence[int], out_dim: int, activation: type[nn.Module] = nn.ReLU
    ) -> None:
        super().__init__()
        self.net = mlp(in_dim, hidden, out_dim, activation)
        self.skip = nn.Linear(in_dim, out_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x) + self.skip(x)


def offdiag_mean(m: torch.Tensor) -> torch.Tensor:
    """Mean of the off-diagonal entries of a square ``(N, N)`` matrix (N >= 2)."""
    n = m.shape[0]
    return (m.sum() - torch.diagonal(m).sum()) / (n * (n - 1))


def logmeanexp_offdiag(scores: torch.Tensor) -> torch.Tensor:
    """``log( mean_{i != j} exp(scores[i, j]) )`` computed with logsumexp.

    All ordered pairs ``(x_i, y_j)``, ``i != j``, are the negatives: every ``y_j`` of
    the batch is paired with every other ``x_i`` (no replacement, no fixed points).
    """
    n = scores.shape[0]
    eye = torch.eye(n, dtype=torch.bool, device=scores.device)
    masked = scores.masked_fill(eye, float("-inf"))
    return torch.logsumexp(masked.reshape(-1), dim=0) - math.log(n * (n - 1))


def check_batch(x: torch.Tensor, y: torch.Tensor, *, y_labels: bool = False) -> None:
    """Validate a batch given to ``loss``/``estimate``; raise ``ValueError`` if bad."""
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise ValueError("x and y must be torch tensors (use estimate_mi for arrays)")
    if x.dim() != 2:
        raise ValueError(f"x must have shape (N, d_x), got {tuple(x.shape)}")
    if y_labels:
        if y.dim() != 1 or y.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
            raise ValueError(f"y must be (N,) integer class indices, got shape {tuple(y.shape)} dtype {y.dtype}")
    elif y.dim() != 2:
        raise ValueError(f"y must have shape (N, d_y), got {tuple(y.shape)}")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must have the same number of samples N, got {x.shape[0]} and {y.shape[0]}")
    if x.shape[0] < 2:
        raise ValueError(f"a batch needs N >= 2 samples (negatives are other samples), got {x.shape[0]}")


class MIEstimator(nn.Module):
    """Base class. Subclasses implement :meth:`loss_and_estimate`."""

    kind: str = "point estimate"
    #: Adam learning rate used when none is given
    default_lr: float = 1e-3
    #: whether ``y`` is ``(N,)`` integer class indices (categorical q) instead of ``(N, d_y)``
    y_is_labels: bool = False

    def loss_and_estimate(
        self, x: torch.Tensor, y: torch.Tensor, *, update: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(loss, estimate)`` on one batch; ``estimate`` is detached, nats.

        ``update=False`` forbids any change of training state (e.g. MINE's moving
        average), which :meth:`estimate` relies on.
        """
        raise NotImplementedError

    def lr_scale(self) -> float:
        """Factor applied by :func:`fit` to the learning rate at the next step (1 by
        default; critic estimators raise it during their first steps, see
        :class:`~neural.mi.mine.CriticEstimator`)."""
        return 1.0

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Training loss on a batch (0-d tensor, to be minimised)."""
        return self.loss_and_estimate(x, y)[0]

    def estimate(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """MI estimate on a batch, nats (0-d tensor); pure: no state is read from or
        written to a cache filled by :meth:`loss`."""
        with torch.no_grad():
            return self.loss_and_estimate(x, y, update=False)[1]


def frozen_copy(module: nn.Module) -> nn.Module:
    """A deep copy of ``module`` whose parameters are plain buffers: it moves with
    ``.to()`` and is saved in ``state_dict``, but is not in ``parameters()`` (so no
    optimiser touches it)."""
    twin = copy.deepcopy(module)
    for m in twin.modules():
        if m._buffers:
            raise ValueError("frozen_copy: modules with buffers are not supported")
        for name, p in list(m._parameters.items()):
            del m._parameters[name]
            m.register_buffer(name, None if p is None else p.detach().clone())
    return twin


class WeightAveraged(MIEstimator):
    """Estimator whose *estimate* comes from an exponential moving average of the
    weights of one trained sub-network (Polyak averaging); its loss always uses the
    trained network.

    SGD noise in the weights lowers a variational bound that is concave in the network
    output (MINE and its peers) and scatters the per-batch estimates; averaging the
    weights removes most of it. The average is folded in at the start of every
    training forward pass (``loss_and_estimate(..., update=True)``) from the weights
    the optimiser left there, so any training loop that calls ``loss`` keeps it
    current, and the estimate on a training batch is still taken *before* that
    batch's update. After t updates the rate is ``max(average, 9 / (10 + t))``, so
    the average of a fresh estimator does not lag its first steps. After setting
    weights by hand, call :meth:`reset_average`.

    Subclasses call :meth:`_init_average` in ``__init__`` once the network exists.
    """

    def _init_average(self, live: str, average: float) -> None:
        if not 0 <= average <= 1:
            raise ValueError(f"average must be in [0, 1], got {average}")
        self.average = float(average)
        self._live_name = live
        self._avg_name = live + "_avg"
        setattr(self, self._avg_name, frozen_copy(getattr(self, live)) if self.average > 0 else None)
        #: training forward passes so far
        self.register_buffer("n_updates", torch.zeros((), dtype=torch.long))

    def averaged(self) -> nn.Module:
        """The network that gives the estimate: the weight average (or the trained
        network itself when ``average == 0``)."""
        avg = getattr(self, self._avg_name)
        return getattr(self, self._live_name) if avg is None else avg

    @torch.no_grad()
    def reset_average(self) -> None:
        """Set the weight average to the current weights."""
        avg = getattr(self, self._avg_name)
        if avg is not None:
            torch._foreach_copy_(list(avg.buffers()), list(getattr(self, self._live_name).parameters()))

    @torch.no_grad()
    def _fold_average(self) -> None:
        t = int(self.n_updates)
        avg = getattr(self, self._avg_name)
        if avg is not None:
            rate = 1.0 if t == 0 else max(self.average, 9.0 / (10.0 + t))
            torch._foreach_lerp_(list(avg.buffers()), list(getattr(self, self._live_name).parameters()), rate)
        self.n_updates += 1


def fit(
    estimator: MIEstimator,
    batches: Iterator[tuple[torch.Tensor, torch.Tensor]],
    steps: int,
    *,
    lr: float = 1e-3,
    callback: Callable[[int, float], None] | None = None,
) -> np.ndarray:
    """The one training loop shared by all neural estimators.

    Draws ``steps`` batches from ``batches``, and for each one computes the loss and
    the batch estimate (the estimate is taken *before* the update, so on a fresh batch
    it is a held-out value), then takes an Adam step with learning rate
    ``lr * estimator.lr_scale()`` (the scale is 1 except during the burn-in of a fresh
    critic estimator). A new Adam optimiser is created at each call; the estimator's
    own state (weights, weight average, step count) carries over.

    Returns the per-step batch estimates, shape ``(steps,)``, nats.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr}")
    opt = torch.optim.Adam(estimator.parameters(), lr=lr)
    estimator.train()
    trace: list[torch.Tensor] = []
    scale = None
    for step in range(steps):
        x, y = next(batches)
        s = estimator.lr_scale()
        if s != scale:
            scale = s
            for group in opt.param_groups:
                group["lr"] = lr * s
        loss, est = estimator.loss_and_estimate(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        trace.append(est.detach())  # stays on the device: no per-step sync
        if callback is not None:
            callback(step, float(est))
    estimator.eval()
    return torch.stack(trace).to("cpu", torch.float64).numpy()


UNITS = {"nats": 1.0, "bits": 1.0 / math.log(2.0)}


def check_units(units: str) -> float:
    """Factor converting nats to ``units`` (``"nats"`` or ``"bits"``)."""
    if units not in UNITS:
        raise ValueError(f"units must be 'nats' or 'bits', got {units!r}")
    return UNITS[units]


@dataclass(frozen=True)
class MIResult:
    """An MI estimate.

    Attributes:
        estimate: the value, in ``units``.
        stderr: its standard error, in ``units`` (over held-out batches for neural
            methods; asymptotic formula for the plug-in); NaN when not available.
        kind: ``"upper bound"``, ``"lower bound"`` or ``"point estimate"``.
        units: ``"nats"`` or ``"bits"``.
        method: the estimator used.
        ci: a confidence interval ``(low, high)`` in ``units`` (plug-in) or ``None``.
        n_train, n_test: samples used for training and for the reported value.
        trace: per-step training-batch estimates ``(steps,)`` in ``units`` (neural
            methods; empty for the plug-in) -- plot it to judge convergence.
    """

    estimate: float
    stderr: float
    kind: str
    units: str
    method: str
    ci: tuple[float, float] | None = None
    n_train: int = 0
    n_test: int = 0
    trace: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    def __float__(self) -> float:
        return float(self.estimate)

    def to(self, units: str) -> "MIResult":
        """The same result expressed in ``units``."""
        f = check_units(units) / check_units(self.units)
        ci = None if self.ci is None else (self.ci[0] * f, self.ci[1] * f)
        return replace(
            self, estimate=self.estimate * f, stderr=self.stderr * f, units=units, ci=ci, trace=self.trace * f
        )
