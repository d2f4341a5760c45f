"""pytorch-ignite look-alikes (`ignite.handlers.param_scheduler`'s protocol: built on an
optimizer and a param_name, fired as `handler(engine, name=None)` once per event, one value
for every group, `state_dict()`), written here to the spec (docs/spec/ignite.md), each with
one formula defect."""

from __future__ import annotations

import math
from typing import Any


class _Handler:
    """Sets `param_name` in every param group to `get_param()` at each event."""

    def __init__(self, optimizer: Any, param_name: str, save_history: bool = False,
                 param_group_index: int | None = None) -> None:
        self.optimizer = optimizer
        self.param_name = param_name
        self.save_history = save_history
        self.param_group_index = param_group_index
        self.event_index = 0

    @property
    def groups(self) -> list[dict[str, Any]]:
        groups = self.optimizer.param_groups
        return groups if self.param_group_index is None else [groups[self.param_group_index]]

    def get_param(self) -> float:
        raise NotImplementedError

    def __call__(self, engine: Any, name: str | None = None) -> None:
        value = self.get_param()
        for group in self.groups:
            group[self.param_name] = value
        self.event_index += 1

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        vars(self).update(state)


class _Cycles(_Handler):
    """Cycles of cycle_size events from start_value towards end_value, a linear warm-up to
    the next start after each, sizes and values scaled per cycle."""

    def __init__(self, optimizer: Any, param_name: str, start_value: float, end_value: float,
                 cycle_size: int, cycle_mult: float = 1.0, start_value_mult: float = 1.0,
                 end_value_mult: float = 1.0, warmup_duration: int = 0,
                 save_history: bool = False, param_group_index: int | None = None) -> None:
        super().__init__(optimizer, param_name, save_history, param_group_index)
        if cycle_size < 2:
            raise ValueError(f"cycle_size should be larger than 1, got {cycle_size}")
        self.start_value, self.end_value = start_value, end_value
        self.cycle_size, self.cycle_mult = cycle_size, cycle_mult
        self.start_value_mult, self.end_value_mult = start_value_mult, end_value_mult
        self.warmup_duration = warmup_duration

    def end_of_anneal(self) -> None:
        """At the last event of the anneal: the start value of the next cycle."""
        self.start_value *= self.start_value_mult

    def restart(self) -> None:
        """After the warm-up: the next cycle."""
        self.event_index = 0
        self.cycle_size = int(self.cycle_size * self.cycle_mult)
        self.warmup_duration = int(self.warmup_duration * self.cycle_mult)
        self.end_value *= self.end_value_mult

    def shape(self, progress: float) -> float:
        raise NotImplementedError

    def get_param(self) -> float:
        i, size = self.event_index, self.cycle_size
        if i > size:
            return self.end_value + (self.start_value - self.end_value) * (
                (i - size) / self.warmup_duration)
        return self.shape(i / size)

    def __call__(self, engine: Any, name: str | None = None) -> None:
        if self.event_index and self.event_index == self.cycle_size:
            self.end_of_anneal()
        if self.event_index and self.event_index == self.cycle_size + self.warmup_duration:
            self.restart()
        super().__call__(engine, name)


class CosineAnnealingEndsEarly(_Cycles):
    """The half cosine spans cycle_size - 1 events, not cycle_size: each cycle reaches
    end_value at its last event instead of approaching it."""

    SPEC, FAMILY = "ignite.CosineAnnealingScheduler", "oracle"

    def shape(self, progress: float) -> float:
        size = self.cycle_size
        p = min(1.0, progress * size / (size - 1))
        return self.start_value + (self.end_value - self.start_value) / 2 * (
            1 - math.cos(math.pi * p))


class LinearCyclicalLateStartMult(_Cycles):
    """start_value_mult is applied after the warm-up instead of at the end of the anneal:
    the warm-up heads back to the old start value, then jumps."""

    SPEC, FAMILY = "ignite.LinearCyclicalScheduler", "oracle"

    def __init__(self, *args: Any, monotonic: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.monotonic = monotonic
        if self.warmup_duration > 0 and not monotonic:
            raise ValueError("warmup_duration > 0 needs monotonic=True")

    def end_of_anneal(self) -> None:
        pass

    def restart(self) -> None:
        super().restart()
        self.start_value *= self.start_value_mult

    def shape(self, progress: float) -> float:
        if self.monotonic:
            return self.start_value + (self.end_value - self.start_value) * progress
        return self.end_value + (self.start_value - self.end_value) * abs(progress - 0.5) * 2


class PiecewiseLinearExtrapolates(_Handler):
    """Past the last milestone the last segment's slope goes on: the value is not held."""

    SPEC, FAMILY = "ignite.PiecewiseLinear", "oracle"

    def __init__(self, optimizer: Any, param_name: str,
                 milestones_values: list[tuple[int, float]], save_history: bool = False,
                 param_group_index: int | None = None) -> None:
        super().__init__(optimizer, param_name, save_history, param_group_index)
        if not milestones_values:
            raise ValueError("milestones_values should have at least one pair")
        self.milestones = [int(m) for m, _ in milestones_values]
        self.values = [float(v) for _, v in milestones_values]

    def get_param(self) -> float:
        ms, vs, e = self.milestones, self.values, self.event_index
        if e < ms[0] or len(ms) == 1:
            return vs[0]
        i = max([j for j, m in enumerate(ms[:-1]) if m <= e], default=0)
        return vs[i] + (vs[i + 1] - vs[i]) * (e - ms[i]) / (ms[i + 1] - ms[i])
