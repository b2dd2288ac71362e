"""The ``mi`` experiment (Algorithm 4, Fig. 7): the four quantities of the RD baseline,
TOSC-SR and the IB baseline across bpp, at SNR = ∞.

The trainings are the ``bpp`` experiment's own jobs (:func:`neural.experiments.build_jobs`
of ``make_spec("bpp", ...)`` with the same preset, β values and overrides): same
configuration, same key, so a directory where ``bpp`` already ran (``--runs``) is reused
and nothing is retrained. One analysis job per system (method × bpp × seed,
:mod:`.job`) follows its training; all jobs go through one executor
(:func:`neural.experiments.run_jobs`), finished ones are skipped on a rerun.

Rows (:data:`MI_FIELDS`, one per system × quantity × estimator; MI in bits): ``method``,
``bpp``, ``snr_db`` (∞), ``beta``, ``seed``, ``quantity`` (``I(X;Z)``, ``I(Z;Ŷ)``,
``I(X;Ŷ)``, ``I(Ŷ;Y)``), ``estimator`` (``counts``, ``bit-entropies``, ``bits-sent``,
``plug-in``, ``club``, ``mine``), ``kind`` (``exact``, ``plug-in``, ``upper bound``,
``lower bound``), ``value`` (mean over ``repeats`` estimations; one for counts),
``min``, ``max``, ``repeats``, ``ci_low``/``ci_high`` (95 % interval of the source value,
plug-in values only), ``lower``/``upper`` (where the quantity is known to lie) and
``in_bounds`` (1/0), ``check`` (the relations used), ``samples`` (images used),
``distinct`` (distinct codes Z), ``saturated`` (1: every image its own code),
``converged`` (fraction of repeats that passed the plateau test), ``accuracy`` and
``psnr`` (dB) of the system on the test images, ``note``, ``job``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from neural.experiments.experiment import ExperimentResult, resolve_threads, run_plan
from neural.experiments.four_mi.job import ESTIMATORS, mi_job
from neural.experiments.jobs import Runtime
from neural.experiments.plan import PRESETS, build_jobs, make_spec
from neural.experiments.results import load_results, write_results

MI_METHODS = ("rd", "tosc", "ib")
MI_FIELDS = (
    "method",
    "bpp",
    "snr_db",
    "beta",
    "seed",
    "quantity",
    "estimator",
    "kind",
    "value",
    "min",
    "max",
    "repeats",
    "ci_low",
    "ci_high",
    "lower",
    "upper",
    "in_bounds",
    "check",
    "samples",
    "distinct",
    "saturated",
    "converged",
    "accuracy",
    "psnr",
    "note",
    "job",
)
MI_TEXT_FIELDS = ("method", "quantity", "estimator", "kind", "check", "note", "job")
FIGURE_FILE = "fig7_mi.png"

# Per preset: the estimation settings (the trainings come from the bpp preset of the same name).
MI_PRESETS: dict[str, dict[str, Any]] = {
    "quick": {
        "bpps": PRESETS["quick"]["bpp"]["bpps"],
        "repeats": 3,
        "estimators": ["club", "mine"],
        "steps": 200,
        "batch_size": 64,
        "hidden": [128, 128],  # smaller than Table I's MI model, to fit 20 minutes on 2 cores
        "lr": None,
        "test_fraction": 0.2,
        "x_components": 64,  # the digits span 61 dimensions: lossless
    },
    "paper": {
        "bpps": PRESETS["paper"]["bpp"]["bpps"],
        "repeats": 5,
        "estimators": ["club", "mine"],
        "steps": 52_000,  # about Table II's 1000 epochs of the MI model at batch 200
        "batch_size": 200,  # Table II
        "hidden": [1024, 512, 512],  # Table I's MI model
        "lr": 1e-4,  # Table II
        "test_fraction": 0.2,
        "x_components": None,  # the pixels
    },
}


@dataclass
class MISpec:
    """Everything the ``mi`` experiment computes (see :func:`make_mi_spec`)."""

    preset: str
    methods: list[str]
    bpps: list[float]
    tosc_beta: float
    ib_beta: float
    seeds: int
    repeats: int
    estimators: list[str]
    steps: int
    batch_size: int
    hidden: list[int]
    lr: float | None
    test_fraction: float
    x_components: int | None
    train_overrides: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> MISpec:
        """Raise ``ValueError`` naming the first bad field; return ``self``."""
        if not self.methods or any(m not in MI_METHODS for m in self.methods):
            raise ValueError(
                f"methods must be a non-empty subset of {MI_METHODS}, got {self.methods!r}"
            )
        if len(set(self.methods)) != len(self.methods):
            raise ValueError(f"methods must be distinct, got {self.methods!r}")
        for name in ("seeds", "repeats", "steps"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int):
            raise ValueError(f"batch_size must be an integer >= 2, got {self.batch_size!r}")
        if self.batch_size < 2:
            raise ValueError(f"batch_size must be an integer >= 2, got {self.batch_size!r}")
        bad = [e for e in self.estimators if e not in ESTIMATORS]
        if bad or len(set(self.estimators)) != len(self.estimators):
            raise ValueError(
                f"estimators must be distinct names among {sorted(ESTIMATORS)}, got {self.estimators!r}"
            )
        if not self.hidden or any(
            isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in self.hidden
        ):
            raise ValueError(f"hidden must list positive layer widths, got {self.hidden!r}")
        if self.lr is not None and not (
            isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0
        ):
            raise ValueError(f"lr must be a finite number > 0 or None, got {self.lr!r}")
        if not 0 < self.test_fraction < 1:
            raise ValueError(f"test_fraction must lie in (0, 1), got {self.test_fraction!r}")
        if self.x_components is not None and (
            isinstance(self.x_components, bool)
            or not isinstance(self.x_components, int)
            or self.x_components < 1
        ):
            raise ValueError(
                f"x_components must be a positive integer or None, got {self.x_components!r}"
            )
        self.training_spec()  # bpps, betas, seeds and overrides checked by the bpp experiment
        return self

    def training_spec(self):
        """The ``bpp`` experiment whose trainings this analysis reads (RD first: it trains the
        classifier and the codec that the others load, exactly as ``bpp`` does)."""
        return make_spec(
            "bpp",
            self.preset,
            methods=["rd"] + [m for m in ("tosc", "ib") if m in self.methods],
            bpps=list(self.bpps),
            snr_db=math.inf,
            betas=[self.tosc_beta],
            ib_beta=self.ib_beta,
            seeds=self.seeds,
            train_overrides=self.train_overrides,
        )

    def estimation(self) -> dict[str, Any]:
        return {
            "estimators": list(self.estimators),
            "repeats": self.repeats,
            "steps": self.steps,
            "batch_size": self.batch_size,
            "hidden": list(self.hidden),
            "lr": self.lr,
            "test_fraction": self.test_fraction,
            "x_components": self.x_components,
        }

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def make_mi_spec(preset: str = "quick", **options: Any) -> MISpec:
    """The preset's settings with any :class:`MISpec` field in ``options`` replacing them
    (None values are ignored; ``train_overrides`` are merged into the preset's); validated."""
    if preset not in MI_PRESETS:
        raise ValueError(f"preset must be one of {sorted(MI_PRESETS)}, got {preset!r}")
    p = MI_PRESETS[preset]
    values: dict[str, Any] = {
        "preset": preset,
        "methods": list(MI_METHODS),
        "bpps": list(p["bpps"]),
        "tosc_beta": PRESETS[preset]["tosc_beta"],
        "ib_beta": PRESETS[preset]["ib_beta"],
        "seeds": 1,
        "repeats": p["repeats"],
        "estimators": list(p["estimators"]),
        "steps": p["steps"],
        "batch_size": p["batch_size"],
        "hidden": list(p["hidden"]),
        "lr": p["lr"],
        "test_fraction": p["test_fraction"],
        "x_components": p["x_components"],
        "train_overrides": {},
    }
    known = {f.name for f in dataclasses.fields(MISpec)}
    for key, value in options.items():
        if key not in known:
            raise ValueError(f"unknown mi option {key!r}; valid: {sorted(known)}")
        if value is not None:
            values[key] = value
    return MISpec(**values).validate()


def build_mi_jobs(spec: MISpec, data_dir: str | None = None) -> list:
    """The trainings of :meth:`MISpec.training_spec`, then one analysis job per requested system."""
    spec.validate()
    trainings = build_jobs(spec.training_spec(), data_dir)
    jobs = list(trainings)
    for t in trainings:
        s = t.spec
        if s["method"] not in spec.methods:
            continue
        assert t.run_id is not None
        cfg = s["config"]
        jobs.append(
            mi_job(
                s["method"],
                bpp=s["bpp"],
                beta=s["beta"],
                seed=s["seed"],
                run=t.run_id,
                data={"dataset": cfg["dataset"], "image_size": cfg["image_size"]},
                eval_batch_size=cfg["eval_batch_size"],
                estimation=spec.estimation(),
            )
        )
    return jobs


def run_mi(
    spec: MISpec,
    out: str,
    *,
    runs: str | None = None,
    data_dir: str | None = None,
    executor: Executor | None = None,
    executor_kind: str = "process",
    jobs: int = 1,
    scheduler: str | None = None,
    threads: int | None = None,
    device: str = "auto",
    progress: bool = True,
    command: str | None = None,
) -> ExperimentResult:
    """Run the ``mi`` experiment: trainings (reused when finished) and analyses, then
    ``out/results.json``, ``out/results.csv`` and ``out/fig7_mi.png``; returns an
    :class:`~neural.experiments.ExperimentResult` (rows, provenance, files, job counts, table).

    Args:
        spec: :func:`make_mi_spec`.
        out: where the results and the figure go.
        runs: the directory holding the jobs (trainings and analyses; default ``out``);
            give the ``--out`` of a finished ``bpp`` run to reuse its trainings.
        data_dir, executor, executor_kind, jobs, scheduler, threads, device, progress,
            command: as :func:`neural.experiments.run_experiment`.
    """
    from neural.experiments.four_mi.figure import mi_figure
    from neural.experiments.four_mi.table import mi_table

    if not isinstance(spec, MISpec):
        raise TypeError(f"spec must be an MISpec, got {type(spec).__name__}")
    spec.validate()
    threads = resolve_threads(executor_kind, threads, jobs)
    out = os.path.abspath(out)
    runs = os.path.abspath(runs) if runs else out
    plan = build_mi_jobs(spec, data_dir)
    runtime = Runtime.local(runs, data_dir, device, threads)
    sweep, prov = run_plan(
        plan,
        runtime,
        executor=executor,
        executor_kind=executor_kind,
        jobs=jobs,
        scheduler=scheduler,
        progress=progress,
    )
    rows = [r for rec in sweep.records if rec["spec"]["kind"] == "mi" for r in rec["rows"]]
    prov.update(
        command=command,
        experiment={"experiment": "mi", **spec.as_dict()},
        figure="Fig. 7",
        units="bits (psnr: dB)",
        runs_dir=runs,
    )
    os.makedirs(out, exist_ok=True)
    files = list(write_results(out, rows, prov, fields=MI_FIELDS, text_fields=MI_TEXT_FIELDS))
    rows = load_mi_results(out)["rows"]
    files.append(
        mi_figure(
            rows,
            os.path.join(out, FIGURE_FILE),
            title=f"Fig. 7 ({spec.preset} preset): SNR = ∞, TOSC-SR β = {spec.tosc_beta:g}, "
            f"{spec.seeds} seed(s), {spec.repeats} estimation repeat(s)",
            n_classes=max(rec["n_classes"] for rec in sweep.records if rec["spec"]["kind"] == "mi"),
        )
    )
    table = mi_table(rows)
    if progress:
        print(table, file=sys.stderr)
    return ExperimentResult(rows, prov, files, len(sweep.ran), len(sweep.skipped), table)


def load_mi_results(path: str) -> dict[str, Any]:
    """Read an ``mi`` run's ``results.json`` (the file or its directory), rows normalised."""
    return load_results(path, fields=MI_FIELDS, text_fields=MI_TEXT_FIELDS)
