"""COCO mAP (neural.detection.average_precision) against pycocotools' COCOeval on fixtures,
and against hand-computed values."""

import contextlib
import io

import numpy as np
import pytest

from neural.detection import IOU_THRESHOLDS, ImageBoxes, box_iou, mean_average_precision


def _fixture(seed, n_images=6, n_classes=3, ignore=False):
    """Random ground truth and noisy detections (shifted copies, misses, false positives)."""
    rng = np.random.default_rng(seed)
    gts, dets = [], []
    for _ in range(n_images):
        m = int(rng.integers(0, 5))
        xy = rng.uniform(0, 80, (m, 2))
        wh = rng.uniform(4, 30, (m, 2))
        gb = np.concatenate([xy, xy + wh], 1)
        gl = rng.integers(0, n_classes, m)
        gi = rng.random(m) < 0.2 if ignore else np.zeros(m, bool)
        gts.append(ImageBoxes(gb, gl, ignore=gi))
        keep = rng.random(m) < 0.8
        db = gb[keep] + rng.normal(0, 1.5, (int(keep.sum()), 4))
        db[:, 2:] = np.maximum(db[:, 2:], db[:, :2] + 1)
        dl = gl[keep].copy()
        flip = rng.random(len(dl)) < 0.15
        dl[flip] = rng.integers(0, n_classes, int(flip.sum()))
        k = int(rng.integers(0, 4))
        fxy = rng.uniform(0, 80, (k, 2))
        fb = np.concatenate([fxy, fxy + rng.uniform(4, 30, (k, 2))], 1)
        boxes = np.concatenate([db, fb])
        labels = np.concatenate([dl, rng.integers(0, n_classes, k)])
        dets.append(ImageBoxes(boxes, labels, scores=rng.random(len(labels))))
    return dets, gts


def _pycocotools(dets, gts, n_classes):
    """mAP@[.5:.95] and mAP@.5 by COCOeval. An ignored ground truth is given an area above
    COCO's 'all' range (1e10), which makes COCOeval ignore it with the plain box IoU."""
    coco_mod = pytest.importorskip(
        "pycocotools.coco",
        reason="pycocotools is the reference (pip install pycocotools, in the test extra)",
    )
    from pycocotools.cocoeval import COCOeval

    images, anns, results = [], [], []
    for i, (d, g) in enumerate(zip(dets, gts)):
        images.append({"id": i + 1, "width": 200, "height": 200})
        for b, c, ig in zip(g.boxes, g.labels, g.ignore):
            w, h = b[2] - b[0], b[3] - b[1]
            anns.append(
                {
                    "id": len(anns) + 1,  # ids from 1: COCOeval marks matches by id
                    "image_id": i + 1,
                    "category_id": int(c) + 1,
                    "bbox": [float(b[0]), float(b[1]), float(w), float(h)],
                    "area": 1e11 if ig else float(w * h),
                    "iscrowd": 0,
                }
            )
        for b, c, s in zip(d.boxes, d.labels, d.scores):
            results.append(
                {
                    "image_id": i + 1,
                    "category_id": int(c) + 1,
                    "bbox": [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])],
                    "score": float(s),
                }
            )
    gt = coco_mod.COCO()
    gt.dataset = {
        "images": images,
        "annotations": anns,
        "categories": [{"id": c + 1, "name": str(c)} for c in range(n_classes)],
    }
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        dt = gt.loadRes(results)
        ev = COCOeval(gt, dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats[0], ev.stats[1]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("ignore", [False, True])
def test_map_agrees_with_pycocotools(seed, ignore):
    dets, gts = _fixture(seed, ignore=ignore)
    ref_map, ref_map50 = _pycocotools(dets, gts, 3)
    ours = mean_average_precision(dets, gts)
    assert 0.02 < ref_map < ref_map50 < 0.98  # a fixture that exercises the matching
    assert ours.map == pytest.approx(ref_map, abs=1e-12)
    assert ours.map50 == pytest.approx(ref_map50, abs=1e-12)


def test_map_with_max_detections_and_ties_agrees_with_pycocotools():
    dets, gts = _fixture(11, n_images=4)
    # equal scores everywhere: the stable orders of COCOeval decide
    dets = [ImageBoxes(d.boxes, d.labels, scores=np.round(d.scores, 1)) for d in dets]
    ref_map, ref_map50 = _pycocotools(dets, gts, 3)
    ours = mean_average_precision(dets, gts)
    assert (ours.map, ours.map50) == pytest.approx((ref_map, ref_map50), abs=1e-12)


def test_hand_computed_values():
    gt = [ImageBoxes(np.array([[0, 0, 10, 10], [20, 20, 30, 30.0]]), np.array([0, 0]))]
    # perfect detections: AP 1 at every threshold
    perfect = [ImageBoxes(gt[0].boxes, gt[0].labels, scores=np.array([0.9, 0.8]))]
    r = mean_average_precision(perfect, gt)
    assert (r.map, r.map50) == pytest.approx((1.0, 1.0), abs=1e-15)
    # a false positive scored above one true positive, the other box missed:
    # precision 0 then 1/2 at recall 1/2; envelope 1/2 up to recall 0.5 -> AP = 51/101 * 1/2
    dets = [
        ImageBoxes(
            np.array([[50, 50, 60, 60], [0, 0, 10, 10.0]]),
            np.array([0, 0]),
            scores=np.array([0.9, 0.5]),
        )
    ]
    r = mean_average_precision(dets, gt)
    assert r.map50 == pytest.approx(51 / 101 / 2, abs=1e-15)
    assert r.map == pytest.approx(51 / 101 / 2, abs=1e-15)  # the match is exact: every threshold
    # a box shifted to IoU 0.6: a true positive at t <= 0.6 only (thresholds 0.5, 0.55, 0.6)
    shifted = np.array([[2.5, 0, 12.5, 10]])  # IoU = 75 / 125 = 0.6
    assert box_iou(shifted, gt[0].boxes[:1])[0, 0] == pytest.approx(0.6)
    r = mean_average_precision([ImageBoxes(shifted, np.array([0]), scores=np.array([1.0]))], gt)
    assert r.map50 == pytest.approx(51 / 101, abs=1e-15)
    n_pass = sum(t <= 0.6 + 1e-12 for t in IOU_THRESHOLDS)
    assert n_pass == 3
    assert r.map == pytest.approx(51 / 101 * n_pass / 10, abs=1e-15)


def test_classes_without_ground_truth_are_left_out_and_inputs_checked():
    gt = [ImageBoxes(np.array([[0, 0, 10, 10.0]]), np.array([1]))]
    dets = [
        ImageBoxes(
            np.array([[0, 0, 10, 10.0], [0, 0, 5, 5]]),
            np.array([1, 4]),
            scores=np.array([0.5, 0.9]),
        )
    ]
    r = mean_average_precision(dets, gt)
    assert r.map == pytest.approx(1.0, abs=1e-15) and set(r.per_class) == {1}
    empty = mean_average_precision(
        [ImageBoxes(np.zeros((0, 4)), np.zeros(0, int), scores=np.zeros(0))],
        [ImageBoxes(np.zeros((0, 4)), np.zeros(0, int))],
    )
    assert np.isnan(empty.map)
    with pytest.raises(ValueError, match="ground_truth has 2"):
        mean_average_precision(dets, gt * 2)
    with pytest.raises(ValueError, match="need scores"):
        mean_average_precision([ImageBoxes(dets[0].boxes, dets[0].labels)], gt)
    with pytest.raises(ValueError, match="x1 >= x0"):
        mean_average_precision(
            [ImageBoxes(np.array([[5, 0, 1, 1.0]]), np.array([1]), scores=np.array([1.0]))], gt
        )
