"""Oracle tests for timm's schedulers: values worked out by hand from timm's docstrings and
tutorials, properties, rejections, and a cross-check against timm.scheduler (skipped when
timm is not installed), with the places where timm 1.0.31 departs from its documentation as
strict xfails (docs/spec/timm.md, "Checked against timm")."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.specs import SPECS
from reference import make, ulps
from reference.base import Schedule
from reference.timm import FAMILY
from tests.reference.support import (
    assert_imports_no_torch_or_numpy,
    close,
    group_lrs,
    rejects,
    rows,
    run,
    spec_case,
    uncapped,
    widened,
)

FAST = settings(max_examples=30, deadline=None)
CYCLES = ("timm.CosineLRScheduler", "timm.TanhLRScheduler", "timm.PolyLRScheduler")
#: A floor up to 1e-3, above the suite's largest (1e-4): over every group's lr as often as
#: under it.
HIGH_FLOOR = st.floats(0.0, 1e-3)


def test_oracle_imports_no_torch_or_numpy() -> None:
    assert_imports_no_torch_or_numpy("reference.timm")


# -- by hand: cosine, tanh, poly ---------------------------------------------------------------
def test_cosine_one_cycle_then_lr_min() -> None:
    """SGDR's curve over t_initial = 4 steps, b = 1, lr_min = 0.1; then lr_min (one cycle:
    the tutorial's cycle_limit=1 plot, 'cooldown ... at min_lr after the schedule ends')."""
    c = (1 + math.cos(math.pi / 4)) / 2
    close(rows("timm.CosineLRScheduler", [1.0, 2.0], 6, t_initial=4, lr_min=0.1),
          [[1.0, 2.0], [0.1 + 0.9 * c, 0.1 + 1.9 * c], [0.55, 1.05],
           [0.1 + 0.9 * (1 - c), 0.1 + 1.9 * (1 - c)], [0.1, 0.1], [0.1, 0.1], [0.1, 0.1]])


def test_cosine_restarts_decay_and_grow() -> None:
    """t_initial = 2, cycle_mul = 2, cycle_decay = 0.5, three cycles: cycles of 2, 4 and 8
    steps starting at 0, 2 and 6, from 1, 0.5 and 0.25; lr_min (0) from 14 on."""
    s = make("timm.CosineLRScheduler", [1.0], t_initial=2, cycle_mul=2.0, cycle_decay=0.5,
             cycle_limit=3)
    assert [s.lr(t)[0] for t in (0, 1, 2, 4, 6, 10, 14, 20)] == pytest.approx(
        [1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 0.0, 0.0], abs=1e-16)
    assert s.cycle(5) == (1, 0.75) and s.cycle(13) == (2, 0.875) and s.cycle(14) is None


def test_cosine_k_decay() -> None:
    """k-decay: the cosine runs over r^k; k = 2 at r = 1/2 is the plain cosine at 1/4."""
    s = make("timm.CosineLRScheduler", [1.0], t_initial=4, k_decay=2.0)
    assert s.lr(2)[0] == pytest.approx((1 + math.cos(math.pi / 4)) / 2, rel=1e-15)


def test_warmup_with_and_without_prefix() -> None:
    """The tutorial: 'starts with a value of warmup_lr_init, then gradually progresses up to
    the initial_lr ... It takes warmup_t number of epochs'; warmup_prefix=True: 'epoch =
    epoch - warmup_t'. W = 2, init = 0.2, b = 1, t_initial = 4."""
    plain = rows("timm.CosineLRScheduler", [1.0], 3, t_initial=4, warmup_t=2,
                 warmup_lr_init=0.2)
    close(plain, [[0.2], [0.6], [0.5], [(1 - math.cos(math.pi / 4)) / 2]])
    shifted = rows("timm.CosineLRScheduler", [1.0], 6, t_initial=4, warmup_t=2,
                   warmup_lr_init=0.2, warmup_prefix=True)
    close(shifted, [[0.2], [0.6], [1.0], [(1 + math.cos(math.pi / 4)) / 2], [0.5],
                    [(1 - math.cos(math.pi / 4)) / 2], [0.0]])


def test_tanh_by_hand() -> None:
    """f(r) = (1 - tanh(L + (U - L) r)) / 2 with the defaults L = -7, U = 3: at r = 1/2 the
    argument is -2; at r = 0 the value is just under b (tanh(-7) > -1)."""
    s = make("timm.TanhLRScheduler", [2.0], t_initial=10, lr_min=0.5)
    assert s.lr(5)[0] == pytest.approx(0.5 + 1.5 * (1 - math.tanh(-2.0)) / 2, rel=1e-15)
    assert s.lr(0)[0] == pytest.approx(0.5 + 1.5 * (1 - math.tanh(-7.0)) / 2, rel=1e-15)
    assert s.lr(0)[0] < 2.0
    assert s.lr(10) == [0.5]


def test_poly_by_hand() -> None:
    """(1 - r^k)^power: power 2 at r = 1/4 is 9/16; power 1 is linear; k = 2 squares r."""
    assert make("timm.PolyLRScheduler", [1.0], t_initial=4, power=2.0).lr(1) == [0.5625]
    close(rows("timm.PolyLRScheduler", [1.0], 5, t_initial=4, power=1.0, lr_min=0.2),
          [[1.0], [0.8], [0.6], [0.4], [0.2], [0.2]])
    assert make("timm.PolyLRScheduler", [1.0], t_initial=4, power=1.0,
                k_decay=2.0).lr(2) == [0.75]


def test_lr_min_is_a_lower_bound() -> None:
    """'lr_min ... The learning rate does not ever go below this value' (the SGDR and tanh
    tutorials), 'lr lower bound' (create_scheduler_v2): a cycle whose peak b d^i is under
    lr_min stays at lr_min."""
    s = make("timm.CosineLRScheduler", [1.0], t_initial=4, cycle_decay=0.1, cycle_limit=3,
             lr_min=0.05)
    assert s.lr(4) == [0.1] and s.lr(8) == [0.05] and s.lr(10) == [0.05]


# -- by hand: step, multi-step ---------------------------------------------------------------
def test_step_by_hand() -> None:
    """'reduce the learning rate by decay_rate ... every 5 epochs' (the tutorial): with
    decay_t = 2 and rate 1/2, halved at 2, 4, ...; a warmup prefix shifts it (the default)."""
    close(rows("timm.StepLRScheduler", [1.0], 5, decay_t=2, decay_rate=0.5),
          [[1.0], [1.0], [0.5], [0.5], [0.25], [0.25]])
    close(rows("timm.StepLRScheduler", [1.0], 5, decay_t=2, decay_rate=0.5, warmup_t=2),
          [[0.0], [0.5], [1.0], [1.0], [0.5], [0.5]])
    close(rows("timm.StepLRScheduler", [1.0], 4, decay_t=2, decay_rate=0.5, warmup_t=2,
               warmup_prefix=False), [[0.0], [0.5], [0.5], [0.5], [0.25]])


def test_step_fractional_decay_t_is_exact() -> None:
    """decay_t = 0.1 (a float; the double 0.1 is a little over a tenth): step 1 is 9 decays,
    not 10; decay_t = 1.5: decays at 1.5, 3, 4.5, ... so step 3 is the second."""
    assert make("timm.StepLRScheduler", [1.0], decay_t=0.1, decay_rate=0.5).lr(1) == [0.5**9]
    assert make("timm.StepLRScheduler", [1.0], decay_t=1.5, decay_rate=0.5).lr(3) == [0.25]


def test_multistep_docstring_example() -> None:
    """'without warmup, a milestone of 10 applies at schedule index 9' (t + 1 is compared);
    with the default warmup prefix, t excludes the warmup."""
    s = make("timm.MultiStepLRScheduler", [1.0], decay_t=[10, 20], decay_rate=0.1)
    assert [s.lr(t)[0] for t in (8, 9, 18, 19)] == pytest.approx([1.0, 0.1, 0.1, 0.01])
    w = make("timm.MultiStepLRScheduler", [1.0], decay_t=[10], decay_rate=0.1, warmup_t=3)
    assert w.lr(11) == [1.0] and w.lr(12)[0] == pytest.approx(0.1)
    twice = make("timm.MultiStepLRScheduler", [1.0], decay_t=[2, 2], decay_rate=0.5)
    assert twice.lr(1) == [0.25]


# -- by hand: WSD ---------------------------------------------------------------------------
def test_wsd_docstring_note() -> None:
    """'lr_min is reached at t = warmup_t + t_initial, one step past the last scheduled step
    ... the last of 5 decay epochs w/ 1-sqrt is at ~10% of the stable lr'."""
    s = make("timm.WSDLRScheduler", [1.0], t_initial=10, decay_t=5, warmup_t=2)
    assert [s.lr(t)[0] for t in (0, 1, 2, 7)] == [0.0, 0.5, 1.0, 1.0]
    assert s.lr(11)[0] == pytest.approx(1 - math.sqrt(0.8), rel=1e-15)  # ~0.106
    assert s.lr(12) == [0.0] and s.lr(30) == [0.0]


def test_wsd_functions() -> None:
    """rsqrt: (1 + s / tau)^-1/2 with tau = warmup_t by default; the decay multiplies the
    stable value: linear halfway is 1/2; exp: (r^frac - r) / (1 - r)."""
    s = make("timm.WSDLRScheduler", [1.0], t_initial=16, decay_t=4, warmup_t=4,
             stable_fn="rsqrt", decay_fn="linear")
    assert s.lr(16)[0] == pytest.approx(1 / math.sqrt(4), rel=1e-15)
    assert s.lr(18)[0] == pytest.approx((1 + 14 / 4) ** -0.5 / 2, rel=1e-15)
    e = make("timm.WSDLRScheduler", [1.0], t_initial=4, decay_t=4, decay_fn="exp",
             decay_ratio=0.25, lr_min=0.1)
    assert e.lr(2)[0] == pytest.approx(0.1 + 0.9 * (0.5 - 0.25) / 0.75, rel=1e-15)


def test_wsd_stable_value_floored_at_lr_min() -> None:
    """A decaying stable function is kept at lr_min or above ('lr lower bound'): the power
    stable value under lr_min leaves nothing to decay."""
    s = make("timm.WSDLRScheduler", [1.0], t_initial=200, decay_t=10, stable_fn="power",
             stable_power=2.0, stable_timescale=1.0, lr_min=0.01)
    assert s.lr(50) == [0.01] and s.lr(195) == [0.01]


# -- by hand: plateau --------------------------------------------------------------------------
def test_plateau_warmup_then_reduce_on_plateau() -> None:
    """Two warmup steps ignore their metrics; then ReduceLROnPlateau's rules with timm's
    default mode 'max' (a higher metric is better) and patience_t = 0."""
    s = make("timm.PlateauLRScheduler", [1.0], warmup_t=2, warmup_lr_init=0.5, patience_t=0,
             decay_rate=0.5)
    traj = s.trajectory(6, [0.0, 0.0, 3.0, 2.0, 4.0, 4.0])
    assert traj == [[0.5], [0.75], [1.0], [1.0], [0.5], [0.5], [0.25]]


# -- properties ------------------------------------------------------------------------------
@FAST
@given(lrs=group_lrs(3), name=st.sampled_from(CYCLES), data=st.data())
def test_cycles_shape(lrs: list[float], name: str, data: st.DataObject) -> None:
    """After the warmup every cycle schedule stays within [lr_min, max(b, lr_min)]; a cycle
    of cosine or poly starts exactly at max(b d^i, lr_min); lr_min after the last cycle."""
    args = data.draw(widened(name, lr_min=HIGH_FLOOR)(lrs))
    s = make(name, lrs, **args)
    W = args["warmup_t"]
    for t in range(W, W + 300):
        found = s.cycle(s.start(t))
        for v, b in zip(s.lr(t), lrs, strict=True):
            assert args["lr_min"] <= v <= max(b, args["lr_min"]) * (1 + 1e-15)
            if found is None:
                assert v == args["lr_min"]
            elif found[1] == 0.0 and name != "timm.TanhLRScheduler":
                assert v == pytest.approx(max(b * args["cycle_decay"] ** found[0],
                                              args["lr_min"]), rel=1e-15)


@FAST
@given(T0=st.integers(1, 20), m=st.sampled_from([2.0, 3.0, 10.0, 1.5, 1.25]),
       limit=st.integers(1, 12))
def test_restarts_land_on_the_sum_of_the_cycle_lengths(T0: int, m: float, limit: int) -> None:
    """Cycle i starts at S_i = T0 (1 + m + ... + m^(i-1)): the step there is r = 0 of cycle
    i, the step before it is in cycle i - 1 (exactly, where a float logarithm is not)."""
    s = make("timm.CosineLRScheduler", [1.0], t_initial=T0, cycle_mul=m, cycle_limit=limit)
    start, length = 0.0, float(T0)
    for i in range(limit):
        if start == int(start):
            assert s.cycle(start) == (i, 0.0)
        if i:
            assert s.cycle(math.ceil(start) - 1)[0] == i - 1
        start, length = start + length, length * m
    assert s.cycle(math.ceil(start)) is None


@FAST
@given(lrs=group_lrs(3), name=st.sampled_from(FAMILY[:-1]), W=st.integers(1, 20),
       init=st.floats(0.0, 1e-4))
def test_every_warmup_is_linear_from_init_to_b(lrs: list[float], name: str, W: int,
                                               init: float) -> None:
    """warmup_lr_init at t = 0, up to b in W equal steps (the last one, b, is where a prefixed
    schedule starts)."""
    table: dict[str, dict[str, Any]] = {
        "timm.CosineLRScheduler": {"t_initial": 10}, "timm.TanhLRScheduler": {"t_initial": 10},
        "timm.PolyLRScheduler": {"t_initial": 10}, "timm.StepLRScheduler": {"decay_t": 3},
        "timm.MultiStepLRScheduler": {"decay_t": [5]},
        "timm.WSDLRScheduler": {"t_initial": 10, "decay_t": 3},
    }
    s = make(name, lrs, warmup_t=W, warmup_lr_init=init, **table[name])
    for t in range(W):
        assert s.lr(t) == pytest.approx([init + (b - init) * t / W for b in lrs], rel=1e-15)


@FAST
@given(lrs=group_lrs(3), data=st.data())
def test_wsd_shape(lrs: list[float], data: st.DataObject) -> None:
    """WSD never leaves [lr_min, max(b, lr_min)] after its warmup, is continuous where the
    decay starts, and is lr_min from W + T on."""
    args = data.draw(widened("timm.WSDLRScheduler", lr_min=HIGH_FLOOR)(lrs))
    T, W, lr_min = args["t_initial"], args["warmup_t"], args["lr_min"]
    s = make("timm.WSDLRScheduler", lrs, **args)
    for t in range(W, uncapped("timm.WSDLRScheduler", args)):
        for v, b in zip(s.lr(t), lrs, strict=True):
            assert lr_min <= v <= max(b, lr_min) * (1 + 1e-15)
    assert s.lr(W + T) == [lr_min] * len(lrs)


@FAST
@given(lrs=group_lrs(3), milestones=st.lists(st.integers(0, 40), min_size=1, max_size=4),
       rate=st.floats(0.05, 1.0))
def test_multistep_counts_milestones_at_t_plus_one(lrs: list[float], milestones: list[int],
                                                   rate: float) -> None:
    milestones.sort()
    s = make("timm.MultiStepLRScheduler", lrs, decay_t=milestones, decay_rate=rate)
    for t in range(45):
        n = sum(m <= t + 1 for m in milestones)
        assert s.lr(t) == pytest.approx([b * rate**n for b in lrs], rel=1e-15)


def test_rejects_invalid() -> None:
    rejects(lambda: make("timm.CosineLRScheduler", [0.1], t_initial=0), "t_initial=0")
    rejects(lambda: make("timm.CosineLRScheduler", [0.1], t_initial=5, cycle_mul=0.5),
            "cycle_mul=0.5")
    rejects(lambda: make("timm.CosineLRScheduler", [0.1], t_initial=5, cycle_limit=0),
            "cycle_limit=0")
    rejects(lambda: make("timm.CosineLRScheduler", [0.1], t_initial=5, cycle_decay=0.0),
            "cycle_decay=0.0")
    rejects(lambda: make("timm.CosineLRScheduler", [0.1], t_initial=5, k_decay=0.0),
            "k_decay=0.0")
    rejects(lambda: make("timm.PolyLRScheduler", [0.1], t_initial=5, power=-1.0), "power")
    rejects(lambda: make("timm.TanhLRScheduler", [0.1], t_initial=5, lb=1.0, ub=1.0),
            "ub=1.0", "lb = 1.0")
    rejects(lambda: make("timm.StepLRScheduler", [0.1], decay_t=0), "decay_t=0")
    rejects(lambda: make("timm.StepLRScheduler", [0.1], decay_t=2, decay_rate=1.5),
            "decay_rate=1.5")
    rejects(lambda: make("timm.MultiStepLRScheduler", [0.1], decay_t=[20, 10]),
            "decay_t=[20, 10]", "sorted")
    rejects(lambda: make("timm.WSDLRScheduler", [0.1], t_initial=5, decay_t=6),
            "decay_t=6")
    rejects(lambda: make("timm.WSDLRScheduler", [0.1], t_initial=5, decay_t=2,
                         stable_fn="rsqrt"), "stable_timescale=None")
    rejects(lambda: make("timm.WSDLRScheduler", [0.1], t_initial=5, decay_t=2,
                         decay_fn=math.sqrt), "decay_fn")
    rejects(lambda: make("timm.WSDLRScheduler", [0.1], t_initial=5, decay_t=2,
                         decay_ratio=1.0), "decay_ratio=1.0")
    rejects(lambda: make("timm.PlateauLRScheduler", [0.1], decay_rate=1.0), "decay_rate=1.0")
    rejects(lambda: make("timm.PlateauLRScheduler", [0.1], mode="avg"), "mode='avg'")
    rejects(lambda: make("timm.CosineLRScheduler", [0.1], t_initial=5, noise_range_t=3),
            "noise_range_t")


# -- the real timm -----------------------------------------------------------------------------
def run_timm(name: str, lrs: list[float], args: dict[str, Any], steps: int,
             metrics: list[float] | None = None) -> list[list[float]]:
    """Build timm's class and drive it by timm's protocol: the lrs after construction, then
    after step(t) (step_update(t) when t_in_epochs is false; step(t, metric) for the
    plateau) for t = 1 ... steps."""
    scheduler = pytest.importorskip("timm.scheduler", reason="timm is not installed")

    def step(sched: Any, opt: Any, i: int) -> None:
        if metrics is not None:
            sched.step(i + 1, metrics[i])
        elif args.get("t_in_epochs", True):
            sched.step(i + 1)
        else:
            sched.step_update(i + 1)

    return run(lambda opt: getattr(scheduler, name.removeprefix("timm."))(opt, **args), lrs,
               steps, step).lrs


def timm_cycle(s: float, T0: int, m: float) -> int:
    """The cycle index timm 1.0.31 computes: floor(log(1 - s / T0 (1 - m), m))."""
    return math.floor(math.log(1 - s / T0 * (1 - m), m)) if m != 1 else int(s // T0)


def departs(name: str, oracle: Schedule, args: dict[str, Any], lrs: list[float],
            t: int) -> str | None:
    """Why step t is one of the places where timm departs from its documentation (each has
    an xfail test below), or None."""
    W = args.get("warmup_t", 0)
    if name == "timm.TanhLRScheduler" and ((t == 0 and W == 0) or
                                           (t < W and not args["warmup_prefix"])):
        return "tanh warmup target, or b after construction"
    if name == "timm.MultiStepLRScheduler" and t == 0 and W == 0 and min(args["decay_t"]) <= 1:
        return "milestone <= 1 not applied by the constructor"
    if name in CYCLES and t >= W:
        s = oracle.start(t)
        found = oracle.cycle(s)
        if found is not None and any(b * args["cycle_decay"] ** found[0] < args["lr_min"]
                                     for b in lrs):
            return "a peak under lr_min"
        theirs = timm_cycle(s, args["t_initial"], args["cycle_mul"])
        if (found is None and theirs < args["cycle_limit"]) or (
                found is not None and theirs != found[0]):
            return "a restart timm's logarithm misplaces"
    return None


@pytest.mark.torch
@pytest.mark.parametrize("name", FAMILY)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_timm_agrees(name: str, data: st.DataObject) -> None:
    """Driven by timm's protocol, on the suite's own argument strategies, every step is the
    oracle's within its closed-form tolerance, but where timm departs from its docs."""
    pytest.importorskip("timm.scheduler", reason="timm is not installed")
    spec = SPECS[name]
    lrs, args = data.draw(spec_case(name))
    try:
        oracle = spec.oracle(lrs, args)
    except ValueError:
        return
    steps = spec.steps(args)
    metrics = None
    if oracle.needs_metric:
        metrics = data.draw(st.lists(st.sampled_from([1.0, 0.5, 2.0]) | st.floats(-5, 5),
                                     min_size=steps, max_size=steps))
        expected = oracle.trajectory(steps, metrics)
    else:
        expected = oracle.reference(steps)
    seen = run_timm(name, lrs, args, steps, metrics)
    for t, (got, want) in enumerate(zip(seen, expected, strict=True)):
        if not oracle.needs_metric and departs(name, oracle, args, lrs, t):
            continue
        for g, (a, e, scale) in enumerate(zip(got, want, oracle.scale(want), strict=True)):
            assert ulps(a, e, scale) <= oracle.closed_ulps(t), (t, g, a, e, args)


def timm_lr(name: str, lrs: list[float], args: dict[str, Any], t: int) -> list[float]:
    return run_timm(name, lrs, args, t)[t]


@pytest.mark.torch
@pytest.mark.parametrize("name", CYCLES)
@pytest.mark.xfail(strict=True, reason="timm's cycles go under lr_min when a cycle's peak "
                                       "b cycle_decay^i is under it (documented lower bound)")
def test_timm_lr_min_is_a_lower_bound(name: str) -> None:
    args = {"t_initial": 4, "cycle_decay": 0.1, "cycle_limit": 3, "lr_min": 0.05}
    assert timm_lr(name, [1.0], args, 8)[0] >= 0.05


@pytest.mark.torch
@pytest.mark.parametrize("name", CYCLES)
@pytest.mark.xfail(strict=True, reason="timm finds the cycle by floor(log(...)), which lands "
                                       "a step short of the 6th cycle's start for m = 3")
def test_timm_restarts_on_time(name: str) -> None:
    """cycle_mul = 3, t_initial = 1: cycle 5 starts at 1 + 3 + 9 + 27 + 81 = 121, where
    math.log(243, 3) is 4.999999999999999."""
    args = {"t_initial": 1, "cycle_mul": 3.0, "cycle_limit": 10}
    oracle = make(name, [1.0], **args)
    assert timm_lr(name, [1.0], args, 121) == pytest.approx(oracle.lr(121), rel=1e-12)


@pytest.mark.torch
@pytest.mark.xfail(strict=True, reason="timm's tanh warmup without prefix heads for the tanh "
                                       "value at warmup_t, not for the group's lr")
def test_timm_tanh_warmup_ends_at_b() -> None:
    args = {"t_initial": 10, "lb": -1.0, "warmup_t": 2}
    assert timm_lr("timm.TanhLRScheduler", [1.0], args, 1) == pytest.approx([0.5])


@pytest.mark.torch
@pytest.mark.xfail(strict=True, reason="timm's constructor leaves b, not the tanh schedule's "
                                       "value at t = 0 (which step(0) sets)")
def test_timm_tanh_starts_on_the_schedule() -> None:
    oracle = make("timm.TanhLRScheduler", [1.0], t_initial=10)
    assert timm_lr("timm.TanhLRScheduler", [1.0], {"t_initial": 10}, 0) == oracle.lr(0)


@pytest.mark.torch
@pytest.mark.xfail(strict=True, reason="timm's constructor leaves b although milestone 1 "
                                       "applies at schedule index 0 (its docstring)")
def test_timm_multistep_milestone_one_applies_at_zero() -> None:
    args = {"decay_t": [1], "decay_rate": 0.5}
    assert timm_lr("timm.MultiStepLRScheduler", [1.0], args, 0) == [0.5]
