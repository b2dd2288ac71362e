"""MI estimators on samples from solver-optimal encoders, against the exact values.

For an encoder ``p(x̂|x)`` returned by :func:`infotheory.semantic_rd` on a source with
task labels, the rate ``I(X;X̂)`` and the relevance ``I(X̂;Y)`` are known exactly (the
result's ``rate`` and ``relevance`` fields). Drawing ``N`` i.i.d. triples

    x ~ p(x),   x̂ ~ p(x̂|x),   y ~ p(y|x)          (the Markov chain Y – X – X̂)

gives samples on which every estimator of :mod:`neural.mi` can be run and scored against
that exact value: an operational optimum, not a Gaussian toy. Inputs:

* ``I(X;X̂)``: x as its feature vector (the digit image, the Gaussian grid point) and x̂
  as its codeword vector, for CLUB (Gaussian q, eq. 40), MINE (eq. 39), InfoNCE, NWJ and
  SMILE; x and x̂ as indices for the plug-in (Miller–Madow, from counts).
* ``I(X̂;Y)``: x̂ as its codeword vector and y as the class label. For the label side
  :mod:`neural.mi` offers categorical CLUB (``club-categorical``: softmax q(y|x̂), the
  CLUB of a discrete y) and the classifier bound (``classifier``: H(Y) − held-out
  cross-entropy, Barber–Agakov); MINE, InfoNCE, NWJ and SMILE take y one-hot encoded
  (``estimate_mi`` does this for an integer label array); the plug-in uses the x̂ index.

:mod:`neural.mi` works in nats; every estimate here is requested with ``units="bits"``
(a division by ln 2) to match the solver's bits.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np

from infotheory import SemanticRDResult, semantic_rd
from infotheory.sources import check_source_arrays

__all__ = [
    "ESTIMATOR_PRESETS",
    "METHODS_RATE",
    "METHODS_RELEVANCE",
    "sample_triples",
    "estimate_on_solution",
    "summarise",
    "estimators_vs_exact",
    "plot_estimators",
]

RATE = "I(X;X̂)"
RELEVANCE = "I(X̂;Y)"
#: estimators run on I(X;X̂) (x, x̂ as vectors; the plug-in on indices)
METHODS_RATE = ("club", "mine", "infonce", "nwj", "smile", "plugin")
#: estimators run on I(X̂;Y) (x̂ as a vector, y as labels; the plug-in on the x̂ index)
METHODS_RELEVANCE = ("club-categorical", "classifier", "mine", "infonce", "nwj", "smile", "plugin")

#: feature entries below this fraction of the largest magnitude are set to exactly 0 before
#: estimation: k-means centres of pixels that are blank in every image come out as
#: rounding residue (down to 3e-20 in the 64-centre digits codebook), and the training-split
#: standardisation of neural.mi scales such a near-constant column by its ~1e-20 sd, so a
#: held-out codeword with a real value there becomes ~1e18 (measured: estimates of 1e32
#: bits). Setting residue to 0 changes no codeword by more than 1e-12 of its range.
RESIDUE = 1e-12

#: per preset: sources, trade-offs, sample size, estimator training steps
ESTIMATOR_PRESETS: dict[str, dict[str, Any]] = {
    "quick": {
        "gaussian_points": 41,
        "gaussian_beta": 0.5,
        "gaussian_lams": (0.5, 0.1),
        "digits_codebook": 64,
        "digits_split": "test",
        "digits_beta": 0.02,
        "digits_lams": (0.02, 0.003),
        "n_samples": 2000,
        "steps": 300,
        "batch_size": 64,
    },
    "paper": {
        "gaussian_points": 101,
        "gaussian_beta": 0.5,
        "gaussian_lams": (1.0, 0.5, 0.2, 0.1),
        "digits_codebook": 64,
        "digits_split": "all",
        "digits_beta": 0.02,
        "digits_lams": (0.05, 0.02, 0.01, 0.003),
        "n_samples": 20000,
        "steps": 2000,
        "batch_size": 64,
    },
}


def sample_triples(
    p_x: Any, p_y_given_x: Any, encoder: Any, *, n_samples: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n_samples`` i.i.d. index triples ``(x, x̂, y)`` with x ~ p(x), x̂ ~ p(x̂|x),
    y ~ p(y|x) (seeded), as three ``(N,)`` int64 arrays."""
    px, pyx, enc = check_source_arrays(p_x, p_y_given_x, encoder)
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2, got {n_samples!r}")
    if not np.allclose(enc.sum(1), 1.0, rtol=0, atol=1e-9):
        raise ValueError("encoder: rows must sum to 1 (a conditional p(x̂|x))")
    rng = np.random.default_rng(seed)

    def draw(rows: np.ndarray, idx: np.ndarray) -> np.ndarray:
        cum = np.cumsum(rows[idx], axis=1)
        u = rng.random(idx.shape[0]) * cum[:, -1]
        return np.minimum((cum < u[:, None]).sum(1), rows.shape[1] - 1).astype(np.int64)

    x = rng.choice(px.shape[0], size=int(n_samples), p=px).astype(np.int64)
    return x, draw(enc, x), draw(pyx, x)


def _one_estimate(
    a: np.ndarray, b: np.ndarray, method: str, *, steps: int, batch_size: int, seed: int
) -> dict:
    from neural.mi import estimate_mi

    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = estimate_mi(
                a,
                b,
                method,
                steps=steps,
                batch_size=batch_size,
                seed=seed,
                units="bits",
                on_nonfinite="restart",
                eval_every=max(1, steps // 5),  # the held-out history costs as much as training
            )
        except Exception as err:  # recorded in the row, never a silent number
            return {
                "estimate": None,
                "kind": None,
                "converged": None,
                "in_bounds": None,
                "note": f"{type(err).__name__}: {err}",
                "seconds": time.perf_counter() - t0,
            }
    notes = [str(w.message) for w in caught]
    return {
        "estimate": float(res.estimate),
        "kind": res.kind,
        "converged": bool(res.converged),
        "in_bounds": bool(res.in_bounds),
        "note": "; ".join(notes)[:300],
        "seconds": time.perf_counter() - t0,
    }


def _clean(features: Any, rows: int, name: str) -> np.ndarray:
    """``(rows, d)`` float64 features with entries below ``RESIDUE`` times the largest
    magnitude set to exactly 0 (see :data:`RESIDUE`)."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim not in (1, 2) or f.shape[0] != rows:
        raise ValueError(f"{name}: expected {rows} rows (one per symbol), got shape {f.shape}")
    f = f.reshape(rows, -1)
    if not np.all(np.isfinite(f)):
        raise ValueError(f"{name}: contains NaN or inf")
    big = float(np.abs(f).max()) if f.size else 0.0
    return np.where(np.abs(f) < RESIDUE * big, 0.0, f)


def estimate_on_solution(
    result: SemanticRDResult,
    *,
    p_x: Any,
    p_y_given_x: Any,
    x_features: Any,
    xhat_features: Any,
    source: str,
    seeds: Sequence[int],
    n_samples: int,
    steps: int,
    batch_size: int = 64,
    methods_rate: Sequence[str] | None = None,
    methods_relevance: Sequence[str] | None = None,
    progress: bool = False,
    executor: Executor | None = None,
) -> list[dict]:
    """Run the estimators on samples from ``result.encoder`` and score them against
    ``result.rate`` and ``result.relevance`` (read from the result itself).

    For every seed s, ``n_samples`` triples are drawn with seed s
    (:func:`sample_triples`) and every estimator is trained with seed s (split, batches,
    initialisation): the spread over seeds includes the sampling noise.

    Args:
        result: a solver result with ``base=2`` (bits), on the problem given by ``p_x``,
            ``p_y_given_x`` and the result's encoder.
        x_features: ``(n, d_x)`` vector of each source symbol (image, grid point).
        xhat_features: ``(k, d_x̂)`` vector of each reproduction symbol (codeword). In
            both, entries below :data:`RESIDUE` times the largest magnitude count as 0.
        source: name recorded in the rows.
        methods_rate, methods_relevance: estimators (``neural.mi`` method names) for
            ``I(X;X̂)`` and ``I(X̂;Y)``; None: :data:`METHODS_RATE`, :data:`METHODS_RELEVANCE`.
        executor: a ``concurrent.futures.Executor`` (e.g. a ``ProcessPoolExecutor``, or a
            dask ``Client.get_executor()``) to run the independent estimates on; None: in
            this process, one after the other.

    Returns:
        one row per (quantity, estimator, seed) with keys ``part`` (``"estimators"``),
        ``source``, ``beta``, ``lam``, ``quantity`` (``"I(X;X̂)"`` or ``"I(X̂;Y)"``),
        ``estimator`` (the ``neural.mi`` method name), ``seed``, ``n_samples``, ``steps``, ``exact`` (bits: ``result.rate``
        or ``result.relevance``), ``estimate`` (bits; None if the estimator failed, with
        the reason in ``note``), ``error`` (estimate − exact, bits), ``kind`` (upper
        bound / lower bound / point estimate), ``converged`` (plateau test),
        ``in_bounds`` (0 ≤ estimate ≤ entropy of a discrete side), ``note`` (warnings),
        ``seconds``.
    """
    if not isinstance(result, SemanticRDResult):
        raise ValueError(f"result must be a SemanticRDResult, got {type(result).__name__}")
    if result.base != 2:
        raise ValueError(f"result must be in bits (base=2), got base {result.base:g}")
    px, pyx, enc = check_source_arrays(p_x, p_y_given_x, result.encoder)
    xf = _clean(x_features, px.shape[0], "x_features")
    cf = _clean(xhat_features, enc.shape[1], "xhat_features")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    m_rate = METHODS_RATE if methods_rate is None else tuple(methods_rate)
    m_rel = METHODS_RELEVANCE if methods_relevance is None else tuple(methods_relevance)
    jobs = [(RATE, m) for m in m_rate] + [(RELEVANCE, m) for m in m_rel]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs) * len(seeds), desc=f"MI {source} λ={result.lam:g}", leave=False)
    tasks = []
    for s in seeds:
        x, xh, y = sample_triples(px, pyx, enc, n_samples=n_samples, seed=s)
        for quantity, method in jobs:
            if quantity == RATE:
                a, b = (x, xh) if method == "plugin" else (xf[x], cf[xh])
            else:
                a, b = (xh, y) if method == "plugin" else (cf[xh], y)
            tasks.append((s, quantity, method, a, b))
    if executor is None:
        outs = []
        for s, _, method, a, b in tasks:
            outs.append(_one_estimate(a, b, method, steps=steps, batch_size=batch_size, seed=s))
            if bar is not None:
                bar.update(1)
    else:  # independent jobs: submitted at once, collected in order
        futures = [
            executor.submit(_one_estimate, a, b, method, steps=steps, batch_size=batch_size, seed=s)
            for s, _, method, a, b in tasks
        ]
        outs = []
        for fut in futures:
            outs.append(fut.result())
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    rows = []
    for (s, quantity, method, _, _), out in zip(tasks, outs):
        exact = float(result.rate) if quantity == RATE else float(result.relevance)
        est = out.pop("estimate")
        rows.append(
            {
                "part": "estimators",
                "source": source,
                "beta": float(result.beta),
                "lam": float(result.lam),
                "quantity": quantity,
                "estimator": method,
                "seed": s,
                "n_samples": int(n_samples),
                "steps": int(steps),
                "exact": exact,
                "estimate": est,
                "error": None if est is None else est - exact,
                **out,
            }
        )
    return rows


def summarise(rows: Sequence[dict]) -> list[dict]:
    """Per (source, β, λ, quantity, estimator), over the seeds of the ``estimators`` rows:
    ``part="estimators_summary"``, ``exact``, ``mean``, ``bias`` = mean − exact, ``sd``
    (seed-to-seed, ddof = 1; None with one seed), ``rmse`` (over seeds, about the exact
    value), ``rel_bias`` (bias / exact; None at exact = 0), ``n_seeds``, ``n_failed``
    (seeds whose estimator stopped), ``kind``. All in bits."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        if r.get("part") == "estimators":
            key = (r["source"], r["beta"], r["lam"], r["quantity"], r["estimator"])
            groups.setdefault(key, []).append(r)
    out = []
    for (src, beta, lam, quantity, method), rs in groups.items():
        exact = rs[0]["exact"]
        vals = np.array([r["estimate"] for r in rs if r["estimate"] is not None], dtype=float)
        ok = vals.size > 0
        mean = float(vals.mean()) if ok else None
        out.append(
            {
                "part": "estimators_summary",
                "source": src,
                "beta": beta,
                "lam": lam,
                "quantity": quantity,
                "estimator": method,
                "kind": next((r["kind"] for r in rs if r["kind"] is not None), None),
                "exact": exact,
                "mean": mean,
                "bias": None if mean is None else mean - exact,
                "rel_bias": None if mean is None or exact == 0 else (mean - exact) / exact,
                "sd": float(vals.std(ddof=1)) if vals.size > 1 else None,
                "rmse": float(np.sqrt(np.mean((vals - exact) ** 2))) if ok else None,
                "n_seeds": len(rs),
                "n_failed": len(rs) - int(vals.size),
            }
        )
    return out


@dataclass(frozen=True)
class _Point:
    source: str
    arrays: tuple[np.ndarray, np.ndarray, np.ndarray]
    x_features: np.ndarray
    xhat_features: np.ndarray
    beta: float
    lams: tuple[float, ...]


def _points(cfg: dict[str, Any]) -> list[_Point]:
    from infotheory.sources import gaussian_source

    from .digits import digits_source

    g = gaussian_source(1.0, n_points=cfg["gaussian_points"], width=4.0, n_classes=2)
    d = digits_source(codebook_size=cfg["digits_codebook"], seed=0, split=cfg["digits_split"])
    return [
        _Point(
            "gaussian",
            (g.p_x, g.p_y_given_x, g.d_rd),
            np.asarray(g.x_points)[:, None],
            np.asarray(g.xhat_points)[:, None],
            cfg["gaussian_beta"],
            cfg["gaussian_lams"],
        ),
        _Point(
            "digits",
            (d.p_x, d.p_y_given_x, d.d_rd),
            np.asarray(d.images),
            np.asarray(d.codebook),
            cfg["digits_beta"],
            cfg["digits_lams"],
        ),
    ]


def estimators_vs_exact(
    *, preset: str, seeds: int, progress: bool, executor: Executor | None = None
) -> list[dict]:
    """The estimators of :mod:`neural.mi` against the exact rate and relevance of
    solver-optimal encoders on the Gaussian and digits sources, at the preset's λ points
    (one β > 0 per source). Seeds ``0 .. seeds-1``; ``executor`` as in
    :func:`estimate_on_solution`.

    Returns the rows of :func:`estimate_on_solution` (``part="estimators"``, one per
    estimate) followed by those of :func:`summarise` (``part="estimators_summary"``),
    plus one ``part="estimators_solution"`` row per point: ``source``, ``beta``,
    ``lam``, ``rate``, ``relevance``, ``distortion_rd``, ``objective`` (bits; the
    solver's fields), ``solver_starts``, ``solver_starts_at_best``, ``solver_converged``.
    """
    if preset not in ESTIMATOR_PRESETS:
        raise ValueError(f"preset must be one of {sorted(ESTIMATOR_PRESETS)}, got {preset!r}")
    if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer)) or seeds < 1:
        raise ValueError(f"seeds must be an integer >= 1, got {seeds!r}")
    cfg = ESTIMATOR_PRESETS[preset]
    rows: list[dict] = []
    sol_rows: list[dict] = []
    for pt in _points(cfg):
        for lam in pt.lams:
            r = semantic_rd(*pt.arrays, beta=pt.beta, lam=lam)
            sol_rows.append(
                {
                    "part": "estimators_solution",
                    "source": pt.source,
                    "beta": float(r.beta),
                    "lam": float(r.lam),
                    "rate": float(r.rate),
                    "relevance": float(r.relevance),
                    "distortion_rd": float(r.distortion_rd),
                    "objective": float(r.objective),
                    "solver_starts": int(r.starts),
                    "solver_starts_at_best": int(r.starts_at_best),
                    "solver_converged": bool(r.converged),
                }
            )
            rows += estimate_on_solution(
                r,
                p_x=pt.arrays[0],
                p_y_given_x=pt.arrays[1],
                x_features=pt.x_features,
                xhat_features=pt.xhat_features,
                source=pt.source,
                seeds=range(int(seeds)),
                n_samples=cfg["n_samples"],
                steps=cfg["steps"],
                batch_size=cfg["batch_size"],
                progress=progress,
                executor=executor,
            )
    return sol_rows + rows + summarise(rows)


def plot_estimators(rows: Sequence[dict], path: Any) -> None:
    """PNG: estimate − exact (bits) per estimator, one panel per (source, quantity),
    grouped by λ: each seed a dot, the mean a bar; from the ``estimators`` rows of
    :func:`estimators_vs_exact`. Failed estimates (None) are not drawn (counted in the
    summary rows). The y axis is linear within ±0.1 bit and logarithmic beyond (CLUB can
    be thousands of bits above)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    est = [r for r in rows if r.get("part") == "estimators" and r.get("error") is not None]
    if not est:
        raise ValueError("rows: no 'estimators' rows with an estimate to plot")
    panels = list(dict.fromkeys((r["source"], r["quantity"]) for r in est))
    ncol = min(2, len(panels))
    nrow = -(-len(panels) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(6.0 * ncol, 4.2 * nrow), squeeze=False)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax, (src, qty) in zip(axes.flat, panels):
        sel = [r for r in est if r["source"] == src and r["quantity"] == qty]
        methods = list(dict.fromkeys(r["estimator"] for r in sel))
        lams = list(dict.fromkeys(r["lam"] for r in sel))
        width = 0.8 / max(len(lams), 1)
        for li, lam in enumerate(lams):
            exact = next(r["exact"] for r in sel if r["lam"] == lam)
            means = []
            for mi, m in enumerate(methods):
                errs = [r["error"] for r in sel if r["lam"] == lam and r["estimator"] == m]
                xpos = mi - 0.4 + width * (li + 0.5)
                ax.plot([xpos] * len(errs), errs, ".", color=f"C{li}", ms=4)
                means.append(float(np.mean(errs)) if errs else math.nan)
            ax.bar(
                np.arange(len(methods)) - 0.4 + width * (li + 0.5),
                means,
                width=width * 0.9,
                color=f"C{li}",
                alpha=0.35,
                label=f"λ={lam:g} (exact {exact:.3f} bits)",
            )
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set_xticks(range(len(methods)))
        ax.set_xticklabels(methods, rotation=35, ha="right", fontsize=8)
        ax.set_ylabel("estimate − exact (bits)")
        ax.set_title(f"{src}: {qty}")
        ax.legend(fontsize=7)
    fig.suptitle("MI estimators on samples from solver-optimal encoders (dots: seeds)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
