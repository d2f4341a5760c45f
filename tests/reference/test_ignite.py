"""Oracle tests for pytorch-ignite's lr schedulers: the printed lr sequences of ignite's
doctested examples, values worked out by hand from the docstrings (cycle_mult, the value
multipliers, the warm-up), properties, rejections, and a cross-check against the real
`ignite.handlers.param_scheduler` (skipped when ignite is not installed)."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.specs import SPECS
from conformance.specs.ignite import KWARGS, MODULE
from reference import make
from reference.ignite import FAMILY
from tests.reference.support import closed_ulps_check, rejects, run, spec_case

FAST = settings(max_examples=50, deadline=None)
COS = "ignite.CosineAnnealingScheduler"
LIN = "ignite.LinearCyclicalScheduler"
PIECES = "ignite.PiecewiseLinear"


def values(name: str, events: int, **params: Any) -> list[float]:
    """The value at events 0 .. events - 1 (one group: every group gets the same)."""
    s = make(name, [0.1], **params)
    return [s.lr(e)[0] for e in range(events)]


def close(a: list[float], b: list[float]) -> None:
    assert a == pytest.approx(b, rel=1e-14, abs=1e-15)


# -- ignite's doctested examples ------------------------------------------------------------
def test_linear_docstring_example() -> None:
    """LinearCyclicalScheduler(opt, "lr", 0.0, 1.0, 4): 0.0, 0.5, 1.0, 0.5, ... (and the
    cycle repeats: 0.0 at event 4)."""
    close(values(LIN, 9, start_value=0.0, end_value=1.0, cycle_size=4),
          [0.0, 0.5, 1.0, 0.5, 0.0, 0.5, 1.0, 0.5, 0.0])


def test_cosine_docstring_example() -> None:
    """CosineAnnealingScheduler(opt, "lr", 0.0, 1.0, 4): 0.0, 0.1464..., 0.4999...,
    0.8535..., then the next cycle from 0.0."""
    got = values(COS, 5, start_value=0.0, end_value=1.0, cycle_size=4)
    close(got, [0.0, (1 - math.sqrt(0.5)) / 2, 0.5, (1 + math.sqrt(0.5)) / 2, 0.0])
    assert f"{got[1]:.4f} {got[3]:.4f}" == "0.1464 0.8536"


def test_concat_docstring_example() -> None:
    """ConcatScheduler's example prints the first 4 events of LinearCyclicalScheduler(0.0,
    1.0, 8), 0.0, 0.25, 0.5, 0.75, then CosineAnnealingScheduler(1.0, 0.2, 4): 1.0,
    0.8828..., 0.6000..., 0.3171..."""
    close(values(LIN, 4, start_value=0.0, end_value=1.0, cycle_size=8), [0.0, 0.25, 0.5, 0.75])
    got = values(COS, 4, start_value=1.0, end_value=0.2, cycle_size=4)
    assert [f"{v:.4f}" for v in got] == ["1.0000", "0.8828", "0.6000", "0.3172"]


def test_piecewise_docstring_examples() -> None:
    """milestones_values [(1, 1.0), (3, 0.8), (5, 0.2)]: 1.0, 1.0, 0.9, 0.8, 0.5, 0.2; and
    the second group's [(1, 0.1), (3, 0.08), (5, 0.02)]: 0.1, 0.1, 0.09, 0.08, 0.05, 0.02."""
    close(values(PIECES, 8, milestones_values=[(1, 1.0), (3, 0.8), (5, 0.2)]),
          [1.0, 1.0, 0.9, 0.8, 0.5, 0.2, 0.2, 0.2])
    close(values(PIECES, 6, milestones_values=[(1, 0.1), (3, 0.08), (5, 0.02)]),
          [0.1, 0.1, 0.09, 0.08, 0.05, 0.02])


def test_piecewise_docstring_prose() -> None:
    """[(10, 0.5), (20, 0.45), (21, 0.3), (30, 0.1), (40, 0.1)]: 0.5 over the first 10
    events, linear to 0.45 at 20, a jump to 0.3 at 21, linear to 0.1 at 30, 0.1 after."""
    got = values(PIECES, 60, milestones_values=[(10, 0.5), (20, 0.45), (21, 0.3), (30, 0.1),
                                                (40, 0.1)])
    close(got[:11], [0.5] * 11)
    close([got[15], got[20], got[21], got[25]], [0.475, 0.45, 0.3, 0.3 - 0.2 * 4 / 9])
    close(got[30:], [0.1] * 30)


# -- by hand from the docstrings --------------------------------------------------------
def test_cycle_mult_and_value_mults() -> None:
    """cycle_size 4, cycle_mult 1.5: cycles of 4, then int(6), int(9) events; each cycle
    starts at start_value * 0.5^k and ends towards end_value * 2^k (monotonic linear)."""
    got = values(LIN, 19, start_value=1.0, end_value=2.0, cycle_size=4, cycle_mult=1.5,
                 start_value_mult=0.5, end_value_mult=2.0, monotonic=True)
    want = [1.0 + (2.0 - 1.0) * i / 4 for i in range(4)]
    want += [0.5 + (4.0 - 0.5) * i / 6 for i in range(6)]
    want += [0.25 + (8.0 - 0.25) * i / 9 for i in range(9)]
    close(got, want)


def test_warmup_between_cycles() -> None:
    """Monotonic linear 1.0 -> 0.0 over 4 events with a 3-event warm-up and cycle_mult 1.5:
    the anneal ends at 0.0 (event 4), warms up linearly to the next start (1/3, 2/3), and the
    next cycle lasts int(6) events plus int(4.5) = 4 of warm-up."""
    got = values(LIN, 21, start_value=1.0, end_value=0.0, cycle_size=4, cycle_mult=1.5,
                 warmup_duration=3, monotonic=True)
    want = [1.0, 0.75, 0.5, 0.25, 0.0, 1 / 3, 2 / 3]
    want += [1.0 - i / 6 for i in range(7)] + [0.25, 0.5, 0.75]
    want += [1.0, 1 - 1 / 9, 1 - 2 / 9, 1 - 3 / 9]
    close(got, want)


def test_warmup_heads_for_the_next_start() -> None:
    """The warm-up starts from the last cycle's end value and goes linearly to the next
    cycle's start value: start_value_mult applies before it, end_value_mult after."""
    got = values(COS, 13, start_value=1.0, end_value=0.2, cycle_size=2, start_value_mult=0.5,
                 end_value_mult=0.5, warmup_duration=4)
    close(got[:3], [1.0, 0.6, 0.2])  # the anneal, its end included
    close(got[3:6], [0.2 + 0.3 / 4, 0.2 + 0.6 / 4, 0.2 + 0.9 / 4])  # towards 0.5
    close(got[6:9], [0.5, 0.3, 0.1])  # cycle 1: 0.5 -> 0.1
    close(got[8:13], [0.1 + 0.15 * i / 4 for i in range(5)])  # to cycle 2's start, 0.25


# -- properties -------------------------------------------------------------------------
@FAST
@given(data=st.data())
def test_one_value_for_every_group(data: st.DataObject) -> None:
    """Every group gets the same absolute value; the groups' own lrs play no part."""
    name = data.draw(st.sampled_from(FAMILY))
    lrs, args = data.draw(spec_case(name))
    s, t = make(name, lrs, **args), make(name, [1.0], **args)
    for e in range(0, 60, 7):
        assert s.lr(e) == t.lr(e) * len(lrs)


@FAST
@given(start=st.floats(0.0, 10.0), end=st.floats(0.0, 10.0), size=st.integers(2, 30),
       mono=st.booleans(), k=st.integers(0, 5))
def test_plain_cycles_repeat(start: float, end: float, size: int, mono: bool, k: int) -> None:
    """Without multipliers or warm-up every cycle repeats the first, which starts at
    start_value; the cosine and the monotonic linear approach end_value, the triangle turns
    at mid-cycle."""
    for name, more in ((COS, {}), (LIN, {"monotonic": mono})):
        s = make(name, [1.0], start_value=start, end_value=end, cycle_size=size, **more)
        # Relative, with a floor of a few subnormals: end - end rounds near 0.
        assert abs(s.lr(0)[0] - start) <= 1e-15 * max(start, end) + 4 * math.ulp(0.0)
        for i in range(size):
            assert s.lr(k * size + i) == s.lr(i)
    tri = make(LIN, [1.0], start_value=start, end_value=end, cycle_size=2 * size)
    assert abs(tri.lr(size)[0] - end) <= 1e-15 * max(start, end) + 4 * math.ulp(0.0)


@FAST
@given(pairs=st.lists(st.tuples(st.integers(0, 100), st.floats(0.0, 10.0)), min_size=1,
                      max_size=6, unique_by=lambda p: p[0]))
def test_piecewise_hits_and_holds(pairs: list[tuple[int, float]]) -> None:
    """The value at each milestone is its value; between two it stays between theirs; the
    first value before the first milestone and the last one after the last."""
    pairs = sorted(pairs)
    s = make(PIECES, [1.0], milestones_values=pairs)
    for m, v in pairs:
        assert s.lr(m)[0] == pytest.approx(v, rel=1e-15)
    for (m0, v0), (m1, v1) in itertools.pairwise(pairs):
        for e in range(m0, m1):
            assert min(v0, v1) * (1 - 1e-15) <= s.lr(e)[0] <= max(v0, v1) * (1 + 1e-15)
    assert all(s.lr(e) == [pairs[0][1]] for e in range(pairs[0][0]))
    assert all(s.lr(pairs[-1][0] + d) == [pairs[-1][1]] for d in (0, 1, 50))


def test_rejects_invalid() -> None:
    rejects(lambda: make(COS, [0.1], start_value=0.0, end_value=1.0, cycle_size=1),
            "cycle_size=1")
    rejects(lambda: make(COS, [0.1], start_value=0.0, end_value=1.0, cycle_size=4,
                         cycle_mult=0.5), "cycle_mult=0.5")
    rejects(lambda: make(COS, [0.1], start_value=0.0, cycle_size=4), "end_value is required")
    rejects(lambda: make(LIN, [0.1], start_value=0.0, end_value=1.0, cycle_size=4,
                         warmup_duration=2), "warmup_duration=2", "monotonic=True")
    rejects(lambda: make(PIECES, [0.1], milestones_values=[]), "milestones_values=[]")
    rejects(lambda: make(PIECES, [0.1], milestones_values=[(3, 1.0), (2, 0.5)]),
            "increasing")
    rejects(lambda: make(PIECES, [0.1], milestones_values=[(3, 1.0), (3, 0.5)]),
            "increasing")
    rejects(lambda: make(PIECES, [0.1], milestones_values=[(1.5, 1.0)]), "milestones_values")
    rejects(lambda: make(PIECES, [0.1], milestones_values=[(1, 1.0, 2.0)]),
            "milestones_values")


@FAST
@given(data=st.data())
def test_spec_strategies_are_valid(data: st.DataObject) -> None:
    """Every argument set the specs draw builds a reference schedule (never a rejection)."""
    name = data.draw(st.sampled_from(FAMILY))
    lrs, args = data.draw(spec_case(name))
    make(name, lrs, **args)
    spec = SPECS[name]
    assert spec.binds == (f"{MODULE}:{name.removeprefix('ignite.')}",)
    assert spec.kwargs == KWARGS and "epoch_arg" not in spec.flags


# -- the real ignite -------------------------------------------------------------------
NEEDS = "the cross-check needs pytorch-ignite (pip install pytorch-ignite==0.5.5)"


def run_ignite(name: str, lrs: list[float], args: dict[str, Any], steps: int,
               ) -> list[list[float]]:
    """Build ignite's handler and fire it once after construction and once per step (as
    ITERATION_STARTED before each optimizer step): the group lrs at each event."""
    handlers = pytest.importorskip("ignite.handlers.param_scheduler", reason=NEEDS)

    def build(opt: Any) -> Any:
        sched = getattr(handlers, name.removeprefix("ignite."))(opt, "lr", **args)
        sched(None)  # event 0, before the first optimizer step
        return sched

    return run(build, lrs, steps, lambda sched, opt, i: sched(None)).lrs


@pytest.mark.torch
@pytest.mark.parametrize("name", FAMILY)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_ignite_agrees(name: str, data: st.DataObject) -> None:
    """On the suite's own argument strategies, ignite's values follow the oracle within its
    closed-form tolerance over the spec's horizon."""
    pytest.importorskip("ignite", reason=NEEDS)
    lrs, args = data.draw(spec_case(name))
    oracle = make(name, lrs, **args)
    closed_ulps_check(oracle, run_ignite(name, lrs, args, SPECS[name].steps(args)))
