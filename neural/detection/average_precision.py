"""Mean average precision of box detections, COCO's definition (what pycocotools computes).

For each class ``c`` and IoU threshold ``t`` (the ten values 0.50, 0.55, …, 0.95):

1. per image, the detections of class ``c`` are sorted by score (descending, stable) and
   the ``max_detections`` best kept; each in turn is matched to the unmatched ground-truth
   box of class ``c`` with the largest IoU ≥ ``t`` (IoU = intersection / union of the
   ``[x0, y0, x1, y1)`` boxes, areas ``(x1 - x0)(y1 - y0)``). A detection matched to an
   ignored ground truth (``ignore``, e.g. VOC's ``difficult``) is itself ignored;
   non-ignored ground truths are preferred to ignored ones;
2. all kept detections of class ``c`` over the images are sorted by score (stable, in image
   order); with ``TP``/``FP`` their running counts and ``G`` the number of non-ignored
   ground truths, recall ``TP/G`` and precision ``TP/(TP + FP)``; precision is made
   non-increasing from the right (the interpolated precision envelope);
3. ``AP_c(t)`` is the mean over the 101 recall levels ``r = 0, 0.01, …, 1`` of the
   envelope at the first detection whose recall reaches ``r`` (0 beyond the last recall).

Classes without non-ignored ground truth are left out (their detections count nowhere).
``map50`` is the mean of ``AP_c(0.5)`` over the classes, ``map`` the mean of ``AP_c(t)``
over classes and the ten thresholds (mAP@[0.5:0.95]). Values lie in [0, 1]; NaN when no
class has ground truth. Tested against pycocotools' ``COCOeval`` on fixtures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

IOU_THRESHOLDS = tuple(float(t) for t in np.linspace(0.5, 0.95, 10))
RECALL_LEVELS = np.linspace(0.0, 1.0, 101)


@dataclass(frozen=True)
class ImageBoxes:
    """Boxes of one image: ``boxes`` ``(n, 4)`` ``[x0, y0, x1, y1)``, ``labels`` ``(n,)`` ints,
    and ``scores`` ``(n,)`` (detections) or ``ignore`` ``(n,)`` bools (ground truth)."""

    boxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray | None = None
    ignore: np.ndarray | None = None


@dataclass(frozen=True)
class MAPResult:
    """``map`` (mAP@[0.5:0.95]), ``map50`` (mAP@0.5), ``per_class`` ``{class: (AP@0.5,
    AP@[0.5:0.95])}`` for the classes with ground truth, ``images`` and ``detections`` counted."""

    map: float
    map50: float
    per_class: dict[int, tuple[float, float]]
    images: int
    detections: int


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix ``(len(a), len(b))`` of ``[x0, y0, x1, y1)`` boxes (0 where they do not overlap)."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(w, 0, None) * np.clip(h, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(inter > 0, inter / union, 0.0)


def _check(items: list[ImageBoxes], what: str, scored: bool) -> None:
    for i, it in enumerate(items):
        if not isinstance(it, ImageBoxes):
            raise TypeError(f"{what}[{i}] must be an ImageBoxes, got {type(it).__name__}")
        b = np.asarray(it.boxes, np.float64)
        n = len(it.labels)
        if b.shape != (n, 4):
            raise ValueError(
                f"{what}[{i}]: boxes must be (n, 4) with n = len(labels), got {b.shape}"
            )
        if not np.all(np.isfinite(b)) or np.any(b[:, 2] < b[:, 0]) or np.any(b[:, 3] < b[:, 1]):
            raise ValueError(f"{what}[{i}]: boxes must be finite with x1 >= x0 and y1 >= y0")
        extra = it.scores if scored else it.ignore
        name = "scores" if scored else "ignore"
        if scored and extra is None:
            raise ValueError(f"{what}[{i}]: detections need scores")
        if extra is not None and np.shape(extra) != (n,):
            raise ValueError(f"{what}[{i}]: {name} must have shape ({n},), got {np.shape(extra)}")
        if scored and not np.all(np.isfinite(np.asarray(extra, np.float64))):
            raise ValueError(f"{what}[{i}]: scores must be finite")


def _match_image(
    det: ImageBoxes, gt: ImageBoxes, cls: int, max_detections: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Step 1 for one image and class: (scores, matched (T, d), det ignored (T, d), gt ignore)."""
    dsel = np.flatnonzero(np.asarray(det.labels) == cls)
    gsel = np.flatnonzero(np.asarray(gt.labels) == cls)
    if len(dsel) == 0 and len(gsel) == 0:
        return None
    g_ign = np.zeros(len(gsel), bool) if gt.ignore is None else np.asarray(gt.ignore, bool)[gsel]
    g_order = np.argsort(g_ign, kind="mergesort")  # non-ignored first
    gsel, g_ign = gsel[g_order], g_ign[g_order]
    scores = np.asarray(det.scores, np.float64)[dsel]
    d_order = np.argsort(-scores, kind="mergesort")[:max_detections]
    dsel, scores = dsel[d_order], scores[d_order]
    iou = box_iou(np.asarray(det.boxes)[dsel], np.asarray(gt.boxes)[gsel])
    T = len(IOU_THRESHOLDS)
    matched = np.zeros((T, len(dsel)), bool)
    d_ign = np.zeros((T, len(dsel)), bool)
    for ti, t in enumerate(IOU_THRESHOLDS):
        taken = np.zeros(len(gsel), bool)
        for di in range(len(dsel)):
            best, m = min(t, 1 - 1e-10), -1
            for gi in range(len(gsel)):
                if taken[gi]:
                    continue
                if m > -1 and not g_ign[m] and g_ign[gi]:
                    break  # a non-ignored match beats every ignored one
                if iou[di, gi] < best:
                    continue
                best, m = iou[di, gi], gi
            if m > -1:
                taken[m] = True
                matched[ti, di] = True
                d_ign[ti, di] = g_ign[m]
    return scores, matched, d_ign, g_ign


def _average_precision(scores, matched, d_ign, n_gt: int) -> np.ndarray:
    """Steps 2–3 for one class: AP at each IoU threshold, shape (T,)."""
    order = np.argsort(-scores, kind="mergesort")
    ap = np.zeros(len(IOU_THRESHOLDS))
    for ti in range(len(IOU_THRESHOLDS)):
        m, ig = matched[ti, order], d_ign[ti, order]
        tp = np.cumsum(m & ~ig).astype(np.float64)
        fp = np.cumsum(~m & ~ig).astype(np.float64)
        if len(tp) == 0:
            continue
        recall = tp / n_gt
        precision = tp / (tp + fp + np.spacing(1))
        precision = np.maximum.accumulate(precision[::-1])[::-1]  # envelope from the right
        idx = np.searchsorted(recall, RECALL_LEVELS, side="left")
        q = np.where(idx < len(precision), precision[np.minimum(idx, len(precision) - 1)], 0.0)
        ap[ti] = q.mean()
    return ap


def mean_average_precision(
    detections: list[ImageBoxes],
    ground_truth: list[ImageBoxes],
    *,
    max_detections: int = 100,
) -> MAPResult:
    """COCO mAP@[0.5:0.95] and mAP@0.5 of ``detections`` against ``ground_truth`` (one
    :class:`ImageBoxes` per image, in the same order; see the module docstring)."""
    if len(detections) != len(ground_truth):
        raise ValueError(
            f"detections has {len(detections)} images but ground_truth has {len(ground_truth)}"
        )
    if (
        isinstance(max_detections, bool)
        or not isinstance(max_detections, int)
        or max_detections < 1
    ):
        raise ValueError(f"max_detections must be a positive integer, got {max_detections!r}")
    _check(detections, "detections", True)
    _check(ground_truth, "ground_truth", False)
    classes = sorted({int(c) for g in ground_truth for c in np.asarray(g.labels)})
    per_class: dict[int, tuple[float, float]] = {}
    n_det = 0
    for cls in classes:
        parts = [
            r
            for d, g in zip(detections, ground_truth)
            if (r := _match_image(d, g, cls, max_detections)) is not None
        ]
        n_gt = sum(int(np.sum(~p[3])) for p in parts)
        if n_gt == 0:
            continue  # only ignored ground truth: the class is left out, as in COCOeval
        scores = np.concatenate([p[0] for p in parts])
        matched = np.concatenate([p[1] for p in parts], axis=1)
        d_ign = np.concatenate([p[2] for p in parts], axis=1)
        n_det += len(scores)
        ap = _average_precision(scores, matched, d_ign, n_gt)
        per_class[cls] = (float(ap[0]), float(ap.mean()))
    if not per_class:
        return MAPResult(math.nan, math.nan, {}, len(detections), n_det)
    return MAPResult(
        float(np.mean([v[1] for v in per_class.values()])),
        float(np.mean([v[0] for v in per_class.values()])),
        per_class,
        len(detections),
        n_det,
    )
