"""Oracle tests for ReduceLROnPlateau: the docstring's patience example, thresholds,
cooldown, min_lr and eps, replay from saved states, rejections and the torch cross-check."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.specs import SPECS, args_of
from reference import Schedule, make
from reference.base import CLOSED_ULPS, ulp
from tests.reference.support import (
    TORCH_STEPS,
    assert_rows,
    check_replay,
    group_lrs,
    rejects,
    run_torch,
)

FAST = settings(max_examples=50, deadline=None)


def lrs_after(s: Schedule, metrics: list[float]) -> list[list[float]]:
    return s.trajectory(len(metrics), metrics)


def test_patience_zero_docstring_example() -> None:
    """patience = 0: the first epoch sets the baseline; each later epoch worse than the
    baseline reduces the lr at its end; an improvement does not."""
    s = make("ReduceLROnPlateau", [1.0, 0.5], patience=0, factor=0.5)
    assert lrs_after(s, [10.0, 11.0, 12.0, 9.0, 9.5]) == [
        [1.0, 0.5], [1.0, 0.5], [0.5, 0.25], [0.25, 0.125], [0.25, 0.125], [0.125, 0.0625]]


def test_an_equal_metric_counts_as_bad() -> None:
    """The documented threshold: better means metric < best (1 - threshold), so a metric
    that stays the same is a bad epoch (even with threshold 0). The patience paragraph says
    the lr is not adjusted then; the formula and torch reduce it."""
    for threshold in (0.0, 1e-4):
        s = make("ReduceLROnPlateau", [1.0], patience=0, factor=0.5, threshold=threshold)
        assert lrs_after(s, [3.0, 3.0]) == [[1.0], [1.0], [0.5]]


def test_patience_and_cooldown() -> None:
    """patience p: the lr drops at the (p + 1)-th bad epoch in a row; then cooldown c
    epochs do not count, so the next drop is p + 1 bad epochs after the cooldown."""
    s = make("ReduceLROnPlateau", [1.0], patience=2, cooldown=1, factor=0.1)
    traj = lrs_after(s, [5.0] + [6.0] * 8)
    drops = [e for e in range(1, len(traj)) if traj[e] != traj[e - 1]]
    assert drops == [4, 8]
    assert traj[-1] == pytest.approx([0.01], rel=1e-15)


@pytest.mark.parametrize(("mode", "threshold_mode", "best", "not_better", "better"), [
    ("min", "rel", 10.0, 9.5, 8.9),   # bar 10 * (1 - 0.1) = 9
    ("min", "abs", 10.0, 9.95, 9.85),  # bar 10 - 0.1 = 9.9
    ("max", "rel", 10.0, 10.5, 11.1),  # bar 10 * (1 + 0.1) = 11
    ("max", "abs", 10.0, 10.05, 10.15),  # bar 10 + 0.1 = 10.1
])
def test_dynamic_threshold(mode: str, threshold_mode: str, best: float, not_better: float,
                           better: float) -> None:
    s = make("ReduceLROnPlateau", [1.0], mode=mode, threshold=0.1,
             threshold_mode=threshold_mode)
    assert s.is_better(better, best)
    assert not s.is_better(not_better, best)
    assert s.is_better(not_better, s.initial().data["best"])  # anything beats no baseline


def test_min_lr_per_group_and_eps() -> None:
    """Each group stops at its own min_lr; a drop of eps or less is not applied."""
    s = make("ReduceLROnPlateau", [1.0, 1.0], patience=0, factor=0.5, min_lr=[0.3, 0.0],
             eps=0.1)
    traj = lrs_after(s, [1.0, 2.0, 3.0, 4.0, 5.0])
    assert [row[0] for row in traj] == [1.0, 1.0, 0.5, 0.3, 0.3, 0.3]
    # 0.125 -> 0.0625 is a drop of 0.0625 <= eps: ignored.
    assert [row[1] for row in traj] == [1.0, 1.0, 0.5, 0.25, 0.125, 0.125]


def test_step_needs_a_metric() -> None:
    s = make("ReduceLROnPlateau", [1.0])
    rejects(lambda: s.step(s.initial()), "metric")


def test_plateau_rejects_invalid() -> None:
    def build(**kw: Any) -> Schedule:
        return make("ReduceLROnPlateau", [0.1, 0.2], **kw)

    rejects(lambda: build(factor=1.0), "factor=1.0", "[0.0, 1.0)")
    rejects(lambda: build(factor=-0.5), "factor=-0.5")
    rejects(lambda: build(patience=-1), "patience=-1", "[0, inf)")
    rejects(lambda: build(mode="avg"), "mode='avg'", "'min', 'max'")
    rejects(lambda: build(threshold_mode="pct"), "threshold_mode='pct'")
    rejects(lambda: build(threshold=-0.1), "threshold=-0.1")
    rejects(lambda: build(cooldown=1.5), "cooldown=1.5")
    rejects(lambda: build(min_lr=[0.1]), "min_lr", "1 values", "2 param groups")
    rejects(lambda: build(min_lr=-1.0), "min_lr=-1.0")
    rejects(lambda: build(eps=-1e-8), "eps=-1e-08")


def metric_runs(steps: int) -> st.SearchStrategy[list[float]]:
    """Metrics with plateaus (repeated values), trends and noise, of either sign."""
    value = st.one_of(st.integers(-5, 5).map(float), st.floats(-100.0, 100.0))
    run = st.tuples(value, st.integers(1, 15)).map(lambda p: [p[0]] * p[1])
    return st.lists(run, min_size=1, max_size=steps).map(
        lambda runs: ([v for r in runs for v in r] * steps)[:steps])


PLATEAU = SPECS["ReduceLROnPlateau"]


@st.composite
def plateau_case(draw: st.DrawFn, least: int = 0) -> tuple[list[float], dict[str, Any],
                                                          list[float]]:
    """Group lrs, the spec's arguments, and metrics for the spec's horizon (or `least`
    steps)."""
    lrs = draw(group_lrs())
    args = draw(args_of(PLATEAU, len(lrs)))
    return lrs, args, draw(metric_runs(max(least, PLATEAU.steps(args))))


@FAST
@given(case=plateau_case(), data=st.data())
def test_replay_from_any_saved_state(case: tuple[list[float], dict[str, Any], list[float]],
                                     data: st.DataObject) -> None:
    """Resuming from a saved state with the same metrics continues identically; the lrs
    never rise and never cross below min_lr from above."""
    lrs, args, metrics = case
    s = make("ReduceLROnPlateau", lrs, **args)
    check_replay(s, len(metrics), data.draw(st.integers(0, len(metrics))), metrics)
    traj = s.trajectory(len(metrics), metrics)
    floors = s.min_lr
    for before, after in pairwise(traj):
        for b, a, low in zip(before, after, floors, strict=True):
            assert a <= b and (a >= low or a == b)


@pytest.mark.torch
@FAST
@given(case=plateau_case(TORCH_STEPS))
def test_torch_plateau(case: tuple[list[float], dict[str, Any], list[float]]) -> None:
    lrs, args, metrics = case
    s = make("ReduceLROnPlateau", lrs, **args)
    seen, _ = run_torch("ReduceLROnPlateau", lrs, args, len(metrics), metrics=metrics)
    expected = s.trajectory(len(metrics), metrics)
    assert_rows(seen, expected, lambda t, g: CLOSED_ULPS * ulp(lrs[g]))
