"""Comparison helpers shared by the check families."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from conformance.harness import Case, Mismatch, trajectory_script
from conformance.targets import Target
from reference import Schedule
from reference.base import ulp, ulps


def compare(target: Target, case: Case, seen: Sequence[Sequence[float]],
            expected: Sequence[Sequence[float]], tol: Callable[[int, int], float],
            scale: Callable[[int, int], float], what: str, first: int = 0,
            groups: Sequence[int] | None = None,
            step_label: Callable[[int], str] | None = None) -> float:
    """Raise Mismatch at the first step and group where |seen - expected| > tol(step, group);
    return the largest error in ulps of the group's scale. `groups` names the param group of
    each column (default: the column's index), `step_label(step)` a step in the message."""
    worst = 0.0
    for t, (got_row, want_row) in enumerate(zip(seen, expected, strict=False)):
        if len(got_row) != len(want_row):
            raise Mismatch(f"{what}: step {t + first} has {len(got_row)} lrs for "
                           f"{len(want_row)} param groups", step=t + first)
        for g, (got, want) in enumerate(zip(got_row, want_row, strict=True)):
            if got == want:
                continue
            diff = abs(got - want)
            if diff <= tol(t, g):  # False for NaN
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
                f"{tol(t, g) / ulp(scale(t, g)):.3g} ulps)",
                step=step, group=group, expected=want, actual=got, ulps=err,
                script=trajectory_script(target, case, step, g, want) if first == 0 else "",
                series=series,
            )
    return worst


def closed_tol(oracle: Schedule, values: Sequence[Sequence[float]],
               epochs: Sequence[float] | None = None) -> Callable[[int, int], float]:
    """Closed-form tolerance: closed_ulps at the epoch, in ulps of the group's scale."""
    scales = [oracle.scale(row) for row in values]

    def tol(t: int, g: int) -> float:
        epoch = t if epochs is None else epochs[t]
        return oracle.closed_ulps(epoch) * ulp(scales[t][g])

    return tol


def scale_of(oracle: Schedule, values: Sequence[Sequence[float]]) -> Callable[[int, int], float]:
    scales = [oracle.scale(row) for row in values]
    return lambda t, g: scales[t][g]


def exact(t: int, g: int) -> float:
    """Zero tolerance: the same computation must give the same bits."""
    return 0.0
