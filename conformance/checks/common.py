"""Comparison helpers shared by the check families."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.harness import Case, Mismatch, trajectory_script
from conformance.targets import Target
from reference import Schedule
from reference.base import ulp, ulps


@dataclass(frozen=True)
class Tolerance:
    """How far a value may be from the expected one: `bound(step, group)`, absolute, and the
    magnitude `scale(step, group)` whose ulps measure an error."""

    bound: Callable[[int, int], float]
    scale: Callable[[int, int], float]

    @classmethod
    def exact(cls, want: Sequence[Sequence[float]]) -> Tolerance:
        """Zero: the same computation must give the same bits (errors in ulps of the value)."""
        return cls(lambda t, g: 0.0, lambda t, g: abs(want[t][g]) or 1.0)

    @classmethod
    def closed(cls, oracle: Schedule, values: Sequence[Sequence[float]],
               epochs: Sequence[float] | None = None) -> Tolerance:
        """The closed form's: closed_ulps at the epoch, in ulps of the group's scale."""
        scales = [oracle.scale(row) for row in values]

        def bound(t: int, g: int) -> float:
            return oracle.closed_ulps(t if epochs is None else epochs[t]) * ulp(scales[t][g])

        return cls(bound, lambda t, g: scales[t][g])

    @classmethod
    def table(cls, bounds: Sequence[Sequence[float]], scales: Sequence[Sequence[float]]
              ) -> Tolerance:
        """Bounds and scales computed ahead, one per step and group."""
        return cls(lambda t, g: bounds[t][g], lambda t, g: scales[t][g])


def reference_lrs(oracle: Schedule, case: Case) -> tuple[list[list[float]], Tolerance]:
    """The reference lrs of `case`, and the spec's error model for them: the recurrence's
    bound where the schedule is chainable and takes no metric, else the closed form's."""
    if case.metrics is not None or not oracle.closed:
        expected = oracle.trajectory(case.steps, case.metrics)
    else:
        expected = oracle.reference(case.steps)
    if oracle.chainable and case.metrics is None:
        return expected, Tolerance.table(oracle.tolerance(case.steps, expected),
                                         [oracle.scale(row) for row in expected])
    return expected, Tolerance.closed(oracle, expected)


def compare(target: Target, case: Case, seen: Sequence[Sequence[float]],
            expected: Sequence[Sequence[float]], tol: Tolerance, what: str, first: int = 0,
            groups: Sequence[int] | None = None,
            step_label: Callable[[int], str] | None = None) -> float:
    """Raise Mismatch at the first step and group where |seen - expected| exceeds the
    tolerance's bound; return the largest error in ulps of its scale. `groups` names the
    param group of each column (default: the column's index), `step_label(step)` a step in
    the message."""
    worst, bound, scale = 0.0, tol.bound, tol.scale
    for t, (got_row, want_row) in enumerate(zip(seen, expected, strict=False)):
        if len(got_row) != len(want_row):
            raise Mismatch(f"{what}: step {t + first} has {len(got_row)} lrs for "
                           f"{len(want_row)} param groups", step=t + first)
        for g, (got, want) in enumerate(zip(got_row, want_row, strict=True)):
            if got == want:
                continue
            diff = abs(got - want)
            if diff <= bound(t, g):  # False for NaN
                worst = max(worst, diff / ulp(max(abs(scale(t, g)), abs(got), abs(want))))
                continue
            if math.isnan(got) and math.isnan(want):
                continue  # the same bits in an exact comparison; api.finite reports NaN
            step = t + first
            group = groups[g] if groups is not None else g
            err = ulps(got, want, scale(t, g))
            where = step_label(step) if step_label else f"step {step}"
            series: dict[str, Any] = {"seen": [list(r) for r in seen], "first": first,
                                      "expected": [list(r) for r in expected]}
            if groups is not None:
                series["groups"] = list(groups)
            raise Mismatch(
                f"{what}: {where}, param group {group}: expected {want!r}, got {got!r} "
                f"(error {err:.3g} ulps of {scale(t, g):.3g}, tolerance "
                f"{bound(t, g) / ulp(scale(t, g)):.3g} ulps)",
                step=step, group=group, expected=want, actual=got, ulps=err,
                script=trajectory_script(target, case, step, g, want) if first == 0 else "",
                series=series,
            )
    return worst
