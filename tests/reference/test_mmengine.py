"""Oracle tests for mmengine's lr schedules: values worked out by hand from mmengine's
documentation (its tutorial and migration guide count), the window's properties, rejections,
and a cross-check against the real package (skipped when mmengine is not installed)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.specs import SPECS, args_of
from reference import make
from reference.mmengine import FAMILY, INF
from tests.reference.support import (
    assert_rows,
    close,
    closed_ulps_check,
    group_lrs,
    optimizer,
    rejects,
    rows,
    run,
    spec_case,
)

FAST = settings(max_examples=15, deadline=None)


# -- by hand ----------------------------------------------------------------------------
def test_step_in_a_window() -> None:
    """begin = 2, end = 8, step_size 2, gamma 1/2: b before begin, the decays counted from
    begin, then the value of step 7 held."""
    close(rows("mmengine.StepLR", [1.0], 10, step_size=2, gamma=0.5, begin=2, end=8),
          [[1.0]] * 4 + [[0.5]] * 2 + [[0.25]] * 5)


def test_multistep_tutorial() -> None:
    """The tutorial's MultiStepLR(milestones=[8, 11], gamma=0.1) on lr 0.01: multiplied by
    0.1 'at the end of the 8 and 11 epoch'."""
    got = rows("mmengine.MultiStepLR", [0.01], 13, milestones=[8, 11], gamma=0.1)
    close(got, [[0.01]] * 8 + [[0.001]] * 3 + [[0.0001]] * 3)
    # From begin = 2 the milestones count from the window's start (local steps).
    late = rows("mmengine.MultiStepLR", [1.0], 8, milestones=[1, 3], gamma=0.5, begin=2)
    close(late, [[1.0]] * 3 + [[0.5]] * 2 + [[0.25]] * 4)


def test_exponential_window() -> None:
    """ExponentialLR(gamma=0.5, begin=1, end=4): b, b, b/2, b/4, then b/4."""
    close(rows("mmengine.ExponentialLR", [1.0, 0.5], 6, gamma=0.5, begin=1, end=4),
          [[1.0, 0.5]] * 2 + [[0.5, 0.25], [0.25, 0.125]] * 1 + [[0.25, 0.125]] * 3)


def test_constant_warmup_migration() -> None:
    """The migration guide's constant warm-up ConstantLR(factor=0.1, begin=0, end=500): the
    factor until the window's last step, which restores b (ruling: the end state on the
    window's last step)."""
    s = make("mmengine.ConstantLR", [2.0], factor=0.1, begin=0, end=500)
    assert s.lr(0) == s.lr(498) == pytest.approx([0.2], rel=1e-15)
    assert s.lr(499) == s.lr(500) == s.lr(10**6) == [2.0]
    close(rows("mmengine.ConstantLR", [1.0], 8, factor=0.5, begin=2, end=6),
          [[1.0]] * 2 + [[0.5]] * 3 + [[1.0]] * 4)


def test_linear_warmup_tutorial() -> None:
    """The tutorial's LinearLR(start_factor=0.001, begin=0, end=50): 0.001 b at 0, b on the
    last step of the window (49) and after; small case by hand: start 0.2 over [2, 6)."""
    s = make("mmengine.LinearLR", [1.0], start_factor=0.001, begin=0, end=50)
    assert s.lr(0) == pytest.approx([0.001], rel=1e-15)
    assert s.lr(49) == s.lr(50) == pytest.approx([1.0], rel=1e-15)
    assert s.lr(48)[0] < 1.0
    close(rows("mmengine.LinearLR", [1.0], 7, start_factor=0.2, begin=2, end=6),
          [[1.0], [1.0], [0.2], [0.2 + 0.8 / 3], [0.2 + 1.6 / 3], [1.0], [1.0], [1.0]])


def test_poly_reaches_eta_min_at_the_end() -> None:
    """PolyLR(eta_min=0.1, power=1, begin=2, end=6): T = 3 steps from b down to eta_min on
    the window's last step; power 2 squares the remaining fraction."""
    close(rows("mmengine.PolyLR", [1.0], 7, eta_min=0.1, begin=2, end=6),
          [[1.0], [1.0], [1.0], [0.7], [0.4], [0.1], [0.1], [0.1]])
    close(rows("mmengine.PolyLR", [1.0], 4, eta_min=0.0, power=2.0, begin=0, end=4),
          [[1.0], [4 / 9], [1 / 9], [0.0], [0.0]])


def test_cosine_tutorial() -> None:
    """The tutorial's CosineAnnealingLR(T_max=800, begin=100, end=900): b until 100, half way
    at 500, and the value of step 899 (one step short of eta_min) held from 900."""
    s = make("mmengine.CosineAnnealingLR", [1.0], T_max=800, eta_min=0.01, begin=100, end=900)
    assert s.lr(0) == s.lr(100) == [1.0]
    assert s.lr(500)[0] == pytest.approx(0.505, rel=1e-14)
    last = 0.01 + 0.99 * (1 + math.cos(799 * math.pi / 800)) / 2
    assert s.lr(899)[0] == pytest.approx(last, rel=1e-13)
    assert s.lr(900) == s.lr(5000) == s.lr(899)
    # T_max defaults to end - begin; eta_min_ratio is per group.
    got = rows("mmengine.CosineAnnealingLR", [1.0, 0.5], 7, begin=2, end=6, eta_min_ratio=0.5)
    half = [(1 + math.cos(math.pi * k / 4)) / 2 for k in range(4)]
    close(got, [[1.0, 0.5]] * 2 + [[0.5 + 0.5 * h, 0.25 + 0.25 * h] for h in half]
          + [[0.5 + 0.5 * half[3], 0.25 + 0.25 * half[3]]] * 2)


def test_onecycle_window() -> None:
    """OneCycleLR(eta_max=1, begin=2, end=6): b before begin; a 4-step cycle from 1/25 up and
    down to 1/25/1e4 on the window's last step, held after."""
    got = rows("mmengine.OneCycleLR", [0.3], 8, eta_max=1.0, begin=2, end=6)
    low, top, bottom = 1 / 25, 1.0, 1 / 25 / 1e4
    up_end = 0.3 * 4 - 1  # the first phase ends at pct_start * total_steps - 1 = 0.2

    def down(k: float) -> float:
        pct = (k - up_end) / (3 - up_end)
        return bottom + (top - bottom) / 2 * (math.cos(math.pi * pct) + 1)

    close(got, [[0.3], [0.3], [low], [down(1)], [down(2)], [bottom], [bottom], [bottom],
                [bottom]])


def test_cosine_restart_migration() -> None:
    """The migration guide's CosineRestartLR(periods=[5, 10, 15], restart_weights=[1, 0.7,
    0.3], eta_min=0.001) on lr 0.1: each period starts at weight * b and anneals towards
    eta_min; past the last period the lr holds."""
    s = make("mmengine.CosineRestartLR", [0.1], periods=[5, 10, 15],
             restart_weights=[1, 0.7, 0.3], eta_min=0.001)
    assert s.lr(0) == pytest.approx([0.1], rel=1e-15)
    assert s.lr(5) == pytest.approx([0.07], rel=1e-15)
    assert s.lr(15) == pytest.approx([0.03], rel=1e-15)
    assert s.lr(2)[0] == pytest.approx(0.001 + 0.099 * (1 + math.cos(2 * math.pi / 5)) / 2,
                                       rel=1e-14)
    assert s.lr(30) == s.lr(100) == s.lr(29)


def test_plateau_patience_example() -> None:
    """The docstring's patience = 2: the first 2 bad epochs are ignored, the lr drops after
    the 3rd; with begin = 3 the metrics of epochs 1 and 2 are not seen at all."""
    s = make("mmengine.ReduceOnPlateauLR", [1.0], patience=2, factor=0.5)
    got = s.trajectory(5, [1.0, 1.0, 1.0, 1.0, 1.0])
    assert got == [[1.0]] * 4 + [[0.5], [0.5]]
    late = make("mmengine.ReduceOnPlateauLR", [1.0], patience=0, factor=0.5, begin=3)
    # Epochs 1, 2 ignored; epoch 3 sets best = 5; epoch 4 is bad: drop.
    assert late.trajectory(4, [1.0, 9.0, 5.0, 6.0]) == [[1.0]] * 4 + [[0.5]]


# -- properties --------------------------------------------------------------------------
@FAST
@given(lrs=group_lrs(), data=st.data())
def test_window_bounds(lrs: list[float], data: st.DataObject) -> None:
    """Every schedule leaves the groups' lrs alone before begin and holds the value of
    end - 1 from end on."""
    for name in FAMILY:
        if name == "mmengine.ReduceOnPlateauLR":
            continue
        args = data.draw(args_of(name, len(lrs)), label=name)
        try:
            s = make(name, lrs, **args)
        except ValueError:
            continue  # a zero-length 1cycle phase
        begin, end = args["begin"], args["end"]
        for e in range(min(begin, 40)):
            assert s.lr(e) == lrs, (name, e)
        if (args.get("total_steps") or INF) < end - begin:
            continue  # the package raises past the cycle's total_steps
        if end < INF:
            assert s.lr(end) == s.lr(end + 7) == s.lr(end - 1), name


@FAST
@given(lrs=group_lrs(), data=st.data())
def test_recurrence_matches_closed_form(lrs: list[float], data: st.DataObject) -> None:
    """Each chainable schedule's recurrence stays within its error bound of its closed
    form, windows included."""
    for name in FAMILY:
        s = SPECS[name].schedule
        if not s.chainable:
            continue
        args = data.draw(args_of(name, len(lrs)), label=name)
        sched = make(name, lrs, **args)
        steps = min(SPECS[name].steps(args), 120)
        ref = sched.reference(steps)
        assert_rows(sched.recurrence(steps), ref, sched.tolerance(steps, ref), name)


def test_same_as_torch_with_total_iters_end_minus_one() -> None:
    """From begin = 0, ConstantLR and LinearLR with end = T + 1 are torch's with
    total_iters = T (the window's end is exclusive, torch's total_iters inclusive)."""
    for T in (1, 2, 5, 17):
        torch_c = make("ConstantLR", [1.0], factor=0.25, total_iters=T)
        ours_c = make("mmengine.ConstantLR", [1.0], factor=0.25, end=T + 1)
        torch_l = make("LinearLR", [1.0], start_factor=0.25, end_factor=0.5, total_iters=T)
        ours_l = make("mmengine.LinearLR", [1.0], start_factor=0.25, end_factor=0.5, end=T + 1)
        for e in range(T + 4):
            assert ours_c.lr(e) == torch_c.lr(e)
            assert ours_l.lr(e) == torch_l.lr(e)


def test_rejects_invalid() -> None:
    rejects(lambda: make("mmengine.StepLR", [0.1], step_size=2, begin=5, end=5), "end=5")
    rejects(lambda: make("mmengine.StepLR", [0.1], step_size=2, begin=-1), "begin=-1")
    rejects(lambda: make("mmengine.ConstantLR", [0.1], begin=3, end=4), "end=4", "end >= ")
    rejects(lambda: make("mmengine.ConstantLR", [0.1], factor=0.0), "factor=0.0")
    rejects(lambda: make("mmengine.LinearLR", [0.1], start_factor=0.0), "start_factor=0.0")
    rejects(lambda: make("mmengine.PolyLR", [0.1], power=-1.0), "power=-1.0")
    rejects(lambda: make("mmengine.CosineAnnealingLR", [0.1], eta_min=0.0, eta_min_ratio=0.1),
            "at most one")
    rejects(lambda: make("mmengine.CosineAnnealingLR", [0.1], T_max=0), "T_max=0")
    rejects(lambda: make("mmengine.CosineRestartLR", [0.1], periods=[2, 3], eta_min=0.0),
            "restart_weights")
    rejects(lambda: make("mmengine.CosineRestartLR", [0.1], periods=[2]), "exactly one")
    rejects(lambda: make("mmengine.CosineRestartLR", [0.1], periods=[0], eta_min=0.0),
            "periods")
    rejects(lambda: make("mmengine.OneCycleLR", [0.1], eta_max=1.0, end=10, pct_start=0.1),
            "pct_start")
    rejects(lambda: make("mmengine.OneCycleLR", [0.1], eta_max=0.0, end=10), "eta_max")
    rejects(lambda: make("mmengine.ReduceOnPlateauLR", [0.1], factor=1.0), "factor=1.0")
    rejects(lambda: make("mmengine.ReduceOnPlateauLR", [0.1], by_epoch=False), "by_epoch")


# -- the real mmengine -------------------------------------------------------------------
def run_mmengine(name: str, lrs: list[float], args: dict[str, Any], steps: int,
                 metrics: list[float] | None = None) -> list[list[float]]:
    """Build mmengine's class and step it as its runner does (optimizer.step() first; a
    plateau gets a training-epoch step() and then step({monitor: metric}))."""
    module = pytest.importorskip("mmengine.optim.scheduler",
                                 reason="mmengine is not installed")

    def step(sched: Any, opt: Any, i: int) -> None:
        sched.step()
        if metrics is not None:
            sched.step({"loss": metrics[i]})

    return run(lambda opt: getattr(module, name.removeprefix("mmengine."))(opt, **args), lrs,
               steps, step).lrs


@pytest.mark.torch
@pytest.mark.parametrize("name", FAMILY)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_mmengine_agrees(name: str, data: st.DataObject) -> None:
    """mmengine's class follows the oracle over the suite's own argument strategies: within
    the recurrence's error bound where it is chainable, the closed form's tolerance where
    not, and exactly (up to rounding of the drop) for the plateau."""
    pytest.importorskip("mmengine", reason="mmengine is not installed")
    lrs, args = data.draw(spec_case(name))
    try:
        oracle = make(name, lrs, **args)
    except ValueError:
        return  # outside the documented domain (a zero-length 1cycle phase)
    steps = SPECS[name].steps(args)
    if oracle.needs_metric:
        metrics = data.draw(st.lists(st.one_of(st.sampled_from([1.0, 0.5, 2.0]),
                                               st.floats(0.0, 10.0)),
                                     min_size=steps, max_size=steps))
        got = run_mmengine(name, lrs, args, steps, metrics)
        want = oracle.trajectory(steps, metrics)
        assert_rows(got, want, lambda t, g: 4 * 2.0**-52 * max(lrs), name)
        return
    got = run_mmengine(name, lrs, args, steps)
    if oracle.chainable:
        ref = oracle.reference(steps)
        assert_rows(got, ref, oracle.tolerance(steps, ref), name)
    else:
        closed_ulps_check(oracle, got)


@pytest.mark.torch
@pytest.mark.xfail(strict=True, reason="mmengine's plateau starts best at +-1e9 (its INF), "
                                       "not +-inf: a first metric beyond it counts as bad")
def test_plateau_first_metric_is_best() -> None:
    """The first metric is the best so far whatever its size (torch's inf): with a loss of
    2e9 and patience 0, the lr does not drop at the first epoch."""
    pytest.importorskip("mmengine", reason="mmengine is not installed")
    args = {"patience": 0, "factor": 0.5}
    got = run_mmengine("mmengine.ReduceOnPlateauLR", [1.0], args, 1, [2e9])
    assert got == make("mmengine.ReduceOnPlateauLR", [1.0], **args).trajectory(1, [2e9])


@pytest.mark.torch
@pytest.mark.parametrize(("name", "args"), [
    ("LinearLR", {"start_factor": 0.0, "end": 5}),
    ("ConstantLR", {"factor": 0.0, "end": 3}),
])
@pytest.mark.xfail(strict=True, reason="mmengine accepts a factor of 0 ('between 0 and 1'), "
                                       "then divides by it: ZeroDivisionError mid-window")
def test_zero_factor_is_rejected(name: str, args: dict[str, Any]) -> None:
    """A factor the schedule later divides by is rejected when the scheduler is built (the
    oracle's domain; torch rejects it too), not a ZeroDivisionError steps later."""
    module = pytest.importorskip("mmengine.optim.scheduler",
                                 reason="mmengine is not installed")
    rejects(lambda: make(f"mmengine.{name}", [1.0], **args), "factor=0.0")
    with pytest.raises(ValueError):
        getattr(module, name)(optimizer([1.0]), **args)
