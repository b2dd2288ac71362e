"""Building blocks shared by the JSCC codec (Table I of the paper)."""

from neural.layers.blocks import DepthToSpace, ResidualBlock, scaled_channels

__all__ = ["DepthToSpace", "ResidualBlock", "scaled_channels"]
