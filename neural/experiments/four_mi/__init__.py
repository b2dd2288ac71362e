"""The four-MI analysis of the paper (Algorithm 4, Fig. 7): ``python -m neural.experiments mi``.

I(X;Z), I(Z;Ŷ), I(X;Ŷ) and I(Ŷ;Y) of the RD baseline, TOSC-SR and the IB baseline across
bpp at SNR = ∞, in bits, each value with its kind (exact / plug-in / upper bound / lower
bound) and its bound check; see docs/four-mi.md. Python::

    from neural.experiments.four_mi import make_mi_spec, run_mi
    result = run_mi(make_mi_spec("quick"), "runs/quick-mi", runs="runs/quick-bpp", jobs=2)
"""

from neural.experiments.four_mi.experiment import (
    MI_FIELDS,
    MI_METHODS,
    MI_PRESETS,
    MISpec,
    build_mi_jobs,
    load_mi_results,
    make_mi_spec,
    run_mi,
)
from neural.experiments.four_mi.quantities import (
    KINDS,
    QUANTITIES,
    CountValues,
    bit_entropy_sum,
    count_rows,
    count_values,
)

__all__ = [
    "KINDS",
    "MI_FIELDS",
    "MI_METHODS",
    "MI_PRESETS",
    "QUANTITIES",
    "CountValues",
    "MISpec",
    "bit_entropy_sum",
    "build_mi_jobs",
    "count_rows",
    "count_values",
    "load_mi_results",
    "make_mi_spec",
    "run_mi",
]
