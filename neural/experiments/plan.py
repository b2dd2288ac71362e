"""Experiment presets and the jobs of each experiment (Figs. 4, 5, 6 and 9 of the paper).

An :class:`ExperimentSpec` is everything an experiment computes; :func:`make_spec` builds
one from a preset (``quick``: built-in digits, small networks and short trainings that fit
a laptop; ``paper``: STL-10 with Table II's training settings) and explicit options, and
:func:`build_jobs` turns it into sweep jobs:

* one training job per JSCC method × setting (bpp, training SNR) × β × seed. The first
  training of a seed trains the classifier (Algorithm 2) and every other job of that seed
  loads it (``classifier_from``); at each setting the first training trains the
  Algorithm-3 codec and the other methods start from it (``codec_from``). So every
  method is compared with the same task network and the same pretrained codec.
* one digital job per digital method × bpp × header policy × seed, classified by that
  seed's classifier. If no JSCC method is requested, an ``rd`` training still runs to
  train the classifier (its rows are not reported).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from neural.config import channels_for_bpp, config_to_dict, make_config
from neural.experiments.jobs import (
    DIGITAL_METHODS,
    JSCC_METHODS,
    METHODS,
    Job,
    digital_job,
    train_job,
)

EXPERIMENTS = ("bpp", "snr", "beta", "visual")
FIGURES = {"bpp": "Fig. 4", "snr": "Fig. 6", "beta": "Fig. 9", "visual": "Fig. 5"}
HEADER_POLICIES = ("full", "payload")
CAPACITIES = ("bpsk", "gaussian")
ON_FAILURE = ("image-mean", "train-mean")

# Per preset: the neural.train preset and overrides every training starts from, the β of
# each method, the digital settings, then each experiment's grid.
PRESETS: dict[str, dict[str, Any]] = {
    "quick": {
        "train_preset": "quick",
        # Short stages so that each experiment fits 20 minutes on 2 CPU cores (docs/experiments.md);
        # the test set is evaluated at the end of each stage only (eval_every larger than any stage).
        "train_overrides": {
            "classifier": {"epochs": 3},
            "codec": {"epochs": 10},
            "tosc": {"epochs": 3},
            "eval_every": 1000,
        },
        "tosc_beta": 0.1,
        "ib_beta": 1.0,
        "spics_beta": 0.1,
        "headers": ["full", "payload"],
        "capacity": "bpsk",
        "on_failure": "image-mean",
        "visual_images": 8,
        "bpp": {"methods": list(METHODS), "bpps": [0.125, 0.5, 2.0], "snr_db": math.inf},
        "snr": {
            "methods": list(METHODS),
            "bpps": [0.5],
            "train_snr_range": [-5.0, 20.0],
            "eval_snrs": [-5.0, 0.0, 5.0, 10.0, 15.0, 20.0],
        },
        "beta": {
            "methods": ["tosc"],
            "bpps": [0.25],
            "snr_db": math.inf,
            "betas": [0.0, 0.001, 0.01, 0.1, 1.0, 10.0],
        },
        "visual": {"methods": list(METHODS), "bpps": [0.5], "snr_db": math.inf},
    },
    "paper": {
        "train_preset": "paper",  # Table II: STL-10 96x96, the paper's epochs and learning rates
        "train_overrides": {},
        "tosc_beta": 0.01,
        "ib_beta": 1.0,
        "spics_beta": 0.01,
        "headers": ["full", "payload"],
        "capacity": "bpsk",
        "on_failure": "image-mean",
        "visual_images": 8,
        "bpp": {"methods": list(METHODS), "bpps": [0.125, 0.25, 0.5, 1.0, 2.0], "snr_db": math.inf},
        "snr": {
            "methods": list(METHODS),
            "bpps": [2.0],
            "train_snr_range": [-5.0, 20.0],
            "eval_snrs": [-5.0, 0.0, 5.0, 10.0, 15.0, 20.0],
        },
        "beta": {
            "methods": ["tosc"],
            "bpps": [0.25],
            "snr_db": math.inf,
            "betas": [0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0],
        },
        "visual": {"methods": list(METHODS), "bpps": [2.0], "snr_db": math.inf},
    },
}


@dataclass
class ExperimentSpec:
    """Everything one experiment computes (see :func:`make_spec` for the defaults).

    ``snr_db`` is the channel SNR of training and evaluation (bpp, beta, visual) or, in
    the ``snr`` experiment, the fixed training SNR when ``train_snr_range`` is None;
    ``eval_snrs`` is the ``snr`` experiment's evaluation grid. ``betas`` are TOSC-SR's
    β values (one for bpp/snr/visual, the grid for beta). SNRs in dB, ``math.inf`` = noiseless.
    """

    experiment: str
    preset: str
    methods: list[str]
    bpps: list[float]
    snr_db: float
    train_snr_range: list[float] | None
    eval_snrs: list[float]
    betas: list[float]
    ib_beta: float
    spics_beta: float
    headers: list[str]
    capacity: str
    on_failure: str
    seeds: int
    visual_images: int
    train_preset: str
    train_overrides: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> ExperimentSpec:
        """Raise ``ValueError`` naming the first bad field; return ``self``."""
        if self.experiment not in EXPERIMENTS:
            raise ValueError(f"experiment must be one of {EXPERIMENTS}, got {self.experiment!r}")
        bad = [m for m in self.methods if m not in METHODS]
        if bad or not self.methods:
            raise ValueError(
                f"methods must be a non-empty subset of {METHODS}, got {self.methods!r}"
            )
        if len(set(self.methods)) != len(self.methods):
            raise ValueError(f"methods must be distinct, got {self.methods!r}")
        if not self.bpps:
            raise ValueError("bpps must list at least one bits-per-pixel value")
        for b in self.bpps:
            channels_for_bpp(b)  # raises naming the value
        if self.experiment in ("beta", "visual", "snr") and len(self.bpps) != 1:
            raise ValueError(f"the {self.experiment!r} experiment runs at one bpp, got {self.bpps}")
        if len(set(self.bpps)) != len(self.bpps):
            raise ValueError(f"bpps must be distinct, got {self.bpps}")
        _check_snr(self.snr_db, "snr_db")
        if self.train_snr_range is not None:
            r = self.train_snr_range
            if len(r) != 2 or not all(math.isfinite(v) for v in r) or r[0] > r[1]:
                raise ValueError(
                    f"train_snr_range must be [lo, hi] finite dB with lo <= hi, got {r!r}"
                )
        if not self.eval_snrs:
            raise ValueError("eval_snrs must list at least one SNR")
        for s in self.eval_snrs:
            _check_snr(s, "eval_snrs")
        if not self.betas or any(
            not (isinstance(b, (int, float)) and math.isfinite(b) and b >= 0) for b in self.betas
        ):
            raise ValueError(f"betas must be finite numbers >= 0, got {self.betas!r}")
        if len(set(self.betas)) != len(self.betas):
            raise ValueError(f"betas must be distinct, got {self.betas!r}")
        if self.experiment != "beta" and len(self.betas) != 1:
            raise ValueError(
                f"the {self.experiment!r} experiment uses one TOSC-SR beta, got {self.betas}"
            )
        for name in ("ib_beta", "spics_beta"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
        if not self.headers or any(h not in HEADER_POLICIES for h in self.headers):
            raise ValueError(
                f"headers must be a non-empty subset of {HEADER_POLICIES}, got {self.headers!r}"
            )
        if self.capacity not in CAPACITIES:
            raise ValueError(f"capacity must be one of {CAPACITIES}, got {self.capacity!r}")
        if self.on_failure not in ON_FAILURE:
            raise ValueError(f"on_failure must be one of {ON_FAILURE}, got {self.on_failure!r}")
        if isinstance(self.seeds, bool) or not isinstance(self.seeds, int) or self.seeds < 1:
            raise ValueError(f"seeds must be a positive integer, got {self.seeds!r}")
        if (
            isinstance(self.visual_images, bool)
            or not isinstance(self.visual_images, int)
            or self.visual_images < 1
        ):
            raise ValueError(
                f"visual_images must be a positive integer, got {self.visual_images!r}"
            )
        return self

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _check_snr(v: Any, name: str) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v) or v == -math.inf:
        raise ValueError(f"{name}: an SNR must be a number of dB or inf, got {v!r}")


def make_spec(experiment: str, preset: str = "quick", **options: Any) -> ExperimentSpec:
    """The preset's settings for ``experiment``, with any :class:`ExperimentSpec` field in
    ``options`` replacing them (None values are ignored); validated."""
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    if experiment not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {EXPERIMENTS}, got {experiment!r}")
    p = PRESETS[preset]
    e = p[experiment]
    values: dict[str, Any] = {
        "experiment": experiment,
        "preset": preset,
        "methods": list(e["methods"]),
        "bpps": list(e["bpps"]),
        "snr_db": e.get("snr_db", math.inf),
        "train_snr_range": e.get("train_snr_range"),
        "eval_snrs": list(e.get("eval_snrs", [])),
        "betas": list(e.get("betas", [p["tosc_beta"]])),
        "ib_beta": p["ib_beta"],
        "spics_beta": p["spics_beta"],
        "headers": list(p["headers"]),
        "capacity": p["capacity"],
        "on_failure": p["on_failure"],
        "seeds": 1,
        "visual_images": p["visual_images"],
        "train_preset": p["train_preset"],
        "train_overrides": dict(p["train_overrides"]),
    }
    known = {f.name for f in dataclasses.fields(ExperimentSpec)}
    for key, value in options.items():
        if key not in known:
            raise ValueError(f"unknown experiment option {key!r}; valid: {sorted(known)}")
        if value is None:
            continue
        if key == "train_overrides":
            values[key] = _merge(values[key], value)
        else:
            values[key] = value
    if (
        experiment == "snr"
        and options.get("snr_db") is not None
        and options.get("train_snr_range") is None
    ):
        values["train_snr_range"] = None  # a fixed training SNR given: train there
    if not values["eval_snrs"]:
        values["eval_snrs"] = [values["snr_db"]]
    return ExperimentSpec(**values).validate()


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _method_betas(spec: ExperimentSpec, method: str) -> list[float]:
    return {"rd": [0.0], "tosc": spec.betas, "ib": [spec.ib_beta], "spics": [spec.spics_beta]}[
        method
    ]


def build_jobs(spec: ExperimentSpec, data_dir: str | None = None) -> list[Job]:
    """The sweep jobs of ``spec`` (see the module docstring), in a dependency-respecting order."""
    spec.validate()
    base = make_config(spec.train_preset, overrides={**spec.train_overrides, "data_dir": data_dir})
    eval_spec: dict[str, Any] = {"snr_db": [float(s) for s in spec.eval_snrs]}
    if spec.experiment == "visual":
        eval_spec["visual"] = spec.visual_images
    jscc = [m for m in JSCC_METHODS if m in spec.methods] or [
        "rd"
    ]  # rd alone trains the classifier
    jobs: list[Job] = []
    for seed in range(spec.seeds):
        classifier_run: str | None = None
        for bpp in spec.bpps:
            config = dataclasses.replace(
                base,
                latent_channels=channels_for_bpp(bpp),
                snr_db=float(spec.snr_db),
                train_snr_range=list(spec.train_snr_range)
                if spec.train_snr_range is not None
                else None,
            ).validate()
            cfg = config_to_dict(config)
            codec_run: str | None = None
            for method in jscc:
                for beta in _method_betas(spec, method):
                    job = train_job(
                        method,
                        config=cfg,
                        beta=beta,
                        bpp=bpp,
                        seed=seed,
                        eval_spec=eval_spec,
                        classifier_run=classifier_run,
                        codec_run=codec_run,
                    )
                    jobs.append(job)
                    codec_run = codec_run or job.run_id
                    classifier_run = classifier_run or job.run_id
            assert (
                classifier_run is not None
            )  # the first training of the seed trains the classifier
            for method in (m for m in DIGITAL_METHODS if m in spec.methods):
                for header in spec.headers:
                    jobs.append(
                        digital_job(
                            method,
                            bpp=bpp,
                            header=header,
                            capacity=spec.capacity,
                            on_failure=spec.on_failure,
                            seed=seed,
                            data={"dataset": config.dataset, "image_size": config.image_size},
                            eval_batch_size=config.eval_batch_size,
                            eval_spec=eval_spec,
                            classifier_run=classifier_run,
                        )
                    )
    return jobs
