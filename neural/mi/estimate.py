"""One-call MI estimation: ``estimate_mi``, repeated estimation over seeds, Fig. 7 bands.

Protocol of :func:`estimate_mi` for the neural methods: the N samples are split at
random (``seed``) into a training part and a held-out part (``test_fraction``); the
estimator is trained for ``steps`` Adam steps on minibatches of the training part
(reshuffled every epoch, drawn without replacement), and the reported value is the
mean of the batch estimates over held-out batches of about ``batch_size`` samples,
with its standard error over those batches. The plug-in method uses all N samples
(nothing is trained).
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from .base import MIEstimator, MIHistory, MIResult, NonFiniteLossError, check_units, fit
from .classifier import ClassifierMI
from .club import CategoricalCLUB, CLUBSample, GaussianCLUB
from .diagnostics import (
    Standardizer,
    bounds_note,
    check_device,
    entropy_from_labels,
    plateau_test,
    warn_out_of_bounds,
)
from .lower_bounds import NWJ, SMILE, InfoNCE
from .mine import MINE
from .plugin import as_labels, plugin_mi

__all__ = [
    "METHODS",
    "make_estimator",
    "estimate_mi",
    "estimate_mi_seeds",
    "MIBand",
    "plot_mi_band",
]

#: accepted values of ``method`` (plus ``"auto"``)
METHODS: tuple[str, ...] = (
    "club",
    "club-sample",
    "club-categorical",
    "classifier",
    "mine",
    "nwj",
    "infonce",
    "smile",
    "plugin",
)
#: what ``method="auto"`` uses when both sides are continuous: the most accurate
#: estimator measured by ``benchmarks/bench_mi.py --auto`` (docs/mi-estimators.md)
AUTO_CONTINUOUS = "mine"
#: accepted values of ``discrete=`` (besides ``None``: detect)
DISCRETE = ("x", "y", "both", "neither")
#: at most this many held-out batches are evaluated for each point of the history
HISTORY_CHUNKS = 16

_NEURAL: dict[str, type[MIEstimator]] = {
    "club": GaussianCLUB,
    "club-sample": CLUBSample,
    "club-categorical": CategoricalCLUB,
    "classifier": ClassifierMI,
    "mine": MINE,
    "nwj": NWJ,
    "infonce": InfoNCE,
    "smile": SMILE,
}


def make_estimator(
    method: str,
    x_dim: int,
    y_dim: int,
    *,
    hidden: Sequence[int] | None = None,
    seed: int = 0,
    options: Mapping[str, Any] | None = None,
) -> MIEstimator:
    """Build the estimator module for ``method``, initialised reproducibly from ``seed``.

    ``y_dim`` is the number of classes for ``"club-categorical"`` and ``"classifier"``. ``hidden=None`` uses
    the estimator's default widths (``neural.mi.PAPER_HIDDEN`` is the paper's MLP).
    ``options`` are keyword arguments of the estimator's class (e.g.
    ``{"average": 0}`` or ``{"burn_in_steps": 0}`` for the critic estimators,
    ``{"ema": ...}`` for MINE); a name the class does not take raises ValueError.
    """
    if method not in _NEURAL:
        raise ValueError(
            f"method must be one of {sorted(_NEURAL)} for a neural estimator, got {method!r}"
        )
    cls = _NEURAL[method]
    kwargs = dict(options or {})
    accepted = {  # keyword names of the class and of the bases it forwards **kwargs to
        name
        for c in cls.__mro__
        if issubclass(c, MIEstimator) and "__init__" in vars(c)
        for name, prm in inspect.signature(c.__init__).parameters.items()
        if prm.kind not in (prm.VAR_KEYWORD, prm.VAR_POSITIONAL)
    } - {"self", "x_dim", "y_dim", "n_classes"}
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise ValueError(
            f"options: {cls.__name__} does not take {unknown}; it takes {sorted(accepted)}"
        )
    if hidden is not None:
        kwargs["hidden"] = tuple(hidden)
    if method == "club-sample":
        kwargs.setdefault("seed", seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return cls(x_dim, y_dim, **kwargs)


def _as_array(name: str, a: Any) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    arr = np.asarray(a)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{name}: must be a numeric array or tensor, got dtype {arr.dtype}")
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name}: expected shape (N, d) or (N,), got {arr.shape}")
    if np.iscomplexobj(arr):
        raise ValueError(f"{name}: complex values are not supported")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: contains NaN or inf")
    return arr


def _is_labels(arr: np.ndarray) -> bool:
    """(N,) integer or boolean arrays are class labels; floats are continuous."""
    return arr.ndim == 1 and (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool)


def _train_batches(
    x: torch.Tensor, y: torch.Tensor, batch_size: int, gen: torch.Generator
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    n = x.shape[0]
    while True:
        perm = torch.randperm(n, generator=gen).to(x.device)
        for start in range(0, n - batch_size + 1, batch_size):
            idx = perm[start : start + batch_size]
            yield x[idx], y[idx]


def _resolve_discrete(discrete: str | None, xa: np.ndarray, ya: np.ndarray) -> tuple[bool, bool]:
    if discrete is None:
        return _is_labels(xa), _is_labels(ya)
    if discrete not in DISCRETE:
        raise ValueError(
            f"discrete must be None (detect: (N,) integer arrays are labels) or one of {DISCRETE}, got {discrete!r}"
        )
    return discrete in ("x", "both"), discrete in ("y", "both")


def _resolve_method(method: str, x_disc: bool, y_disc: bool) -> str:
    if method != "auto":
        return method
    if x_disc and y_disc:
        return "plugin"
    if x_disc or y_disc:
        return "classifier"
    return AUTO_CONTINUOUS


def _prepare_side(
    name: str,
    arr: np.ndarray,
    disc: bool,
    codes: np.ndarray | None,
    train_idx: np.ndarray,
    standardize: bool,
) -> tuple[np.ndarray, Standardizer | None]:
    """(N, d) float32 network input: one-hot codes for a discrete side, else the
    (standardised) features."""
    if disc:
        assert codes is not None
        return np.eye(int(codes.max()) + 1, dtype=np.float32)[codes], None
    feats = arr.reshape(arr.shape[0], -1).astype(np.float64)
    st = Standardizer.fit(feats[train_idx]) if standardize else None
    out = (feats if st is None else st(feats)).astype(np.float32)
    if not np.all(np.isfinite(out)):
        raise ValueError(
            f"{name}: values up to {np.abs(feats).max():.3g} do not fit the float32 network input"
            + ("" if standardize else " (standardize=False)")
            + "; rescale the data"
        )
    return out, st


def estimate_mi(
    x: Any,
    y: Any,
    method: str = "auto",
    *,
    steps: int = 2000,
    batch_size: int = 64,
    seed: int = 0,
    units: str = "nats",
    test_fraction: float = 0.2,
    lr: float | None = None,
    hidden: Sequence[int] | None = None,
    device: str | torch.device = "cpu",
    standardize: bool = True,
    discrete: str | None = None,
    on_nonfinite: str = "raise",
    eval_every: int | None = None,
    options: Mapping[str, Any] | None = None,
) -> MIResult:
    """Estimate I(X;Y) from paired samples (nats by default).

    Args:
        x: ``(N, d_x)`` samples (array or tensor), or ``(N,)`` integer labels.
        y: ``(N, d_y)`` samples, or ``(N,)`` integer labels.
        method: ``"auto"`` (default), ``"club"`` (eq. 40, Gaussian q; upper bound),
            ``"club-sample"``, ``"club-categorical"`` (discrete y; upper bound that
            diverges when q(y|x) is near one-hot), ``"classifier"`` (one discrete side:
            H(Y) - held-out cross-entropy of a classifier q(y|x); a lower bound that
            never exceeds H(Y)), ``"mine"`` (eq. 39), ``"nwj"``, ``"infonce"``,
            ``"smile"``, ``"plugin"`` (both discrete: from counts). ``"auto"`` picks
            ``"plugin"`` when both sides are discrete, ``"classifier"`` when one is, and
            otherwise ``AUTO_CONTINUOUS``, the most accurate estimator on the tasks with
            known MI of ``benchmarks/bench_mi.py --auto`` (table in docs/mi-estimators.md).
        steps: Adam steps (neural methods).
        batch_size: training and evaluation batch size (negatives come from the batch).
        seed: seeds the train/held-out split, the minibatches and the initialisation.
        units: ``"nats"`` (default, the module's convention) or ``"bits"``.
        test_fraction: fraction of samples held out for the reported value.
        lr: Adam learning rate (``None``: the estimator's ``default_lr``).
        hidden: hidden widths of the estimator's networks (default per estimator;
            ``neural.mi.PAPER_HIDDEN`` = the paper's 1024-512-512 MLP).
        device: torch device for training; validated (``ValueError`` naming it, e.g.
            ``'cuda'`` on a machine without CUDA).
        standardize: standardise each continuous dimension with the mean and sd of the
            training split (recorded in ``result.standardization``), so the estimate is
            invariant to affine rescaling of x and y. ``False`` feeds the data as is.
        discrete: ``None`` (detect: an ``(N,)`` integer or boolean array is labels), or
            declare ``"x"``, ``"y"``, ``"both"`` or ``"neither"``. A declared discrete side
            must hold integer values (``(N, d)`` integer rows are symbols).
        on_nonfinite: ``"raise"`` (default): a non-finite loss or estimate stops with
            :class:`~neural.mi.base.NonFiniteLossError`; ``"restart"``: restart from
            scratch at a tenth of the learning rate (up to 3 times), with a warning and a
            note in the result.
        eval_every: steps between held-out evaluations of the training history
            (``None``: ``max(1, steps // 25)``).
        options: constructor options of the estimator class (see :func:`make_estimator`).

    Returns:
        :class:`MIResult`: ``.estimate`` (finite, in ``units``), ``.stderr`` (``None``
        with one held-out batch), ``.kind``, ``.history`` and ``.converged`` (plateau
        test), ``.bounds`` / ``.in_bounds`` (trivial bounds 0 and the entropy of a
        discrete side; a value outside them is also warned about), ``.notes``.
    """
    f = check_units(units)
    if not isinstance(method, str) or method not in METHODS + ("auto",):
        raise ValueError(f"method must be one of {METHODS + ('auto',)}, got {method!r}")
    if on_nonfinite not in ("raise", "restart"):
        raise ValueError(f"on_nonfinite must be 'raise' or 'restart', got {on_nonfinite!r}")
    if not isinstance(standardize, (bool, np.bool_)):
        raise ValueError(f"standardize must be True or False, got {standardize!r}")
    xa, ya = _as_array("x", x), _as_array("y", y)
    if xa.shape[0] != ya.shape[0]:
        raise ValueError(
            f"x and y must have the same number of samples N, got {xa.shape[0]} and {ya.shape[0]}"
        )
    x_disc, y_disc = _resolve_discrete(discrete, xa, ya)
    xc = as_labels("x", xa) if x_disc else None
    yc = as_labels("y", ya) if y_disc else None
    h_x = entropy_from_labels(xc) if xc is not None else math.inf
    h_y = entropy_from_labels(yc) if yc is not None else math.inf
    upper, what = (h_x, "H(X)") if h_x <= h_y else (h_y, "H(Y)")
    method = _resolve_method(method, x_disc, y_disc)
    if (
        method == "plugin"
    ):  # asking for it declares both sides discrete: they must be integer-valued
        xc = as_labels("x", xa) if xc is None else xc
        yc = as_labels("y", ya) if yc is None else yc
        upper, what = min((entropy_from_labels(xc), "H(X)"), (entropy_from_labels(yc), "H(Y)"))
        res = plugin_mi(xc, yc, units=units)
        return _checked(res, upper, what, f, notes=())
    if x_disc and y_disc:
        warnings.warn(
            "x and y are both discrete labels: the plug-in estimate from counts "
            "(method='plugin') is exact up to sampling error and should be preferred "
            f"over the neural method {method!r}",
            UserWarning,
            stacklevel=2,
        )
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size < 2
    ):
        raise ValueError(f"batch_size must be an integer >= 2, got {batch_size!r}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    if eval_every is not None and (
        isinstance(eval_every, bool)
        or not isinstance(eval_every, (int, np.integer))
        or eval_every < 1
    ):
        raise ValueError(f"eval_every must be a positive integer or None, got {eval_every!r}")
    if lr is not None and not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0 or None, got {lr!r}")
    n = xa.shape[0]
    n_test = int(round(n * test_fraction))
    n_train = n - n_test
    if n_test < 2 or n_train < batch_size:
        raise ValueError(
            f"x, y: N = {n} samples are too few for batch_size={batch_size} and "
            f"test_fraction={test_fraction} (need >= 2 held-out and >= batch_size training samples)"
        )
    dev = check_device(device)
    notes: list[str] = []
    labels_method = method in ("club-categorical", "classifier")
    swapped = False
    if labels_method and not y_disc:
        if method == "classifier" and x_disc:  # I(X;Y) is symmetric: classify x from y
            xa, ya, xc, yc, x_disc, y_disc = ya, xa, yc, xc, y_disc, x_disc
            swapped = True
            notes.append(
                "x is the discrete side: the classifier predicts x from y (I(X;Y) is symmetric)"
            )
        else:
            raise ValueError(
                f"y: method {method!r} needs a discrete y ((N,) integer labels or discrete='y'), "
                f"got shape {ya.shape} dtype {ya.dtype}"
            )
    rng = np.random.default_rng(seed)
    perm_np = rng.permutation(n)
    test_np, train_np = perm_np[:n_test], perm_np[n_test:]
    xf_np, st_x = _prepare_side("x", xa, x_disc, xc, train_np, standardize)
    if labels_method:
        yt = torch.from_numpy(yc)
        y_dim = int(yc.max()) + 1
        if y_dim < 2:
            raise ValueError(f"y: needs at least 2 distinct labels for {method!r}")
        st_y = None
    else:
        yf_np, st_y = _prepare_side("y", ya, y_disc, yc, train_np, standardize)
        yt = torch.from_numpy(yf_np)
        y_dim = yt.shape[1]
    standardization = None
    if swapped:  # record under the caller's names
        st_x, st_y = st_y, st_x
    if st_x is not None or st_y is not None:
        standardization = {
            "x_mean": None if st_x is None else st_x.mean.tolist(),
            "x_scale": None if st_x is None else st_x.scale.tolist(),
            "y_mean": None if st_y is None else st_y.mean.tolist(),
            "y_scale": None if st_y is None else st_y.scale.tolist(),
        }
    xf, yt = torch.from_numpy(xf_np).to(dev), yt.to(dev)
    test_idx = torch.from_numpy(test_np).to(dev)
    train_idx = torch.from_numpy(train_np).to(dev)
    chunks = torch.tensor_split(test_idx, max(1, n_test // batch_size))
    opts = dict(options or {})
    if method == "classifier":
        opts.setdefault("entropy", entropy_from_labels(yc))  # the discrete side (after a swap)

    attempt_lr = None
    for attempt in range(4):
        est = make_estimator(method, xf.shape[1], y_dim, hidden=hidden, seed=seed, options=opts).to(
            dev
        )
        base_lr = est.default_lr if lr is None else lr
        attempt_lr = base_lr / 10**attempt
        try:
            trace, history, vals = _train_and_evaluate(
                est,
                xf,
                yt,
                train_idx,
                chunks,
                int(steps),
                batch_size,
                seed,
                attempt_lr,
                eval_every or max(1, int(steps) // 25),
            )
            break
        except NonFiniteLossError as err:
            if on_nonfinite == "raise" or attempt == 3:
                raise
            msg = f"{err} -- restarted from scratch at lr {attempt_lr / 10:g}"
            warnings.warn(msg, UserWarning, stacklevel=2)
            notes.append(msg)
    value = float(np.mean(vals))
    if len(vals) > 1:
        se: float | None = float(np.std(vals, ddof=1) / math.sqrt(len(vals)))
    else:
        se = None
        notes.append(
            f"stderr is None: the held-out part ({n_test} samples) makes one batch of "
            f"{batch_size}; hold out more samples (test_fraction) for a standard error"
        )
    converged, why = plateau_test(history.step, history.test)
    notes.append(why)
    res = MIResult(
        estimate=value * f,
        stderr=None if se is None else se * f,
        kind=est.kind,
        units=units,
        method=method,
        ci=None,
        n_train=n_train,
        n_test=n_test,
        trace=trace * f,
        history=history.scaled(f, units),
        converged=converged,
        standardization=standardization,
        lr=attempt_lr,
    )
    return _checked(res, upper, what, f, notes=tuple(notes))


def _checked(res: MIResult, upper: float, what: str, f: float, notes: tuple[str, ...]) -> MIResult:
    """Attach the trivial bounds (0, upper nats) to ``res`` (in its units), flag and
    warn when the estimate lies outside them."""
    se = None if res.stderr is None else res.stderr / f
    note = bounds_note(res.estimate / f, 0.0, upper, se, what)
    if note is not None:
        warn_out_of_bounds(note, res.method)
        notes = notes + (note,)
    return replace(res, bounds=(0.0, upper * f), in_bounds=note is None, notes=res.notes + notes)


def _train_and_evaluate(
    est: MIEstimator,
    xf: torch.Tensor,
    yt: torch.Tensor,
    train_idx: torch.Tensor,
    chunks: Sequence[torch.Tensor],
    steps: int,
    batch_size: int,
    seed: int,
    lr: float,
    eval_every: int,
) -> tuple[np.ndarray, MIHistory, list[float]]:
    """Train ``est`` on minibatches of the training split, evaluating on (up to 16 of)
    the held-out chunks every ``eval_every`` steps; return the per-step trace, the
    history and the final held-out batch values (all chunks). Raises
    NonFiniteLossError for a non-finite training or held-out value."""
    gen = torch.Generator().manual_seed(int(seed) + 1)
    batches = _train_batches(xf[train_idx], yt[train_idx], batch_size, gen)
    probe = chunks[:HISTORY_CHUNKS]
    h_step: list[int] = []
    h_train: list[float] = []
    h_test: list[float] = []
    since: list[float] = []

    def heldout(parts: Sequence[torch.Tensor], step: int) -> list[float]:
        vals = [float(est.estimate(xf[idx], yt[idx])) for idx in parts]
        if not all(math.isfinite(v) for v in vals):
            raise NonFiniteLossError(
                f"{type(est).__name__}: the held-out estimate is non-finite after {step} steps at lr {lr:g}",
                step=step,
                lr=lr,
            )
        return vals

    def record(step: int, value: float) -> None:
        since.append(value)
        if (step + 1) % eval_every == 0 or step + 1 == steps:
            h_step.append(step + 1)
            h_train.append(float(np.mean(since)))
            h_test.append(float(np.mean(heldout(probe, step + 1))))
            since.clear()

    trace = fit(est, batches, steps, lr=lr, callback=record)
    vals = heldout(chunks, steps)
    history = MIHistory(np.array(h_step), np.array(h_train), np.array(h_test))
    return trace, history, vals


@dataclass(frozen=True)
class MIBand:
    """Estimates of one quantity over several seeds (the paper's Fig. 7 band).

    Attributes: ``estimates`` ``(n_seeds,)``, ``mean``, ``min``, ``max``, ``sd``
    (seed-to-seed, ddof=1; ``None`` with a single seed, see ``note``), all in ``units``;
    ``kind``; ``method``; ``results`` (the :class:`MIResult` of each seed).
    """

    estimates: np.ndarray
    mean: float
    min: float
    max: float
    sd: float | None
    kind: str
    units: str
    method: str
    note: str | None = None
    results: tuple[MIResult, ...] = ()


def estimate_mi_seeds(
    x: Any,
    y: Any,
    method: str = "auto",
    *,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    steps: int = 2000,
    batch_size: int = 64,
    units: str = "nats",
    test_fraction: float = 0.2,
    lr: float | None = None,
    hidden: Sequence[int] | None = None,
    device: str | torch.device = "cpu",
    standardize: bool = True,
    discrete: str | None = None,
    on_nonfinite: str = "raise",
) -> MIBand:
    """Run :func:`estimate_mi` once per seed (split, batches and initialisation all
    change) and summarise: min, max, mean and seed-to-seed sd (``None`` with one seed).
    Arguments as :func:`estimate_mi`."""
    seeds = list(seeds)
    if len(seeds) < 1:
        raise ValueError("seeds must contain at least one seed")
    results = tuple(
        estimate_mi(
            x,
            y,
            method,
            steps=steps,
            batch_size=batch_size,
            seed=s,
            units=units,
            test_fraction=test_fraction,
            lr=lr,
            hidden=hidden,
            device=device,
            standardize=standardize,
            discrete=discrete,
            on_nonfinite=on_nonfinite,
        )
        for s in seeds
    )
    v = np.array([r.estimate for r in results])
    one = len(v) == 1
    return MIBand(
        estimates=v,
        mean=float(v.mean()),
        min=float(v.min()),
        max=float(v.max()),
        sd=None if one else float(v.std(ddof=1)),
        kind=results[0].kind,
        units=units,
        method=results[0].method,
        note="sd is None: a seed-to-seed sd needs at least two seeds" if one else None,
        results=results,
    )


def plot_mi_band(
    x_values: Sequence[float],
    bands: Sequence[MIBand],
    *,
    ax: Any = None,
    label: str | None = None,
    color: str | None = None,
) -> Any:
    """Draw estimates over seeds against ``x_values`` as the paper's Fig. 7 does:
    the min-max region in a light colour, the mean as a dark line with markers.

    Args:
        x_values: abscissae (e.g. bpp), one per band.
        bands: :class:`MIBand` per abscissa (same units).
        ax: matplotlib Axes (a new figure if ``None``).
    Returns: the Axes.
    """
    import matplotlib.pyplot as plt

    if len(x_values) != len(bands) or len(bands) == 0:
        raise ValueError(
            f"x_values and bands must be non-empty and of equal length, got {len(x_values)} and {len(bands)}"
        )
    if len({b.units for b in bands}) != 1:
        raise ValueError("bands: all bands must be in the same units")
    if ax is None:
        _, ax = plt.subplots()
    xs = np.asarray(x_values, dtype=float)
    lo = np.array([b.min for b in bands])
    hi = np.array([b.max for b in bands])
    mean = np.array([b.mean for b in bands])
    (line,) = ax.plot(xs, mean, marker="o", color=color, label=label)
    ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_ylabel(f"MI ({bands[0].units}, {bands[0].kind})")
    return ax
