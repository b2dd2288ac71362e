"""Object-detection data for the generalization experiment (Algorithm 5).

Two sources, one type (:class:`DetectionDataset`):

* ``digit-canvases`` (built in, no download): black ``size×size`` RGB canvases carrying
  1–4 handwritten digits of the built-in digits set (the same images and the same
  train/test split as the classification data of :func:`neural.data.load_digits_dataset`)
  at random positions and scales. Each digit (8×8, grey levels / 16) is resized by bilinear
  interpolation (``align_corners=False``, as the classification images are) to ``s×s``
  pixels, ``s`` drawn uniformly from ``scale`` × ``size``, cropped to the tight box of its
  non-zero pixels and pasted so that no two boxes intersect. The box of a digit is that
  tight box, ``[x0, y0, x1, y1)`` in pixels (``x1 - x0`` = width): every non-zero pixel of
  a canvas lies in exactly one box and every box edge touches a non-zero pixel of its
  digit. The class is the digit (0..9). Deterministic in ``seed`` (and the split).
* ``voc2007``: Pascal VOC 2007 read from disk (``Annotations/*.xml``,
  ``JPEGImages/*.jpg``, ``ImageSets/Main/{trainval,test}.txt`` in ``data_dir``,
  ``data_dir/VOC2007`` or ``data_dir/VOCdevkit/VOC2007``; split ``train`` is
  ``trainval``). Images are resized (bilinear, aspect ratio not kept) to
  ``image_size×image_size``; VOC's 1-based inclusive pixel boxes become
  ``[xmin - 1, ymin - 1, xmax, ymax)`` scaled by the same factors; objects marked
  ``difficult`` are kept with ``difficult=True`` (ignored by the mAP, as in VOC's own
  evaluation). Nothing is downloaded.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

DETECTION_DATASETS = ("digit-canvases", "voc2007")
VOC_CLASSES = (
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
)
DIGIT_CLASSES = tuple(str(d) for d in range(10))


@dataclass
class DetectionDataset:
    """Images ``(N, 3, H, W)`` (float32 in [0, 1] or uint8) and, per image, ``boxes[i]``
    ``(n_i, 4)`` float32 ``[x0, y0, x1, y1)`` in pixels, ``labels[i]`` ``(n_i,)`` int64 and
    ``difficult[i]`` ``(n_i,)`` bool (objects the mAP ignores)."""

    images: torch.Tensor
    boxes: list[torch.Tensor]
    labels: list[torch.Tensor]
    difficult: list[torch.Tensor]
    class_names: tuple[str, ...]
    name: str

    def __post_init__(self) -> None:
        if self.images.dim() != 4:
            raise ValueError(f"images must be (N, C, H, W), got shape {tuple(self.images.shape)}")
        if self.images.dtype not in (torch.uint8, torch.float32):
            raise ValueError(f"images must be uint8 or float32, got {self.images.dtype}")
        n = self.images.shape[0]
        for name in ("boxes", "labels", "difficult"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} must hold one entry per image ({n})")
        h, w = self.images.shape[2:]
        for i, (b, lab, d) in enumerate(zip(self.boxes, self.labels, self.difficult)):
            if b.dim() != 2 or b.shape[1] != 4 or lab.shape != (b.shape[0],):
                raise ValueError(f"image {i}: boxes must be (n, 4) and labels (n,)")
            if d.shape != lab.shape or d.dtype != torch.bool or lab.dtype != torch.int64:
                raise ValueError(f"image {i}: labels must be int64 and difficult bool, shape (n,)")
            if len(lab) and (int(lab.min()) < 0 or int(lab.max()) >= self.num_classes):
                raise ValueError(f"image {i}: labels must lie in 0..{self.num_classes - 1}")
            if len(b) and not (
                bool((b[:, 2] > b[:, 0]).all())
                and bool((b[:, 3] > b[:, 1]).all())
                and float(b[:, :2].min()) >= 0
                and float(b[:, 2].max()) <= w
                and float(b[:, 3].max()) <= h
            ):
                raise ValueError(
                    f"image {i}: boxes must satisfy 0 <= x0 < x1 <= W, 0 <= y0 < y1 <= H"
                )

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def image_size(self) -> tuple[int, int]:
        return int(self.images.shape[2]), int(self.images.shape[3])

    def batch(self, index: torch.Tensor, device: torch.device | str) -> torch.Tensor:
        """Images ``index`` as float32 in [0, 1] on ``device``."""
        x = self.images[index].to(device)
        return x.float().div_(255.0) if x.dtype == torch.uint8 else x


# ----------------------------------------------------------------------------- digit canvases
def make_digit_canvases(
    split: str,
    n: int,
    *,
    size: int = 64,
    digits: tuple[int, int] = (1, 4),
    scale: tuple[float, float] = (0.25, 0.45),
    seed: int = 0,
) -> DetectionDataset:
    """``n`` canvases of the built-in digits (see the module docstring).

    Args:
        split: ``"train"`` or ``"test"``: which split of the digits the glyphs come from.
        n: number of canvases (>= 1).
        size: canvas side in pixels (a multiple of 8, >= 16, so the JSCC codec runs on it).
        digits: (min, max) digits per canvas, drawn uniformly (a canvas whose digits do not
            fit without overlapping boxes is drawn again, count included).
        scale: (min, max) side of a resized digit as a fraction of ``size``.
        seed: the canvases are a function of ``(split, n, size, digits, scale, seed)``.
    """
    from neural.data.datasets import load_digits_dataset

    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if isinstance(size, bool) or not isinstance(size, int) or size < 16 or size % 8:
        raise ValueError(f"size must be a multiple of 8 and >= 16, got {size!r}")
    lo, hi = digits
    if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi <= 8):
        raise ValueError(
            f"digits must be (min, max) integers with 1 <= min <= max <= 8, got {digits!r}"
        )
    s_lo, s_hi = (int(round(f * size)) for f in scale)
    if not (0 < scale[0] <= scale[1] <= 0.5) or s_lo < 4:
        raise ValueError(
            f"scale must be (min, max) fractions of the canvas with 0 < min <= max <= 0.5 and "
            f"min·size >= 4 pixels, got {scale!r} at size {size}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    source = load_digits_dataset(split, image_size=8)  # 8×8, grey / 16, the classification split
    glyphs8 = source.images[:, :1]  # (M, 1, 8, 8), the three channels are equal
    resized = {}  # every digit at every side: (M, s, s) and its tight boxes (M, 4)
    for side in range(s_lo, s_hi + 1):
        g = F.interpolate(glyphs8, size=(side, side), mode="bilinear", align_corners=False)[:, 0]
        resized[side] = (g, _tight_boxes(g))
    rng = np.random.default_rng([seed, 0 if split == "train" else 1, size])
    canvas = torch.zeros(n, 1, size, size)
    all_boxes, all_labels = [], []
    for i in range(n):
        boxes, labels = _fill_canvas(
            canvas[i, 0], resized, source.labels, rng, (lo, hi), (s_lo, s_hi)
        )
        all_boxes.append(torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4))
        all_labels.append(torch.tensor(labels, dtype=torch.int64))
    return DetectionDataset(
        canvas.repeat(1, 3, 1, 1).contiguous(),
        all_boxes,
        all_labels,
        [torch.zeros(len(lab), dtype=torch.bool) for lab in all_labels],
        DIGIT_CLASSES,
        "digit-canvases",
    )


def _tight_boxes(g: torch.Tensor) -> torch.Tensor:
    """Tight boxes ``(M, 4)`` ``[x0, y0, x1, y1)`` of the non-zero pixels of ``g`` ``(M, H, W)``
    (every image must have one)."""
    cols, rows = (g > 0).any(dim=1), (g > 0).any(dim=2)  # (M, W), (M, H)
    if not bool(cols.any(dim=1).all()):
        raise ValueError("a digit image is entirely zero")
    first = lambda m: m.int().argmax(dim=1)  # noqa: E731
    last = lambda m: m.shape[1] - m.flip(1).int().argmax(dim=1)  # noqa: E731
    return torch.stack([first(cols), first(rows), last(cols), last(rows)], dim=1)


def _fill_canvas(
    canvas: torch.Tensor,
    resized: dict[int, tuple[torch.Tensor, torch.Tensor]],
    classes: torch.Tensor,
    rng: np.random.Generator,
    count: tuple[int, int],
    sides: tuple[int, int],
) -> tuple[list[list[float]], list[int]]:
    size = canvas.shape[-1]
    for _ in range(1000):  # redraw the whole canvas if the digits do not fit
        k = int(rng.integers(count[0], count[1] + 1))
        boxes: list[tuple[int, int, int, int]] = []
        pieces = []
        for _ in range(k):
            j = int(rng.integers(len(classes)))
            g, tight = resized[int(rng.integers(sides[0], sides[1] + 1))]
            x0, y0, x1, y1 = (int(v) for v in tight[j])
            crop = g[j, y0:y1, x0:x1]
            h, w = crop.shape
            for _ in range(50):
                px, py = int(rng.integers(0, size - w + 1)), int(rng.integers(0, size - h + 1))
                box = (px, py, px + w, py + h)
                if all(_disjoint(box, b) for b in boxes):
                    boxes.append(box)
                    pieces.append((crop, box, int(classes[j])))
                    break
            else:
                break  # no room: redraw the canvas
        if len(pieces) == k:
            canvas.zero_()
            for crop, (px, py, qx, qy), _ in pieces:
                canvas[py:qy, px:qx] = crop
            return [list(map(float, b)) for _, b, _ in pieces], [c for _, _, c in pieces]
    raise RuntimeError(
        "could not place the digits on a canvas in 1000 draws: lower scale or digits"
    )


def _disjoint(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


# ----------------------------------------------------------------------------- Pascal VOC 2007
def find_voc_root(data_dir: str | os.PathLike | None) -> str:
    """The VOC 2007 directory (holding ``Annotations``, ``JPEGImages``, ``ImageSets/Main``) in
    ``data_dir``, ``data_dir/VOC2007`` or ``data_dir/VOCdevkit/VOC2007``."""
    if data_dir is None or str(data_dir) == "":
        raise ValueError("voc2007 needs data_dir (the directory holding VOCdevkit/VOC2007)")
    data_dir = os.fspath(data_dir)
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(
            f"data_dir {data_dir!r} for voc2007 does not exist or is not a directory"
        )
    need = ("Annotations", "JPEGImages", os.path.join("ImageSets", "Main"))
    candidates = [
        data_dir,
        os.path.join(data_dir, "VOC2007"),
        os.path.join(data_dir, "VOCdevkit", "VOC2007"),
    ]
    for d in candidates:
        if all(os.path.isdir(os.path.join(d, n)) for n in need):
            return d
    raise FileNotFoundError(
        f"voc2007: no directory with {', '.join(need)} found in {data_dir!r}, "
        f"{candidates[1]!r} or {candidates[2]!r} (unpack VOCtrainval_06-Nov-2007.tar and "
        "VOCtest_06-Nov-2007.tar there; nothing is downloaded)"
    )


def _xml_int(node: ET.Element, tag: str, path: str) -> int:
    text = node.findtext(tag)
    if text is None:
        raise ValueError(f"voc2007: {path} has an object without <{tag}>")
    try:
        return int(round(float(text)))
    except ValueError as exc:
        raise ValueError(f"voc2007: {path}: <{tag}> is {text!r}, not a number") from exc


def parse_voc_annotation(
    path: str,
) -> tuple[tuple[int, int] | None, list[tuple[str, bool, tuple[int, int, int, int]]]]:
    """``((width, height) or None, [(class name, difficult, (xmin, ymin, xmax, ymax)), ...])``
    of one VOC XML file (1-based inclusive pixel coordinates, as VOC writes them)."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise ValueError(f"voc2007: {path} is not valid XML: {exc}") from exc
    size = root.find("size")
    wh = None
    if size is not None and size.findtext("width") and size.findtext("height"):
        wh = (_xml_int(size, "width", path), _xml_int(size, "height", path))
    objects = []
    for obj in root.findall("object"):
        name = (obj.findtext("name") or "").strip()
        if name not in VOC_CLASSES:
            raise ValueError(f"voc2007: {path} has an object of unknown class {name!r}")
        box = obj.find("bndbox")
        if box is None:
            raise ValueError(f"voc2007: {path} has an object without <bndbox>")
        coords = tuple(_xml_int(box, t, path) for t in ("xmin", "ymin", "xmax", "ymax"))
        if not (1 <= coords[0] <= coords[2] and 1 <= coords[1] <= coords[3]):
            raise ValueError(
                f"voc2007: {path}: box {coords} is not 1 <= xmin <= xmax, 1 <= ymin <= ymax"
            )
        difficult = (obj.findtext("difficult") or "0").strip() == "1"
        objects.append((name, difficult, coords))  # type: ignore[arg-type]
    return wh, objects


def load_voc2007(
    data_dir: str | os.PathLike | None,
    split: str,
    image_size: int,
    *,
    max_images: int | None = None,
) -> DetectionDataset:
    """Pascal VOC 2007 ``trainval`` (``split="train"``) or ``test`` (see the module docstring).

    ``max_images`` keeps the first N image ids of the split file (for quick looks)."""
    from PIL import Image

    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if (
        isinstance(image_size, bool)
        or not isinstance(image_size, int)
        or image_size < 16
        or image_size % 8
    ):
        raise ValueError(f"image_size must be a multiple of 8 and >= 16, got {image_size!r}")
    root = find_voc_root(data_dir)
    list_file = os.path.join(
        root, "ImageSets", "Main", "trainval.txt" if split == "train" else "test.txt"
    )
    if not os.path.isfile(list_file):
        raise FileNotFoundError(f"voc2007: {list_file} is missing (the {split} split's image list)")
    with open(list_file, encoding="utf-8") as f:
        ids = [line.split()[0] for line in f if line.strip()]
    if max_images is not None:
        ids = ids[:max_images]
    if not ids:
        raise ValueError(f"voc2007: {list_file} lists no images")
    images = torch.empty(len(ids), 3, image_size, image_size, dtype=torch.uint8)
    boxes, labels, difficult = [], [], []
    for i, image_id in enumerate(ids):
        xml = os.path.join(root, "Annotations", f"{image_id}.xml")
        jpg = os.path.join(root, "JPEGImages", f"{image_id}.jpg")
        for p in (xml, jpg):
            if not os.path.isfile(p):
                raise FileNotFoundError(
                    f"voc2007: {p} is missing (image id {image_id} of {list_file})"
                )
        wh, objects = parse_voc_annotation(xml)
        with Image.open(jpg) as im:
            rgb = im.convert("RGB")
        w, h = rgb.size
        if wh is not None and wh != (w, h):
            raise ValueError(f"voc2007: {xml} says the image is {wh[0]}x{wh[1]}, {jpg} is {w}x{h}")
        arr = np.asarray(rgb.resize((image_size, image_size), Image.BILINEAR), dtype=np.uint8)
        images[i] = torch.from_numpy(arr.transpose(2, 0, 1).copy())
        b = [  # multiply first: xmax = w gives exactly image_size
            [
                (x0 - 1) * image_size / w,
                (y0 - 1) * image_size / h,
                x1 * image_size / w,
                y1 * image_size / h,
            ]
            for _, _, (x0, y0, x1, y1) in objects
        ]
        for _, _, c in objects:
            if c[2] > w or c[3] > h:
                raise ValueError(f"voc2007: {xml}: box {c} exceeds the {w}x{h} image")
        boxes.append(torch.tensor(b, dtype=torch.float32).reshape(-1, 4))
        labels.append(
            torch.tensor([VOC_CLASSES.index(n) for n, _, _ in objects], dtype=torch.int64)
        )
        difficult.append(torch.tensor([d for _, d, _ in objects], dtype=torch.bool))
    return DetectionDataset(images, boxes, labels, difficult, VOC_CLASSES, "voc2007")
