"""OpenMP wait policy, set before torch starts its OpenMP runtime (imported first by ``neural``).

Idle OpenMP threads spin by default; on a CPU shared with other processes the spinning
threads take the cores the working threads need, and a multi-threaded step can become
10-20x slower than a single-threaded one (docs/performance.md, "Training threads").
``OMP_WAIT_POLICY=PASSIVE`` makes them sleep. The runtime reads the variable once, when
torch is first imported, so it is set here (unless the user set it) and whether it can
have taken effect is recorded for :func:`neural.training.default_threads`.
"""

from __future__ import annotations

import os
import sys

_user_policy = os.environ.get("OMP_WAIT_POLICY")
_torch_first = "torch" in sys.modules
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # also inherited by worker processes

#: True when torch's OpenMP runtime starts (or started) with ``OMP_WAIT_POLICY=PASSIVE``:
#: torch is imported after this module and the user did not ask for another policy, or the
#: user's environment already said PASSIVE.
PASSIVE_WAIT = (
    (_user_policy if _torch_first else os.environ["OMP_WAIT_POLICY"]) or ""
).strip().upper() == "PASSIVE"
