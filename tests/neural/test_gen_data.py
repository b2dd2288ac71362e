"""Detection data: digit canvases (boxes against pixels, determinism) and the Pascal VOC 2007
reader on a tiny generated VOC-layout fixture."""

import os

import numpy as np
import pytest
import torch
from PIL import Image

from neural.data.detection import (
    VOC_CLASSES,
    find_voc_root,
    load_voc2007,
    make_digit_canvases,
)


@pytest.fixture(scope="module")
def canvases():
    return make_digit_canvases("test", 60, size=64, seed=3)


def test_boxes_match_the_pixels(canvases):
    assert canvases.images.shape == (60, 3, 64, 64)
    assert canvases.num_classes == 10
    counts = [len(b) for b in canvases.boxes]
    assert min(counts) >= 1 and max(counts) <= 4 and len(set(counts)) == 4  # 1..4 digits all occur
    for img, boxes in zip(canvases.images, canvases.boxes):
        assert torch.equal(img[0], img[1]) and torch.equal(img[0], img[2])  # grey, like the digits
        g = img[0]
        inside = torch.zeros_like(g, dtype=torch.int64)
        for x0, y0, x1, y1 in boxes.int().tolist():
            inside[y0:y1, x0:x1] += 1
            patch = g[y0:y1, x0:x1] > 0
            # tight: every edge row / column of the box holds a pixel of the digit
            assert patch[0].any() and patch[-1].any() and patch[:, 0].any() and patch[:, -1].any()
            side = max(x1 - x0, y1 - y0)
            assert 0.25 * 64 * 0.5 <= side <= round(0.45 * 64)  # a digit at the scale asked for
        assert int(inside.max()) == 1  # boxes do not overlap
        assert not bool((g[inside == 0] != 0).any())  # no ink outside the boxes
        assert float(g.min()) >= 0 and float(g.max()) <= 1


def test_canvases_carry_the_digits_of_their_split_with_their_class():
    """A canvas digit is the classification digit resized: pasted at its box, the ink equals
    the 8x8 digit of that class resized by bilinear interpolation and cropped."""
    import torch.nn.functional as F

    from neural.data import load_digits_dataset

    d = make_digit_canvases("train", 5, size=48, digits=(1, 1), seed=0)
    digits = load_digits_dataset("train", image_size=8)
    for img, box, lab in zip(d.images, d.boxes, d.labels):
        x0, y0, x1, y1 = box[0].int().tolist()
        patch = img[0, y0:y1, x0:x1]
        found = False
        for j in torch.nonzero(digits.labels == lab[0]).flatten().tolist():
            for side in range(max(x1 - x0, y1 - y0), 48 // 2 + 1):
                g = F.interpolate(
                    digits.images[j : j + 1, :1],
                    size=(side, side),
                    mode="bilinear",
                    align_corners=False,
                )[0, 0]
                ys, xs = torch.nonzero(g > 0, as_tuple=True)
                crop = g[int(ys.min()) : int(ys.max()) + 1, int(xs.min()) : int(xs.max()) + 1]
                if crop.shape == patch.shape and torch.equal(crop, patch):
                    found = True
                    break
            if found:
                break
        assert found, "the pasted digit is not a resized digit of its class"


def test_canvases_are_deterministic_and_checked(canvases):
    again = make_digit_canvases("test", 60, size=64, seed=3)
    assert torch.equal(again.images, canvases.images)
    assert all(torch.equal(a, b) for a, b in zip(again.boxes, canvases.boxes))
    other = make_digit_canvases("test", 60, size=64, seed=4)
    assert not torch.equal(other.images, canvases.images)
    with pytest.raises(ValueError, match="size must be a multiple of 8"):
        make_digit_canvases("test", 2, size=60)
    with pytest.raises(ValueError, match="split must be"):
        make_digit_canvases("val", 2)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        make_digit_canvases("test", 0)
    with pytest.raises(ValueError, match="scale must be"):
        make_digit_canvases("test", 2, scale=(0.3, 0.9))


# ----------------------------------------------------------------------------- VOC fixture
def _write_voc(root, ids, objects, sizes, split):
    voc = os.path.join(root, "VOCdevkit", "VOC2007")
    for d in ("Annotations", "JPEGImages", os.path.join("ImageSets", "Main")):
        os.makedirs(os.path.join(voc, d), exist_ok=True)
    with open(os.path.join(voc, "ImageSets", "Main", f"{split}.txt"), "w") as f:
        f.write("".join(f"{i}\n" for i in ids))
    rng = np.random.default_rng(0)
    for image_id, objs, (w, h) in zip(ids, objects, sizes):
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(
            os.path.join(voc, "JPEGImages", f"{image_id}.jpg")
        )
        parts = [
            f"<object><name>{n}</name><pose>Left</pose><truncated>0</truncated>"
            f"<difficult>{int(d)}</difficult><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin>"
            f"<xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox></object>"
            for n, d, b in objs
        ]
        xml = (
            f"<annotation><folder>VOC2007</folder><filename>{image_id}.jpg</filename>"
            f"<size><width>{w}</width><height>{h}</height><depth>3</depth></size>"
            + "".join(parts)
            + "</annotation>"
        )
        with open(os.path.join(voc, "Annotations", f"{image_id}.xml"), "w") as f:
            f.write(xml)
    return voc


def test_voc_reader_on_a_generated_fixture(tmp_path):
    objs = [
        [("dog", False, (1, 1, 100, 50)), ("person", True, (51, 26, 200, 100))],
        [("tvmonitor", False, (10, 20, 30, 40))],
    ]
    _write_voc(tmp_path, ["000001", "000005"], objs, [(200, 100), (50, 80)], "test")
    d = load_voc2007(tmp_path, "test", 32)
    assert d.images.shape == (2, 3, 32, 32) and d.images.dtype == torch.uint8
    assert d.class_names == VOC_CLASSES and d.num_classes == 20
    # 1-based inclusive [xmin, xmax] -> [xmin - 1, xmax), scaled by 32/W and 32/H
    np.testing.assert_allclose(
        d.boxes[0].numpy(),
        [[0, 0, 100 * 32 / 200, 50 * 32 / 100], [50 * 32 / 200, 25 * 32 / 100, 32, 32]],
        rtol=1e-6,
    )
    assert d.labels[0].tolist() == [VOC_CLASSES.index("dog"), VOC_CLASSES.index("person")]
    assert d.difficult[0].tolist() == [False, True]
    np.testing.assert_allclose(
        d.boxes[1].numpy(), [[9 * 32 / 50, 19 * 32 / 80, 30 * 32 / 50, 40 * 32 / 80]], rtol=1e-6
    )
    assert load_voc2007(tmp_path, "test", 32, max_images=1).images.shape[0] == 1
    assert find_voc_root(tmp_path).endswith(os.path.join("VOCdevkit", "VOC2007"))


def test_voc_reader_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        load_voc2007(tmp_path, "test", 32)
    with pytest.raises(ValueError, match="needs data_dir"):
        load_voc2007(None, "test", 32)
    voc = _write_voc(tmp_path, ["000001"], [[("unicorn", False, (1, 1, 5, 5))]], [(20, 20)], "test")
    with pytest.raises(ValueError, match="unknown class 'unicorn'"):
        load_voc2007(tmp_path, "test", 16)
    with pytest.raises(FileNotFoundError, match="trainval.txt is missing"):
        load_voc2007(tmp_path, "train", 16)
    os.remove(os.path.join(voc, "JPEGImages", "000001.jpg"))
    with pytest.raises(FileNotFoundError, match="000001.jpg is missing"):
        load_voc2007(tmp_path, "test", 16)


@pytest.mark.slow
def test_paper_preset_generalization_on_tiny_stl10_and_voc_files(tmp_path):
    """The paper preset end to end on generated files: STL-10 for the codecs, VOC 2007 for
    the detector (20 classes, uint8 images, a difficult object)."""
    from neural.experiments import load_results
    from neural.experiments.cli import main

    rng = np.random.default_rng(0)
    stl = tmp_path / "stl10_binary"
    stl.mkdir()
    for split, n in (("train", 32), ("test", 4)):
        rng.integers(0, 256, (n, 3, 96, 96), dtype=np.uint8).tofile(stl / f"{split}_X.bin")
        rng.integers(1, 11, n).astype(np.uint8).tofile(stl / f"{split}_y.bin")
    objs = [[("cat", False, (10, 10, 60, 70)), ("dog", True, (70, 5, 120, 90))]] * 3
    _write_voc(tmp_path, ["a", "b", "c"], objs, [(128, 96)] * 3, "trainval")
    _write_voc(tmp_path, ["d", "e"], objs[:2], [(128, 96)] * 2, "test")
    argv = ["generalization", "--preset", "paper", "--data-dir", str(tmp_path)]
    argv += ["--out", str(tmp_path / "out"), "--methods", "rd", "jpeg", "--headers", "payload"]
    argv += ["--executor", "inline", "--no-progress", "--override", "max_train_images=32"]
    argv += [
        a
        for st in ("classifier", "codec", "tosc")
        for a in ("--override", f"{st}.epochs=1", "--override", f"{st}.batch_size=16")
    ]
    argv += ["--detection", "epochs=1", "--detection", "width=4"]
    assert main(argv) == 0
    res = load_results(str(tmp_path / "out"))
    assert [r["method"] for r in res["rows"]] == ["rd", "jpeg"]
    assert all(r["det_images"] == 2 and 0 <= r["map50"] <= 1 for r in res["rows"])
    assert res["provenance"]["experiment"]["detection"]["dataset"] == "voc2007"
