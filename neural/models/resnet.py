"""ResNet-18 (He et al., 2016) written here, with a stem for small images."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from neural.layers import scaled_channels


class BasicBlock(nn.Module):
    """Two 3×3 conv + BN layers with an identity (or 1×1 projection) shortcut.

    Shapes: ``(B, in_ch, H, W)`` → ``(B, out_ch, H/stride, W/stride)``.
    """

    def __init__(self, in_ch: int, out_ch: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False), nn.BatchNorm2d(out_ch)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    """ResNet-18 classifier ``F_χ`` with a ``num_classes`` head (paper: 10 classes).

    Args:
        num_classes: outputs of the final linear layer.
        width: multiplier on the stage widths 64, 128, 256, 512 (1.0 = standard ResNet-18).
        stem: ``"small"`` (3×3 conv stride 1, no max-pool: for images up to ~64 px, as
            for CIFAR) or ``"imagenet"`` (7×7 conv stride 2 + 3×3 max-pool stride 2).
        in_channels: image channels.

    Shapes: ``(B, in_channels, H, W)`` → logits ``(B, num_classes)``.
    """

    def __init__(
        self, num_classes: int = 10, width: float = 1.0, stem: str = "small", in_channels: int = 3
    ) -> None:
        super().__init__()
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
        widths = [scaled_channels(c, width) for c in (64, 128, 256, 512)]
        if stem == "small":
            self.stem = nn.Sequential(
                nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False),
                nn.BatchNorm2d(widths[0]),
                nn.ReLU(inplace=True),
            )
        elif stem == "imagenet":
            self.stem = nn.Sequential(
                nn.Conv2d(in_channels, widths[0], 7, stride=2, padding=3, bias=False),
                nn.BatchNorm2d(widths[0]),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(3, stride=2, padding=1),
            )
        else:
            raise ValueError(f"stem must be 'small' or 'imagenet', got {stem!r}")
        layers: list[nn.Module] = []
        in_ch = widths[0]
        for i, w in enumerate(widths):
            stride = 1 if i == 0 else 2
            layers += [BasicBlock(in_ch, w, stride), BasicBlock(w, w, 1)]
            in_ch = w
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(in_ch, num_classes)
        self.in_channels = in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"expected images of shape (B, {self.in_channels}, H, W), got {tuple(x.shape)}"
            )
        out = self.layers(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(out, 1), 1))
