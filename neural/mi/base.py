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
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

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
    "MIHistory",
    "NonFiniteLossError",
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
        self,
        in_dim: int,
        hidden: Sequence[int],
        out_dim: int,
        activation: type[nn.Module] = nn.ReLU,
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
            raise ValueError(
                f"y must be (N,) integer class indices, got shape {tuple(y.shape)} dtype {y.dtype}"
            )
    elif y.dim() != 2:
        raise ValueError(f"y must have shape (N, d_y), got {tuple(y.shape)}")
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"x and y must have the same number of samples N, got {x.shape[0]} and {y.shape[0]}"
        )
    if x.shape[0] < 2:
        raise ValueError(
            f"a batch needs N >= 2 samples (negatives are other samples), got {x.shape[0]}"
        )


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

    def optimizer(self) -> torch.optim.Optimizer | None:
        """The Adam optimiser :func:`fit` keeps between calls (``None`` before the first)."""
        return self.__dict__.get("_fit_optimizer")

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
        setattr(
            self, self._avg_name, frozen_copy(getattr(self, live)) if self.average > 0 else None
        )
        #: training forward passes so far
        self.register_buffer("n_updates", torch.zeros((), dtype=torch.long))
        self.register_load_state_dict_pre_hook(_upgrade_pre_averaging_checkpoint)

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
            torch._foreach_copy_(
                list(avg.buffers()), list(getattr(self, self._live_name).parameters())
            )

    @torch.no_grad()
    def _fold_average(self) -> None:
        t = int(self.n_updates)
        avg = getattr(self, self._avg_name)
        if avg is not None:
            rate = 1.0 if t == 0 else max(self.average, 9.0 / (10.0 + t))
            torch._foreach_lerp_(
                list(avg.buffers()), list(getattr(self, self._live_name).parameters()), rate
            )
        self.n_updates += 1


class NonFiniteLossError(FloatingPointError):
    """Training produced a non-finite loss or estimate (NaN or inf); raised by :func:`fit`
    before the optimiser step, so the weights are those of the last finite step."""

    def __init__(self, message: str, *, step: int, lr: float) -> None:
        super().__init__(message)
        self.step, self.lr = int(step), float(lr)


def _optimizer(estimator: MIEstimator, lr: float) -> torch.optim.Optimizer:
    """The Adam optimiser that :func:`fit` keeps on ``estimator`` between calls (its
    moment estimates carry over); a new one when the parameters changed identity."""
    params = list(estimator.parameters())
    opt = estimator.__dict__.get("_fit_optimizer")
    if opt is None or [id(p) for g in opt.param_groups for p in g["params"]] != [
        id(p) for p in params
    ]:
        opt = torch.optim.Adam(params, lr=lr)
        estimator.__dict__["_fit_optimizer"] = opt
    return opt


def _upgrade_pre_averaging_checkpoint(
    module: WeightAveraged, state_dict: dict, prefix: str, *args: object
) -> None:
    """Load-state-dict pre-hook: a checkpoint saved before weight averaging existed has
    the trained network's weights but no ``<net>_avg.*`` entries and no ``n_updates``.
    Such a checkpoint is loaded with the average started from the loaded weights and
    the step count set past the burn-in (the network was trained), and a warning says so."""
    live, avg = prefix + module._live_name + ".", prefix + module._avg_name + "."
    if prefix + "n_updates" in state_dict or any(k.startswith(avg) for k in state_dict):
        return
    if not any(k.startswith(live) for k in state_dict):
        return  # not this estimator's checkpoint: let load_state_dict report the mismatch
    burn_in = int(getattr(module, "burn_in_steps", 0))
    state_dict[prefix + "n_updates"] = torch.tensor(max(burn_in, 1), dtype=torch.long)
    if getattr(module, module._avg_name) is not None:
        for k in [k for k in state_dict if k.startswith(live)]:
            state_dict[avg + k[len(live) :]] = state_dict[k].clone()
    warnings.warn(
        f"{type(module).__name__}: this checkpoint predates weight averaging (it has no "
        f"'{module._avg_name}' weights and no 'n_updates' count); it is loaded with the weight "
        f"average started from the loaded '{module._live_name}' weights and the step count set to "
        f"{max(burn_in, 1)} (past the learning-rate burn-in). Estimates equal those of the loaded "
        "network until training continues; save again to store the new format.",
        UserWarning,
        stacklevel=2,
    )


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
    critic estimator). The Adam optimiser is kept on the estimator between calls
    (``estimator.optimizer()``), so ``fit(e, b, 100); fit(e, b, 100)`` is the same as
    ``fit(e, b, 200)``; the estimator's own state (weights, weight average, step count)
    carries over too.

    A non-finite loss or batch estimate stops training at once with
    :class:`NonFiniteLossError` (naming the step and the learning rate), before the
    optimiser step: nothing NaN is ever returned or written into the weights.

    Returns the per-step batch estimates, shape ``(steps,)``, nats.
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    opt = _optimizer(estimator, lr)
    estimator.train()
    trace: list[float] = []
    scale = None
    for step in range(steps):
        x, y = next(batches)
        s = estimator.lr_scale()
        if s != scale:
            scale = s
            for group in opt.param_groups:
                group["lr"] = lr * s
        loss, est = estimator.loss_and_estimate(x, y)
        value = float(est)
        loss_value = float(loss.detach())
        if not (math.isfinite(loss_value) and math.isfinite(value)):
            estimator.eval()
            what = "loss" if not math.isfinite(loss_value) else "batch estimate"
            raise NonFiniteLossError(
                f"{type(estimator).__name__}: the training {what} became non-finite "
                f"({loss_value if what == 'loss' else value}) at step "
                f"{int(getattr(estimator, 'n_updates', step))} (step {step} of this call) with learning rate "
                f"{lr * s:g}{'' if s == 1 else f' (lr {lr:g} x {s:g} during the burn-in)'}; training stopped before the "
                "update. Lower lr, standardise the inputs, "
                "or use estimate_mi(..., on_nonfinite='restart')",
                step=step,
                lr=lr * s,
            )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        trace.append(value)
        if callback is not None:
            callback(step, value)
    estimator.eval()
    return np.asarray(trace, dtype=np.float64)


UNITS = {"nats": 1.0, "bits": 1.0 / math.log(2.0)}


def check_units(units: str) -> float:
    """Factor converting nats to ``units`` (``"nats"`` or ``"bits"``)."""
    if units not in UNITS:
        raise ValueError(f"units must be 'nats' or 'bits', got {units!r}")
    return UNITS[units]


@dataclass(frozen=True)
class MIHistory:
    """Training history of a neural estimate, one entry per evaluation.

    Attributes:
        step: training steps done at the evaluation, ``(K,)``.
        train: mean of the training-batch estimates since the previous evaluation, ``(K,)``.
        test: held-out estimate of the current network, ``(K,)``.
        units: units of ``train`` and ``test``.
    """

    step: np.ndarray
    train: np.ndarray
    test: np.ndarray
    units: str = "nats"

    def scaled(self, factor: float, units: str) -> MIHistory:
        return MIHistory(self.step, self.train * factor, self.test * factor, units)


@dataclass(frozen=True)
class MIResult:
    """An MI estimate.

    Attributes:
        estimate: the value, in ``units`` (always finite).
        stderr: its standard error, in ``units`` (over held-out batches for neural
            methods; asymptotic formula for the plug-in), or ``None`` when it cannot be
            computed (one held-out batch); ``notes`` then says why.
        kind: ``"upper bound"``, ``"lower bound"`` or ``"point estimate"``.
        units: ``"nats"`` (the module's convention) or ``"bits"``.
        method: the estimator used (the resolved one when ``"auto"`` was asked for).
        ci: a confidence interval ``(low, high)`` in ``units`` (plug-in) or ``None``.
        n_train, n_test: samples used for training and for the reported value.
        trace: per-step training-batch estimates ``(steps,)`` in ``units`` (neural
            methods; empty for the plug-in).
        history: :class:`MIHistory` (train and held-out estimate per evaluation) or
            ``None`` (plug-in); :meth:`plot` draws it.
        converged: plateau test on the held-out curve (see
            :func:`neural.mi.diagnostics.plateau_test`); ``None`` when nothing is trained.
        bounds: the trivial bounds ``(0, upper)`` in ``units``: ``upper`` is the
            (Miller-Madow) entropy of the discrete side(s), ``inf`` if both are continuous.
        in_bounds: whether ``estimate`` lies within ``bounds``; a value outside is
            warned about when the result is made, and explained in ``notes``.
        standardization: per-dimension ``{"x_mean", "x_scale", "y_mean", "y_scale"}``
            (lists; ``None`` for a side left as is) fitted on the training split, or
            ``None`` when standardisation was off or not applicable.
        lr: the learning rate of the run that gave the estimate (``None``: plug-in).
        notes: plain-language remarks (restarts, missing stderr, out-of-bounds, not converged).
    """

    estimate: float
    stderr: float | None
    kind: str
    units: str
    method: str
    ci: tuple[float, float] | None = None
    n_train: int = 0
    n_test: int = 0
    trace: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    history: MIHistory | None = field(default=None, repr=False)
    converged: bool | None = None
    bounds: tuple[float, float] = (0.0, math.inf)
    in_bounds: bool = True
    standardization: dict | None = field(default=None, repr=False)
    lr: float | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not math.isfinite(self.estimate):
            raise ValueError(f"MIResult: estimate must be finite, got {self.estimate}")
        if self.kind not in KINDS:
            raise ValueError(f"MIResult: kind must be one of {KINDS}, got {self.kind!r}")

    def __float__(self) -> float:
        return float(self.estimate)

    def to(self, units: str) -> MIResult:
        """The same result expressed in ``units``."""
        f = check_units(units) / check_units(self.units)
        ci = None if self.ci is None else (self.ci[0] * f, self.ci[1] * f)
        return replace(
            self,
            estimate=self.estimate * f,
            stderr=None if self.stderr is None else self.stderr * f,
            units=units,
            ci=ci,
            trace=self.trace * f,
            history=None if self.history is None else self.history.scaled(f, units),
            bounds=(self.bounds[0] * f, self.bounds[1] * f),
        )

    def plot(self, ax: Any = None, path: str | None = None) -> Any:
        """Draw the training history: the training-batch and held-out estimates per
        evaluation against the training step, the reported value, and the trivial
        upper bound when finite. ``path`` (``.png``) saves the figure. Returns the Axes."""
        from .diagnostics import plot_history

        return plot_history(self, ax=ax, path=path)
