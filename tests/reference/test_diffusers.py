"""Oracle tests for diffusers' piecewise constant schedule: the docstring's example worked by
hand, properties, rejections, and a cross-check against the real factory (skipped when
diffusers is not installed)."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.specs import SPECS, args_of
from reference.base import make
from reference.diffusers import parse
from tests.reference.support import closed_ulps_check, group_lrs, rejects, run

NAME = "diffusers.get_piecewise_constant_schedule"
#: The docstring's example.
EXAMPLE = "1:10,0.1:20,0.01:30,0.005"


def test_docstring_example_by_hand() -> None:
    """'multiple 1 for the first 10 steps, multiple 0.1 for the next 20 steps, multiple 0.01
    for the next 30 steps and multiple 0.005 for the other steps': boundaries at 10, 30, 60."""
    s = make(NAME, [2.0, 0.5], step_rules=EXAMPLE)
    want = {0: 1.0, 9: 1.0, 10: 0.1, 29: 0.1, 30: 0.01, 59: 0.01, 60: 0.005, 1000: 0.005}
    for step, multiple in want.items():
        assert s.lr(step) == [2.0 * multiple, 0.5 * multiple], step


def test_grammar() -> None:
    """A bare multiple is a constant; spaces around the fields are read as int() and float()
    read them; rules are taken in the order given, each after the previous one ends."""
    assert parse("0.5") == ((), 0.5)
    assert parse(" 1 : 3 , 1e-2 ") == (((1.0, 3),), 0.01)
    s = make(NAME, [1.0], step_rules="0.5:2,1:1,0.25")
    assert [s.lr(e)[0] for e in range(5)] == [0.5, 0.5, 1.0, 0.25, 0.25]


@settings(max_examples=50, deadline=None)
@given(lrs=group_lrs(), data=st.data())
def test_piecewise_shape(lrs: list[float], data: st.DataObject) -> None:
    """On the suite's own strategy: each rule's multiple for exactly its count of steps, one
    rule after another, then the last multiple; the same multiple for every group."""
    args = data.draw(args_of(NAME, len(lrs)))
    rules, last = parse(args["step_rules"])
    s = make(NAME, lrs, **args)
    expected = [v for v, n in rules for _ in range(n)] + [last] * 10
    for step, multiple in enumerate(expected):
        assert s.lr(step) == [b * multiple for b in lrs]


def test_rejects_invalid() -> None:
    for bad in ("", "1:3,", "1:3", "nan", "inf", "-1:2,0.5", "1:-2,0.5", "1:0,0.5", "1:3.0,0.5",
                "1:2:3,0.5", "a:2,0.5", "1;2,0.5"):
        rejects(functools.partial(make, NAME, [0.1], step_rules=bad), f"step_rules={bad!r}",
                "then the last v for good")
    rejects(lambda: make(NAME, [0.1], step_rules=0.5), "step_rules=0.5")
    rejects(lambda: make(NAME, [0.1]), "step_rules is required")


# -- the real diffusers --------------------------------------------------------------------
def run_diffusers(lrs: list[float], step_rules: str, steps: int) -> list[list[float]]:
    """Build diffusers' factory and step it (optimizer.step() first each time)."""
    factories = pytest.importorskip("diffusers.optimization",
                                    reason="diffusers is not installed")
    return run(lambda opt: factories.get_piecewise_constant_schedule(opt, step_rules), lrs,
               steps).lrs


@pytest.mark.torch
@settings(max_examples=60, deadline=None)
@given(lrs=group_lrs(), data=st.data())
def test_diffusers_agrees_with_one_rule(lrs: list[float], data: st.DataObject) -> None:
    """With at most one rule (where the step count is both a duration and a boundary) the
    factory follows the oracle, on the suite's own strategy."""
    pytest.importorskip("diffusers.optimization", reason="diffusers is not installed")
    args = data.draw(args_of(NAME, len(lrs)))
    if len(parse(args["step_rules"])[0]) > 1:
        return
    oracle = make(NAME, lrs, **args)
    closed_ulps_check(oracle, run_diffusers(lrs, args["step_rules"], SPECS[NAME].steps(args)))


@pytest.mark.torch
@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="diffusers 0.42.1 reads each rule's count as an absolute step "
                          "boundary (sorted), not as the documented 'for the next n steps'")
def test_diffusers_docstring_example() -> None:
    closed_ulps_check(make(NAME, [1.0], step_rules=EXAMPLE), run_diffusers([1.0], EXAMPLE, 70))
