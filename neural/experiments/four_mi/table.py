"""The Markdown table of an ``mi`` run: one line per method × bpp (means over seeds; bits)."""

from __future__ import annotations

from typing import Any

import numpy as np


def _cell(rows: list[dict[str, Any]], quantity: str, estimator: str, *, band: bool = False) -> str:
    sel = [r for r in rows if r["quantity"] == quantity and r["estimator"] == estimator]
    if not sel:
        return "—"
    mean = float(np.mean([r["value"] for r in sel]))
    if band:  # min–max over every repeat of every seed
        lo, hi = min(r["min"] for r in sel), max(r["max"] for r in sel)
        return f"{mean:.4g} [{lo:.4g}, {hi:.4g}]"
    lo, hi = min(r["ci_low"] for r in sel), max(r["ci_high"] for r in sel)
    return f"{mean:.3f}" + ("" if np.isnan(lo) else f" [{lo:.3f}, {hi:.3f}]")


def mi_table(rows: list[dict[str, Any]]) -> str:
    """Counts values with their 95 % source interval, neural estimates with their min–max
    over repeats and seeds, and whether every bound check held (``checks``)."""
    neural = list(
        dict.fromkeys(
            r["estimator"]
            for r in rows
            if r["kind"] in ("upper bound", "lower bound")
            and r["estimator"] not in ("bit-entropies", "bits-sent")
        )
    )
    head = (
        "| method | bpp | β | seeds | accuracy | PSNR (dB) | I(X;Z) = H(Z), exact | Σ_i H(Z_i) | bits sent | "
        + "".join(f"I(X;Z) {e} | " for e in neural)
        + "I(Z;Ŷ) | I(X;Ŷ) | I(Ŷ;Y) | checks |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    systems: dict[tuple[str, float], list[dict[str, Any]]] = {}
    for r in rows:
        systems.setdefault((r["method"], r["bpp"]), []).append(r)
    for (method, bpp), sel in systems.items():
        seeds = len({r["seed"] for r in sel})
        acc = np.mean([r["accuracy"] for r in sel if r["estimator"] == "counts"])
        psnr = np.mean([r["psnr"] for r in sel if r["estimator"] == "counts"])
        bad = sorted({f"{r['quantity']} {r['estimator']}" for r in sel if r["in_bounds"] != 1})
        sat = any(r["saturated"] == 1 for r in sel if r["estimator"] == "counts")
        lines.append(
            f"| {method} | {bpp:g} | {sel[0]['beta']:g} | {seeds} | {acc:.3f} | {psnr:.2f} | "
            f"{_cell(sel, 'I(X;Z)', 'counts')}{' (saturated)' if sat else ''} | "
            f"{_cell(sel, 'I(X;Z)', 'bit-entropies')} | {_cell(sel, 'I(X;Z)', 'bits-sent')} | "
            + "".join(f"{_cell(sel, 'I(X;Z)', e, band=True)} | " for e in neural)
            + f"{_cell(sel, 'I(Z;Ŷ)', 'counts')} | {_cell(sel, 'I(X;Ŷ)', 'counts')} | "
            f"{_cell(sel, 'I(Ŷ;Y)', 'plug-in')} | "
            + ("all in bounds" if not bad else "OUT: " + ", ".join(bad))
            + " |"
        )
    return "\n".join(lines)
