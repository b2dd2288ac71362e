"""Metric accumulators (torchmetrics style, written here): ``update`` per batch, ``sync`` across
DistributedDataParallel ranks, ``compute`` at the end.

Each metric keeps its state as a float64 tensor on the run's device, so that summing
states over batches and over processes (one ``all_reduce``) gives the exact dataset value.
"""

from __future__ import annotations

import torch
import torch.distributed as dist


class MeanMetric:
    """Weighted mean of per-sample values: state ``[Σ w·v, Σ w]`` (float64)."""

    def __init__(self, device: torch.device | str = "cpu") -> None:
        self.state = torch.zeros(2, dtype=torch.float64, device=device)

    def reset(self) -> None:
        self.state.zero_()

    @torch.no_grad()
    def update(self, values: torch.Tensor, weight: float | None = None) -> None:
        """Add per-sample ``values`` (a ``(B,)`` tensor, each of weight 1), or one batch mean
        (a 0-d tensor) standing for ``weight`` samples."""
        v = values.detach().to(self.state.device, torch.float64)
        if v.dim() == 0:
            if weight is None or not weight > 0:
                raise ValueError(
                    f"a batch mean needs the positive number of samples it stands for, got weight={weight!r}"
                )
            self.state[0] += v * weight
            self.state[1] += weight
        else:
            if weight is not None:
                raise ValueError(
                    "weight is only for a batch mean (a 0-d tensor); per-sample values have weight 1 each"
                )
            self.state[0] += v.sum()
            self.state[1] += v.numel()

    @property
    def count(self) -> float:
        return float(self.state[1])

    def compute(self) -> float:
        n = float(self.state[1])
        if n == 0:
            raise ValueError("the metric has no samples: update() was never called")
        return float(self.state[0]) / n


class MetricCollection:
    """Named :class:`MeanMetric` objects updated, synchronised and computed together."""

    def __init__(
        self, names: list[str] | tuple[str, ...], device: torch.device | str = "cpu"
    ) -> None:
        if len(set(names)) != len(names) or not names:
            raise ValueError(f"metric names must be distinct and non-empty, got {names!r}")
        self.metrics = {n: MeanMetric(device) for n in names}

    def __getitem__(self, name: str) -> MeanMetric:
        return self.metrics[name]

    def __contains__(self, name: str) -> bool:
        return name in self.metrics

    def reset(self) -> None:
        for m in self.metrics.values():
            m.reset()

    def sync(self) -> None:
        """Sum every state over all processes of the default group (one collective); a no-op
        without an initialised process group of more than one process."""
        if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
            return
        flat = torch.cat([m.state for m in self.metrics.values()])
        dist.all_reduce(flat)
        for i, m in enumerate(self.metrics.values()):
            m.state.copy_(flat[2 * i : 2 * i + 2])

    def compute(self) -> dict[str, float]:
        """``{name: mean}`` over the metrics that received samples."""
        return {n: m.compute() for n, m in self.metrics.items() if m.count > 0}
