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
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import torch

from .base import MIEstimator, MIResult, check_units, fit
from .club import CLUBSample, CategoricalCLUB, GaussianCLUB
from .lower_bounds import NWJ, SMILE, InfoNCE
from .mine import MINE
from .plugin import as_labels, plugin_mi

__all__ = ["METHODS", "make_estimator", "estimate_mi", "estimate_mi_seeds", "MIBand", "plot_mi_band"]

#: accepted values of ``method`` (plus ``"auto"``)
METHODS: tuple[str, ...] = ("club", "club-sample", "club-categorical", "mine", "nwj", "infonce", "smile", "plugin")

_NEURAL: dict[str, type[MIEstimator]] = {
    "club": GaussianCLUB,
    "club-sample": CLUBSample,
    "club-categorical": CategoricalCLUB,
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

    ``y_dim`` is the number of classes for ``"club-categorical"``. ``hidden=None`` uses
    the estimator's default widths (``neural.mi.PAPER_HIDDEN`` is the paper's MLP).
    ``options`` are keyword arguments of the estimator's class (e.g.
    ``{"average": 0}`` or ``{"burn_in_steps": 0}`` for the critic estimators,
    ``{"ema": ...}`` for MINE); a name the class does not take raises ValueError.
    """
    if method not in _NEURAL:
        raise ValueError(f"method must be one of {sorted(_NEURAL)} for a neural estimator, got {method!r}")
    cls = _NEURAL[method]
    kwargs = dict(options or {})
    accepted = {  # keyword names of the class and of the bases it forwards **kwargs to
        name for c in cls.__mro__ if issubclass(c, MIEstimator) and "__init__" in vars(c)
        for name, prm in inspect.signature(c.__init__).parameters.items()
        if prm.kind not in (prm.VAR_KEYWORD, prm.VAR_POSITIONAL)
    } - {"self", "x_dim", "y_dim", "n_classes"}
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise ValueError(f"options: {cls.__name__} does not take {unknown}; it takes {sorted(accepted)}")
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


def _continuous(arr: np.ndarray) -> np.ndarray:
    """(N, d) float32 features; (N,) labels become one-hot, (N,) floats a column."""
    if _is_labels(arr):
        codes = as_labels("labels", arr)
        return np.eye(int(codes.max()) + 1, dtype=np.float32)[codes]
    return arr.reshape(arr.shape[0], -1).astype(np.float32)


def _train_batches(
    x: torch.Tensor, y: torch.Tensor, batch_size: int, gen: torch.Generator
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    n = x.shape[0]
    while True:
        perm = torch.randperm(n, generator=gen).to(x.device)
        for start in range(0, n - batch_size + 1, batch_size):
            idx = perm[start : start + batch_size]
            yield x[idx], y[idx]


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
) -> MIResult:
    """Estimate I(X;Y) from paired samples.

    Args:
        x: ``(N, d_x)`` samples (array or tensor), or ``(N,)`` integer labels.
        y: ``(N, d_y)`` samples, or ``(N,)`` integer labels (required for
            ``"club-categorical"`` and ``"plugin"``).
        method: ``"club"`` (eq. 40, Gaussian q), ``"club-sample"``,
            ``"club-categorical"`` (discrete y), ``"mine"`` (eq. 39), ``"nwj"``,
            ``"infonce"``, ``"smile"``, ``"plugin"`` (both discrete: exact from
            counts), or ``"auto"``: ``"plugin"`` if both are labels,
            ``"club-categorical"`` if only y is, else ``"club"``.
        steps: Adam steps (neural methods).
        batch_size: training and evaluation batch size (negatives come from the batch).
        seed: seeds the train/held-out split, the minibatches and the initialisation.
        units: ``"nats"`` (default) or ``"bits"``.
        test_fraction: fraction of samples held out for the reported value.
        lr: Adam learning rate (``None``: the estimator's ``default_lr``).
        hidden: hidden widths of the estimator's networks (default per estimator;
            ``neural.mi.PAPER_HIDDEN`` = the paper's 1024-512-512 MLP).
        device: torch device for training (``"cpu"``, ``"cuda"``, ...).

    Returns:
        :class:`MIResult` (``.estimate`` float in ``units``, ``.stderr``, ``.kind``,
        ``.units``, ``.trace`` of training-batch estimates).

    Discrete labels are one-hot encoded for the neural methods. Neural methods on two
    discrete variables emit a warning: the plug-in is exact up to sampling error there.
    """
    f = check_units(units)
    if not isinstance(method, str) or method not in METHODS + ("auto",):
        raise ValueError(f"method must be one of {METHODS + ('auto',)}, got {method!r}")
    xa, ya = _as_array("x", x), _as_array("y", y)
    if xa.shape[0] != ya.shape[0]:
        raise ValueError(f"x and y must have the same number of samples N, got {xa.shape[0]} and {ya.shape[0]}")
    x_lab, y_lab = _is_labels(xa), _is_labels(ya)
    if method == "auto":
        method = "plugin" if (x_lab and y_lab) else ("club-categorical" if y_lab else "club")
    if method == "plugin":
        return plugin_mi(xa, ya, units=units)
    if x_lab and y_lab:
        warnings.warn(
            "x and y are both discrete labels: the plug-in estimate from counts "
            "(method='plugin') is exact up to sampling error and should be preferred "
            f"over the neural method {method!r}",
            UserWarning,
            stacklevel=2,
        )
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 2:
        raise ValueError(f"batch_size must be an integer >= 2, got {batch_size!r}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    n = xa.shape[0]
    n_test = int(round(n * test_fraction))
    n_train = n - n_test
    if n_test < 2 or n_train < batch_size:
        raise ValueError(
            f"x, y: N = {n} samples are too few for batch_size={batch_size} and "
            f"test_fraction={test_fraction} (need >= 2 held-out and >= batch_size training samples)"
        )
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device: not a valid torch device: {device!r}") from err
    xf = torch.from_numpy(_continuous(xa))
    if method == "club-categorical":
        if not y_lab:
            raise ValueError(
                "y: method 'club-categorical' needs (N,) integer labels, "
                f"got shape {ya.shape} dtype {ya.dtype}"
            )
        yt = torch.from_numpy(as_labels("y", ya))
        y_dim = int(yt.max()) + 1
        if y_dim < 2:
            raise ValueError("y: needs at least 2 distinct labels for 'club-categorical'")
    else:
        yt = torch.from_numpy(_continuous(ya))
        y_dim = yt.shape[1]
    xf, yt = xf.to(device), yt.to(device)
    rng = np.random.default_rng(seed)
    perm = torch.from_numpy(rng.permutation(n)).to(device)
    test_idx, train_idx = perm[:n_test], perm[n_test:]

    est = make_estimator(method, xf.shape[1], y_dim, hidden=hidden, seed=seed).to(device)
    gen = torch.Generator().manual_seed(int(seed) + 1)
    batches = _train_batches(xf[train_idx], yt[train_idx], batch_size, gen)
    trace = fit(est, batches, int(steps), lr=est.default_lr if lr is None else lr)

    # held-out value: mean over ~batch_size chunks (the same batch statistics as training)
    n_chunks = max(1, n_test // batch_size)
    vals = [
        float(est.estimate(xf[idx], yt[idx]))
        for idx in torch.tensor_split(test_idx, n_chunks)
    ]
    value = float(np.mean(vals))
    se = float(np.std(vals, ddof=1) / math.sqrt(len(vals))) if len(vals) > 1 else float("nan")
    return MIResult(
        estimate=value * f,
        stderr=se * f,
        kind=est.kind,
        units=units,
        method=method,
        ci=None,
        n_train=n_train,
        n_test=n_test,
        trace=trace * f,
    )


@dataclass(frozen=True)
class MIBand:
    """Estimates of one quantity over several seeds (the paper's Fig. 7 band).

    Attributes: ``estimates`` ``(n_seeds,)``, ``mean``, ``min``, ``max``, ``sd``
    (seed-to-seed, ddof=1), all in ``units``; ``kind``; ``method``.
    """

    estimates: np.ndarray
    mean: float
    min: float
    max: float
    sd: float
    kind: str
    units: str
    method: str


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
) -> MIBand:
    """Run :func:`estimate_mi` once per seed (split, batches and initialisation all
    change) and summarise: min, max, mean and seed-to-seed sd. Arguments as
    :func:`estimate_mi`."""
    seeds = list(seeds)
    if len(seeds) < 1:
        raise ValueError("seeds must contain at least one seed")
    results = [
        estimate_mi(
            x, y, method, steps=steps, batch_size=batch_size, seed=s, units=units,
            test_fraction=test_fraction, lr=lr, hidden=hidden, device=device,
        )
        for s in seeds
    ]
    v = np.array([r.estimate for r in results])
    return MIBand(
        estimates=v,
        mean=float(v.mean()),
        min=float(v.min()),
        max=float(v.max()),
        sd=float(v.std(ddof=1)) if len(v) > 1 else float("nan"),
        kind=results[0].kind,
        units=units,
        method=results[0].method,
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
        raise ValueError(f"x_values and bands must be non-empty and of equal length, got {len(x_values)} and {len(bands)}")
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
