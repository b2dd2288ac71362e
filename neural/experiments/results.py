"""Result rows, 95 % intervals over seeds, ``results.json`` / ``results.csv`` and provenance.

A row is one method × setting × seed (× image in the ``visual`` experiment). Columns
(:data:`ROW_FIELDS`): ``method``; ``header`` and ``capacity`` (digital methods only, else
empty); ``bpp`` (bits per pixel, eq. 21: channel uses per pixel); ``snr_db`` (evaluation
SNR, dB); ``train_snr_lo``/``train_snr_hi`` (training SNR or range, dB; empty for digital
methods); ``beta``; ``seed``; ``accuracy`` (top-1, in [0, 1]); ``psnr`` (dB, data range 1,
mean of per-image values); ``ssim``; ``mse`` (per pixel and channel); ``ce`` (nats);
``failure_rate`` (fraction of images lost, digital methods only); ``images`` (how many
test images the row averages); for ``visual`` rows ``image``, ``label``, ``prediction``,
``confidence`` (softmax probability of the prediction); ``job`` (the job key).

Files: ``results.json`` holds ``{"rows": [...], "provenance": {...}}`` with non-finite
numbers written as the strings ``"inf"``/``"-inf"`` and missing values as ``null``;
``results.csv`` holds the same rows with ``inf`` written as ``inf`` (``pandas.read_csv``
reads it back as a float infinity) and missing values as empty fields.
"""

from __future__ import annotations

import csv
import importlib.metadata
import io
import json
import math
import os
import platform
import subprocess
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from neural.experiments.keys import jsonable, parse_float

ROW_FIELDS = (
    "method",
    "header",
    "capacity",
    "bpp",
    "snr_db",
    "train_snr_lo",
    "train_snr_hi",
    "beta",
    "seed",
    "accuracy",
    "psnr",
    "ssim",
    "mse",
    "ce",
    "failure_rate",
    "images",
    "image",
    "label",
    "prediction",
    "confidence",
    "job",
)
TEXT_FIELDS = ("method", "header", "capacity", "job")
METRICS = ("accuracy", "psnr", "ssim", "mse", "failure_rate")
SETTING_FIELDS = (
    "method",
    "header",
    "capacity",
    "bpp",
    "snr_db",
    "train_snr_lo",
    "train_snr_hi",
    "beta",
)
UNITS = {"accuracy": "", "psnr": " (dB)", "ssim": "", "mse": "", "failure_rate": ""}


def normalise_row(
    row: dict[str, Any],
    extra_fields: Sequence[str] = (),
    *,
    fields: Sequence[str] = ROW_FIELDS,
    text_fields: Sequence[str] = TEXT_FIELDS,
) -> dict[str, Any]:
    """A row with every key of ``fields`` (default :data:`ROW_FIELDS`) and the numeric
    ``extra_fields`` an experiment adds (e.g. ``map``): ``text_fields`` as str, the rest as
    float (NaN if missing). Another experiment's table (the ``mi`` analysis) passes its own
    ``fields``."""
    fields = tuple(fields) + tuple(extra_fields)
    extra = set(row) - set(fields)
    if extra:
        raise ValueError(f"unknown row field(s) {sorted(extra)}; fields are {fields}")
    out: dict[str, Any] = {}
    for name in fields:
        v = row.get(name)
        out[name] = ("" if v is None else str(v)) if name in text_fields else parse_float(v)
    for name in ("accuracy", "ssim", "mse", "failure_rate", "confidence"):
        if name not in out:
            continue
        v = out[name]
        if not math.isnan(v) and not (
            0.0 - 1e-12 <= v <= (1.0 + 1e-12 if name != "mse" else math.inf)
        ):
            raise ValueError(f"row {out['method']}: {name}={v} is outside its range")
    return out


# ----------------------------------------------------------------------------- statistics
def mean_interval(values: Iterable[float], level: float = 0.95) -> tuple[float, float, int]:
    """Mean and half-width of the two-sided Student-t ``level`` interval of the mean.

    ``half = t_{(1+level)/2, n-1} · s / √n`` with ``s`` the sample standard deviation
    (ddof = 1). NaN entries are ignored; the half-width is NaN when fewer than two values
    remain (no interval from one seed). Returns ``(mean, half, n)``.
    """
    from scipy.stats import t

    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level!r}")
    v = np.asarray([x for x in values if not math.isnan(x)], dtype=np.float64)
    n = int(v.size)
    if n == 0:
        return math.nan, math.nan, 0
    if n == 1 or not np.all(np.isfinite(v)):
        return float(v.mean()), math.nan, n
    return float(v.mean()), float(t.ppf(0.5 + level / 2, n - 1) * v.std(ddof=1) / math.sqrt(n)), n


def summarise(rows: list[dict[str, Any]], level: float = 0.95) -> list[dict[str, Any]]:
    """One entry per setting (:data:`SETTING_FIELDS`), in first-seen order: the number of seeds
    and ``(mean, half-width)`` of each metric over seeds (see :func:`mean_interval`)."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        key = tuple(
            "nan" if isinstance(r[f], float) and math.isnan(r[f]) else r[f] for f in SETTING_FIELDS
        )
        groups.setdefault(key, []).append(r)
    out = []
    for members in groups.values():
        entry: dict[str, Any] = {f: members[0][f] for f in SETTING_FIELDS}
        seeds = {m["seed"] for m in members}
        if len(seeds) != len(members):
            raise ValueError(f"setting {entry} has several rows for one seed")
        entry["seeds"] = len(members)
        for metric in METRICS:
            mean, half, _ = mean_interval([m[metric] for m in members], level)
            entry[metric] = (mean, half)
        out.append(entry)
    return out


# ----------------------------------------------------------------------------- files
def write_results(
    out: str,
    rows: list[dict[str, Any]],
    provenance: dict[str, Any],
    extra_fields: Sequence[str] = (),
    *,
    fields: Sequence[str] = ROW_FIELDS,
    text_fields: Sequence[str] = TEXT_FIELDS,
) -> tuple[str, str]:
    """Write ``results.json`` and ``results.csv`` into ``out`` atomically; return their paths.

    ``fields``/``text_fields``: the columns (see :func:`normalise_row`); ``extra_fields``:
    numeric columns after ``fields`` (recorded in the provenance as ``extra_fields`` so that
    :func:`load_results` reads them back)."""
    extra_fields = tuple(extra_fields)
    rows = [normalise_row(r, extra_fields, fields=fields, text_fields=text_fields) for r in rows]
    fields = tuple(fields) + extra_fields
    if extra_fields:
        provenance = {**provenance, "extra_fields": list(extra_fields)}
    json_rows = [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
        for r in rows
    ]
    return write_table(out, json_rows, provenance, fields)


def write_table(
    out: str, rows: list[dict[str, Any]], provenance: dict[str, Any], columns: Sequence[str]
) -> tuple[str, str]:
    """``out/results.json`` (``{"rows", "provenance"}``, non-finite numbers as strings, see
    :func:`neural.experiments.keys.jsonable`) and ``out/results.csv`` (``columns``; a key a
    row lacks, ``None`` and NaN are empty fields), both written atomically; their paths."""
    from neural.training.files import atomic_write_text

    os.makedirs(out, exist_ok=True)
    jpath, cpath = os.path.join(out, "results.json"), os.path.join(out, "results.csv")
    doc = {"rows": rows, "provenance": provenance}
    atomic_write_text(json.dumps(jsonable(doc), indent=1, allow_nan=False) + "\n", jpath)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([_csv_cell(r.get(c)) for c in columns])
    atomic_write_text(buf.getvalue(), cpath)
    return jpath, cpath


def _csv_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if math.isnan(v):
        return ""
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(float(v))


def load_results(
    path: str,
    *,
    fields: Sequence[str] = ROW_FIELDS,
    text_fields: Sequence[str] = TEXT_FIELDS,
) -> dict[str, Any]:
    """Read ``results.json`` (a file or the run directory holding it); rows normalised
    (``"inf"`` strings back to ``math.inf``, ``null`` to NaN) with the columns ``fields``."""
    if os.path.isdir(path):
        path = os.path.join(path, "results.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{path} does not exist: run python -m neural.experiments SUBCOMMAND --out DIR first"
        )
    with open(path, encoding="utf-8") as f:
        try:
            doc = json.load(f)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or "rows" not in doc or "provenance" not in doc:
        raise ValueError(
            f"{path} is not an experiment results file (needs 'rows' and 'provenance')"
        )
    extra = tuple(doc["provenance"].get("extra_fields", ()))
    return {
        "rows": [
            normalise_row(r, extra, fields=fields, text_fields=text_fields) for r in doc["rows"]
        ],
        "provenance": doc["provenance"],
        "path": path,
    }


# ----------------------------------------------------------------------------- provenance
def _git_state() -> dict[str, Any] | None:
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        head = subprocess.run(
            ["git", "-C", here, "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", here, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return None


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def provenance() -> dict[str, Any]:
    """Package version, git state, library versions and the platform, as of now."""
    import numpy
    import PIL
    import torch

    return {
        "package": "semantic-rd",
        "package_version": _version("semantic-rd"),
        "git": _git_state(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "pillow": PIL.__version__,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }


# ----------------------------------------------------------------------------- tables
def _fmt(value: tuple[float, float], digits: int) -> str:
    mean, half = value
    if math.isnan(mean):
        return "—"
    text = f"{mean:.{digits}f}" if math.isfinite(mean) else ("inf" if mean > 0 else "-inf")
    return text if math.isnan(half) else f"{text} ± {half:.{digits}f}"


def _num(v: float) -> str:
    if math.isnan(v):
        return "—"
    return "inf" if math.isinf(v) else f"{v:g}"


def header_policy_note(provenance: dict[str, Any]) -> str:
    """The digital conventions of a run in one line (printed under every table)."""
    spec = provenance.get("experiment", {})
    return (
        f"Digital baselines: header policy `full` = whole file bytes counted, `payload` = entropy-coded "
        f"data + 8 bits of side information (docs/digital-baselines.md); capacity `{spec.get('capacity', '?')}`; "
        f"a lost image becomes the `{spec.get('on_failure', '?')}` fallback. "
        f"Headers reported: {', '.join(spec.get('headers', [])) or '—'}."
    )


def markdown_table(rows: list[dict[str, Any]], level: float = 0.95) -> str:
    """Markdown table of :func:`summarise` (mean ± half-width of the ``level`` interval over seeds)."""
    lines = [
        "| method | header | bpp | SNR (dB) | train SNR (dB) | β | seeds | accuracy | PSNR (dB) | SSIM | failure rate |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in summarise(rows, level):
        lo, hi = e["train_snr_lo"], e["train_snr_hi"]
        train = "—" if math.isnan(lo) else (_num(lo) if lo == hi else f"[{_num(lo)}, {_num(hi)}]")
        lines.append(
            f"| {e['method']} | {e['header'] or '—'} | {_num(e['bpp'])} | {_num(e['snr_db'])} | {train} | "
            f"{_num(e['beta'])} | {e['seeds']} | {_fmt(e['accuracy'], 3)} | {_fmt(e['psnr'], 2)} | "
            f"{_fmt(e['ssim'], 3)} | {_fmt(e['failure_rate'], 3)} |"
        )
    return "\n".join(lines)
