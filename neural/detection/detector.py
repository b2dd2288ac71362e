"""A small anchor-free heat-map detector (CenterNet-style: Zhou et al. 2019, "Objects as Points").

The network maps an image ``(B, 3, H, W)`` (H, W multiples of 4) to three maps at stride 4:
a class heat map (logits, ``(B, classes, H/4, W/4)``), the box size (width and height in
units of the stride, ``(B, 2, H/4, W/4)``) and the sub-cell offset of the box centre
(``(B, 2, H/4, W/4)``). A box ``[x0, y0, x1, y1)`` of class ``c`` with centre ``(cx, cy)``
is the target peak 1 at cell ``(⌊cy/4⌋, ⌊cx/4⌋)`` of map ``c`` with a Gaussian around it
(standard deviations ``0.54·w/6`` and ``0.54·h/6`` pixels, as TTFNet's elliptical targets),
size ``(w/4, h/4)`` and offset ``(cx/4 − ⌊cx/4⌋, cy/4 − ⌊cy/4⌋)`` there.

Loss (CenterNet): penalty-reduced focal loss on the heat map (α = 2, β = 4) normalised by
the number of boxes, plus L1 on size (weight 0.1) and offset (weight 1) at the box centres.
Decoding: sigmoid heat map, 3×3 max-pool peak picking, the ``top_k`` highest peaks over
all classes, each a box of that class with the predicted size around the predicted centre,
scored by its heat-map value.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

STRIDE = 4


class DetectorOutput(NamedTuple):
    heat: torch.Tensor  # (B, classes, H/4, W/4) logits
    size: torch.Tensor  # (B, 2, H/4, W/4) width, height / STRIDE
    offset: torch.Tensor  # (B, 2, H/4, W/4) in [0, 1) cells


class Detections(NamedTuple):
    """One image's detections: ``boxes`` ``(k, 4)`` ``[x0, y0, x1, y1)`` in pixels, ``scores``
    ``(k,)`` in (0, 1), ``labels`` ``(k,)`` int64."""

    boxes: torch.Tensor
    scores: torch.Tensor
    labels: torch.Tensor


def _conv(c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class _Residual(nn.Module):
    def __init__(self, c: int, dilation: int) -> None:
        super().__init__()
        self.body = _conv(c, c, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class CenterNetDetector(nn.Module):
    """Stride-4 CenterNet-style detector (see the module docstring).

    Layers: conv ``w``@3×3, conv ``w``@3×3 stride 2, conv ``2w``@3×3 stride 2, three residual
    3×3 convs of ``2w`` channels with dilations 1, 2, 4 (receptive field 65 pixels), then
    three heads (conv ``2w``@3×3 + ReLU + 1×1 conv). ``width`` = ``w``.
    """

    def __init__(self, num_classes: int, width: int = 16, in_channels: int = 3) -> None:
        super().__init__()
        for name, v in (
            ("num_classes", num_classes),
            ("width", width),
            ("in_channels", in_channels),
        ):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        w = width
        self.num_classes, self.width, self.in_channels = num_classes, width, in_channels
        self.backbone = nn.Sequential(
            _conv(in_channels, w),
            _conv(w, w, stride=2),
            _conv(w, 2 * w, stride=2),
            _Residual(2 * w, 1),
            _Residual(2 * w, 2),
            _Residual(2 * w, 4),
        )

        def head(c_out: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(2 * w, 2 * w, 3, padding=1),
                nn.ReLU(inplace=True),
                nn.Conv2d(2 * w, c_out, 1),
            )

        self.heat, self.size, self.offset = head(num_classes), head(2), head(2)
        nn.init.constant_(self.heat[-1].bias, -2.19)  # CenterNet: initial peak probability 0.1

    def forward(self, x: torch.Tensor) -> DetectorOutput:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected images (B, {self.in_channels}, H, W), got {tuple(x.shape)}")
        if x.shape[2] % STRIDE or x.shape[3] % STRIDE:
            raise ValueError(
                f"image height and width must be multiples of {STRIDE}, got {tuple(x.shape[2:])}"
            )
        f = self.backbone(x)
        return DetectorOutput(self.heat(f), self.size(f), torch.sigmoid(self.offset(f)))

    @torch.no_grad()
    def detect(self, x: torch.Tensor, top_k: int = 50) -> list[Detections]:
        """Detections of each image of ``x`` (the network in eval mode; see the module docstring)."""
        was = self.training
        self.eval()
        try:
            out = self(x)
        finally:
            self.train(was)
        return decode(out, top_k)


def decode(out: DetectorOutput, top_k: int = 50) -> list[Detections]:
    """Peaks of the heat map as boxes (see the module docstring)."""
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ValueError(f"top_k must be a positive integer, got {top_k!r}")
    heat = torch.sigmoid(out.heat.float())
    peaks = heat * (F.max_pool2d(heat, 3, stride=1, padding=1) == heat)
    b, c, h, w = heat.shape
    k = min(top_k, c * h * w)
    scores, idx = peaks.flatten(1).topk(k, dim=1)
    cls, cell = idx // (h * w), idx % (h * w)
    ys, xs = (cell // w).float(), (cell % w).float()
    size = out.size.float().flatten(2).gather(2, cell[:, None, :].expand(b, 2, k)).clamp(min=0)
    off = out.offset.float().flatten(2).gather(2, cell[:, None, :].expand(b, 2, k))
    cx, cy = (xs + off[:, 0]) * STRIDE, (ys + off[:, 1]) * STRIDE
    bw, bh = size[:, 0] * STRIDE, size[:, 1] * STRIDE
    boxes = torch.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], dim=2)
    keep = scores > 0  # max-pool suppressed cells have score 0
    return [Detections(boxes[i][keep[i]], scores[i][keep[i]], cls[i][keep[i]]) for i in range(b)]


def make_targets(
    boxes: list[torch.Tensor], labels: list[torch.Tensor], num_classes: int, shape: tuple[int, int]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Training targets for images of ``shape`` (H, W): heat ``(B, C, H/4, W/4)``, size and
    offset ``(B, 2, H/4, W/4)`` and the centre mask ``(B, H/4, W/4)`` (see the module docstring)."""
    h, w = shape[0] // STRIDE, shape[1] // STRIDE
    n = len(boxes)
    heat = torch.zeros(n, num_classes, h, w)
    size = torch.zeros(n, 2, h, w)
    offset = torch.zeros(n, 2, h, w)
    mask = torch.zeros(n, h, w, dtype=torch.bool)
    gy, gx = torch.arange(h).float()[:, None], torch.arange(w).float()[None, :]
    for i, (bx, lab) in enumerate(zip(boxes, labels)):
        for (x0, y0, x1, y1), c in zip(bx.tolist(), lab.tolist()):
            cx, cy = (x0 + x1) / 2 / STRIDE, (y0 + y1) / 2 / STRIDE
            ix, iy = min(int(cx), w - 1), min(int(cy), h - 1)
            sx = max(0.54 * (x1 - x0) / 6 / STRIDE, 0.3)
            sy = max(0.54 * (y1 - y0) / 6 / STRIDE, 0.3)
            g = torch.exp(-((gx - ix) ** 2) / (2 * sx**2) - ((gy - iy) ** 2) / (2 * sy**2))
            heat[i, c] = torch.maximum(heat[i, c], g)
            size[i, :, iy, ix] = torch.tensor([(x1 - x0) / STRIDE, (y1 - y0) / STRIDE])
            offset[i, :, iy, ix] = torch.tensor([cx - ix, cy - iy])
            mask[i, iy, ix] = True
    return heat, size, offset, mask


def detection_loss(
    out: DetectorOutput, targets: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]
) -> torch.Tensor:
    """CenterNet loss: focal loss on the heat map + 0.1·L1(size) + L1(offset) at the centres."""
    heat_t, size_t, off_t, mask = targets
    p = torch.sigmoid(out.heat).clamp(1e-4, 1 - 1e-4)
    pos = heat_t == 1
    n_pos = max(int(mask.sum()), 1)
    focal = (
        -(
            torch.where(
                pos, (1 - p) ** 2 * torch.log(p), (1 - heat_t) ** 4 * p**2 * torch.log(1 - p)
            )
        ).sum()
        / n_pos
    )
    m = mask[:, None].expand_as(size_t)
    l_size = (out.size - size_t).abs()[m].sum() / n_pos
    l_off = (out.offset - off_t).abs()[m].sum() / n_pos
    return focal + 0.1 * l_size + l_off
