"""The resume checkpoint: tensors and plain Python values only, so it loads with
``torch.load(..., weights_only=True)`` (no foreign code can run while resuming).

Contents (format 2): the configuration (as in ``config.json``), the position (next stage
index and epochs done in it), the networks' and optimiser's state dicts, the finished
artefacts (file stem → weights), the RNG states (torch/CUDA as byte tensors, NumPy's
Mersenne-Twister key as an int64 tensor plus plain numbers, Python's as a tuple of ints),
the metrics log and partial results (lists/dicts of numbers and strings), the example
reconstructions (tensors).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from neural.config import TrainConfig, config_to_dict
from neural.training.files import atomic_save, load_weights

FORMAT = 2
#: Configuration fields that may change between a run and its resumption.
RUN_ONLY_FIELDS = ("device", "out", "resume", "progress", "num_threads")


def rng_state(device: torch.device) -> dict[str, Any]:
    """Torch (and CUDA), NumPy and Python RNG states as tensors and plain values."""
    kind, key, pos, has_gauss, gauss = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "kind": str(kind),
            "key": torch.from_numpy(np.asarray(key, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "gauss": float(gauss),
        },
        "python": random.getstate(),
    }
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict[str, Any], device: torch.device) -> None:
    """Inverse of :func:`rng_state`."""
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(
        (n["kind"], n["key"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"])
    )
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def save_checkpoint(path: str, payload: dict[str, Any]) -> None:
    """Write ``payload`` (see the module docstring) atomically with the format number."""
    atomic_save({"format": FORMAT, **payload}, path)


def load_checkpoint(path: str, config: TrainConfig) -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` and check it belongs to ``config``."""
    state = load_weights(path, "resume checkpoint")
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise ValueError(
            f"resume: {path} has checkpoint format {found!r}, this version reads format {FORMAT} "
            "(start the run again in a new directory)"
        )
    check_resume_config(state["config"], config)
    return state


def check_resume_config(saved: dict[str, Any], config: TrainConfig) -> None:
    """Raise ``ValueError`` naming every setting that differs from the checkpoint's."""
    now = config_to_dict(config)
    diff = [k for k in now if k not in RUN_ONLY_FIELDS and saved.get(k) != now[k]]
    if diff:
        detail = ", ".join(f"{k}: checkpoint {saved.get(k)!r} vs now {now[k]!r}" for k in diff)
        raise ValueError(f"resume: the configuration differs from the checkpoint's ({detail})")
