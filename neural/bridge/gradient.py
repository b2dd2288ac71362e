"""Gradient training of an encoder p(x̂|x) on the exact Lagrangian, against the solver.

On a discrete source the semantic rate-distortion Lagrangian (DESIGN.md §1, eq. 11)

    F(p) = I(X;X̂) + (D_RD + β·D_IB) / λ

is an explicit, differentiable function of the encoder ``p(x̂|x)``: with
``p(x̂) = Σ_x p(x) p(x̂|x)`` (eq. 14) and ``p(x̂, y) = Σ_x p(x) p(y|x) p(x̂|x)``,

    I(X;X̂) = Σ_x,x̂ p(x) p(x̂|x) [log p(x̂|x) − log p(x̂)]
    D_RD   = Σ_x,x̂ p(x) p(x̂|x) d_RD(x, x̂)
    D_IB   = H(Y|X̂) − H(Y|X) = I(X;Y) − I(X̂;Y)       (eqs. 1–3)

(all logarithms natural inside, as λ and β are defined in nats; reported values are in
bits, ``base=2``, as :mod:`infotheory`). This module parametrises ``p(x̂|x)`` by

* ``"table"``: a softmax over a free ``(n, k)`` table of logits, and
* ``"net"``: a softmax over the logits of a small network of features of x (the
  source point's coordinates, the digit's image vector): a linear map plus a one-hidden-
  layer SiLU MLP. The linear part alone can represent the β = 0 optimum for squared
  error (``−‖x − c‖²/λ`` is linear in x up to a term that cancels in the softmax);
  the MLP has to learn the label-dependent part of ``d_IB``.

and minimises F with Adam (float64, full batch: F is computed exactly, nothing is
sampled), to compare with :func:`infotheory.semantic_rd` on the same problem. At β = 0
the problem is convex in ``p(x̂|x)`` and the solver's answer is certified, so gradient
training must reach it; at β > 0 both methods find stationary points and gradient
training can stop at a worse one (:func:`gradient_vs_ba` reports the gap).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from infotheory import evaluate_encoder, semantic_rd
from infotheory.sources import check_source_arrays

__all__ = [
    "ENCODERS",
    "DEFAULT_LR",
    "TOL_BITS",
    "GRADIENT_PRESETS",
    "ExactLagrangian",
    "SoftmaxTable",
    "FeatureEncoder",
    "GradientResult",
    "train_encoder",
    "train_encoders",
    "gradient_vs_ba",
    "plot_gradient",
]

#: encoder parametrisations of :func:`train_encoder`
ENCODERS = ("table", "net")
#: Adam's initial learning rate per encoder (the best of 0.1 / 0.3 / 1 for the table and
#: 0.003 / 0.01 / 0.03 / 0.1 / 0.3 for the network on the Gaussian and digits sources)
DEFAULT_LR = {"table": 0.3, "net": 0.03}
_LN2 = math.log(2.0)
_TINY = 1e-300  # floor inside log() only: p(x̂), p(x̂, y) never reach it with a softmax encoder


def _plogp(p: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
    """``Σ p log p`` over ``dims`` (nats), ``0 log 0 = 0``; the floor keeps the gradient finite."""
    return (p * torch.log(p.clamp_min(_TINY))).sum(dims)


def _check_tradeoffs(beta: Any, lam: Any) -> tuple[np.ndarray, np.ndarray]:
    b = np.atleast_1d(np.asarray(beta, dtype=np.float64))
    lm = np.atleast_1d(np.asarray(lam, dtype=np.float64))
    if b.ndim != 1 or lm.ndim != 1 or b.shape != lm.shape:
        raise ValueError(
            f"beta and lam must be numbers or 1-D sequences of equal length, got shapes "
            f"{b.shape} and {lm.shape}"
        )
    if not np.all(np.isfinite(b) & (b >= 0)):
        raise ValueError(f"beta must be finite and >= 0, got {b.tolist()}")
    if not np.all(np.isfinite(lm) & (lm > 0)):
        raise ValueError(f"lam must be finite and > 0, got {lm.tolist()}")
    return b, lm


class ExactLagrangian(nn.Module):
    """The exact terms of F for one discrete problem and B trade-offs ``(β_b, λ_b)``, as
    differentiable functions of ``log p(x̂|x)`` of shape ``(B, n, k)`` (float64). All
    values in nats. The B problems are independent: ``forward`` returns ``Σ_b F_b``, whose
    gradient with respect to encoder b is that of ``F_b`` alone.

    Args:
        p_x, p_y_given_x, d_rd: the problem (validated as :func:`infotheory.semantic_rd`
            validates it).
        beta, lam: numbers or equal-length sequences (``β ≥ 0``, ``λ > 0``).
    """

    def __init__(self, p_x: Any, p_y_given_x: Any, d_rd: Any, *, beta: Any, lam: Any) -> None:
        super().__init__()
        px, pyx, d = check_source_arrays(p_x, p_y_given_x, d_rd)
        b, lm = _check_tradeoffs(beta, lam)
        joint_xy = px[:, None] * pyx
        self.register_buffer("beta", torch.from_numpy(b))
        self.register_buffer("lam", torch.from_numpy(lm))
        self.register_buffer("p_x", torch.from_numpy(px.copy()))
        self.register_buffer("joint_xy", torch.from_numpy(joint_xy))
        self.register_buffer("d_rd", torch.from_numpy(d.copy()))
        nz = joint_xy[joint_xy > 0]
        pnz = px[px > 0]
        py = joint_xy.sum(0)
        py = py[py > 0]
        # H(Y|X) and H(Y) are constants of the problem (nats)
        self.h_y_given_x = float(-(nz @ np.log(nz)) + pnz @ np.log(pnz))
        self.h_y = float(-(py @ np.log(py)))

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(B, n, k)``: the shape of the batch of encoders."""
        n, k = self.d_rd.shape
        return (int(self.beta.shape[0]), int(n), int(k))

    def terms(self, log_enc: torch.Tensor) -> dict[str, torch.Tensor]:
        """``rate``, ``distortion_rd``, ``distortion_ib``, ``relevance`` and
        ``objective`` (F), each of shape ``(B,)``, in nats, for ``log p(x̂|x)`` of shape
        ``(B, n, k)``."""
        enc = log_enc.exp()
        joint = self.p_x[None, :, None] * enc  # p(x, x̂)
        q = joint.sum(1)  # p(x̂), eq. (14)
        rate = (joint * (log_enc - torch.log(q.clamp_min(_TINY))[:, None, :])).sum((1, 2))
        d_rd = (joint * self.d_rd).sum((1, 2))
        joint_xhat_y = enc.transpose(1, 2) @ self.joint_xy  # p(x̂, y)
        h_y_given_xhat = -_plogp(joint_xhat_y, (1, 2)) + _plogp(q, (1,))
        d_ib = h_y_given_xhat - self.h_y_given_x  # eq. (3)
        relevance = self.h_y - h_y_given_xhat
        objective = rate + (d_rd + self.beta * d_ib) / self.lam  # eq. (11) Lagrangian
        return {
            "rate": rate,
            "distortion_rd": d_rd,
            "distortion_ib": d_ib,
            "relevance": relevance,
            "objective": objective,
        }

    def forward(self, log_enc: torch.Tensor) -> torch.Tensor:
        """``Σ_b F_b`` in nats."""
        return self.terms(log_enc)["objective"].sum()


class SoftmaxTable(nn.Module):
    """``p(x̂|x) = softmax(θ_b[x])`` with free ``(n, k)`` logit tables θ_b, b < B
    (float64), each initialised with the same N(0, ``init_scale``²) draw from ``seed``."""

    def __init__(
        self, n: int, k: int, *, batch: int = 1, seed: int = 0, init_scale: float = 0.1
    ) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(int(seed))
        t = init_scale * torch.randn(n, k, generator=gen, dtype=torch.float64)
        self.logits = nn.Parameter(t.expand(batch, n, k).clone())

    def forward(self) -> torch.Tensor:
        """``log p(x̂|x)``, shape ``(B, n, k)``."""
        return torch.log_softmax(self.logits, dim=2)


def _linear_init(
    fan_in: int, shape: tuple[int, ...], batch: int, gen: torch.Generator
) -> nn.Parameter:
    """nn.Linear's default U(-1/√fan_in, 1/√fan_in), one draw copied to the B members."""
    bound = 1.0 / math.sqrt(fan_in)
    w = (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound
    return nn.Parameter(w.expand(batch, *shape).clone())


def _standardise(features: Any) -> np.ndarray:
    """Centre each column of ``features`` ``(n, d)`` and scale it to unit variance
    (constant columns are only centred)."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim == 1:
        f = f[:, None]
    if f.ndim != 2 or f.shape[0] < 2 or not np.all(np.isfinite(f)):
        raise ValueError(f"features must be a finite (n, d) array with n >= 2, got {f.shape}")
    sd = f.std(0)
    return (f - f.mean(0)) / np.where(sd > 0, sd, 1.0)


class FeatureEncoder(nn.Module):
    """``p(x̂|x) = softmax(W φ(x) + b + MLP(φ(x)))``: logits from features of x.

    ``features`` ``(n, d)`` (e.g. the source point's coordinates, the image vector) are
    standardised per column; the MLP has one SiLU hidden layer of ``hidden`` units.
    B independent networks (one per trade-off), each initialised with the same draw from
    ``seed``: the hidden layer as nn.Linear's default, the output layers (linear path and
    MLP) at zero, so training starts from the uniform encoder, with every codeword in use
    (a random start can leave codewords with almost no mass, and the softmax gradient of
    a codeword is proportional to its mass). float64.
    """

    def __init__(
        self,
        features: Any,
        k: int,
        *,
        batch: int = 1,
        hidden: int = 32,
        seed: int = 0,
    ) -> None:
        super().__init__()
        f = _standardise(features)
        self.register_buffer("features", torch.from_numpy(f))
        d = f.shape[1]
        gen = torch.Generator().manual_seed(int(seed))
        self.w = _linear_init(d, (d, k), batch, gen)
        self.b = _linear_init(d, (1, k), batch, gen)
        self.w1 = _linear_init(d, (d, hidden), batch, gen)
        self.b1 = _linear_init(d, (1, hidden), batch, gen)
        self.w2 = _linear_init(hidden, (hidden, k), batch, gen)
        self.b2 = _linear_init(hidden, (1, k), batch, gen)
        with torch.no_grad():  # output layers start at 0: the uniform encoder, no dead codeword
            for p in (self.w, self.b, self.w2, self.b2):
                p.zero_()

    def forward(self) -> torch.Tensor:
        """``log p(x̂|x)``, shape ``(B, n, k)``."""
        x = self.features
        h = torch.nn.functional.silu(x @ self.w1 + self.b1)
        return torch.log_softmax(x @ self.w + self.b + h @ self.w2 + self.b2, dim=2)


@dataclass(frozen=True)
class GradientResult:
    """Outcome of :func:`train_encoder`. Information quantities and F in bits.

    ``evaluation`` is :func:`infotheory.evaluate_encoder` of the trained encoder (its
    ``objective`` etc. agree with the torch values to rounding); ``trace_steps`` /
    ``trace_objective`` are F (bits) at log-spaced steps (step 0 = the initial encoder).
    ``seconds`` is the training time divided by the number of trade-offs trained together.
    """

    encoder: np.ndarray
    objective: float
    rate: float
    distortion_rd: float
    distortion_ib: float
    relevance: float
    steps: int
    seconds: float
    trace_steps: np.ndarray
    trace_objective: np.ndarray
    evaluation: Any


def _log_steps(steps: int, points: int) -> list[int]:
    s = np.unique(np.round(np.geomspace(1, steps, points)).astype(int))
    return [0, *s.tolist()]


def train_encoders(
    p_x: Any,
    p_y_given_x: Any,
    d_rd: Any,
    *,
    beta: Any,
    lam: Any,
    encoder: str = "table",
    features: Any = None,
    steps: int = 3000,
    lr: float | None = None,
    hidden: int = 32,
    seed: int = 0,
    trace_points: int = 24,
    progress: bool = False,
) -> list[GradientResult]:
    """Minimise the exact F (eq. 11 Lagrangian) over ``p(x̂|x)`` with Adam, for one
    problem and B trade-offs ``(β_b, λ_b)`` at once.

    The B encoders are independent parameters with a summed loss; Adam's update is
    elementwise, so this is exactly B separate runs, at the per-step overhead of one.

    Args:
        p_x, p_y_given_x, d_rd: the discrete problem (as :func:`infotheory.semantic_rd`).
        beta, lam: numbers or equal-length sequences; F = I(X;X̂) + (D_RD + β·D_IB)/λ
            with information in nats (as the solver defines it).
        encoder: ``"table"`` (:class:`SoftmaxTable`) or ``"net"`` (:class:`FeatureEncoder`,
            needs ``features``).
        features: ``(n, d)`` features of the source symbols for ``"net"``.
        steps: Adam steps, full batch; the learning rate decays from ``lr`` to 0 on a
            cosine schedule (so the last steps settle instead of oscillating).
        lr: initial learning rate (default :data:`DEFAULT_LR`: 0.3 for ``"table"``, 0.03 for
            ``"net"``).
        hidden: hidden units of the network.
        seed: initialisation seed (the same initial encoder for every b).
        trace_points: number of log-spaced steps at which F is recorded.
        progress: tqdm bar over the steps.

    Returns:
        one :class:`GradientResult` (bits) per trade-off, in order.
    """
    if encoder not in ENCODERS:
        raise ValueError(f"encoder must be one of {ENCODERS}, got {encoder!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    lag = ExactLagrangian(p_x, p_y_given_x, d_rd, beta=beta, lam=lam)
    batch, n, k = lag.shape
    model: nn.Module
    if encoder == "table":
        if features is not None:
            raise ValueError("features: only the 'net' encoder takes features")
        model = SoftmaxTable(n, k, batch=batch, seed=seed)
        lr = DEFAULT_LR["table"] if lr is None else lr
    else:
        if features is None:
            raise ValueError("features: the 'net' encoder needs the (n, d) features of x")
        if np.shape(features)[0] != n:
            raise ValueError(
                f"features must have n = {n} rows like p_x, got shape {np.shape(features)}"
            )
        model = FeatureEncoder(features, k, batch=batch, hidden=hidden, seed=seed)
        lr = DEFAULT_LR["net"] if lr is None else lr
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=int(steps))
    record = set(_log_steps(int(steps), trace_points))
    t_steps: list[int] = []
    t_obj: list[np.ndarray] = []
    t0 = time.perf_counter()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=int(steps), desc=f"gradient {encoder}", leave=False)
    for step in range(int(steps) + 1):
        opt.zero_grad(set_to_none=True)
        f = lag.terms(model())["objective"]
        if not bool(torch.isfinite(f).all()):
            raise FloatingPointError(
                f"train_encoders: F is not finite at step {step} (lr {lr:g}); lower lr"
            )
        if step in record:
            t_steps.append(step)
            t_obj.append(f.detach().numpy() / _LN2)
        if step == steps:
            break
        f.sum().backward()
        opt.step()
        sched.step()
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    seconds = time.perf_counter() - t0
    with torch.no_grad():
        log_enc = model()
        terms = {key: v.numpy() for key, v in lag.terms(log_enc).items()}
        encs = log_enc.exp().numpy()
    trace = np.array(t_obj)  # (points, B)
    out = []
    for b in range(batch):
        enc = encs[b] / encs[b].sum(1, keepdims=True)  # a softmax: sums to 1 to rounding
        ev = evaluate_encoder(
            p_x, p_y_given_x, d_rd, enc, beta=float(lag.beta[b]), lam=float(lag.lam[b])
        )
        out.append(
            GradientResult(
                encoder=enc,
                objective=float(terms["objective"][b]) / _LN2,
                rate=float(terms["rate"][b]) / _LN2,
                distortion_rd=float(terms["distortion_rd"][b]),
                distortion_ib=float(terms["distortion_ib"][b]) / _LN2,
                relevance=float(terms["relevance"][b]) / _LN2,
                steps=int(steps),
                seconds=seconds / batch,
                trace_steps=np.array(t_steps),
                trace_objective=trace[:, b].copy(),
                evaluation=ev,
            )
        )
    return out


def train_encoder(
    p_x: Any,
    p_y_given_x: Any,
    d_rd: Any,
    *,
    beta: float,
    lam: float,
    encoder: str = "table",
    features: Any = None,
    steps: int = 3000,
    lr: float | None = None,
    hidden: int = 32,
    seed: int = 0,
    progress: bool = False,
) -> GradientResult:
    """:func:`train_encoders` for one trade-off ``(β, λ)``: the trained encoder and its
    exact values (bits)."""
    if np.ndim(beta) or np.ndim(lam):
        raise ValueError("beta and lam must be numbers (train_encoders takes sequences)")
    return train_encoders(
        p_x,
        p_y_given_x,
        d_rd,
        beta=beta,
        lam=lam,
        encoder=encoder,
        features=features,
        steps=steps,
        lr=lr,
        hidden=hidden,
        seed=seed,
        progress=progress,
    )[0]


# ---------------------------------------------------------------------------
# the comparison with the solver (rows for the `exact` command)
# ---------------------------------------------------------------------------

#: F tolerance (bits) within which gradient training counts as having reached F*
TOL_BITS = 1e-3
#: training "stalled" when F fell by less than this fraction of the final gap F − F* over
#: the second half of the steps
STALL_FRACTION = 0.1


@dataclass(frozen=True)
class _Case:
    name: str
    arrays: tuple[np.ndarray, np.ndarray, np.ndarray]
    features: np.ndarray
    lams: tuple[float, ...]
    betas: tuple[float, ...]
    closed_form: Any = None  # R(D) in bits at β = 0, where known exactly


#: per preset: sources, trade-offs, Adam steps per source (both encoders)
GRADIENT_PRESETS: dict[str, dict[str, Any]] = {
    "quick": {
        "binary_lams": (0.455, 0.3),
        "binary_betas": (0.0, 1.0),
        "gaussian_points": 41,
        "gaussian_lams": (0.5, 0.2),
        "gaussian_betas": (0.0, 0.5),
        "digits_codebook": 64,
        "digits_split": "test",
        "digits_lams": (0.01, 0.003),
        "digits_betas": (0.0, 0.5),
        "steps": {"binary": 600, "gaussian": 2000, "digits": 1500},
    },
    "paper": {
        "binary_lams": (0.6, 0.455, 0.3, 0.2),
        "binary_betas": (0.0, 0.5, 1.0, 2.0),
        "gaussian_points": 101,
        "gaussian_lams": (1.0, 0.5, 0.2, 0.1),
        "gaussian_betas": (0.0, 0.2, 0.5, 1.0),
        "digits_codebook": 64,
        "digits_split": "all",
        "digits_lams": (0.03, 0.01, 0.003),
        "digits_betas": (0.0, 0.02, 0.1, 0.5),
        "steps": {"binary": 2000, "gaussian": 10000, "digits": 10000},
    },
}


def _cases(preset: dict[str, Any], seed: int) -> list[_Case]:
    from infotheory.sources import binary_source, gaussian_source

    from .digits import digits_source

    b = binary_source(0.3, label_error=0.1)
    g = gaussian_source(1.0, n_points=preset["gaussian_points"], width=4.0, n_classes=2)
    d = digits_source(
        codebook_size=preset["digits_codebook"], seed=seed, split=preset["digits_split"]
    )
    return [
        _Case(
            "binary",
            (b.p_x, b.p_y_given_x, b.d_rd),
            np.asarray(b.x_points)[:, None],
            preset["binary_lams"],
            preset["binary_betas"],
            b.closed_form,
        ),
        _Case(
            "gaussian",
            (g.p_x, g.p_y_given_x, g.d_rd),
            np.asarray(g.x_points)[:, None],
            preset["gaussian_lams"],
            preset["gaussian_betas"],
        ),
        _Case(
            "digits",
            (d.p_x, d.p_y_given_x, d.d_rd),
            np.asarray(d.images),
            preset["digits_lams"],
            preset["digits_betas"],
        ),
    ]


def _status(gap: float, drop: float, polished_gap: float) -> str:
    """Classify a trained encoder against the solver (see :func:`gradient_vs_ba`):
    ``gap`` = F − F*, ``drop`` = fall of F over the second half of training,
    ``polished_gap`` = F − F* after eq. (17) from the trained encoder (bits)."""
    if abs(gap) <= TOL_BITS:
        return "reached"
    if gap < 0:
        return "below solver"  # the solver's answer is not the global optimum
    if drop >= STALL_FRACTION * gap:
        return "not converged"  # still descending at a useful rate: more steps would help
    if polished_gap > TOL_BITS:
        return "worse stationary point"  # eq. (17) from here does not reach F* either
    return "stalled"  # in the optimum's basin, stuck on a plateau of the parametrisation


def gradient_vs_ba(*, preset: str, seed: int, progress: bool) -> list[dict]:
    """Gradient training (Adam on the exact F; softmax table and feature network) against
    :func:`infotheory.semantic_rd` on the binary, Gaussian and digits sources.

    Returns flat JSON-able rows of two kinds (key ``part``):

    ``part="gradient"``, one per (source, encoder, β, λ): ``source`` (``binary``,
    ``gaussian``, ``digits``), ``encoder`` (``table``, ``net``), ``beta``, ``lam``,
    ``seed``, ``steps``, ``lr``; the trained encoder's exact values ``F``, ``rate``,
    ``distortion_ib``, ``relevance`` (bits) and ``distortion_rd`` (units of d_RD), the
    solver's ``F_star``, ``rate_star``, ``distortion_rd_star``, ``distortion_ib_star``,
    ``relevance_star`` (read from its :class:`~infotheory.SemanticRDResult`), ``gap_F``
    = F − F* (bits), ``tol`` (:data:`TOL_BITS`), ``F_drop_second_half`` (how much F fell
    over the second half of the steps, bits), ``status``: ``reached`` (|gap_F| ≤ tol),
    ``below solver`` (gap_F < −tol: the solver missed the global optimum), ``not
    converged`` (gap_F > tol, but F fell by at least :data:`STALL_FRACTION` × gap_F over
    the second half: more steps would help), ``worse stationary point`` (gap_F > tol, F
    no longer falling, and the eq. (17) iteration started from the trained encoder also
    ends more than tol above F*: gradient training went into the basin of a worse
    stationary point), ``stalled`` (gap_F > tol, F no longer falling, but eq. (17) from
    the trained encoder reaches F*: the right basin, but a plateau of the parametrisation,
    e.g. codewords whose mass the softmax has driven to ~0, where the gradient
    vanishes); ``F_polished`` (F after that eq. (17) iteration,
    bits), ``residual`` (eq. (12)–(15) residual of the trained encoder,
    :func:`infotheory.evaluate_encoder`), ``solver_starts``, ``solver_starts_at_best``, ``solver_converged``,
    ``gap_closed_form`` (binary source at β = 0: rate − (h(p) − h(D)) in bits, else
    None) and ``seconds`` (training time per trade-off, under whatever else runs).

    ``part="gradient_trace"``, F during training at log-spaced steps: ``source``,
    ``encoder``, ``beta``, ``lam``, ``seed``, ``step``, ``F``, ``F_star``, ``gap_F``
    (bits).
    """
    if preset not in GRADIENT_PRESETS:
        raise ValueError(f"preset must be one of {sorted(GRADIENT_PRESETS)}, got {preset!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    cfg = GRADIENT_PRESETS[preset]
    rows: list[dict] = []
    for case in _cases(cfg, int(seed)):
        grid = [(b, lm) for b in case.betas for lm in case.lams]
        betas = [b for b, _ in grid]
        lams = [lm for _, lm in grid]
        solved = [semantic_rd(*case.arrays, beta=b, lam=lm, seed=int(seed)) for b, lm in grid]
        steps = int(cfg["steps"][case.name])
        for enc in ENCODERS:
            trained = train_encoders(
                *case.arrays,
                beta=betas,
                lam=lams,
                encoder=enc,
                features=case.features if enc == "net" else None,
                steps=steps,
                seed=int(seed),
                progress=progress,
            )
            lr = DEFAULT_LR[enc]
            for (b, lm), g, r in zip(grid, trained, solved):
                gap = g.objective - float(r.objective)
                half = g.trace_steps <= steps // 2
                drop = float(g.trace_objective[half][-1] - g.objective)
                # eq. (17) iterated from the trained encoder (no restarts): does it go lower?
                polish = semantic_rd(*case.arrays, beta=b, lam=lm, init=g.encoder, restarts=0)
                polished_gap = float(polish.objective) - float(r.objective)
                key = {"source": case.name, "encoder": enc, "beta": b, "lam": lm, "seed": seed}
                closed = None
                if case.closed_form is not None and b == 0:
                    closed = g.rate - float(case.closed_form(g.distortion_rd))
                rows.append(
                    {
                        "part": "gradient",
                        **key,
                        "steps": steps,
                        "lr": lr,
                        "F": g.objective,
                        "F_star": float(r.objective),
                        "gap_F": gap,
                        "tol": TOL_BITS,
                        "status": _status(gap, drop, polished_gap),
                        "F_drop_second_half": drop,
                        "F_polished": float(polish.objective),
                        "rate": g.rate,
                        "rate_star": float(r.rate),
                        "distortion_rd": g.distortion_rd,
                        "distortion_rd_star": float(r.distortion_rd),
                        "distortion_ib": g.distortion_ib,
                        "distortion_ib_star": float(r.distortion_ib),
                        "relevance": g.relevance,
                        "relevance_star": float(r.relevance),
                        "residual": float(g.evaluation.residual),
                        "solver_starts": int(r.starts),
                        "solver_starts_at_best": int(r.starts_at_best),
                        "solver_converged": bool(r.converged),
                        "gap_closed_form": closed,
                        "seconds": g.seconds,
                    }
                )
                for step, f in zip(g.trace_steps, g.trace_objective):
                    rows.append(
                        {
                            "part": "gradient_trace",
                            **key,
                            "step": int(step),
                            "F": float(f),
                            "F_star": float(r.objective),
                            "gap_F": float(f) - float(r.objective),
                        }
                    )
    return rows


def plot_gradient(rows: Sequence[dict], path: Any) -> None:
    """PNG: F − F* (bits, log scale) against the Adam step (log scale), one panel per
    (source, encoder), one line per (β, λ), from the ``gradient_trace`` rows of
    :func:`gradient_vs_ba`; the dotted line is :data:`TOL_BITS`. Gaps ≤ 1e-12 bits
    (rounding) are drawn at 1e-12; a negative final gap (solver beaten) is marked ×."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    trace = [r for r in rows if r.get("part") == "gradient_trace"]
    if not trace:
        raise ValueError("rows: no 'gradient_trace' rows (from gradient_vs_ba) to plot")
    sources = list(dict.fromkeys(r["source"] for r in trace))
    encs = list(dict.fromkeys(r["encoder"] for r in trace))
    fig, axes = plt.subplots(
        len(encs), len(sources), figsize=(4.2 * len(sources), 3.4 * len(encs)), squeeze=False
    )
    for i, enc in enumerate(encs):
        for j, src in enumerate(sources):
            ax = axes[i][j]
            sel = [r for r in trace if r["source"] == src and r["encoder"] == enc]
            for b, lm in dict.fromkeys((r["beta"], r["lam"]) for r in sel):
                pts = sorted(
                    (r["step"], r["gap_F"]) for r in sel if (r["beta"], r["lam"]) == (b, lm)
                )
                st = np.array([max(s, 1) for s, _ in pts], dtype=float)  # step 0 drawn at 1
                gap = np.array([g for _, g in pts])
                (line,) = ax.plot(
                    st,
                    np.maximum(gap, 1e-12),
                    ls="-" if b == 0 else "--",
                    label=f"β={b:g}, λ={lm:g}",
                )
                if gap[-1] < -TOL_BITS:
                    ax.plot(st[-1], 1e-12, "x", color=line.get_color())
            ax.axhline(TOL_BITS, color="k", ls=":", lw=1)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"{src}, {enc}")
            ax.set_xlabel("Adam step")
            ax.set_ylabel("F − F* (bits)")
            ax.legend(fontsize=6)
    fig.suptitle("Gradient training on the exact F vs the solver's F* (dotted: tolerance)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
