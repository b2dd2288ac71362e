"""Physical channels: the last stage between the quantizer and the JSCC decoder."""

from neural.channels.awgn import AWGNChannel, snr_to_noise_std
from neural.channels.rayleigh import RayleighBlockFadingChannel

__all__ = ["AWGNChannel", "RayleighBlockFadingChannel", "snr_to_noise_std"]
