"""``docs/results.md`` from experiment runs: tables, figures and the commands that made them.

``python -m neural.experiments report RUN_DIR... --to docs/results.md`` reads each
``RUN_DIR/results.json``, copies the run's PNG figure into the figures directory
(default: ``figures/`` next to ``--to``) and writes one Markdown page.
"""

from __future__ import annotations

import math
import os
import shlex
import shutil
from typing import Any

from neural.experiments.experiment import FIGURE_FILES, _visual_table
from neural.experiments.results import header_policy_note, load_results, markdown_table

TITLES = {
    "bpp": "Performance against bits per pixel",
    "snr": "Performance against SNR",
    "beta": "Performance against β",
    "visual": "Reconstructions and predictions",
}


def write_report(
    run_dirs: list[str], to: str, *, figures_dir: str | None = None, command: str | None = None
) -> str:
    """Write the Markdown report of ``run_dirs`` to ``to``; return its text."""
    from neural.training.files import atomic_write_text

    if not run_dirs:
        raise ValueError("run_dirs must name at least one experiment output directory")
    to_dir = os.path.dirname(os.path.abspath(to))
    figures_dir = os.path.abspath(figures_dir or os.path.join(to_dir, "figures"))
    os.makedirs(figures_dir, exist_ok=True)
    parts = ["# Results", ""]
    if command:
        parts += [f"Generated from the runs' `results.json` files by `{command}`.", ""]
    parts += [
        (
            "Every number below was produced by the command shown with it; tables give the mean over "
            "seeds and, with two or more seeds, the half-width of the 95 % Student-t interval. "
            "Wall times are the run's own clock (results.json), on the machine and with the jobs named "
            "with them; docs/experiments.md says under what load the quick-preset runs were measured "
            "and what each experiment computes."
        ),
        "",
    ]
    used: set[str] = set()
    for run in run_dirs:
        res = load_results(run)
        prov = res["provenance"]
        exp = prov.get("experiment", {})
        kind = exp.get("experiment")
        if kind not in FIGURE_FILES:
            raise ValueError(f"{res['path']}: unknown experiment {kind!r}")
        parts += [f"## {prov.get('figure', '')}: {TITLES[kind]} ({exp.get('preset')} preset)", ""]
        parts += [f"Command: `{prov.get('command') or '(Python API)'}`", ""]
        parts += [_run_line(prov), ""]
        table = _visual_table(res["rows"]) if kind == "visual" else markdown_table(res["rows"])
        parts += [table, "", header_policy_note(prov), ""]
        src = os.path.join(os.path.dirname(res["path"]), FIGURE_FILES[kind])
        if os.path.isfile(src):
            name = f"results-{FIGURE_FILES[kind]}"
            i = 2
            while name in used:
                name = f"results-{i}-{FIGURE_FILES[kind]}"
                i += 1
            used.add(name)
            dst = os.path.join(figures_dir, name)
            shutil.copyfile(src, dst)
            parts += [f"![{prov.get('figure', '')} {kind}]({os.path.relpath(dst, to_dir)})", ""]
    text = "\n".join(parts).rstrip() + "\n"
    atomic_write_text(text, to)
    return text


def _run_line(prov: dict[str, Any]) -> str:
    acc = prov.get("classifier_accuracy") or {}
    clean = ", ".join(f"seed {k}: {v:.4f}" for k, v in acc.items())
    elapsed = prov.get("elapsed_s")
    git = prov.get("git") or {}
    commit = git.get("commit", "unknown")[:10] + (
        " (uncommitted changes)" if git.get("dirty") else ""
    )
    wall = (
        f"{elapsed:.0f} s"
        if isinstance(elapsed, (int, float)) and math.isfinite(elapsed)
        else "unknown"
    )
    return (
        f"Wall time {wall} ({prov.get('jobs_ran')} jobs run, {prov.get('jobs_skipped')} reused) with "
        f"executor {prov.get('executor')}, {prov.get('jobs')} concurrent job(s) × {prov.get('threads_per_job')} "
        f"torch thread(s) on {prov.get('usable_cores')} usable core(s); device {prov.get('device')}; "
        f"git {commit}; torch {prov.get('torch')}. Classifier accuracy on the original test images: "
        f"{clean or '—'}."
    )


def report_command(argv: list[str]) -> str:
    return "python -m neural.experiments " + shlex.join(argv)
