"""``python -m neural.experiments exact``: the neural side against the exact solver.

Parts (each a ``part`` value of the result rows; see ``docs/neural-vs-exact.md``):

* ``feasibility`` — K-bit codecs on the native 8×8 digits (SNR = ∞; the RD objective,
  β = 0, and TOSC-SR at the preset's β, both from the existing training stages), read off
  as deterministic encoders and checked against the exact curves at β = 0 and β > 0 on a
  reproduction alphabet holding every decoder output plus k-means centres
  (:mod:`neural.bridge.feasibility`);
* ``relaxation`` — the cross-entropy bound of eqs. (25)–(29) against the exact D_IB of the
  same codecs, for classifiers trained for 1..E epochs and an untrained one
  (:mod:`neural.bridge.relaxation`);
* ``gradient`` and ``estimators`` — gradient training against Blahut–Arimoto and MI
  estimators against exact values (:mod:`neural.bridge.gradient`,
  :mod:`neural.bridge.estimators`); when those modules are not installed the command says
  so in ``provenance["missing_parts"]`` and writes no row for them.

Training runs are written under ``OUT/runs/`` and reused (or resumed) when the command is
run again with the same ``--out``.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PARTS = ("feasibility", "relaxation", "gradient", "estimators")
FIGURES = {
    "feasibility": "exact_curves.png",
    "relaxation": "ce_bound.png",
    "gradient": "gradient_vs_ba.png",
    "estimators": "estimators_vs_exact.png",
}


@dataclass(frozen=True)
class ExactPreset:
    """Settings of one preset of the ``exact`` command."""

    bits: tuple[int, ...]  # K values (latent channels = bits per 8×8 image)
    tosc_beta: float  # β of the TOSC-SR codec (eq. 31); the RD codec is β = 0
    split: str  # images of the exact source (neural.bridge.digits.SPLITS)
    codebook_size: int  # k-means centres added to the decoder outputs
    curve_points: int  # λ values per exact curve
    estimator_seeds: int  # seeds of the MI estimators part
    all_codewords: bool  # all 2^K decoder outputs in the alphabet, or only those used
    train: dict[str, Any] = field(default_factory=dict)  # TrainConfig overrides


PRESETS: dict[str, ExactPreset] = {
    "quick": ExactPreset(
        bits=(2, 4, 6),
        tosc_beta=0.1,
        split="test",
        codebook_size=32,
        curve_points=12,
        estimator_seeds=2,
        all_codewords=False,
        train={
            "classifier": {"epochs": 3, "batch_size": 64, "lr": 2e-3, "lr_final": 2e-4},
            "codec": {
                "epochs": 20,
                "batch_size": 32,
                "lr": 2e-3,
                "lr_final": 2e-4,
                "weight_decay": 1e-5,
            },
            "tosc": {"epochs": 3, "batch_size": 32, "lr": 3e-4, "weight_decay": 1e-5},
            "eval_every": 100,
        },
    ),
    "paper": ExactPreset(
        bits=(2, 3, 4, 5, 6, 7, 8),
        tosc_beta=0.1,
        split="all",
        codebook_size=64,
        curve_points=30,
        estimator_seeds=10,
        all_codewords=True,
        train={
            "classifier": {"epochs": 20, "batch_size": 32, "lr": 2e-3, "lr_final": 2e-4},
            "codec": {
                "epochs": 100,
                "batch_size": 32,
                "lr": 2e-3,
                "lr_final": 2e-5,
                "weight_decay": 1e-5,
            },
            "tosc": {"epochs": 30, "batch_size": 32, "lr": 3e-4, "weight_decay": 1e-5},
        },
    ),
}


# ----------------------------------------------------------------------------- training
def _train_overrides(preset: ExactPreset, k: int, seed: int, out: str) -> dict[str, Any]:
    return {
        **copy.deepcopy(preset.train),
        "dataset": "digits",
        "image_size": 8,  # native: the 8× encoder gives a 1×1×K latent, K bits per image
        "latent_channels": k,
        "snr_db": math.inf,
        "betas": [0.0, preset.tosc_beta],
        "objective": "tosc",
        "seed": seed,
        "out": out,
        "num_threads": 1,
    }


def _snapshot_classifier(run_dir: str, snapshots: str) -> Callable[[str, float | None, int], None]:
    """``on_checkpoint`` callback: copy the classifier of every Alg.-2 epoch's checkpoint
    to ``snapshots/classifier_epoch=<E>.pt`` (for the classifier-quality study)."""
    import torch

    from neural.training.files import atomic_save, load_weights

    def on_checkpoint(stage: str, beta: float | None, epoch: int) -> None:
        if stage != "classifier":
            return
        state = load_weights(os.path.join(run_dir, "checkpoint.pt"), "checkpoint")
        weights = {k: torch.as_tensor(v).clone() for k, v in state["classifier"].items()}
        atomic_save(weights, os.path.join(snapshots, f"classifier_epoch={epoch}.pt"))

    return on_checkpoint


def train_codecs(preset: ExactPreset, out: str, *, seed: int, progress: bool) -> dict[int, Any]:
    """One training run per K under ``out/runs/K=<K>`` (the first trains the classifier, the
    others load it); finished runs are reloaded, interrupted ones resumed. Returns
    ``{K: neural.LoadedRun}``."""
    from neural.config import make_config
    from neural.training import load_run, train

    runs_dir = os.path.join(out, "runs")
    os.makedirs(runs_dir, exist_ok=True)
    first = os.path.join(runs_dir, f"K={preset.bits[0]}")
    loaded: dict[int, Any] = {}
    for k in preset.bits:
        run_dir = os.path.join(runs_dir, f"K={k}")
        if not os.path.isfile(os.path.join(run_dir, "results.json")):
            over = _train_overrides(preset, k, seed, run_dir)
            over["progress"] = progress
            over["resume"] = os.path.isfile(os.path.join(run_dir, "checkpoint.pt"))
            if run_dir != first:
                over["classifier_from"] = first
            t0 = time.perf_counter()
            train(
                make_config("quick", overrides=over),
                on_checkpoint=_snapshot_classifier(run_dir, runs_dir) if run_dir == first else None,
            )
            if progress:
                print(f"trained K={k} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        loaded[k] = load_run(run_dir)
    return loaded


def classifier_snapshots(out: str, config: Any) -> list[tuple[int, Any]]:
    """``[(epochs, classifier)]``: the configured classifier untrained (0 epochs, seeded
    0) and the Alg.-2 snapshot of every epoch written by :func:`train_codecs`."""
    import torch

    from neural.training import build_classifier
    from neural.training.files import load_weights

    torch.manual_seed(0)
    found = [(0, build_classifier(config, 10).eval())]
    runs_dir = os.path.join(out, "runs")
    names = [n for n in os.listdir(runs_dir) if n.startswith("classifier_epoch=")]
    for name in sorted(names, key=lambda n: int(n.split("=")[1].split(".")[0])):
        net = build_classifier(config, 10)
        net.load_state_dict(load_weights(os.path.join(runs_dir, name), "classifier snapshot"))
        found.append((int(name.split("=")[1].split(".")[0]), net.eval()))
    return found


# ----------------------------------------------------------------------------- analysis
def _method(beta_train: float) -> str:
    return "rd" if beta_train == 0 else "tosc"


def feasibility_part(
    preset: ExactPreset, runs: dict[int, Any], *, seed: int, progress: bool
) -> tuple[list[dict[str, Any]], dict[float, Any], Any]:
    """Rows of the ``feasibility`` part, the exact curves ``{β: Curve}`` and the bridge
    source (every codec's decoder outputs + k-means centres)."""
    from neural.bridge.codec import bridge_source, read_code
    from neural.bridge.digits import digits_source
    from neural.bridge.feasibility import exact_curve, feasibility_row

    kmeans = digits_source(codebook_size=preset.codebook_size, seed=seed, split=preset.split)
    images, labels = kmeans.images, kmeans.labels
    keys = [(k, b) for k in preset.bits for b in (0.0, preset.tosc_beta)]
    codes = [read_code(runs[k].codecs[f"beta={b:g}"], images) for k, b in keys]
    bridge = bridge_source(
        codes, images, labels, kmeans.codebook, all_codewords=preset.all_codewords
    )
    rows: list[dict[str, Any]] = []
    curves: dict[float, Any] = {}
    for beta in (0.0, preset.tosc_beta):
        t0 = time.perf_counter()
        curves[beta] = curve = exact_curve(
            bridge.source.problem, beta=beta, n_points=preset.curve_points
        )
        if progress:
            print(f"exact curve beta={beta:g}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        for i, (k, b) in enumerate(keys):
            row = feasibility_row(bridge.source.problem, bridge.encoder(i), curve, beta=beta)
            rows.append(
                {
                    "part": "feasibility",
                    "method": _method(b),
                    "bits": k,
                    "bpp": k / 64,
                    "snr_db": math.inf,
                    "beta": beta,
                    "beta_train": b,
                    "seed": seed,
                    "codewords_used": int(len(codes[i].used)),
                    **row,
                }
            )
    return rows, curves, bridge


def relaxation_part(
    preset: ExactPreset, runs: dict[int, Any], bridge: Any, out: str, *, seed: int
) -> list[dict[str, Any]]:
    """Rows of the ``relaxation`` part: every codec × every classifier snapshot."""
    import torch

    from neural.bridge.relaxation import ce_bound, classifier_log_probs

    keys = [(k, b) for k in preset.bits for b in (0.0, preset.tosc_beta)]
    first = runs[preset.bits[0]]
    imgs = torch.from_numpy(bridge.source.images.astype(np.float32))
    x = imgs.view(-1, 1, 8, 8).repeat(1, 3, 1, 1)
    y = torch.from_numpy(bridge.source.labels)
    rows = []
    for epochs, clf in classifier_snapshots(out, first.config):
        with torch.no_grad():
            clean_acc = float((clf(x).argmax(1) == y).double().mean())
        for i, (k, b) in enumerate(keys):
            code = bridge.codes[i]
            log_q = classifier_log_probs(clf, code.codewords, code.channels)
            rows.append(
                {
                    "part": "relaxation",
                    "method": _method(b),
                    "bits": k,
                    "bpp": k / 64,
                    "snr_db": math.inf,
                    "beta": b,
                    "beta_train": b,
                    "seed": seed,
                    "classifier_epochs": epochs,
                    "classifier_accuracy": clean_acc,
                    "codewords_used": int(len(code.used)),
                    **ce_bound(bridge, i, log_q),
                }
            )
    return rows


# ----------------------------------------------------------------------------- figures
def plot_feasibility(rows: list[dict[str, Any]], curves: dict[float, Any], path: str) -> None:
    """Exact curves (β = 0: rate against D_RD; β > 0: rate against D_S) with the neural
    points, one panel per β."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    betas = sorted(curves)
    fig, axes = plt.subplots(1, len(betas), figsize=(5.2 * len(betas), 4.2))
    for ax, beta in zip(np.atleast_1d(axes), betas):
        c = curves[beta]
        order = np.argsort(c.distortion)
        ax.plot(c.distortion[order], c.rate[order], "k.-", label="exact optimum (solver)")
        for method, marker in (("rd", "o"), ("tosc", "s")):
            pts = [r for r in rows if r["beta"] == beta and r["method"] == method]
            if not pts:
                continue
            ax.plot(
                [r["distortion"] for r in pts],
                [r["rate"] for r in pts],
                marker,
                mfc="none",
                label=f"neural {method} codec",
            )
            for r in pts:
                ax.annotate(f"K={r['bits']}", (r["distortion"], r["rate"]), fontsize=7)
        what = "D_RD (per-pixel MSE)" if beta == 0 else f"D_S = D_RD + {beta:g}·D_IB (nats)"
        ax.set_xlabel(what)
        ax.set_ylabel("rate I(X;X̂) (bits per image)")
        ax.set_title(f"β = {beta:g}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_relaxation(rows: list[dict[str, Any]], path: str) -> None:
    """CE bound and exact D_IB (nats) against the classifier's epochs, one line per codec."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10.4, 4.2))
    codecs = sorted({(r["bits"], r["method"]) for r in rows})
    for k, method in codecs:
        pts = sorted(
            (r for r in rows if r["bits"] == k and r["method"] == method),
            key=lambda r: r["classifier_epochs"],
        )
        ep = [r["classifier_epochs"] for r in pts]
        (line,) = a1.plot(ep, [r["ce_bound"] for r in pts], "o-", label=f"K={k} {method}: CE bound")
        a1.plot(ep, [r["d_ib_exact"] for r in pts], "--", color=line.get_color())
        a2.plot(
            [r["classifier_accuracy"] for r in pts],
            [r["gap_ce"] for r in pts],
            "o-",
            color=line.get_color(),
            label=f"K={k} {method}",
        )
    a1.set_xlabel("classifier training epochs (Alg. 2)")
    a1.set_ylabel("nats (solid: CE bound, eq. 27; dashed: exact D_IB)")
    a2.set_xlabel("classifier accuracy on the clean source images")
    a2.set_ylabel("bound − exact D_IB = E KL(p(y|x̂) ‖ q(y|x̂)) (nats)")
    for ax in (a1, a2):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ----------------------------------------------------------------------------- gradmi's parts
def _gradmi_part(
    part: str, preset: str, seed: int, seeds: int, progress: bool, fig: str
) -> list[dict[str, Any]]:
    """Run :func:`neural.bridge.gradient.gradient_vs_ba` or
    :func:`neural.bridge.estimators.estimators_vs_exact` and draw its figure; raises
    ``ImportError`` when the module (or its entry point) is not there."""
    if part == "gradient":
        mod = importlib.import_module("neural.bridge.gradient")
        run, plot = mod.gradient_vs_ba, mod.plot_gradient
        rows = run(preset=preset, seed=seed, progress=progress)
    else:
        mod = importlib.import_module("neural.bridge.estimators")
        run, plot = mod.estimators_vs_exact, mod.plot_estimators
        rows = run(preset=preset, seeds=seeds, progress=progress)
    plot(rows, fig)
    return [{"part": part, **r} for r in rows]


# ----------------------------------------------------------------------------- files
def write_rows(out: str, rows: list[dict[str, Any]], provenance: dict[str, Any]) -> list[str]:
    """``out/results.json`` and ``out/results.csv`` by :func:`results.write_table`, the CSV's
    columns the union of the rows' keys in first-seen order (a key a row lacks is an empty
    field)."""
    from neural.experiments.results import write_table

    columns: list[str] = []
    for r in rows:
        columns += [c for c in r if c not in columns]
    return list(write_table(out, rows, provenance, columns))


# ----------------------------------------------------------------------------- the command
def run_exact(
    preset_name: str,
    out: str,
    *,
    seed: int = 0,
    parts: tuple[str, ...] = PARTS,
    progress: bool = True,
    command: str = "",
) -> dict[str, Any]:
    """Run ``parts`` of the ``exact`` experiment into ``out``; return ``{"rows", "provenance",
    "files"}``. A β = 0 feasibility violation (a bug: the curve is certified there) is kept
    in the rows and listed in ``provenance["bugs"]``."""
    from neural.experiments.results import provenance as base_provenance

    if preset_name not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset_name!r}")
    bad = [p for p in parts if p not in PARTS]
    if bad or not parts:
        raise ValueError(f"parts must be a non-empty subset of {PARTS}, got {list(parts)}")
    preset = PRESETS[preset_name]
    os.makedirs(out, exist_ok=True)
    timings: dict[str, float] = {}
    rows: list[dict[str, Any]] = []
    files: list[str] = []
    missing: dict[str, str] = {}
    t_all = time.perf_counter()
    if "feasibility" in parts or "relaxation" in parts:
        t0 = time.perf_counter()
        runs = train_codecs(preset, out, seed=seed, progress=progress)
        timings["training_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        feas, curves, bridge = feasibility_part(preset, runs, seed=seed, progress=progress)
        timings["feasibility_s"] = time.perf_counter() - t0
        if "feasibility" in parts:
            rows += feas
            files.append(os.path.join(out, FIGURES["feasibility"]))
            plot_feasibility(feas, curves, files[-1])
        if "relaxation" in parts:
            t0 = time.perf_counter()
            relax = relaxation_part(preset, runs, bridge, out, seed=seed)
            timings["relaxation_s"] = time.perf_counter() - t0
            rows += relax
            files.append(os.path.join(out, FIGURES["relaxation"]))
            plot_relaxation(relax, files[-1])
    for part in ("gradient", "estimators"):
        if part not in parts:
            continue
        t0 = time.perf_counter()
        fig = os.path.join(out, FIGURES[part])
        try:
            rows += _gradmi_part(part, preset_name, seed, preset.estimator_seeds, progress, fig)
            files.append(fig)
        except (ImportError, AttributeError) as exc:
            missing[part] = f"not available in this installation ({exc})"
        timings[f"{part}_s"] = time.perf_counter() - t0
    timings["total_s"] = time.perf_counter() - t_all
    bugs = [
        f"K={r['bits']} {r['method']}: F_neural below the certified curve at {r['violations']} λ"
        for r in rows
        if r.get("violation") == "bug"
    ]
    prov = {
        **base_provenance(),
        "experiment": {"name": "exact", "preset": preset_name, "seed": seed, "parts": list(parts)},
        "preset": jsonable_preset(preset),
        "command": command,
        "timings_s": timings,
        "missing_parts": missing,
        "bugs": bugs,
    }
    files = write_rows(out, rows, prov) + files
    return {"rows": rows, "provenance": prov, "files": files}


def jsonable_preset(preset: ExactPreset) -> dict[str, Any]:
    """The preset as plain JSON values."""
    from dataclasses import asdict

    return asdict(preset)


def add_parser(sub: Any) -> None:
    """Register ``exact`` on the experiments command's subparsers."""
    s = sub.add_parser(
        "exact",
        help="the neural side against the exact solver on the digits (docs/neural-vs-exact.md)",
        description=__doc__.split("\n\n")[0],
    )
    s.add_argument("--preset", choices=sorted(PRESETS), default="quick")
    s.add_argument("--out", required=True, help="output directory (rerun to reuse its runs)")
    s.add_argument("--seed", type=int, default=0, help="training and k-means seed (default 0)")
    s.add_argument(
        "--parts", nargs="+", choices=PARTS, default=list(PARTS), help="parts to run (default all)"
    )
    s.add_argument("--no-progress", action="store_true", help="no progress output on stderr")


def main_exact(args: argparse.Namespace, command: str) -> int:
    """Run the parsed ``exact`` subcommand; exit status 1 when a β = 0 violation (a bug) was found."""
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    result = run_exact(
        args.preset,
        args.out,
        seed=args.seed,
        parts=tuple(args.parts),
        progress=not args.no_progress,
        command=command,
    )
    prov = result["provenance"]
    print(
        f"{len(result['rows'])} rows in {prov['timings_s']['total_s']:.0f} s: "
        + ", ".join(os.path.basename(f) for f in result["files"])
    )
    for part, why in prov["missing_parts"].items():
        print(f"part {part!r} missing: {why}", file=sys.stderr)
    for bug in prov["bugs"]:
        print(f"BUG: {bug}", file=sys.stderr)
    return 1 if prov["bugs"] else 0


# ----------------------------------------------------------------------------- tables
def markdown_tables(rows: list[dict[str, Any]]) -> str:
    """Markdown tables of the ``feasibility`` and ``relaxation`` rows (for the docs page)."""
    out = []
    feas = [r for r in rows if r.get("part") == "feasibility"]
    if feas:
        out += [
            "| K | codec | β | codewords used | rate (bits) | D_RD | D_IB (bits) | D_S | "
            "R*(D_S) (bits) | gap_rate_bits | gap_lagrangian_bits | violations |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in feas:
            out.append(
                f"| {r['bits']} | {r['method']} (β={r['beta_train']:g}) | {r['beta']:g} | "
                f"{r['codewords_used']} | {r['rate']:.4f} | {r['distortion_rd']:.5f} | "
                f"{r['distortion_ib']:.4f} | {r['distortion']:.5f} | {r['rate_exact']:.4f} | "
                f"{r['gap_rate_bits']:.4f} | {r['gap_lagrangian_bits']:.4f} | "
                f"{r['violations']}{' (' + r['violation'] + ')' if r['violation'] else ''} |"
            )
        out.append("")
    relax = [r for r in rows if r.get("part") == "relaxation"]
    if relax:
        out += [
            "| K | codec | classifier epochs | classifier accuracy | exact D_IB (nats) | "
            "CE bound (nats) | gap (nats) |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in relax:
            out.append(
                f"| {r['bits']} | {r['method']} (β={r['beta_train']:g}) | "
                f"{r['classifier_epochs']} | {r['classifier_accuracy']:.3f} | "
                f"{r['d_ib_exact']:.4f} | {r['ce_bound']:.4f} | {r['gap_ce']:.4f} |"
            )
    return "\n".join(out)
