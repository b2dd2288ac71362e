"""Digital baselines on the digits test set: speed, search exactness, and the quick-preset numbers.

Three tables (results go to docs/digital-baselines.md):

1. ``transmit_digital`` time per image (default bisect search) and PSNR / failure rate per
   codec × header policy × bpp at SNR = inf (32×32 digits, coded as grey "L").
2. Search exactness: every test image's full size-vs-quality table (payload policy, every
   quality coded once), then for budgets spread over each image's whole size range, the
   bisect answer against the exhaustive one (number of disagreements).
3. The cliff: failure rate and PSNR of JPEG and JPEG 2000 at one bpp over an SNR grid
   (BPSK capacity).

    python benchmarks/bench_digital.py                   # all 360 test digits
    python benchmarks/bench_digital.py --images 60       # quicker
    python benchmarks/bench_digital.py --tables cliff    # only the SNR sweep
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np
import torch

from neural.data.datasets import load_digits_dataset
from neural.digital import best_quality, get_codec, transmit_digital
from neural.digital.transmit import DEFAULT_SIDE_INFO_BITS, to_codec_input
from neural.metrics import psnr


def psnr_db(x: torch.Tensor, y: torch.Tensor) -> float:
    """Mean over images of the per-image PSNR (dB, images in [0, 1])."""
    return float(psnr(x, y).mean())


def speed_table(images: torch.Tensor, ks: list[int]) -> None:
    print("| codec | header | bpp (K/64) | budget (bits) | failure rate | PSNR (dB) | ms / image |")
    print("|---|---|---|---|---|---|---|")
    for codec in ("jpeg", "jpeg2000"):
        for header in ("payload", "full"):
            for k in ks:
                t0 = time.perf_counter()
                r = transmit_digital(
                    images, codec=codec, bpp=k / 64, snr_db=math.inf, header=header
                )
                ms = (time.perf_counter() - t0) / len(images) * 1e3
                print(
                    f"| {codec} | {header} | {k}/64 | {r.bits_budget:.0f} | {r.failure_rate:.3f} | "
                    f"{psnr_db(r.reconstruction, images):.2f} | {ms:.2f} |"
                )


def exactness_table(images: torch.Tensor, budgets_per_image: int) -> None:
    coded, _ = to_codec_input(images)
    print(
        "| codec | images | budgets tested | bisect ≠ exhaustive | non-monotone steps | largest drop (bytes) | "
        "payload at lowest quality (bytes) | file − payload (bytes) | ms / image, full table |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in ("jpeg", "jpeg2000"):
        c = get_codec(name)
        tested = wrong = nonmono = 0
        drop = 0
        t0 = time.perf_counter()
        encoded = [[c.encode(img, q) for q in c.qualities] for img in coded]
        ms = (time.perf_counter() - t0) / len(coded) * 1e3
        tables = [[e.payload_bytes for e in row] for row in encoded]
        lowest = [row[0] for row in tables]
        overhead = sorted({e.file_bytes - e.payload_bytes for row in encoded for e in row})
        for row in tables:
            sizes = {q: 8 * s + DEFAULT_SIDE_INFO_BITS for q, s in zip(c.qualities, row)}
            diffs = np.diff(row)
            nonmono += int((diffs < 0).sum())
            drop = max(drop, int(-diffs.min()) if len(diffs) else 0)
            for budget in np.linspace(
                min(sizes.values()) - 8, max(sizes.values()) + 8, budgets_per_image
            ):
                fitting = [q for q, s in sizes.items() if s <= budget]
                exact = max(fitting) if fitting else None
                wrong += (
                    best_quality(sizes.__getitem__, c.qualities, float(budget), search="bisect")
                    != exact
                )
                tested += 1
        spread = f"{overhead[0]}" if len(overhead) == 1 else f"{overhead[0]}–{overhead[-1]}"
        print(
            f"| {name} | {len(coded)} | {tested} | {wrong} | {nonmono} | {max(drop, 0)} | "
            f"{min(lowest)}–{max(lowest)} | {spread} | {ms:.1f} |"
        )


def cliff_table(images: torch.Tensor, k: int, snrs: list[float]) -> None:
    print(f"bpp = {k}/64, header = payload, capacity = bpsk\n")
    print(
        "| SNR (dB) | BPSK capacity (bit/use) | budget (bits) | JPEG failure | JPEG PSNR (dB) | "
        "JPEG 2000 failure | JPEG 2000 PSNR (dB) |"
    )
    print("|---|---|---|---|---|---|---|")
    for snr in snrs:
        j = transmit_digital(images, codec="jpeg", bpp=k / 64, snr_db=snr)
        j2 = transmit_digital(images, codec="jpeg2000", bpp=k / 64, snr_db=snr)
        print(
            f"| {snr:g} | {j.capacity_per_use:.4f} | {j.bits_budget:.1f} | {j.failure_rate:.3f} | "
            f"{psnr_db(j.reconstruction, images):.2f} | {j2.failure_rate:.3f} | {psnr_db(j2.reconstruction, images):.2f} |"
        )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=360, help="test digits used (default all 360)")
    p.add_argument(
        "--ks",
        type=int,
        nargs="+",
        default=[4, 8, 16, 32, 64],
        help="latent channels K (bpp = K/64)",
    )
    p.add_argument(
        "--budgets", type=int, default=40, help="budgets per image in the exactness table"
    )
    p.add_argument("--cliff-k", type=int, default=32, help="K of the cliff table")
    p.add_argument("--snrs", type=float, nargs="+", default=[20, 10, 5, 3, 1, 0, -1, -3, -6, -10])
    p.add_argument(
        "--tables",
        nargs="+",
        choices=["speed", "exactness", "cliff"],
        default=["speed", "exactness", "cliff"],
        help="which tables to produce",
    )
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    images = load_digits_dataset("test").images[: args.images]
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"digits test set, {len(images)} images 32×32; 1 thread; load average {load} on {os.cpu_count()} CPUs\n"
    )
    if "speed" in args.tables:
        speed_table(images, args.ks)
        print()
    if "exactness" in args.tables:
        exactness_table(images, args.budgets)
        print()
    if "cliff" in args.tables:
        cliff_table(images, args.cliff_k, args.snrs)


if __name__ == "__main__":
    main()
