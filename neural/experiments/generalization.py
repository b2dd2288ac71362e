"""The generalization experiment (Algorithm 5): codecs trained for classification, frozen,
judged by a detector they never saw.

For each seed:

1. the trainings of the ``beta`` experiment (Fig. 9) at the same settings: TOSC-SR over the
   β grid (β = 0 is the RD baseline: eq. 31 with MSE alone), plus the IB baseline and SPICS
   (one training each), all sharing the classifier and the Algorithm-3 codec of the β = 0
   run, plus the digital JPEG / JPEG 2000 jobs. These are the jobs of
   :func:`neural.experiments.build_jobs`, so a training already finished by the ``beta``
   command in the same runs directory is reused, not repeated;
2. a detector (:class:`neural.detection.CenterNetDetector`) trained on clean detection
   images (digit canvases at the quick preset, Pascal VOC 2007 at the paper preset), then
   kept fixed;
3. every codec, frozen, sends the test detection images (encoder → quantizer → channel →
   decoder; the digital methods through their codec and the same channel uses) and the
   detector finds the objects in the reconstructions: mAP@0.5 and mAP@[0.5:0.95]
   (COCO's definition, :func:`neural.detection.mean_average_precision`). Algorithm 5's
   step 1 ("normal auto-encoder", the Algorithm-3 codec before fine-tuning) and the clean
   images are measured too, as references (``provenance["reference_map"]``).

A row is one method × β × seed × SNR: the classification columns of the other experiments
(accuracy, PSNR, … on the digits test split) and ``map``, ``map50`` (in [0, 1]),
``det_psnr`` (dB, PSNR of the reconstructed detection images), ``det_failure_rate``
(digital methods: fraction of detection images lost) and ``det_images``.

Jobs (detector trainings and detection evaluations) are keyed by configuration like the
sweep jobs (``RUNS/jobs/<key>.json``, written atomically; a finished one is reused) and run
on the same ``concurrent.futures.Executor``.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import time
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm import tqdm

from neural.experiments.experiment import ExperimentResult, resolve_threads
from neural.experiments.jobs import (
    EVAL_SEED_KEY,
    Job,
    Runtime,
    execute_job,
    load_job_record,
    run_dir,
)
from neural.experiments.keys import jsonable, parse_float
from neural.experiments.plan import ExperimentSpec, build_jobs, make_spec
from neural.experiments.results import mean_interval, normalise_row, provenance, write_results
from neural.experiments.runner import open_executor, run_jobs
from neural.training.result import beta_label

GEN_METHODS = ("rd", "tosc", "ib", "spics", "jpeg", "jpeg2000")
EXTRA_FIELDS = ("map", "map50", "det_psnr", "det_failure_rate", "det_images")
FIGURE_FILE = "generalization_beta.png"
DETECTION_KEYS = (
    "dataset",
    "image_size",
    "train_images",
    "test_images",
    "digits",
    "scale",
    "data_seed",
    "width",
    "epochs",
    "batch_size",
    "lr",
    "weight_decay",
    "top_k",
)
# Detection data and detector of each preset (the β grid, bpp and trainings are the `beta`
# experiment's). quick: digit canvases, a detector that trains in a few CPU minutes.
DETECTION_PRESETS: dict[str, dict[str, Any]] = {
    "quick": {
        "dataset": "digit-canvases",
        "image_size": 64,
        "train_images": 1000,
        "test_images": 300,
        "digits": [1, 4],
        "scale": [0.25, 0.45],
        "data_seed": 0,
        "width": 16,
        "epochs": 8,
        "batch_size": 32,
        "lr": 2e-3,
        "weight_decay": 1e-4,
        "top_k": 50,
    },
    "paper": {
        "dataset": "voc2007",
        "image_size": 96,  # the STL-10 size the codec was trained at
        "train_images": None,  # all of trainval
        "test_images": None,  # all of test
        "digits": None,
        "scale": None,
        "data_seed": 0,
        "width": 64,
        "epochs": 70,
        "batch_size": 32,
        "lr": 1e-3,
        "weight_decay": 1e-4,
        "top_k": 100,
    },
}


@dataclass
class GeneralizationSpec:
    """The generalization experiment: ``base`` (the ``beta`` experiment whose trainings are
    reused; its ``methods`` are the ones trained), the reported ``methods`` (``rd`` is
    TOSC-SR's β = 0 run) and the ``detection`` settings (data and detector)."""

    base: ExperimentSpec
    methods: list[str]
    detection: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "experiment": "generalization",
            "methods": list(self.methods),
            "detection": dict(self.detection),
            "trainings": self.base.as_dict(),
        }


def make_generalization_spec(
    preset: str = "quick",
    *,
    methods: list[str] | None = None,
    betas: list[float] | None = None,
    detection: dict[str, Any] | None = None,
    **options: Any,
) -> GeneralizationSpec:
    """The preset's settings with explicit options (None values ignored); validated.

    ``betas``: TOSC-SR's grid (β = 0, the RD baseline, is added first if missing);
    ``detection``: overrides of :data:`DETECTION_PRESETS` keys; ``options``: any other
    :class:`~neural.experiments.ExperimentSpec` field of the ``beta`` experiment (``bpps``,
    ``snr_db``, ``ib_beta``, ``spics_beta``, ``headers``, ``capacity``, ``on_failure``,
    ``seeds``, ``train_overrides``).
    """
    methods = list(GEN_METHODS) if methods is None else list(methods)
    bad = [m for m in methods if m not in GEN_METHODS]
    if bad or not methods or len(set(methods)) != len(methods):
        raise ValueError(f"methods must be distinct members of {GEN_METHODS}, got {methods!r}")
    for forbidden in ("experiment", "methods", "eval_snrs", "train_snr_range", "visual_images"):
        if forbidden in options:
            raise ValueError(f"generalization: option {forbidden!r} is not settable here")
    if preset not in DETECTION_PRESETS:
        raise ValueError(f"preset must be one of {sorted(DETECTION_PRESETS)}, got {preset!r}")
    grid = list(make_spec("beta", preset).betas if betas is None else betas)
    if "tosc" not in methods:
        grid = [0.0]  # the β = 0 run still trains the classifier and is the RD baseline
    elif 0.0 not in grid:
        grid = [0.0, *grid]
    trained = ["tosc"] + [m for m in ("ib", "spics", "jpeg", "jpeg2000") if m in methods]
    base = make_spec("beta", preset, methods=trained, betas=grid, **options)
    det = dict(DETECTION_PRESETS[preset])
    unknown = set(detection or {}) - set(DETECTION_KEYS)
    if unknown:
        raise ValueError(f"unknown detection setting(s) {sorted(unknown)}; valid: {DETECTION_KEYS}")
    det.update(detection or {})
    _check_detection(det)
    return GeneralizationSpec(base, methods, det)


def _check_detection(det: dict[str, Any]) -> None:
    from neural.data.detection import DETECTION_DATASETS

    if det["dataset"] not in DETECTION_DATASETS:
        raise ValueError(
            f"detection dataset must be one of {DETECTION_DATASETS}, got {det['dataset']!r}"
        )
    size = det["image_size"]
    if isinstance(size, bool) or not isinstance(size, int) or size < 16 or size % 8:
        raise ValueError(f"detection image_size must be a multiple of 8 and >= 16, got {size!r}")
    for name in ("train_images", "test_images"):
        v = det[name]
        if v is None and det["dataset"] == "voc2007":
            continue
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"detection {name} must be a positive integer, got {v!r}")
    if det["dataset"] == "digit-canvases":
        d, s = det["digits"], det["scale"]
        if not (
            isinstance(d, (list, tuple)) and len(d) == 2 and all(isinstance(v, int) for v in d)
        ):
            raise ValueError(f"detection digits must be [min, max] integers, got {d!r}")
        if not (
            isinstance(s, (list, tuple))
            and len(s) == 2
            and all(isinstance(v, (int, float)) for v in s)
        ):
            raise ValueError(f"detection scale must be [min, max] fractions, got {s!r}")
    seed = det["data_seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"detection data_seed must be a non-negative integer, got {seed!r}")
    _detector_config(det).validate()


def _detector_config(det: dict[str, Any]):
    from neural.detection import DetectorConfig

    return DetectorConfig(
        width=det["width"],
        epochs=det["epochs"],
        batch_size=det["batch_size"],
        lr=float(det["lr"]),
        weight_decay=float(det["weight_decay"]),
        top_k=det["top_k"],
    )


def load_detection_split(det: dict[str, Any], split: str, data_dir: str | None):
    """The ``split`` of the detection data described by ``det`` (a :data:`DETECTION_PRESETS` dict)."""
    from neural.data.detection import load_voc2007, make_digit_canvases

    n = det["train_images"] if split == "train" else det["test_images"]
    if det["dataset"] == "digit-canvases":
        return make_digit_canvases(
            split,
            n,
            size=det["image_size"],
            digits=tuple(det["digits"]),
            scale=tuple(det["scale"]),
            seed=det["data_seed"],
        )
    return load_voc2007(data_dir, split, det["image_size"], max_images=n)


# ----------------------------------------------------------------------------- jobs
def detector_job(det: dict[str, Any], seed: int) -> Job:
    """Training of the detector of ``seed`` on the clean training split (then fixed)."""
    return Job(jsonable({"kind": "detector", "detection": det, "seed": int(seed)}))


def detect_job(
    source: dict[str, Any], det: dict[str, Any], detector_key: str, seed: int, snrs: list[float]
) -> Job:
    """Detection mAP on the test split sent by ``source`` (``{"kind": "train", "run_id",
    "codec"}``, ``codec`` a ``beta=<β>`` label or ``pretrained``; or ``{"kind": "digital",
    "method", "bpp", "header", "capacity", "on_failure"}``) at each SNR of ``snrs``."""
    return Job(
        jsonable(
            {
                "kind": "detect",
                "source": source,
                "detection": det,
                "detector": detector_key,
                "seed": int(seed),
                "snr_db": [float(s) for s in snrs],
            }
        )
    )


def run_detection_job(job: Job, runtime: dict[str, Any]) -> dict[str, Any]:
    """The work of one detector (``kind`` "detector") or detection (``kind`` "detect") job;
    :func:`neural.experiments.jobs.execute_job` runs it (lock, reuse, record, timing)."""
    if job.spec["kind"] == "detector":
        return _run_detector(job, runtime)
    return _run_detect(job, runtime)


def _detector_file(out: str, key: str) -> str:
    return os.path.join(out, "detectors", f"{key}.pt")


def _run_detector(job: Job, runtime: dict[str, Any]) -> dict[str, Any]:
    from neural.detection import evaluate_detection, train_detector
    from neural.training.distributed import resolve_device
    from neural.training.files import atomic_save, sha256_file

    det, seed = job.spec["detection"], job.spec["seed"]
    device = resolve_device(runtime.get("device", "auto"))
    train = load_detection_split(det, "train", runtime.get("data_dir"))
    model = train_detector(train, _detector_config(det), seed=seed, device=device)
    path = _detector_file(runtime["out"], job.key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    atomic_save({k: v.cpu() for k, v in model.state_dict().items()}, path)
    test = load_detection_split(det, "test", runtime.get("data_dir"))
    clean = evaluate_detection(model, test, top_k=det["top_k"], device=device)
    return {
        "num_classes": train.num_classes,
        "sha256": sha256_file(path),
        "clean_map": clean.map.map,
        "clean_map50": clean.map.map50,
        "train_images": len(train),
        "test_images": len(test),
    }


def _load_detector(out: str, key: str, det: dict[str, Any], num_classes: int, device):
    from neural.detection import CenterNetDetector
    from neural.training.files import load_weights

    model = CenterNetDetector(num_classes, det["width"])
    model.load_state_dict(load_weights(_detector_file(out, key), "detector"))
    return model.to(device).eval()


def _run_detect(job: Job, runtime: dict[str, Any]) -> dict[str, Any]:
    import torch

    from neural.detection import evaluate_detection
    from neural.training import derive_seed, load_run
    from neural.training.distributed import resolve_device

    spec, out = job.spec, runtime["out"]
    det, src = spec["detection"], spec["source"]
    device = resolve_device(runtime.get("device", "auto"))
    test = load_detection_split(det, "test", runtime.get("data_dir"))
    detector = _load_detector(out, spec["detector"], det, test.num_classes, device)
    if src["kind"] == "train":
        codec = load_run(run_dir(out, src["run_id"]), device=device).codecs[src["codec"]]
    rows = []
    for snr in (parse_float(s) for s in spec["snr_db"]):
        lost = [0]
        if src["kind"] == "train":
            gen = torch.Generator(device=device).manual_seed(
                derive_seed(spec["seed"], EVAL_SEED_KEY)
            )

            def send(x, codec=codec, gen=gen, snr=snr):
                return codec(x, snr, gen)

        else:
            send = _digital_sender(src, snr, det, runtime, lost)
        score = evaluate_detection(
            detector, test, transform=send, top_k=det["top_k"], device=device
        )
        rows.append(
            {
                "snr_db": snr,
                "map": score.map.map,
                "map50": score.map.map50,
                "det_psnr": score.psnr,
                "det_failure_rate": lost[0] / len(test) if src["kind"] == "digital" else math.nan,
                "det_images": len(test),
            }
        )
    return {"rows": rows}


def _digital_sender(
    src: dict[str, Any], snr: float, det: dict[str, Any], runtime: dict[str, Any], lost: list[int]
):
    """``images -> reconstructions`` through the digital baseline of ``src``; counts lost images."""
    import torch

    from neural.digital import transmit_digital

    train_mean = None
    if src["on_failure"] == "train-mean":
        images = load_detection_split(det, "train", runtime.get("data_dir")).images
        scale = 255.0 if images.dtype == torch.uint8 else 1.0
        train_mean = (images.double().mean(0) / scale).float()

    def send(x):
        res = transmit_digital(
            x.cpu(),
            codec=src["method"],
            bpp=src["bpp"],
            snr_db=snr,
            capacity=src["capacity"],
            header=src["header"],
            on_failure=src["on_failure"],
            train_mean=train_mean,
        )
        lost[0] += int(res.failed.sum())
        return res.reconstruction.to(x.device)

    return send


# ----------------------------------------------------------------------------- the experiment
def _detect_jobs(
    spec: GeneralizationSpec, plan: list[Job], detectors: dict[int, Job]
) -> list[tuple[Job, Job | None, str]]:
    """(detection job, training job it reads or None, reported method) for every codec of ``plan``;
    plus the Algorithm-3 codec of each seed's β = 0 run (method ``pretrained``)."""
    det, snrs = spec.detection, spec.base.eval_snrs
    out: list[tuple[Job, Job | None, str]] = []
    for job in plan:
        s = job.spec
        dkey = detectors[s["seed"]].key
        if s["kind"] == "train":
            method = "rd" if s["method"] == "tosc" and s["beta"] == 0 else s["method"]
            if s["method"] == "tosc" and s["beta"] == 0 and not s["classifier_run"]:
                src = {"kind": "train", "run_id": job.run_id, "codec": "pretrained"}
                out.append((detect_job(src, det, dkey, s["seed"], snrs), job, "pretrained"))
            src = {"kind": "train", "run_id": job.run_id, "codec": beta_label(s["beta"])}
        else:
            method = s["method"]
            src = {k: s[k] for k in ("method", "bpp", "header", "capacity", "on_failure")}
            src["kind"] = "digital"
        if method in spec.methods:
            out.append((detect_job(src, det, dkey, s["seed"], snrs), job, method))
    return out


def run_generalization(
    spec: GeneralizationSpec,
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
    """Run the generalization experiment; write ``OUT/results.json``, ``results.csv`` and
    ``generalization_beta.png``.

    Args:
        spec: :func:`make_generalization_spec`.
        out: where the results go.
        runs: where the trainings, detectors and job records live (default ``out``); give
            the ``--out`` of an earlier ``beta`` run to reuse its trainings.
        The other arguments are those of :func:`neural.experiments.run_experiment`.
    """
    from neural.training.threads import available_cores

    if not isinstance(spec, GeneralizationSpec):
        raise TypeError(f"spec must be a GeneralizationSpec, got {type(spec).__name__}")
    threads = resolve_threads(executor_kind, threads, jobs)
    out = os.path.abspath(out)
    runtime = Runtime.local(runs or out, data_dir, device, threads)
    plan = build_jobs(spec.base, data_dir)
    detectors = {seed: detector_job(spec.detection, seed) for seed in range(spec.base.seeds)}
    os.makedirs(runtime.out, exist_ok=True)
    reused = sum(load_job_record(runtime.out, j) is not None for j in detectors.values())
    prov = provenance()
    t0 = time.perf_counter()
    timing: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        executor, kind = open_executor(
            stack, executor, executor_kind, jobs=jobs, scheduler=scheduler
        )
        # the detectors train beside the codec trainings (they depend on nothing)
        det_futures = {
            seed: executor.submit(execute_job, j.spec, runtime.as_dict())
            for seed, j in detectors.items()
        }
        sweep = run_jobs(plan, runtime, executor, progress=progress)
        det_records = {seed: f.result() for seed, f in det_futures.items()}
        timing["trainings_s"] = time.perf_counter() - t0
        pairs = _detect_jobs(spec, plan, detectors)
        reused += sum(load_job_record(runtime.out, j) is not None for j, _, _ in pairs)
        futures: dict[Future, int] = {
            executor.submit(execute_job, j.spec, runtime.as_dict()): i
            for i, (j, _, _) in enumerate(pairs)
        }
        det_results: dict[int, dict[str, Any]] = {}
        for fut in tqdm(
            as_completed(futures), total=len(futures), desc="detection", disable=not progress
        ):
            det_results[futures[fut]] = fut.result()
    elapsed = time.perf_counter() - t0
    timing["detection_eval_s"] = elapsed - timing["trainings_s"]

    records = {rec["key"]: rec for rec in sweep.records}
    rows, reference = [], {}
    for i, (djob, tjob, method) in enumerate(pairs):
        drows = {parse_float(r["snr_db"]): r for r in det_results[i]["rows"]}
        seed = djob.spec["seed"]
        if method == "pretrained":
            reference.setdefault(str(seed), {})["pretrained_codec"] = {
                "map": drows[next(iter(drows))]["map"],
                "map50": drows[next(iter(drows))]["map50"],
            }
            continue
        assert tjob is not None
        for r in records[tjob.key]["rows"]:
            d = drows[parse_float(r["snr_db"])]
            rows.append(
                normalise_row(
                    {**r, "method": method, **{k: d[k] for k in EXTRA_FIELDS}}, EXTRA_FIELDS
                )
            )
    for seed, rec in det_records.items():
        reference.setdefault(str(seed), {})["clean"] = {
            "map": rec["clean_map"],
            "map50": rec["clean_map50"],
        }
    for r in rows:
        for k in ("map", "map50"):
            if not (0 <= r[k] <= 1 + 1e-12):
                raise ValueError(f"{r['method']}: {k}={r[k]} is outside [0, 1]")
    clean_acc = {
        str(rec["spec"]["seed"]): rec["classifier_accuracy"]
        for rec in sweep.records
        if "classifier_accuracy" in rec
    }
    n_gen = len(det_records) + len(det_results)
    ran, skipped = len(sweep.ran) + n_gen - reused, len(sweep.skipped) + reused
    prov.update(
        command=command,
        experiment=spec.as_dict(),
        figure="Algorithm 5 / Fig. 9 (mAP against β)",
        executor=kind,
        jobs=jobs,
        threads_per_job=threads,
        usable_cores=available_cores(),
        device=device,
        runs_dir=runtime.out,
        elapsed_s=elapsed,
        **timing,
        jobs_total=len(sweep.records) + n_gen,
        jobs_ran=ran,
        jobs_skipped=skipped,
        classifier_accuracy=clean_acc,
        reference_map=reference,
        shape=paper_shape(rows),
        jobs_detail=[
            {"key": rec["key"], "time_s": rec["time_s"], "spec": rec["spec"]}
            for rec in sweep.records
        ]
        + [
            {"key": r["key"], "time_s": r["time_s"], "spec": r["spec"]}
            for r in (*det_records.values(), *det_results.values())
        ],
    )
    files = list(write_results(out, rows, prov, EXTRA_FIELDS))
    files.append(
        generalization_figure(rows, reference, os.path.join(out, FIGURE_FILE), title=_title(spec))
    )
    table = generalization_table(rows) + "\n\n" + shape_sentence(prov["shape"])
    if progress:
        print(table, file=sys.stderr)
    return ExperimentResult(rows, prov, files, ran, skipped, table)


def _title(spec: GeneralizationSpec) -> str:
    b = spec.base
    return (
        f"Algorithm 5 ({b.preset} preset): classification on digits, detection on "
        f"{spec.detection['dataset']}; bpp = {b.bpps[0]:g}, SNR = {b.snr_db:g} dB, {b.seeds} seed(s)"
    )


# ----------------------------------------------------------------------------- summaries
def _groups(rows: list[dict[str, Any]]) -> dict[tuple, list[dict[str, Any]]]:
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        beta = "nan" if math.isnan(r["beta"]) else r["beta"]
        groups.setdefault((r["method"], r["header"], beta, r["snr_db"]), []).append(r)
    return groups


def generalization_table(rows: list[dict[str, Any]]) -> str:
    """Markdown: mean ± half-width of the 95 % Student-t interval over seeds."""

    def fmt(values: list[float], digits: int) -> str:
        mean, half, _ = mean_interval(values)
        if math.isnan(mean):
            return "—"
        text = f"{mean:.{digits}f}" if math.isfinite(mean) else "inf"
        return text if math.isnan(half) else f"{text} ± {half:.{digits}f}"

    lines = [
        "| method | header | β | SNR (dB) | seeds | accuracy (digits) | mAP@0.5 | mAP@[0.5:0.95] | PSNR digits (dB) | PSNR detection images (dB) | lost detection images |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (method, header, beta, snr), members in _groups(rows).items():

        def col(k: str, members: list[dict[str, Any]] = members) -> list[float]:
            return [m[k] for m in members]

        lines.append(
            f"| {method} | {header or '—'} | {'—' if beta == 'nan' else f'{beta:g}'} | {snr:g} | {len(members)} | "
            f"{fmt(col('accuracy'), 3)} | {fmt(col('map50'), 3)} | {fmt(col('map'), 3)} | "
            f"{fmt(col('psnr'), 2)} | {fmt(col('det_psnr'), 2)} | {fmt(col('det_failure_rate'), 3)} |"
        )
    return "\n".join(lines)


def paper_shape(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The paper's Fig. 9 shape, checked on the seed means of mAP@0.5 (first SNR).

    ``up``: TOSC-SR at some β > 0 above the RD baseline (β = 0); ``interior``: that best β
    is not the largest of the grid (a peak at a moderate β, not a rise to the end);
    ``down_at_ib``: the IB baseline (the β → ∞ end) below that best TOSC-SR. ``paper_shape``
    is all three. ``separated_*``: the same comparisons with the 95 % intervals over seeds
    not overlapping (None with one seed).
    """
    groups = _groups(rows)
    first_snr = rows[0]["snr_db"] if rows else math.nan

    def stat(method: str, beta: Any) -> tuple[float, float] | None:
        for (m, _, b, s), members in groups.items():
            if m == method and s == first_snr and (beta is None or b == beta):
                mean, half, _ = mean_interval([r["map50"] for r in members])
                return mean, half
        return None

    rd, ib = stat("rd", None), stat("ib", None)
    tosc = {b: stat("tosc", b) for (m, _, b, s) in groups if m == "tosc" and s == first_snr}
    if rd is None or not tosc:
        return {"checked": False, "reason": "needs the rd and tosc rows"}
    best_beta = max(tosc, key=lambda b: tosc[b][0])
    best = tosc[best_beta]
    seeds = min(len(m) for m in groups.values())

    def apart(hi: tuple[float, float], lo: tuple[float, float]) -> bool | None:
        if math.isnan(hi[1]) or math.isnan(lo[1]):
            return None
        return hi[0] - hi[1] > lo[0] + lo[1]

    up, interior = best[0] > rd[0], best_beta < max(tosc)
    down = None if ib is None else ib[0] < best[0]
    return {
        "checked": True,
        "metric": "map50",
        "seeds": seeds,
        "rd": rd[0],
        "best_tosc_beta": best_beta,
        "best_tosc": best[0],
        "ib": None if ib is None else ib[0],
        "up": up,
        "interior": interior,
        "down_at_ib": down,
        "paper_shape": bool(up and interior and down),
        "separated_up": apart(best, rd),
        "separated_down": None if ib is None else apart(best, ib),
    }


def shape_sentence(shape: dict[str, Any]) -> str:
    """One line stating whether the paper's shape appeared (see :func:`paper_shape`)."""
    if not shape.get("checked"):
        return f"Paper's shape not checked: {shape.get('reason')}."
    ib = "no IB row" if shape["ib"] is None else f"IB baseline {shape['ib']:.3f}"
    if shape["paper_shape"]:
        verdict = "seed means ordered as in the paper (up at a moderate β, down at the IB end)"
    else:
        parts = [
            "above RD" if shape["up"] else "not above RD",
            "at a moderate β" if shape["interior"] else "at the largest β of the grid",
        ]
        if shape["down_at_ib"] is not None:
            parts.append("IB below it" if shape["down_at_ib"] else "IB not below it")
        verdict = "not the paper's shape (best TOSC-SR " + ", ".join(parts) + ")"
    if shape["separated_up"] is None:
        sep = "one seed: no interval, so the differences are not established"
    elif shape["separated_up"] and shape["separated_down"] is not False:
        sep = f"the 95 % intervals over {shape['seeds']} seeds are separated"
    else:
        sep = (
            f"but the differences lie within the 95 % intervals over {shape['seeds']} seeds "
            f"(separated: best TOSC-SR above RD {shape['separated_up']}, above IB "
            f"{shape['separated_down']}), so the shape is not established"
        )
    return (
        f"Paper's shape (mAP@0.5, seed means): RD baseline {shape['rd']:.3f}, best TOSC-SR "
        f"{shape['best_tosc']:.3f} at β = {shape['best_tosc_beta']:g}, {ib}: {verdict}; {sep}."
    )


def generalization_figure(
    rows: list[dict[str, Any]], reference: dict[str, dict[str, Any]], path: str, *, title: str
) -> str:
    """Accuracy (digits), mAP@0.5 and mAP@[0.5:0.95] (detection) against β: TOSC-SR's curve
    starting at the RD baseline (β = 0), the other methods as horizontal lines, 95 % bands."""
    from neural.experiments.plots import LABELS, _figure

    panels = (
        ("accuracy", "accuracy on digits"),
        ("map50", "mAP@0.5 (detection)"),
        ("map", "mAP@[0.5:0.95] (detection)"),
    )
    groups = _groups(rows)
    first_snr = rows[0]["snr_db"]
    fig = _figure(13, 4.6)
    axes = fig.subplots(1, 3)
    curve = sorted(
        (b, members)
        for (m, _, b, s), members in groups.items()
        if m in ("rd", "tosc") and s == first_snr
    )
    betas = np.array([b for b, _ in curve])
    others = [
        (m, header, members)
        for (m, header, _, s), members in groups.items()
        if m not in ("rd", "tosc") and s == first_snr
    ]
    positive = sorted(b for b in betas if b > 0)
    for ax, (metric, ylabel) in zip(axes, panels):
        if len(curve):
            stats = np.array(
                [mean_interval([r[metric] for r in members])[:2] for _, members in curve]
            )
            ax.plot(
                betas, stats[:, 0], "-o", ms=3, color="C0", label="TOSC-SR (β = 0: RD baseline)"
            )
            band = np.isfinite(stats[:, 1])
            if band.any():
                lo, hi = (stats[:, 0] - stats[:, 1])[band], (stats[:, 0] + stats[:, 1])[band]
                ax.fill_between(betas[band], lo, hi, color="C0", alpha=0.2)
        for i, (m, header, members) in enumerate(others, start=1):
            mean, half, _ = mean_interval([r[metric] for r in members])
            if math.isnan(mean):
                continue
            label = LABELS.get(m, m) + (f" ({header})" if header else "")
            style = {"full": "--", "payload": ":"}.get(header, "-.")
            ax.axhline(mean, ls=style, lw=1.2, color=f"C{i}", label=label)
            if math.isfinite(half):
                ax.axhspan(mean - half, mean + half, color=f"C{i}", alpha=0.12)
        if metric != "accuracy" and reference:
            clean = [v["clean"][metric] for v in reference.values() if "clean" in v]
            if clean:
                ax.axhline(
                    float(np.mean(clean)), color="grey", lw=0.8, label="detector on clean images"
                )
        ax.set_xscale("symlog", linthresh=positive[0] if positive else 1.0)
        ax.set_xlim(0, (positive[-1] * 1.5) if positive else 1.0)
        ax.set_xlabel("β (trade-off factor of eq. 31)")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=7, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    fig.savefig(path, dpi=110)
    return path


# ----------------------------------------------------------------------------- command line
def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``generalization`` subcommand's options (the common ones of the other experiments too)."""
    from neural.experiments.cli import _common

    _common(p)
    p.add_argument(
        "--bpp", type=float, help="bits per pixel (default: the beta experiment's, 0.25)"
    )
    p.add_argument(
        "--snr-db", type=float, help="channel SNR of training and evaluation (dB; default inf)"
    )
    p.add_argument(
        "--beta",
        type=float,
        nargs="+",
        help="TOSC-SR's beta grid (0, the RD baseline, is always included)",
    )
    p.add_argument(
        "--runs",
        help="directory of the trainings and job records (default --out); give an earlier beta "
        "run's --out to reuse its trainings",
    )
    p.add_argument(
        "--detection",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"detection data / detector setting (VALUE is JSON), one of {', '.join(DETECTION_KEYS)}; repeatable",
    )


def spec_from_args(args: argparse.Namespace) -> GeneralizationSpec:
    """The :class:`GeneralizationSpec` of parsed command-line ``args``."""
    from neural.experiments.cli import parse_overrides

    if args.tosc_beta is not None:
        raise ValueError("generalization: give the beta grid with --beta (not --tosc-beta)")
    detection = parse_overrides(args.detection)
    if any(isinstance(v, dict) for v in detection.values()):
        raise ValueError("--detection takes KEY=VALUE with a plain KEY")
    return make_generalization_spec(
        args.preset,
        methods=args.methods,
        betas=args.beta,
        detection=detection,
        bpps=[args.bpp] if args.bpp is not None else None,
        snr_db=args.snr_db,
        ib_beta=args.ib_beta,
        spics_beta=args.spics_beta,
        headers=args.headers,
        capacity=args.capacity,
        on_failure=args.on_failure,
        seeds=args.seeds,
        train_overrides=parse_overrides(args.override),
    )


def check_inputs(spec: GeneralizationSpec, data_dir: str | None) -> None:
    """Raise now if the data of ``spec`` is not where it should be."""
    from neural.config import make_config
    from neural.data import check_dataset_files
    from neural.data.detection import find_voc_root

    b = spec.base
    cfg = make_config(b.train_preset, overrides={**b.train_overrides, "data_dir": data_dir})
    check_dataset_files(cfg.dataset, cfg.data_dir)
    if spec.detection["dataset"] == "voc2007":
        find_voc_root(data_dir)


def command(args: argparse.Namespace, argv: list[str], parser: argparse.ArgumentParser) -> int:
    """``python -m neural.experiments generalization``: validate, run, print where the files are."""
    from neural.experiments.report import report_command

    try:
        spec = spec_from_args(args)
        check_inputs(spec, args.data_dir)
        if args.jobs < 1:
            raise ValueError(f"--jobs must be >= 1, got {args.jobs}")
        if args.threads_per_job is not None and args.threads_per_job < 1:
            raise ValueError(f"--threads-per-job must be >= 1, got {args.threads_per_job}")
        for d in (args.out, args.runs):
            if d is None:
                continue
            try:
                os.makedirs(d, exist_ok=True)
            except OSError as exc:
                raise ValueError(f"{d!r}: cannot create the directory ({exc.strerror})") from exc
            if not os.access(d, os.W_OK | os.X_OK):
                raise ValueError(f"{d!r}: directory is not writable")
    except (ValueError, FileNotFoundError) as exc:
        parser.error(str(exc))
    result = run_generalization(
        spec,
        args.out,
        runs=args.runs,
        data_dir=args.data_dir,
        executor_kind=args.executor,
        jobs=args.jobs,
        scheduler=args.scheduler,
        threads=args.threads_per_job,
        device=args.device,
        progress=not args.no_progress,
        command=report_command(argv),
    )
    print(
        f"{len(result.rows)} rows ({result.jobs_ran} jobs run, {result.jobs_skipped} reused) in "
        f"{os.path.abspath(args.out)}: " + ", ".join(os.path.basename(f) for f in result.files)
    )
    print(shape_sentence(result.provenance["shape"]))
    return 0
