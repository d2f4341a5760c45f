"""pytorch-ignite's parameter schedulers (`ignite.handlers.param_scheduler`) for the lr:
CosineAnnealingScheduler, LinearCyclicalScheduler and PiecewiseLinear, from their docstrings
(and the printed lr sequences of their doctested examples).

An ignite scheduler is an event handler: it sets one absolute value for every param group
each time it fires, event 0 being the first call. The closed forms are in e, the event index
since construction (the suite calls the handler once right after construction, then once per
step). Formulas and rulings: docs/spec/ignite.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar, NamedTuple

from reference.base import CLOSED_ULPS, Param, Schedule, register

SOURCE = "https://pytorch.org/ignite/generated/ignite.handlers.param_scheduler.{}.html"


class Cycle(NamedTuple):
    """One cycle of a cyclical scheduler: it starts at event `start`, anneals over `size`
    events (`size` + 1 points with a warm-up, the last being the end value), then warms up
    over `warmup` events; `first` and `last` are its start and end values and `after` the
    next cycle's start value, which the warm-up heads for."""

    start: int
    size: int
    warmup: int
    first: float
    last: float
    after: float

    @property
    def length(self) -> int:
        return self.size + self.warmup


class _Cyclical(Schedule):
    """A cycle from start_value to end_value of cycle_size events, repeated; after each
    cycle the size and the warm-up grow by cycle_mult (truncated to an int), the start value
    by start_value_mult and (after the warm-up) the end value by end_value_mult."""

    schema: ClassVar[tuple[Param, ...]] = (
        Param("start_value", "float", low=0.0, doc="The value at the start of a cycle."),
        Param("end_value", "float", low=0.0, doc="The value the cycle anneals to."),
        Param("cycle_size", "int", low=2, doc="Events per cycle (the package needs >= 2)."),
        Param("cycle_mult", "float", 1.0, low=1.0,
              doc="Factor on cycle_size (and warmup_duration) after each cycle; truncated."),
        Param("start_value_mult", "float", 1.0, low=0.0,
              doc="Factor on the start value at the end of each cycle."),
        Param("end_value_mult", "float", 1.0, low=0.0,
              doc="Factor on the end value at the end of each cycle."),
        Param("warmup_duration", "int", 0, low=0,
              doc="Events of linear warm-up from a cycle's end value to the next start."),
    )
    start_value: float
    end_value: float
    cycle_size: int
    cycle_mult: float
    start_value_mult: float
    end_value_mult: float
    warmup_duration: int

    def validate(self) -> None:
        """Start the table of cycles (extended on demand)."""
        self._cycles = [self._make(0, self.cycle_size, self.warmup_duration,
                                   self.start_value, self.end_value)]
        # Once a cycle's size and warm-up repeat they repeat forever (the values still scale).
        self._steady = False

    def _make(self, start: int, size: int, warmup: int, first: float, last: float) -> Cycle:
        return Cycle(start, size, warmup, first, last, first * self.start_value_mult)

    def cycle(self, epoch: float) -> tuple[Cycle, int, float]:
        """(the cycle, its index, the event within it) at event `epoch` >= 0."""
        if epoch < 0:
            raise ValueError(f"{self.name}: epoch={epoch!r} is invalid; valid: epoch >= 0")
        cycles = self._cycles
        while cycles[-1].start + cycles[-1].length <= epoch:
            c, m = cycles[-1], self.cycle_mult
            # The package scales the current length and truncates: int(size * m).
            size, warmup = int(c.size * m), int(c.warmup * m)
            cycles.append(self._make(c.start + c.length, size, warmup, c.after,
                                     c.last * self.end_value_mult))
        lo, hi = 0, len(cycles) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if cycles[mid].start <= epoch:
                lo = mid
            else:
                hi = mid - 1
        return cycles[lo], lo, epoch - cycles[lo].start

    def shape(self, first: float, last: float, progress: float) -> float:
        """The value at `progress` in [0, 1] through a cycle from `first` to `last`."""
        raise NotImplementedError

    def value(self, epoch: float) -> float:
        c, _, i = self.cycle(epoch)
        if i < c.size:
            return self.shape(c.first, c.last, i / c.size)
        if i == c.size:  # only with a warm-up: the end of the anneal, where it starts
            return c.last
        return c.last + (c.after - c.last) * (i - c.size) / c.warmup

    def lr(self, epoch: float) -> list[float]:
        return [self.value(epoch)] * self.groups

    def closed_ulps(self, epoch: float) -> float:
        """A cosine's argument is at most pi; the start and end values are products of k
        factors, one rounding each; all relative to the cycle's own bounds, which the
        multipliers move away from the first cycle's (the scale)."""
        c, k, _ = self.cycle(epoch)
        first = max(abs(self.start_value), abs(self.end_value))
        here = max(abs(c.first), abs(c.last), abs(c.after))
        grow = here / first if first > 0 else 1.0
        return (CLOSED_ULPS + 4 * math.pi + 2 * (k + 1)) * max(1.0, grow)

    def scale(self, lrs: Sequence[float]) -> list[float]:
        """Errors scale with the first cycle's values: base_lrs play no part."""
        first = max(abs(self.start_value), abs(self.end_value))
        return [max(first, abs(v)) for v in lrs]


@register
class CosineAnnealingScheduler(_Cyclical):
    """Each cycle the first half of a cosine wave from start_value to end_value:
    start + (end - start) (1 - cos(pi i / cycle_size)) / 2 at event i of the cycle."""

    name = "ignite.CosineAnnealingScheduler"
    source = SOURCE.format("CosineAnnealingScheduler")

    def shape(self, first: float, last: float, progress: float) -> float:
        return first + (last - first) / 2 * (1 - math.cos(math.pi * progress))


@register
class LinearCyclicalScheduler(_Cyclical):
    """Each cycle linear from start_value to end_value at mid-cycle and back (a triangle), or
    with `monotonic` only the first half: linear from start_value to end_value over the cycle."""

    name = "ignite.LinearCyclicalScheduler"
    schema = (*_Cyclical.schema,
              Param("monotonic", "bool", False,
                    doc="One half-cycle only (start to end); needed by a warm-up."))
    source = SOURCE.format("LinearCyclicalScheduler")
    monotonic: bool

    def validate(self) -> None:
        """A warm-up needs monotonic: a triangle already ends back at its start value."""
        if self.warmup_duration > 0 and not self.monotonic:
            raise self.reject("warmup_duration", self.warmup_duration,
                              "0 unless monotonic=True (a triangle already returns to its "
                              "start value)")
        super().validate()

    def shape(self, first: float, last: float, progress: float) -> float:
        if self.monotonic:
            return first + (last - first) * progress
        return last + (first - last) * abs(progress - 0.5) * 2


@register
class PiecewiseLinear(Schedule):
    """Linear between (event, value) milestones: the first value before the first milestone,
    the last one from the last milestone on."""

    name = "ignite.PiecewiseLinear"
    schema = (
        Param("milestones_values", "any",
              doc="(event index, value) pairs, milestones increasing ints >= 0."),
    )
    source = SOURCE.format("PiecewiseLinear")
    milestones_values: Any

    def validate(self) -> None:
        """A non-empty sequence of (int >= 0, finite float >= 0) pairs, milestones strictly
        increasing."""
        pairs = self.milestones_values
        rule = ("a non-empty list of (milestone, value) pairs, milestones increasing ints "
                ">= 0, values finite floats >= 0")
        if not isinstance(pairs, (list, tuple)) or not pairs:
            raise self.reject("milestones_values", pairs, rule)
        milestones: list[int] = []
        values: list[float] = []
        for pair in pairs:
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise self.reject("milestones_values", pairs, rule)
            m, v = pair
            if (isinstance(m, bool) or not isinstance(m, int) or m < 0
                    or (milestones and m <= milestones[-1])
                    or isinstance(v, bool) or not isinstance(v, (int, float))
                    or not math.isfinite(v) or v < 0):
                raise self.reject("milestones_values", pairs, rule)
            milestones.append(m)
            values.append(float(v))
        self._milestones, self._values = milestones, values

    def value(self, epoch: float) -> float:
        ms, vs = self._milestones, self._values
        if epoch < ms[0]:
            return vs[0]
        if epoch >= ms[-1]:
            return vs[-1]
        i = max(j for j, m in enumerate(ms) if m <= epoch)
        return vs[i] + (vs[i + 1] - vs[i]) * (epoch - ms[i]) / (ms[i + 1] - ms[i])

    def lr(self, epoch: float) -> list[float]:
        return [self.value(epoch)] * self.groups

    def scale(self, lrs: Sequence[float]) -> list[float]:
        """Errors scale with the milestones' values: base_lrs play no part."""
        top = max(self._values)
        return [max(top, abs(v)) for v in lrs]


#: The family's spec names.
FAMILY = tuple(cls.name for cls in (CosineAnnealingScheduler, LinearCyclicalScheduler,
                                     PiecewiseLinear))
