"""The neural side checked against the exact solver on the same source (issue 13).

* :mod:`neural.bridge.digits` — the 8×8 digits as an exact semantic R-D problem;
* :mod:`neural.bridge.codec` — a K-bit codec's deterministic encoder bounded by the exact curve;
* :mod:`neural.bridge.relaxation` — the cross-entropy bound of eqs. (25)–(29) against exact D_IB;
* :mod:`neural.bridge.gradient`, :mod:`neural.bridge.estimators` — gradient training against
  Blahut–Arimoto and MI estimators against exact values.

See ``docs/neural-vs-exact.md``.
"""

from neural.bridge.digits import DigitsSource, digit_images, digits_problem, digits_source

__all__ = ["DigitsSource", "digit_images", "digits_problem", "digits_source"]
