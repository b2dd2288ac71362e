"""One analysis job of the ``mi`` experiment: the four quantities of one trained system.

A job (``kind == "mi"``, see :func:`mi_job`) names a finished training run (``run``, the
run id of a ``bpp`` training job, which it waits for) and the β of the system to read.
:func:`run_mi_job` reloads the run (:func:`neural.load_run`) and, at SNR = ∞:

1. passes the test images through the system: the bits ``Z = E(X)`` (eq. 18), the
   reconstruction ``X̂ = D(Z)`` and the prediction ``Ŷ = argmax F(X̂)``; accuracy and PSNR
   (mean of per-image values, dB) on the same images;
2. computes the count-based values (:mod:`.quantities`): exact H(Z), Σ_i H(Z_i), the bits
   sent, I(Z;Ŷ), I(X;Ŷ) and the plug-in I(Ŷ;Y), with their bound checks;
3. estimates I(X;Z) with each neural estimator of the job (CLUB, Algorithm 4 and eq. 40,
   and a lower-bound estimator, MINE by default) ``repeats`` times (estimation seeds
   0..R-1: split, batches and initialisation change), on the images of both splits.
   X enters as its principal components, whitened (``x_components``; an invertible map
   of X when the kept components hold all its variance, so I(X;Z) is unchanged), Z as
   ``2z - 1`` (±1), both without further standardisation.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import torch

from neural.experiments.four_mi.quantities import count_rows, count_values, estimator_row
from neural.experiments.jobs import Job
from neural.experiments.keys import jsonable

MI_JOB_FORMAT = 1
#: neural estimators the job can run on (X, Z), with the kind of number each gives
ESTIMATORS = {"club": "upper bound", "mine": "lower bound", "nwj": "lower bound"}
#: a PCA keeping less than this fraction of X's variance is reported as lossy
VARIANCE_KEPT = 1.0 - 1e-9


def mi_job(
    method: str,
    *,
    bpp: float,
    beta: float,
    seed: int,
    run: str,
    data: dict[str, Any],
    eval_batch_size: int,
    estimation: dict[str, Any],
) -> Job:
    """The analysis job of the system ``beta`` of training run ``run`` (see the module docstring).

    ``data``: ``{"dataset", "image_size"}``; ``estimation``: ``estimators`` (names of
    :data:`ESTIMATORS`), ``repeats``, ``steps``, ``batch_size``, ``hidden``, ``lr`` (None:
    the estimator's default), ``test_fraction``, ``x_components`` (None: pixels as they are)."""
    bad = [e for e in estimation["estimators"] if e not in ESTIMATORS]
    if bad:
        raise ValueError(f"estimators must be among {sorted(ESTIMATORS)}, got {bad}")
    return Job(
        jsonable(
            {
                "kind": "mi",
                "format": MI_JOB_FORMAT,
                "method": method,
                "bpp": float(bpp),
                "beta": float(beta),
                "seed": int(seed),
                "run": run,
                "data": data,
                "eval_batch_size": int(eval_batch_size),
                "estimation": estimation,
            }
        )
    )


def x_features(x: np.ndarray, components: int | None) -> tuple[np.ndarray, dict[str, Any]]:
    """``(N, D)`` images → whitened principal components ``(N, r)`` (float64), ``r`` at most
    ``components`` and the rank of the centred data; ``None``: the centred pixels divided by
    their overall sd. Returns the features and ``{"components", "variance_kept"}``."""
    xc = np.asarray(x, dtype=np.float64)
    xc = xc - xc.mean(0)
    if components is None:
        sd = float(xc.std())
        return xc / (sd if sd > 0 else 1.0), {"components": None, "variance_kept": 1.0}
    from sklearn.utils.extmath import randomized_svd

    total = float((xc**2).sum())
    if total == 0:
        raise ValueError("x: every image is the same; I(X;Z) = 0 and nothing can be estimated")
    k = min(int(components), *xc.shape)
    # the top k singular triplets (randomised, seeded: exact to rounding for data of rank <= k)
    _, s, vt = randomized_svd(xc, n_components=k, n_iter=6, random_state=0)
    r = max(1, int(np.sum(s > s[0] * 1e-9)))  # drop null directions (rank below k)
    feats = xc @ vt[:r].T / (s[:r] / math.sqrt(xc.shape[0]))
    kept = min(1.0, float((s[:r] ** 2).sum()) / total)
    return feats, {"components": r, "variance_kept": kept}


@torch.no_grad()
def _pass(system: torch.nn.Module, codec: Any, images: Any, batch_size: int, device: Any):
    """Bits ``(N, d)`` uint8, predictions, labels and per-image PSNR of ``images`` at SNR = ∞."""
    from neural.metrics import psnr

    bits, preds, labels, psnrs = [], [], [], []
    for start in range(0, len(images), batch_size):
        idx = torch.arange(start, min(start + batch_size, len(images)))
        x, y = images.batch(idx, device)
        out = system(x, math.inf)
        bits.append(codec.bits(x).flatten(1).to(torch.uint8).cpu())
        preds.append(out.logits.argmax(1).cpu())
        labels.append(y.cpu())
        psnrs.append(psnr(x, out.reconstruction).cpu())
    cat = torch.cat
    return cat(bits).numpy(), cat(preds).numpy(), cat(labels).numpy(), cat(psnrs).numpy()


@torch.no_grad()
def _bits(codec: Any, images: Any, batch_size: int, device: Any) -> np.ndarray:
    """The bits ``Z = E(X)`` ``(N, d)`` uint8 of ``images`` (the encoder alone)."""
    out = []
    for start in range(0, len(images), batch_size):
        x, _ = images.batch(torch.arange(start, min(start + batch_size, len(images))), device)
        out.append(codec.bits(x).flatten(1).to(torch.uint8).cpu())
    return torch.cat(out).numpy()


def _estimates(
    x: np.ndarray, bits: np.ndarray, est: dict[str, Any], device: str, bits_sent: int
) -> list[dict[str, Any]]:
    """One row per neural estimator: I(X;Z) over ``est["repeats"]`` estimation seeds (bits)."""
    from neural.mi import estimate_mi_seeds

    feats, info = x_features(x, est["x_components"])
    z = 2.0 * bits.astype(np.float64) - 1.0
    lossy = info["variance_kept"] < VARIANCE_KEPT
    rows = []
    for name in est["estimators"]:
        with warnings.catch_warnings():  # out-of-bounds values are flagged in the row instead
            warnings.simplefilter("ignore", UserWarning)
            band = estimate_mi_seeds(
                feats,
                z,
                name,
                seeds=range(int(est["repeats"])),
                steps=int(est["steps"]),
                batch_size=int(est["batch_size"]),
                units="bits",
                test_fraction=float(est["test_fraction"]),
                lr=est["lr"],
                hidden=est["hidden"],
                device=device,
                standardize=False,
                discrete="neither",
            )
        not_conv = sum(1 for r in band.results if r.converged is False)
        notes = [
            f"{len(x)} images (train and test), X as {info['components'] or 'all'} whitened "
            f"principal components ({info['variance_kept']:.6f} of its variance), Z as ±1; "
            f"{est['steps']} steps, batch {est['batch_size']}"
        ]
        if not_conv:
            notes.append(
                f"{not_conv} of {len(band.results)} repeats NOT converged (plateau test on the "
                "held-out curve)"
            )
        if lossy:
            notes.append(
                "the components drop part of X: a lower bound stays one, an upper bound may not"
            )
        row = estimator_row(
            name,
            ESTIMATORS[name],
            [float(r.estimate) for r in band.results],
            bits_sent=bits_sent,
            samples=len(x),
            note="; ".join(notes),
        )
        row["converged"] = 1.0 - not_conv / len(band.results)
        rows.append(row)
    return rows


def run_mi_job(job: Job, runtime: dict[str, Any]) -> dict[str, Any]:
    """Run an ``mi`` job (see the module docstring); returns its record ``{"run_id", "rows"}``."""
    from neural.data import load_dataset
    from neural.experiments.jobs import run_dir
    from neural.training import load_run
    from neural.training.distributed import resolve_device
    from neural.training.result import beta_label

    spec, out = job.spec, runtime["out"]
    device = resolve_device(runtime.get("device", "auto"))
    run = load_run(run_dir(out, spec["run"]), device=device)
    system = run.system(spec["beta"])
    codec = run.codecs[beta_label(spec["beta"])]
    data_dir = runtime.get("data_dir")
    dataset, size = spec["data"]["dataset"], spec["data"]["image_size"]
    test = load_dataset(dataset, "test", data_dir, size)
    batch = spec["eval_batch_size"]
    bits, y_hat, y, psnrs = _pass(system, codec, test, batch, device)
    h, w = test.image_size
    bits_sent = int(round(spec["bpp"] * h * w))
    if bits.shape[1] != bits_sent:
        raise ValueError(
            f"run {spec['run']}: Z has {bits.shape[1]} bits per image, expected bpp x H x W = {bits_sent}"
        )
    values = count_values(bits, y_hat, y, n_classes=test.num_classes, bits_sent=bits_sent)
    rows = count_rows(values)
    est = spec["estimation"]
    if est["estimators"]:
        train = load_dataset(dataset, "train", data_dir, size)
        train_bits = _bits(codec, train, batch, device)
        x = torch.cat(
            [
                train.batch(torch.arange(len(train)), "cpu")[0],
                test.batch(torch.arange(len(test)), "cpu")[0],
            ]
        )
        rows += _estimates(
            x.flatten(1).numpy(),
            np.concatenate([train_bits, bits]),
            est,
            str(device),
            bits_sent,
        )
    base = {
        "method": spec["method"],
        "bpp": spec["bpp"],
        "snr_db": math.inf,
        "beta": spec["beta"],
        "seed": spec["seed"],
        "accuracy": float(np.mean(y_hat == y)),
        "psnr": float(np.mean(psnrs)),
        "job": job.key,
    }
    return {
        "run_id": None,
        "n_classes": test.num_classes,
        "rows": [{**base, **r} for r in rows],
    }
