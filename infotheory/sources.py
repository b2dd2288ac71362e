"""Standard discrete sources for checking and teaching semantic rate-distortion.

Each constructor returns a :class:`Source`: the three arrays that
:func:`infotheory.semantic_rd` takes, ``(p_x, p_y_given_x, d_rd)`` (see
``DESIGN.md`` §1: ``p(x)`` of shape ``(n,)``, ``p(y|x)`` of shape ``(n, m)``,
``d_RD[x, x̂]`` of shape ``(n, k)``), plus a name and, where one exists, the
closed-form rate-distortion function. A ``Source`` unpacks like a tuple::

    p_x, p_y_given_x, d_rd = binary_source(0.3)

Sources
-------
- :func:`binary_source` — Bernoulli(p) with Hamming distortion; ``R(D) = h(p) - h(D)``.
- :func:`gaussian_source` — a finely discretised N(0, σ²) with squared error;
  ``R(D) ≈ ½ log₂(σ²/D)`` (exact for the continuous source).
- :func:`symmetric_channel`, :func:`label_channel` — m-ary symmetric channels that
  turn labels into ``p(y|x)``.
- :func:`source_from_data` — empirical source from data points and their labels with
  a reproduction codebook (given, or chosen from the data by k-means or as a random
  subset) and squared error (per coordinate, i.e. MSE) as ``d_RD`` (eq. 5).
- :func:`digits_source` — the scikit-learn 8×8 handwritten digits (installed offline).

All information quantities are in bits unless a ``base`` argument says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from ._validation import (
    as_float_array,
    check_distribution,
    check_int,
)
from .closed_forms import binary_entropy, binary_rate_distortion, gaussian_rate_distortion

__all__ = [
    "Source",
    "binary_source",
    "gaussian_source",
    "symmetric_channel",
    "label_channel",
    "source_from_data",
    "digits_source",
    "binary_entropy",
    "binary_rate_distortion",
    "gaussian_rate_distortion",
]


@dataclass(frozen=True)
class Source:
    """A discrete source with task labels and a reconstruction distortion.

    Attributes
    ----------
    p_x : (n,) array
        Source distribution ``p(x)``.
    p_y_given_x : (n, m) array
        Task-label channel ``p(y|x)`` (rows sum to 1).
    d_rd : (n, k) array
        Reconstruction distortion ``d_RD(x, x̂) ≥ 0`` (eq. 4–5).
    name : str
        Short description, used in tables and plot titles.
    closed_form : callable or None
        ``closed_form(D, base=2)`` returns the exact ``R(D)`` of the β = 0 problem
        (in units of ``base``; NaN outside its domain), where one is known.
    x_points, xhat_points : arrays or None
        Coordinates of the source and reproduction symbols (for data sources and
        the Gaussian grid), for plotting and inspection.
    """

    p_x: np.ndarray
    p_y_given_x: np.ndarray
    d_rd: np.ndarray
    name: str = "source"
    closed_form: Callable[..., np.ndarray] | None = field(default=None, repr=False)
    x_points: np.ndarray | None = field(default=None, repr=False)
    xhat_points: np.ndarray | None = field(default=None, repr=False)

    def __iter__(self) -> Iterator[np.ndarray]:
        """Unpack as ``p_x, p_y_given_x, d_rd``."""
        return iter((self.p_x, self.p_y_given_x, self.d_rd))

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(n, m, k)``: source, label and reproduction alphabet sizes."""
        return (self.p_x.shape[0], self.p_y_given_x.shape[1], self.d_rd.shape[1])


# ---------------------------------------------------------------------------
# label channels
# ---------------------------------------------------------------------------


def symmetric_channel(n_classes: int, error: float) -> np.ndarray:
    """The m-ary symmetric channel: ``1 - error`` on the diagonal, ``error/(m-1)`` elsewhere.

    Parameters
    ----------
    n_classes : int
        Alphabet size m ≥ 2.
    error : float
        Total probability of a wrong output, in ``[0, 1]``.

    Returns
    -------
    (m, m) array, each row a conditional distribution.
    """
    m = check_int(n_classes, "n_classes", minimum=2)
    e = float(error)
    if not 0 <= e <= 1:
        raise ValueError(f"error must lie in [0, 1], got {error!r}")
    w = np.full((m, m), e / (m - 1))
    np.fill_diagonal(w, 1 - e)
    return w


def label_channel(
    labels: object, n_classes: int | None = None, *, error: float = 0.0
) -> np.ndarray:
    """``p(y|x)`` for symbols with deterministic labels seen through a symmetric channel.

    Row ``x`` is row ``labels[x]`` of :func:`symmetric_channel` (one-hot when
    ``error = 0``).

    Parameters
    ----------
    labels : (n,) array of int
        Label of each source symbol, in ``0 .. n_classes-1``.
    n_classes : int, optional
        Number of classes m (default ``max(labels) + 1``, at least 2).
    error : float
        Label-noise probability of the symmetric channel.
    """
    lab = np.asarray(labels)
    if lab.ndim != 1 or lab.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {lab.shape}")
    if not np.issubdtype(lab.dtype, np.integer):
        if not np.all(np.isfinite(lab.astype(float))) or np.any(lab != np.round(lab)):
            raise ValueError("labels must be integers")
        lab = lab.astype(np.int64)
    if lab.min() < 0:
        raise ValueError(f"labels must be >= 0, got {lab.min()}")
    m = int(lab.max()) + 1 if n_classes is None else check_int(n_classes, "n_classes", minimum=2)
    m = max(m, 2)
    if lab.max() >= m:
        raise ValueError(f"labels must be < n_classes={m}, got {lab.max()}")
    return symmetric_channel(m, error)[lab]


# ---------------------------------------------------------------------------
# sources
# ---------------------------------------------------------------------------


def binary_source(p: float = 0.5, *, label_error: float = 0.0) -> Source:
    """Bernoulli(p) source with Hamming distortion; label Y = X through a BSC.

    ``X, X̂ ∈ {0, 1}``, ``d_RD(x, x̂) = [x ≠ x̂]``; ``p(y|x)`` is the binary
    symmetric channel with crossover ``label_error``. For β = 0,
    ``R(D) = h(p) - h(D)`` for ``D ≤ min(p, 1-p)`` (attached as ``closed_form``).

    Parameters
    ----------
    p : float
        ``P(X = 1)`` in (0, 1).
    label_error : float
        Crossover probability of the label channel, in [0, 1].
    """
    try:
        pf = float(p)
    except (TypeError, ValueError):
        raise TypeError(f"p must be a real number, got {p!r}") from None
    if not 0 < pf < 1:
        raise ValueError(f"p must lie in (0, 1), got {p!r}")
    p_x = np.array([1 - pf, pf])
    d = 1.0 - np.eye(2)

    def closed_form(distortion: object, *, base: float = 2) -> np.ndarray:
        return binary_rate_distortion(pf, distortion, base=base)

    return Source(
        p_x=p_x,
        p_y_given_x=symmetric_channel(2, label_error),
        d_rd=d,
        name=f"binary p={pf:g}, Hamming, label BSC({float(label_error):g})",
        closed_form=closed_form,
        x_points=np.array([0.0, 1.0]),
        xhat_points=np.array([0.0, 1.0]),
    )


def gaussian_source(
    variance: float = 1.0,
    *,
    n_points: int = 201,
    n_reproduction: int | None = None,
    width: float = 5.0,
    n_classes: int = 2,
    label_error: float = 0.0,
) -> Source:
    """A zero-mean Gaussian discretised on a uniform grid, squared-error distortion.

    The source takes ``n_points`` values equally spaced on ``[-width·σ, width·σ]``
    with probabilities proportional to the N(0, σ²) density (then normalised — it
    is a discretisation, not a renormalisation of user input). The reproduction
    alphabet is a grid of ``n_reproduction`` points on the same interval
    (default: the source grid). ``d_RD(x, x̂) = (x - x̂)²`` (eq. 5).

    The task label is the quantile class of ``x``: ``n_classes`` equiprobable bins
    of the continuous Gaussian (``n_classes = 2`` is the sign of x), seen through an
    m-ary symmetric channel with ``label_error``.

    ``closed_form`` is the continuous ``R(D) = ½ log₂(σ²_grid/D)`` with the variance
    of the discretised source; the finite grid departs from it at high rates
    (``R`` cannot exceed ``H(X)``).
    """
    v = float(variance)
    if not (np.isfinite(v) and v > 0):
        raise ValueError(f"variance must be finite and > 0, got {variance!r}")
    n = check_int(n_points, "n_points", minimum=2)
    k = n if n_reproduction is None else check_int(n_reproduction, "n_reproduction", minimum=1)
    w = float(width)
    if not (np.isfinite(w) and w > 0):
        raise ValueError(f"width must be finite and > 0, got {width!r}")
    m = check_int(n_classes, "n_classes", minimum=2)
    sigma = np.sqrt(v)
    x = np.linspace(-w * sigma, w * sigma, n)
    dens = np.exp(-0.5 * (x / sigma) ** 2)
    p_x = dens / dens.sum()
    xhat = np.linspace(-w * sigma, w * sigma, k) if k > 1 else np.zeros(1)
    d = (x[:, None] - xhat[None, :]) ** 2
    from scipy.stats import norm

    edges = norm.ppf(np.linspace(0, 1, m + 1)[1:-1], scale=sigma)
    labels = np.searchsorted(edges, x)
    var_grid = float(np.dot(p_x, x**2) - np.dot(p_x, x) ** 2)

    def closed_form(distortion: object, *, base: float = 2) -> np.ndarray:
        return gaussian_rate_distortion(var_grid, distortion, base=base)

    return Source(
        p_x=p_x,
        p_y_given_x=label_channel(labels, m, error=label_error),
        d_rd=d,
        name=f"Gaussian σ²={v:g} on {n} points, squared error, {m} classes",
        closed_form=closed_form,
        x_points=x,
        xhat_points=xhat,
    )


def _kmeans_codebook(points: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(points)
    return km.cluster_centers_


def source_from_data(
    points: object,
    labels: object,
    *,
    codebook: object | None = None,
    n_codebook: int | None = None,
    method: str = "kmeans",
    weights: object | None = None,
    n_classes: int | None = None,
    label_error: float = 0.0,
    seed: int = 0,
    name: str = "data",
) -> Source:
    """Build ``(p_x, p_y_given_x, d_rd)`` from data points, labels and a codebook.

    Each data point is one source symbol. ``p(x)`` is uniform (or ``weights``,
    which must already sum to 1), ``p(y|x)`` is the one-hot label seen through an
    m-ary symmetric channel with ``label_error``, and
    ``d_RD(x, x̂) = ‖x - c_x̂‖² / dim`` (mean squared error per coordinate, eq. 5)
    against the codebook vectors ``c_x̂``.

    Parameters
    ----------
    points : (n, dim) array
        Data points (e.g. flattened images).
    labels : (n,) int array
        Class of each point.
    codebook : (k, dim) array, optional
        The reproduction points. If omitted, ``n_codebook`` points are chosen from
        the data with ``method``.
    n_codebook : int, optional
        Codebook size when ``codebook`` is not given (required then).
    method : {"kmeans", "subset"}
        ``"kmeans"``: k-means centroids (scikit-learn, seeded); ``"subset"``: a random
        subset of the data points (seeded).
    weights : (n,) array, optional
        ``p(x)``; default uniform ``1/n``.
    n_classes : int, optional
        Number of label classes (default ``max(labels) + 1``).
    label_error : float
        Label noise of the symmetric channel (0: one-hot labels).
    seed : int
        Seed of the codebook choice.
    """
    pts = as_float_array(points, "points", ndim=2)
    n, dim = pts.shape
    lab = np.asarray(labels)
    if lab.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) to match points, got {lab.shape}")
    if weights is None:
        p_x = np.full(n, 1.0 / n)
    else:
        p_x = check_distribution(weights, "weights", ndim=1)
        if p_x.shape != (n,):
            raise ValueError(f"weights must have shape ({n},), got {p_x.shape}")
    if codebook is not None:
        if n_codebook is not None:
            raise ValueError("give either codebook or n_codebook, not both")
        cb = as_float_array(codebook, "codebook", ndim=2)
        if cb.shape[1] != dim:
            raise ValueError(f"codebook must have {dim} columns like points, got shape {cb.shape}")
    else:
        if n_codebook is None:
            raise ValueError("n_codebook is required when no codebook is given")
        k = check_int(n_codebook, "n_codebook", minimum=1)
        if k > n:
            raise ValueError(f"n_codebook must be <= number of points {n}, got {k}")
        if method == "kmeans":
            cb = _kmeans_codebook(pts, k, seed)
        elif method == "subset":
            idx = np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))
            cb = pts[idx].copy()
        else:
            raise ValueError(f"method must be 'kmeans' or 'subset', got {method!r}")
    sq = (pts**2).sum(1)[:, None] + (cb**2).sum(1)[None, :] - 2.0 * pts @ cb.T
    d = np.maximum(sq, 0.0) / dim
    p_y = label_channel(lab, n_classes, error=label_error)
    return Source(
        p_x=p_x,
        p_y_given_x=p_y,
        d_rd=d,
        name=f"{name}: {n} points, {cb.shape[0]} codewords, {p_y.shape[1]} classes",
        x_points=pts,
        xhat_points=cb,
    )


def digits_source(
    *,
    n_samples: int | None = 300,
    n_codebook: int = 64,
    method: str = "kmeans",
    label_error: float = 0.0,
    seed: int = 0,
) -> Source:
    """The scikit-learn 8×8 handwritten digits as a discrete semantic source.

    Images are scaled to ``[0, 1]`` (pixel/16) and flattened to 64-vectors; labels
    are the digits 0–9. A seeded random subset of ``n_samples`` images (all 1797
    if ``None``) is the source alphabet with uniform ``p(x)``; the codebook has
    ``n_codebook`` vectors chosen with ``method`` (see :func:`source_from_data`);
    ``d_RD`` is the per-pixel mean squared error.
    """
    from sklearn.datasets import load_digits

    data = load_digits()
    x = data.data / 16.0
    y = data.target.astype(np.int64)
    if n_samples is not None:
        ns = check_int(n_samples, "n_samples", minimum=2)
        if ns > x.shape[0]:
            raise ValueError(f"n_samples must be <= {x.shape[0]}, got {ns}")
        idx = np.sort(np.random.default_rng(seed).choice(x.shape[0], size=ns, replace=False))
        x, y = x[idx], y[idx]
    return source_from_data(
        x,
        y,
        n_codebook=n_codebook,
        method=method,
        n_classes=10,
        label_error=label_error,
        seed=seed,
        name="digits 8x8",
    )


def check_source_arrays(
    p_x: object, p_y_given_x: object, d_rd: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate the three arrays of a semantic R-D problem and their shapes (the one
    validator, :func:`infotheory.problem.check_problem_arrays`)."""
    from .problem import check_problem_arrays

    return check_problem_arrays(p_x, p_y_given_x, d_rd)
