"""Oracle tests for DeepSpeed's schedules: values worked out by hand from the documentation
(the docstrings and the 1-Cycle and LR range test tutorials), properties, rejections, and a
cross-check against the real `deepspeed.runtime.lr_schedules` (skipped when DeepSpeed is not
installed), with the package's disagreements with the documentation as strict xfails."""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.specs import SPECS
from conformance.specs.deepspeed import MODULE
from reference import make
from reference.base import ulp
from reference.deepspeed import FAMILY, WARMUP_TYPES
from tests.reference.support import (
    Trajectory,
    assert_rows,
    close,
    closed_ulps_check,
    group_lrs,
    rejects,
    rows,
    run,
    spec_case,
)

FAST = settings(max_examples=50, deadline=None)
WARMUPS = ("deepspeed.WarmupLR", "deepspeed.WarmupDecayLR", "deepspeed.WarmupCosineLR")


# -- by hand --------------------------------------------------------------------------------
def test_warmup_linear_by_hand() -> None:
    """W = 4 from 0 to 1: the lr reads the last batch index t = e - 1, so the min holds for
    construction and the first batch, then t / 4, and 1 from t = W on."""
    close(rows("deepspeed.WarmupLR", [0.3], 6, warmup_min_lr=0.0, warmup_max_lr=1.0,
               warmup_num_steps=4, warmup_type="linear"),
          [[0.0], [0.0], [0.25], [0.5], [0.75], [1.0], [1.0]])


def test_warmup_log_by_hand() -> None:
    """W = 4, log: ln(t + 1) / ln 4, so 0, 0, 1/2, ln 3 / ln 4, then 1 from t = W - 1."""
    close(rows("deepspeed.WarmupLR", [0.3], 5, warmup_min_lr=0.0, warmup_max_lr=1.0,
               warmup_num_steps=4, warmup_type="log"),
          [[0.0], [0.0], [0.5], [math.log(3) / math.log(4)], [1.0], [1.0]])


def test_warmup_max_none_is_the_group_lrs() -> None:
    """warmup_max_lr None: each group warms up to its own lr at construction."""
    close(rows("deepspeed.WarmupLR", [0.5, 0.2], 3, warmup_min_lr=0.0, warmup_num_steps=2,
               warmup_type="linear"),
          [[0.0, 0.0], [0.0, 0.0], [0.25, 0.1], [0.5, 0.2]])
    close(rows("deepspeed.WarmupLR", [0.5, 0.2], 3, warmup_min_lr=[0.1, 0.0],
               warmup_max_lr=[0.5, 1.0], warmup_num_steps=2, warmup_type="linear"),
          [[0.1, 0.0], [0.1, 0.0], [0.3, 0.5], [0.5, 1.0]])


def test_warmup_decay_by_hand() -> None:
    """Linear W = 2, T = 6, from 0.1 to 1.1: up to 1.1 at t = 2, down to 0.1 at t = T = 6
    (e = 7), and 0.1 after."""
    close(rows("deepspeed.WarmupDecayLR", [1.0], 8, total_num_steps=6, warmup_min_lr=0.1,
               warmup_max_lr=1.1, warmup_num_steps=2, warmup_type="linear"),
          [[0.1], [0.1], [0.6], [1.1], [0.85], [0.6], [0.35], [0.1], [0.1]])


def test_warmup_cosine_by_hand() -> None:
    """Log W = 4, T = 10, b = 2, cos_min_ratio 0.1: 2 ln(n) / ln 4 after n batches up to 2
    at n = 4, then 0.2 + 1.8 (1 + cos(pi (n - 4) / 6)) / 2 down to 0.2 at n = T, held."""
    got = rows("deepspeed.WarmupCosineLR", [2.0], 12, total_num_steps=10, warmup_min_ratio=0.0,
               warmup_num_steps=4, cos_min_ratio=0.1, warmup_type="log")
    want = [[0.0], [0.0], [1.0], [2 * math.log(3) / math.log(4)], [2.0]]
    want += [[0.2 + 1.8 * (1 + math.cos(math.pi * k / 6)) / 2] for k in range(1, 7)]
    close(got, [*want, [0.2], [0.2]])


def test_warmup_cosine_linear_by_hand() -> None:
    """Linear W = 4 from warmup_min_ratio 0.2: n / 4 of the way after n batches, so 0.2
    after construction and the peak b at n = W; then the cosine."""
    got = rows("deepspeed.WarmupCosineLR", [1.0], 5, total_num_steps=10, warmup_min_ratio=0.2,
               warmup_num_steps=4, cos_min_ratio=0.0, warmup_type="linear")
    close(got, [[0.2], [0.4], [0.6], [0.8], [1.0], [(1 + math.cos(math.pi / 6)) / 2]])


def test_range_test_tutorial() -> None:
    """The LR range test tutorial: from 1e-4 with rate 5 every 200 steps, continuous; the lr
    reaches about 0.005 after 2000 steps (1e-4 * 51). With the staircase it changes only every
    200 steps."""
    args = {"lr_range_test_min_lr": 1e-4, "lr_range_test_step_size": 200,
            "lr_range_test_step_rate": 5.0}
    s = make("deepspeed.LRRangeTest", [0.1], **args)
    assert s.lr(0) == [1e-4]
    assert s.lr(2000)[0] == pytest.approx(0.0051, rel=1e-14)
    assert s.lr(100)[0] == pytest.approx(3.5e-4, rel=1e-14)
    stairs = make("deepspeed.LRRangeTest", [0.1], lr_range_test_staircase=True, **args)
    assert stairs.lr(199) == [1e-4]
    assert stairs.lr(200)[0] == pytest.approx(6e-4, rel=1e-14)


def test_one_cycle_tutorial() -> None:
    """The 1-Cycle tutorial's schedule: 1000 steps from 1e-4 up to 1e-3 and 1000 back, each in
    500 stairs; then the lr decays at rate 0.001 per 1000 steps; momentum cycles between 0.99
    and 0.85 inversely, and does not decay."""
    s = make("deepspeed.OneCycle", [0.1], cycle_first_step_size=1000,
             cycle_first_stair_count=500, cycle_second_step_size=1000,
             cycle_second_stair_count=500, decay_step_size=1000, cycle_min_lr=1e-4,
             cycle_max_lr=1e-3, decay_lr_rate=0.001, cycle_min_mom=0.85, cycle_max_mom=0.99,
             decay_mom_rate=0.0)
    step = 9e-4 / 500
    expected = {0: 1e-4, 1: 1e-4, 2: 1e-4 + step, 1000: 1e-3, 1001: 1e-4 + 499 * step,
                2000: 1e-4, 3000: 1e-4 / 1.001, 4000: 1e-4 / 1.002}
    for e, lr in expected.items():
        assert s.lr(e)[0] == pytest.approx(lr, rel=1e-14), e
    for e, mom in {0: 0.99, 1000: 0.85, 2000: 0.99, 5000: 0.99}.items():
        assert (s.momenta(e) or [0.0])[0] == pytest.approx(mom, rel=1e-14), e


def test_one_cycle_by_hand() -> None:
    """u = 2, v = 4, lr 0.1 to 0.5, decay every 2 steps at rate 1 (lr) and 0.5 (momentum):
    the cycle, then 0.1 / (1 + k / 2) and 0.9 / (1 + k / 4) k steps after it."""
    s = make("deepspeed.OneCycle", [1.0], cycle_min_lr=0.1, cycle_max_lr=0.5,
             cycle_first_step_size=2, cycle_second_step_size=4, decay_step_size=2,
             decay_lr_rate=1.0, cycle_min_mom=0.8, cycle_max_mom=0.9, decay_mom_rate=0.5)
    close([s.lr(e) for e in range(9)],
          [[0.1], [0.3], [0.5], [0.4], [0.3], [0.2], [0.1], [0.1 / 1.5], [0.05]])
    close([s.momenta(e) or [] for e in range(9)],
          [[0.9], [0.85], [0.8], [0.825], [0.85], [0.875], [0.9], [0.9 / 1.25], [0.9 / 1.5]])


# -- properties -------------------------------------------------------------------------
@FAST
@given(lrs=group_lrs(3), w=st.integers(1, 60), extra=st.integers(0, 100),
       kind=st.sampled_from(WARMUP_TYPES), low=st.floats(0.0, 1e-4), data=st.data())
def test_warmups_shape(lrs: list[float], w: int, extra: int, kind: str, low: float,
                       data: st.DataObject) -> None:
    """Each warmup starts at its floor, never decreases during the warmup, and reaches its
    peak by its end (t = W - 1 for log, t = W for linear; n = W for WarmupCosineLR); the
    decays end at their floor at T (after the peak) and hold it."""
    T = w + extra
    peak = w if kind == "log" else w + 1  # the step e where the warmup reaches its peak
    warm = make("deepspeed.WarmupLR", lrs, warmup_min_lr=low, warmup_max_lr=None,
                warmup_num_steps=w, warmup_type=kind)
    decay = make("deepspeed.WarmupDecayLR", lrs, total_num_steps=T, warmup_min_lr=low,
                 warmup_max_lr=None, warmup_num_steps=w, warmup_type=kind)
    m, c = data.draw(st.floats(0.0, 1.0)), data.draw(st.floats(0.0, 1.0))
    cos = make("deepspeed.WarmupCosineLR", lrs, total_num_steps=T, warmup_min_ratio=m,
               warmup_num_steps=w, cos_min_ratio=c, warmup_type=kind)
    assert warm.lr(0) == [low] * len(lrs) == decay.lr(0)
    assert cos.lr(0) == pytest.approx([b * m for b in lrs], rel=1e-15)
    assert warm.lr(peak) == pytest.approx(lrs, rel=1e-15)
    assert cos.lr(w) == pytest.approx(lrs, rel=1e-15)
    if w < T:
        assert decay.lr(w + 1) == pytest.approx(lrs, rel=1e-15)
    for e in range(1, peak + 1):
        for a, b in zip(warm.lr(e - 1), warm.lr(e), strict=True):
            assert a <= b * (1 + 1e-15)
    for e in (T + 1, T + 2, T + 50):
        assert decay.lr(e) == [low] * len(lrs)
    # With T = W the peak at n = W comes first, and the floor right after it.
    for e in (max(T, w + 1), T + 1, T + 50):
        assert cos.lr(e) == pytest.approx([b * c for b in lrs], rel=1e-15, abs=1e-300)


@FAST
@given(low=st.floats(1e-4, 1.0), size=st.integers(1, 50), rate=st.floats(0.0, 10.0),
       e=st.integers(0, 500))
def test_range_test_grows_linearly(low: float, size: int, rate: float, e: int) -> None:
    """Every step_size steps the lr grows by step_rate times the initial lr; the staircase
    holds it in between and agrees with the continuous one on the stair edges."""
    smooth = make("deepspeed.LRRangeTest", [1.0], lr_range_test_min_lr=low,
                  lr_range_test_step_size=size, lr_range_test_step_rate=rate)
    stairs = make("deepspeed.LRRangeTest", [1.0], lr_range_test_min_lr=low,
                  lr_range_test_step_size=size, lr_range_test_step_rate=rate,
                  lr_range_test_staircase=True)
    assert smooth.lr(e + size)[0] - smooth.lr(e)[0] == pytest.approx(rate * low, rel=1e-9,
                                                                      abs=1e-12)
    edge = e - e % size
    assert stairs.lr(e) == stairs.lr(edge)
    assert stairs.lr(edge)[0] == pytest.approx(smooth.lr(edge)[0], rel=1e-14)


@FAST
@given(up=st.integers(1, 40), down=st.integers(0, 40), n=st.integers(-1, 12),
       lo=st.floats(0.0, 1.0), gap=st.floats(0.0, 1.0), size=st.integers(0, 20),
       rate=st.floats(0.0, 2.0))
def test_one_cycle_shape(up: int, down: int, n: int, lo: float, gap: float, size: int,
                         rate: float) -> None:
    """In the cycle the lr stays within [min, max], is min at 0 and at u + v and max at u,
    and momentum mirrors it (the two heights add up to 1); after it the lr never rises
    above the min and never increases."""
    hi = lo + gap
    s = make("deepspeed.OneCycle", [1.0], cycle_min_lr=lo, cycle_max_lr=hi,
             cycle_first_step_size=up, cycle_second_step_size=down,
             cycle_first_stair_count=n, cycle_second_stair_count=n, decay_step_size=size,
             decay_lr_rate=rate, cycle_min_mom=0.8, cycle_max_mom=0.9, decay_mom_rate=rate)
    L, gap = up + down, hi - lo
    assert s.lr(0) == [lo] and s.lr(L) == [lo]
    if down:  # with no falling half the cycle closes at u, back at the min
        assert s.lr(up)[0] == pytest.approx(hi, rel=1e-15)
    for e in range(L + 1):
        v, m = s.lr(e)[0], (s.momenta(e) or [0.0])[0]
        assert lo * (1 - 1e-15) <= v <= hi * (1 + 1e-15)
        if gap > 1e-9:
            assert (v - lo) / gap + (m - 0.8) / 0.1 == pytest.approx(1.0, abs=1e-6)
    last = lo
    for e in range(L + 1, L + 3 * max(size, 1) + 2):
        v = s.lr(e)[0]
        assert v <= last * (1 + 1e-15)
        last = v


def test_rejects_invalid() -> None:
    rejects(lambda: make("deepspeed.WarmupLR", [0.1], warmup_type="exp"), "warmup_type='exp'")
    rejects(lambda: make("deepspeed.WarmupLR", [0.1], warmup_num_steps=0),
            "warmup_num_steps=0")
    rejects(lambda: make("deepspeed.WarmupLR", [0.1], warmup_min_lr=0.2),
            "warmup_min_lr", "warmup_max_lr")
    rejects(lambda: make("deepspeed.WarmupLR", [0.1, 0.2], warmup_min_lr=[0.0]),
            "warmup_min_lr has 1 values")
    rejects(lambda: make("deepspeed.WarmupLR", [0.1, 0.2], warmup_max_lr=[None, 0.5]),
            "warmup_max_lr=[None, 0.5]")
    rejects(lambda: make("deepspeed.WarmupDecayLR", [0.1], total_num_steps=5,
                         warmup_num_steps=6), "total_num_steps=5")
    rejects(lambda: make("deepspeed.WarmupDecayLR", [0.1]), "total_num_steps is required")
    rejects(lambda: make("deepspeed.WarmupCosineLR", [0.1], total_num_steps=10,
                         warmup_min_ratio=1.5), "warmup_min_ratio=1.5")
    rejects(lambda: make("deepspeed.WarmupCosineLR", [0.1], total_num_steps=10,
                         warmup_num_steps=20), "total_num_steps=10")
    rejects(lambda: make("deepspeed.LRRangeTest", [0.1], lr_range_test_step_size=0),
            "lr_range_test_step_size=0")
    rejects(lambda: make("deepspeed.LRRangeTest", [0.1], lr_range_test_step_rate=-1.0),
            "lr_range_test_step_rate=-1.0")
    rejects(lambda: make("deepspeed.OneCycle", [0.1], cycle_max_lr=0.1), "cycle_min_lr")
    rejects(lambda: make("deepspeed.OneCycle", [0.1], cycle_min_lr=0.2, cycle_max_lr=0.1),
            "cycle_min_lr <= cycle_max_lr")
    rejects(lambda: make("deepspeed.OneCycle", [0.1], cycle_min_lr=0.0, cycle_max_lr=0.1,
                         cycle_min_mom=0.95), "cycle_min_mom")
    rejects(lambda: make("deepspeed.OneCycle", [0.1], cycle_min_lr=0.0, cycle_max_lr=0.1,
                         decay_step_size=-1), "decay_step_size=-1")
    rejects(lambda: make("deepspeed.OneCycle", [0.1], cycle_min_lr=0.0, cycle_max_lr=0.1,
                         cycle_first_step_size=0), "cycle_first_step_size=0")


@FAST
@given(data=st.data())
def test_spec_strategies_are_valid(data: st.DataObject) -> None:
    """Every argument set the specs draw builds a reference schedule (never a rejection)."""
    name = data.draw(st.sampled_from(FAMILY))
    lrs, args = data.draw(spec_case(name))
    make(name, lrs, **args)
    assert SPECS[name].binds == (f"{MODULE}:{name.removeprefix('deepspeed.')}",)


# -- the real DeepSpeed ---------------------------------------------------------------------
NEEDS = "the cross-check needs DeepSpeed (pip install deepspeed==0.19.8)"


def run_deepspeed(name: str, lrs: list[float], args: dict[str, Any], steps: int,
                  adam: bool = False) -> Trajectory:
    """Build DeepSpeed's class and step it with step() (the suite's step(e - 1)): the group
    lrs and momenta (Adam's beta1) after construction and after each step."""
    schedules = pytest.importorskip("deepspeed.runtime.lr_schedules", reason=NEEDS)
    from deepspeed.utils import logger

    logger.setLevel(logging.ERROR)  # "get learning rate ... before it has started"
    return run(lambda opt: getattr(schedules, name.removeprefix("deepspeed."))(opt, **args),
               lrs, steps, adam=adam)


def agreed_from(name: str, args: dict[str, Any]) -> int | None:
    """The first step from which DeepSpeed follows the spec for these arguments (None: not
    at all); the cases before it are the findings marked xfail below."""
    if name in WARMUPS and args["warmup_num_steps"] == 1:
        return None  # test_one_step_warmup
    if name == "deepspeed.WarmupCosineLR":
        ratio = args["warmup_min_ratio"]
        if isinstance(ratio, list):
            return None  # test_cosine_min_ratio_per_group
        if args["warmup_type"] == "linear":
            return int(args["warmup_num_steps"]) + 1  # test_cosine_linear_warmup_reaches_peak
        return 1 if ratio > 0 else 0  # test_cosine_starts_at_min_ratio
    return 0


@pytest.mark.torch
@pytest.mark.parametrize("name", FAMILY)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_deepspeed_agrees(name: str, data: st.DataObject) -> None:
    """On the suite's own argument strategies, DeepSpeed's lrs (and OneCycle's beta1) follow
    the oracle within its closed-form tolerance, wherever no finding below applies."""
    pytest.importorskip("deepspeed", reason=NEEDS)
    lrs, args = data.draw(spec_case(name))
    start = agreed_from(name, args)
    if start is None:
        return
    oracle = make(name, lrs, **args)
    steps = SPECS[name].steps(args)
    adam = name == "deepspeed.OneCycle"
    got, moms = run_deepspeed(name, lrs, args, steps, adam=adam)
    epochs = range(start, steps + 1)
    closed_ulps_check(oracle, [got[e] for e in epochs], epochs)
    if adam and args["cycle_momentum"]:
        # Momentum agrees inside the cycle after construction, and in the decay phase when
        # it does not decay (test_one_cycle_momentum_*).
        up, down = args["cycle_first_step_size"], args["cycle_second_step_size"]
        L = up + (up if down is None else down)
        holds = args["decay_step_size"] == 0 or args["decay_mom_rate"] == 0
        points = [e for e in range(1, steps + 1) if e <= L or holds]
        want = [oracle.momenta(e) or [] for e in points]
        top = max(max(w) for w in want) if want else 1.0
        assert_rows([moms[e] for e in points], want,
                    lambda t, g: oracle.closed_ulps(points[t]) * ulp(top), "beta1")


# -- findings: where DeepSpeed 0.19.8 departs from its documentation ----------------------
def _trajectory(name: str, lrs: list[float], args: dict[str, Any], steps: int) -> None:
    """DeepSpeed's lrs match the spec's closed form over `steps` steps."""
    got, _ = run_deepspeed(name, lrs, args, steps)
    closed_ulps_check(make(name, lrs, **args), got)


@pytest.mark.torch
@pytest.mark.xfail(strict=True, reason="warmup_num_steps=1 is clamped to 2 (max(2, W)): the "
                                       "documented one-step warmup takes two steps")
@pytest.mark.parametrize("kind", WARMUP_TYPES)
@pytest.mark.parametrize("name,more", [
    ("deepspeed.WarmupLR", {"warmup_min_lr": 0.0, "warmup_max_lr": 1.0}),
    ("deepspeed.WarmupDecayLR", {"total_num_steps": 4, "warmup_min_lr": 0.0,
                                 "warmup_max_lr": 1.0}),
    ("deepspeed.WarmupCosineLR", {"total_num_steps": 4, "cos_min_ratio": 0.0}),
])
def test_one_step_warmup(name: str, more: dict[str, Any], kind: str) -> None:
    _trajectory(name, [1.0], {"warmup_num_steps": 1, "warmup_type": kind, **more}, 6)


@pytest.mark.torch
@pytest.mark.xfail(strict=True, reason="WarmupCosineLR's linear warmup reads t / W, one batch "
                                       "behind its log warmup and its cosine: it never "
                                       "reaches the documented max ratio 1.0")
def test_cosine_linear_warmup_reaches_peak() -> None:
    args = {"total_num_steps": 10, "warmup_num_steps": 4, "warmup_type": "linear",
            "cos_min_ratio": 0.0}
    got, _ = run_deepspeed("deepspeed.WarmupCosineLR", [1.0], args, 12)
    assert max(row[0] for row in got) == 1.0


@pytest.mark.torch
@pytest.mark.xfail(strict=True, reason="WarmupCosineLR's constructor sets lr 0, not "
                                       "warmup_min_ratio times the group lr")
def test_cosine_starts_at_min_ratio() -> None:
    args = {"total_num_steps": 10, "warmup_num_steps": 4, "warmup_min_ratio": 0.2,
            "warmup_type": "log"}
    got, _ = run_deepspeed("deepspeed.WarmupCosineLR", [1.0], args, 0)
    assert got[0] == pytest.approx([0.2], rel=1e-15)


@pytest.mark.torch
@pytest.mark.xfail(strict=True, raises=TypeError,
                   reason="warmup_min_ratio is documented 'float or list'; a list raises "
                          "TypeError (1. - list)")
def test_cosine_min_ratio_per_group() -> None:
    args = {"total_num_steps": 10, "warmup_num_steps": 4, "warmup_min_ratio": [0.1, 0.2]}
    _trajectory("deepspeed.WarmupCosineLR", [1.0, 0.5], args, 12)


ONE_CYCLE = {"cycle_min_lr": 0.1, "cycle_max_lr": 0.5, "cycle_first_step_size": 2,
             "cycle_second_step_size": 4, "cycle_min_mom": 0.8, "cycle_max_mom": 0.9}


@pytest.mark.torch
@pytest.mark.xfail(strict=True, reason="OneCycle's constructor sets beta1 to cycle_min_mom "
                                       "beside cycle_min_lr; inverse cycling puts "
                                       "cycle_max_mom there (as every later cycle_min_lr)")
def test_one_cycle_momentum_starts_at_max() -> None:
    _, moms = run_deepspeed("deepspeed.OneCycle", [1.0], ONE_CYCLE, 0, adam=True)
    assert moms[0] == pytest.approx([0.9], rel=1e-15)


@pytest.mark.torch
@pytest.mark.xfail(strict=True, reason="OneCycle's momentum 'decay' multiplies by "
                                       "1 + rate * k / s: beta1 grows past cycle_max_mom and 1")
def test_one_cycle_momentum_decays() -> None:
    args = {**ONE_CYCLE, "decay_step_size": 2, "decay_mom_rate": 0.5}
    _, moms = run_deepspeed("deepspeed.OneCycle", [1.0], args, 12, adam=True)
    assert all(m[0] <= 0.9 for m in moms[7:])
