"""The paper's comparison experiments as one command: ``python -m neural.experiments``.

Subcommands ``bpp`` (Fig. 4), ``snr`` (Fig. 6), ``beta`` (Fig. 9), ``visual`` (Fig. 5) and
``report`` (docs/results.md from runs); see docs/experiments.md. Python::

    from neural.experiments import make_spec, run_experiment
    result = run_experiment(make_spec("bpp", "quick"), "runs/bpp", jobs=2)
"""

from neural.experiments.experiment import ExperimentResult, run_experiment
from neural.experiments.jobs import (
    DIGITAL_METHODS,
    JSCC_METHODS,
    METHODS,
    Job,
    Runtime,
    execute_job,
)
from neural.experiments.keys import canonical_json, config_hash
from neural.experiments.plan import (
    EXPERIMENTS,
    PRESETS,
    ExperimentSpec,
    build_jobs,
    make_spec,
)
from neural.experiments.report import write_report
from neural.experiments.results import (
    ROW_FIELDS,
    load_results,
    mean_interval,
    summarise,
)
from neural.experiments.runner import (
    InlineExecutor,
    make_executor,
    run_jobs,
)

__all__ = [
    "DIGITAL_METHODS",
    "EXPERIMENTS",
    "JSCC_METHODS",
    "METHODS",
    "PRESETS",
    "ROW_FIELDS",
    "ExperimentResult",
    "ExperimentSpec",
    "InlineExecutor",
    "Job",
    "Runtime",
    "build_jobs",
    "canonical_json",
    "config_hash",
    "execute_job",
    "load_results",
    "make_executor",
    "make_spec",
    "mean_interval",
    "run_experiment",
    "run_jobs",
    "summarise",
    "write_report",
]
