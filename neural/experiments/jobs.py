"""Sweep jobs: one training (with its evaluations) or one digital evaluation, keyed by configuration.

A :class:`Job` holds a ``spec``: the resolved configuration of the job as plain JSON values,
with nothing that depends on where it runs (no output or data paths, devices or thread
counts: those are the :class:`Runtime`). ``job.key`` is :func:`config_hash` of the spec.

* ``kind == "train"``: :func:`neural.training.train` on ``spec["config"]`` (a resolved
  :class:`~neural.config.TrainConfig` without its run-only fields), then the trained
  system of ``spec["beta"]`` evaluated at every SNR of ``spec["eval"]["snr_db"]``. The
  training writes to ``OUT/runs/<run_id>`` where ``run_id`` hashes the spec without its
  ``eval`` part, so a new evaluation grid reuses a finished training. ``classifier_run``
  / ``codec_run`` name the runs whose ``classifier.pt`` / ``codec_pretrained.pt`` this
  training starts from (``classifier_from`` / ``codec_from``): the job waits for them.
* ``kind == "digital"``: test images through :func:`neural.digital.transmit_digital` at
  each SNR, classified by the classifier of ``classifier_run``.

:func:`execute_job` runs one job and writes ``OUT/jobs/<key>.json`` atomically (its rows
and timing); a job whose file exists is finished. Trainings run with ``resume=True``: a
job killed mid-training continues from its last epoch checkpoint when run again.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from neural.experiments.keys import config_hash, jsonable, parse_float
from neural.training.threads import training_threads

JSCC_METHODS = ("rd", "tosc", "ib", "spics")
DIGITAL_METHODS = ("jpeg", "jpeg2000")
METHODS = JSCC_METHODS + DIGITAL_METHODS
OBJECTIVES = {"rd": "tosc", "tosc": "tosc", "ib": "ib", "spics": "spics"}
# TrainConfig fields that do not change what is trained (or that the job sets itself).
RUN_ONLY_FIELDS = (
    "device",
    "out",
    "resume",
    "progress",
    "num_threads",
    "data_dir",
    "classifier_from",
    "codec_from",
)
JOB_FORMAT = 1
EVAL_SEED_KEY = 7  # evaluation noise seed: derive_seed(seed, EVAL_SEED_KEY), equal for every method


@dataclass(frozen=True)
class Job:
    """One unit of a sweep (see the module docstring); ``spec`` is JSON-ready."""

    spec: dict[str, Any]

    @property
    def key(self) -> str:
        return config_hash({"format": JOB_FORMAT, **self.spec})

    @property
    def run_id(self) -> str | None:
        """Identity of the training (the spec without its evaluation part); None for digital jobs."""
        if self.spec["kind"] != "train":
            return None
        return config_hash(
            {"format": JOB_FORMAT, **{k: v for k, v in self.spec.items() if k != "eval"}}
        )

    @property
    def needs(self) -> tuple[str, ...]:
        """Run ids that must be finished before this job starts."""
        return tuple(
            dict.fromkeys(
                r
                for r in (
                    self.spec.get("classifier_run"),
                    self.spec.get("codec_run"),
                    self.spec.get("run"),  # the trained run an analysis job (kind "mi") reads
                )
                if r
            )
        )

    def describe(self) -> str:
        s = self.spec
        if s["kind"] == "train":
            return (
                f"{s['method']} bpp={s['bpp']:g} beta={s['beta']:g} seed={s['seed']} [{self.key}]"
            )
        if s["kind"] == "mi":
            return f"MI of {s['method']} bpp={s['bpp']:g} beta={s['beta']:g} seed={s['seed']} [{self.key}]"
        return f"{s['method']} ({s['header']}) bpp={s['bpp']:g} seed={s['seed']} [{self.key}]"


@dataclass(frozen=True)
class Runtime:
    """Where and how jobs run; not part of any key."""

    out: str
    data_dir: str | None = None
    device: str = "auto"
    threads: int | None = None  # torch threads per job

    @classmethod
    def local(cls, out: str, data_dir: str | None, device: str, threads: int) -> Runtime:
        """The runtime of a run started here: ``out`` and ``data_dir`` made absolute
        (jobs may run in other processes or on other machines)."""
        data = os.path.abspath(data_dir) if data_dir else None
        return cls(out=os.path.abspath(out), data_dir=data, device=device, threads=threads)

    def as_dict(self) -> dict[str, Any]:
        return {
            "out": self.out,
            "data_dir": self.data_dir,
            "device": self.device,
            "threads": self.threads,
        }


def train_job(
    method: str,
    *,
    config: dict[str, Any],
    beta: float,
    bpp: float,
    seed: int,
    eval_spec: dict[str, Any],
    classifier_run: str | None = None,
    codec_run: str | None = None,
) -> Job:
    """A training job of a JSCC ``method`` (``config``: :func:`~neural.config.config_to_dict` output)."""
    if method not in JSCC_METHODS:
        raise ValueError(f"method must be one of {JSCC_METHODS} for a training job, got {method!r}")
    cfg = {k: v for k, v in config.items() if k not in RUN_ONLY_FIELDS}
    cfg.update(objective=OBJECTIVES[method], betas=[float(beta)], seed=int(seed))
    return Job(
        jsonable(
            {
                "kind": "train",
                "method": method,
                "beta": float(beta),
                "bpp": float(bpp),
                "seed": int(seed),
                "config": cfg,
                "classifier_run": classifier_run,
                "codec_run": codec_run,
                "eval": eval_spec,
            }
        )
    )


def digital_job(
    method: str,
    *,
    bpp: float,
    header: str,
    capacity: str,
    on_failure: str,
    seed: int,
    data: dict[str, Any],
    eval_batch_size: int,
    eval_spec: dict[str, Any],
    classifier_run: str,
) -> Job:
    """A digital baseline job (``data``: ``{"dataset", "image_size"}``)."""
    if method not in DIGITAL_METHODS:
        raise ValueError(
            f"method must be one of {DIGITAL_METHODS} for a digital job, got {method!r}"
        )
    return Job(
        jsonable(
            {
                "kind": "digital",
                "method": method,
                "bpp": float(bpp),
                "header": header,
                "capacity": capacity,
                "on_failure": on_failure,
                "seed": int(seed),
                "data": data,
                "eval_batch_size": int(eval_batch_size),
                "classifier_run": classifier_run,
                "eval": eval_spec,
            }
        )
    )


# ----------------------------------------------------------------------------- files
def job_path(out: str, key: str) -> str:
    return os.path.join(out, "jobs", f"{key}.json")


def visual_path(out: str, key: str) -> str:
    """Reconstructions of a ``visual`` job: ``OUT/jobs/<key>.npz``."""
    return os.path.join(out, "jobs", f"{key}.npz")


def run_dir(out: str, run_id: str) -> str:
    return os.path.join(out, "runs", run_id)


def load_job_record(out: str, job: Job) -> dict[str, Any] | None:
    """The finished record of ``job`` in ``out``, or None if it has not finished there."""
    path = job_path(out, job.key)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        record = json.load(f)
    if record.get("spec") != job.spec:
        raise ValueError(
            f"{path} holds another job's results (spec differs): remove it or use another --out"
        )
    return record


@contextlib.contextmanager
def _job_lock(out: str, key: str) -> Iterator[None]:
    """Exclusive lock on ``OUT/locks/<key>.lock`` (released when the process ends, even if killed):
    a worker left over from a killed sweep finishes before a rerun touches the same job."""
    os.makedirs(os.path.join(out, "locks"), exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    with open(os.path.join(out, "locks", f"{key}.lock"), "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _atomic_json(obj: Any, path: str) -> None:
    from neural.training.files import atomic_write_text

    atomic_write_text(json.dumps(jsonable(obj), indent=1, allow_nan=False) + "\n", path)


# ----------------------------------------------------------------------------- execution
def execute_job(spec: dict[str, Any], runtime: dict[str, Any]) -> dict[str, Any]:
    """Run one job (``Job(spec)``) under ``runtime`` (:meth:`Runtime.as_dict`); return its record.

    A module-level function of plain arguments, so any ``concurrent.futures.Executor``
    (processes, dask.distributed) can run it. Skips the work if the record already exists.
    """
    job = Job(spec)
    out = runtime["out"]
    with _job_lock(out, job.key):
        done = load_job_record(out, job)
        if done is not None:
            return done
        os.makedirs(os.path.join(out, "jobs"), exist_ok=True)
        t0 = time.perf_counter()
        with training_threads(runtime.get("threads")):
            if spec["kind"] == "train":
                record = _run_training(job, runtime)
            elif spec["kind"] == "digital":
                record = _run_digital(job, runtime)
            elif spec["kind"] == "mi":  # the four-MI analysis of a trained run (Fig. 7)
                from neural.experiments.four_mi.job import run_mi_job

                record = run_mi_job(job, runtime)
            elif spec["kind"] in ("detector", "detect"):  # Algorithm 5 (generalization)
                from neural.experiments.generalization import run_detection_job

                record = run_detection_job(job, runtime)
            else:
                raise ValueError(f"unknown job kind {spec['kind']!r}")
        record.update(
            format=JOB_FORMAT,
            key=job.key,
            spec=job.spec,
            time_s=time.perf_counter() - t0,
            threads=runtime.get("threads"),
        )
        _atomic_json(record, job_path(out, job.key))
        return json.loads(json.dumps(jsonable(record)))


def _from_path(out: str, run: str | None, file_name: str) -> str | None:
    if not run:
        return None
    path = os.path.join(run_dir(out, run), file_name)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{path} is missing: the job that trains it (run {run}) has not finished"
        )
    return path


def _run_training(job: Job, runtime: dict[str, Any]) -> dict[str, Any]:
    from neural.config import config_from_dict
    from neural.data import load_dataset
    from neural.training import derive_seed, evaluate_classifier, train

    spec, out, run_id = job.spec, runtime["out"], job.run_id
    assert run_id is not None  # a training job
    config = config_from_dict(
        {
            **spec["config"],
            "out": run_dir(out, run_id),
            "resume": True,
            "progress": False,
            "num_threads": runtime.get("threads"),
            "device": runtime.get("device", "auto"),
            "data_dir": runtime.get("data_dir"),
            "classifier_from": _from_path(out, spec["classifier_run"], "classifier.pt"),
            "codec_from": _from_path(out, spec["codec_run"], "codec_pretrained.pt"),
        }
    )
    result = train(config)
    system = result.system(spec["beta"])
    device = next(system.parameters()).device
    test = load_dataset(config.dataset, "test", config.data_dir, config.image_size)
    record: dict[str, Any] = {"run_id": job.run_id}
    if not spec["classifier_run"]:  # this run trained the classifier: report its clean accuracy
        clean = evaluate_classifier(
            result.classifier, test, batch_size=config.eval_batch_size, device=device
        )
        record["classifier_accuracy"] = clean["accuracy"]
    lo, hi = (
        config.train_snr_range
        if config.train_snr_range is not None
        else (config.snr_db, config.snr_db)
    )
    base = {
        "method": spec["method"],
        "header": "",
        "capacity": "",
        "bpp": spec["bpp"],
        "beta": spec["beta"],
        "seed": spec["seed"],
        "train_snr_lo": float(lo),
        "train_snr_hi": float(hi),
        "job": job.key,
    }
    record["rows"] = _evaluate(
        system,
        test,
        spec["eval"],
        base,
        derive_seed(spec["seed"], EVAL_SEED_KEY),
        config.eval_batch_size,
        device,
        out,
        job.key,
        None,
    )
    return record


class DigitalSystem(nn.Module):
    """A digital baseline as a system: ``forward(x, snr_db, generator)`` →
    ``(reconstruction, classifier(reconstruction))``; counts lost images in ``failed``/``seen``."""

    def __init__(
        self,
        classifier: nn.Module,
        *,
        codec: str,
        bpp: float,
        header: str,
        capacity: str,
        on_failure: str,
        train_mean: torch.Tensor | None,
    ) -> None:
        super().__init__()
        self.classifier = classifier
        self.codec, self.bpp, self.header, self.capacity = codec, bpp, header, capacity
        self.on_failure, self.train_mean = on_failure, train_mean
        self.failed = 0
        self.seen = 0

    def forward(self, x: torch.Tensor, snr_db: float, generator: torch.Generator | None = None):
        from neural.digital import transmit_digital
        from neural.models.tosc_sr import TOSCOutput

        res = transmit_digital(
            x,
            codec=self.codec,
            bpp=self.bpp,
            snr_db=float(snr_db),
            capacity=self.capacity,
            header=self.header,
            on_failure=self.on_failure,
            train_mean=self.train_mean,
        )
        self.failed += int(res.failed.sum())
        self.seen += int(x.shape[0])
        recon = res.reconstruction.to(x.device)
        return TOSCOutput(recon, self.classifier(recon))


def _run_digital(job: Job, runtime: dict[str, Any]) -> dict[str, Any]:
    from neural.data import load_dataset
    from neural.training import derive_seed, load_run

    spec, out = job.spec, runtime["out"]
    run = load_run(run_dir(out, spec["classifier_run"]), device=runtime.get("device", "auto"))
    data_dir = runtime.get("data_dir")
    dataset, size = spec["data"]["dataset"], spec["data"]["image_size"]
    test = load_dataset(dataset, "test", data_dir, size)
    train_mean = None
    if spec["on_failure"] == "train-mean":
        images = load_dataset(dataset, "train", data_dir, size).images
        train_mean = (
            images.double().mean(0) / (255.0 if images.dtype == torch.uint8 else 1.0)
        ).float()
    system = DigitalSystem(
        run.classifier,
        codec=spec["method"],
        bpp=spec["bpp"],
        header=spec["header"],
        capacity=spec["capacity"],
        on_failure=spec["on_failure"],
        train_mean=train_mean,
    )
    device = next(run.classifier.parameters()).device
    base = {
        "method": spec["method"],
        "header": spec["header"],
        "capacity": spec["capacity"],
        "bpp": spec["bpp"],
        "beta": math.nan,
        "seed": spec["seed"],
        "train_snr_lo": math.nan,
        "train_snr_hi": math.nan,
        "job": job.key,
    }
    rows = _evaluate(
        system,
        test,
        spec["eval"],
        base,
        derive_seed(spec["seed"], EVAL_SEED_KEY),
        spec["eval_batch_size"],
        device,
        out,
        job.key,
        system,
    )
    return {"run_id": None, "rows": rows, "classifier_sha256": run.sha256.get("classifier.pt")}


def _evaluate(
    system: nn.Module,
    test: Any,
    eval_spec: dict[str, Any],
    base: dict[str, Any],
    seed: int,
    batch_size: int,
    device: torch.device,
    out: str,
    key: str,
    digital: DigitalSystem | None,
) -> list[dict[str, Any]]:
    """Rows of ``system`` at each SNR of ``eval_spec``: test-set means, or per image (``visual``)."""
    from neural.training import evaluate_system

    rows = []
    n_visual = int(eval_spec.get("visual", 0))
    for snr in (parse_float(s) for s in eval_spec["snr_db"]):
        if digital is not None:
            digital.failed = digital.seen = 0
        if n_visual:
            rows.extend(_visual_rows(system, test, n_visual, snr, base, seed, device, out, key))
        else:
            m = evaluate_system(
                system, test, snr_db=snr, batch_size=batch_size, seed=seed, device=device
            )
            rows.append(
                {
                    **base,
                    "snr_db": snr,
                    "accuracy": m["accuracy"],
                    "psnr": m["psnr"],
                    "ssim": m["ssim"],
                    "mse": m["mse"],
                    "ce": m["ce"],
                    "images": len(test),
                }
            )
        if digital is not None:
            rate = digital.failed / digital.seen
            for r in rows[len(rows) - (n_visual or 1) :]:
                r["failure_rate"] = rate
    return rows


@torch.no_grad()
def _visual_rows(
    system: nn.Module,
    test: Any,
    n: int,
    snr: float,
    base: dict[str, Any],
    seed: int,
    device: torch.device,
    out: str,
    key: str,
) -> list[dict[str, Any]]:
    """Per-image rows for the first ``n`` test images; reconstructions saved to ``OUT/jobs/<key>.npz``."""
    from neural.metrics import psnr, ssim

    if n > len(test):
        raise ValueError(f"visual: {n} images requested but the test split has {len(test)}")
    system.eval()
    x, y = test.batch(torch.arange(n), device)
    gen = torch.Generator(device=device).manual_seed(seed)
    recon, logits = system(x, snr, gen)
    probs = torch.softmax(logits.double(), dim=1)
    conf, pred = probs.max(dim=1)
    p, s = psnr(x, recon), ssim(x, recon)
    mse = (recon.double() - x.double()).pow(2).flatten(1).mean(1)
    np.savez_compressed(
        visual_path(out, key),
        original=x.cpu().numpy(),
        reconstruction=recon.cpu().numpy(),
        probabilities=probs.cpu().numpy(),
        labels=y.cpu().numpy(),
    )
    return [
        {
            **base,
            "snr_db": snr,
            "image": i,
            "label": int(y[i]),
            "prediction": int(pred[i]),
            "confidence": float(conf[i]),
            "accuracy": float(pred[i] == y[i]),
            "psnr": float(p[i]),
            "ssim": float(s[i]),
            "mse": float(mse[i]),
            "ce": float(-torch.log(probs[i, y[i]])),
            "images": 1,
        }
        for i in range(n)
    ]
