"""Training of the TOSC-SR system and its baselines, built from stages.

* :func:`train` runs a configuration (``python -m neural.train`` is its command line);
* :func:`load_run` reads a finished run back; ``.system(beta)`` gives its end-to-end system;
* :func:`evaluate_system` measures a system on a dataset at any SNR;
* stages are registered by name in :data:`STAGE_TYPES` (``classifier``, ``codec``, ``tosc``,
  ``ib``, ``spics``).
"""

from neural.training.evaluation import evaluate_classifier, evaluate_system
from neural.training.loading import load_run
from neural.training.result import LoadedRun, TrainResult
from neural.training.run import train
from neural.training.seeds import derive_seed
from neural.training.stages import STAGE_TYPES, Stage, register_stage, stage_plan
from neural.training.systems import (
    build_classifier,
    build_codec,
    build_head,
    make_system,
)
from neural.training.threads import available_cores, default_threads, threads_for_jobs

__all__ = [
    "STAGE_TYPES",
    "LoadedRun",
    "Stage",
    "TrainResult",
    "available_cores",
    "build_classifier",
    "build_codec",
    "build_head",
    "default_threads",
    "derive_seed",
    "evaluate_classifier",
    "evaluate_system",
    "load_run",
    "make_system",
    "register_stage",
    "stage_plan",
    "threads_for_jobs",
    "train",
]
