"""Reference ConstantLR, LinearLR and PolynomialLR: views agree, replay, validation, the
docs' worked examples, and torch 2.x."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.specs import STEP_CAP
from reference import linear
from reference.base import make, ulp
from tests.reference import support as h

NAMES = ["ConstantLR", "LinearLR", "PolynomialLR"]
CLASSES = [linear.ConstantLR, linear.LinearLR, linear.PolynomialLR]
FAST = settings(max_examples=50, deadline=None)


def test_flags() -> None:
    assert [c.name for c in CLASSES] == NAMES
    for c in CLASSES:
        assert c.source == linear.DOCS.format(c.name)
        assert c.chainable and c.closed
        assert not (c.needs_metric or c.composite or c.cycles_momentum)


# -- properties of the oracle -----------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
@FAST
@given(data=st.data())
def test_recurrence_matches_closed_form(name: str, data: st.DataObject) -> None:
    base, params, n = data.draw(h.cases(name))
    sched = make(name, base, **params)
    h.check_bound_finite(sched, n)
    h.check_recurrence(sched, max(n, 2 * params["total_iters"] + 3))


@pytest.mark.parametrize("name", NAMES)
@FAST
@given(data=st.data(), at=st.integers(0, STEP_CAP))
def test_replay_from_any_state(name: str, data: st.DataObject, at: int) -> None:
    base, params, n = data.draw(h.cases(name))
    h.check_replay(make(name, base, **params), n, at)


@FAST
@given(data=st.data())
def test_final_factor_after_total_iters(data: st.DataObject) -> None:
    base, params, _ = data.draw(h.cases("LinearLR"))
    sched = make("LinearLR", base, **params)
    T = params["total_iters"]
    for e in (T, T + 1, 3 * T):
        # s + (f - s) cancels: exact only to the closed form's ulps of the base lr.
        for b, got in zip(base, sched.lr(e), strict=True):
            assert abs(got - b * params["end_factor"]) <= sched.closed_ulps(e) * ulp(b)


@FAST
@given(total=st.integers(1, 200), power=st.floats(0.0, 5.0))
def test_polynomial_reaches_zero(total: int, power: float) -> None:
    sched = make("PolynomialLR", [0.3], total_iters=total, power=power)
    end = 1.0 if power == 0 else 0.0
    assert sched.lr(total) == sched.lr(total + 7) == [0.3 * end]
    assert sched.recurrence(total + 2)[-1] == [0.3 * end]


def test_linear_kappa_grows_near_a_zero_end() -> None:
    sched = make("LinearLR", [1.0], start_factor=0.5, end_factor=0.0, total_iters=1000)
    assert sched.kappa(999) > 1000 > sched.kappa(1) > 2
    assert sched.kappa(1000) == 0.0  # the exact result is the floor
    assert math.isfinite(sched.kappa(1000))


# -- validation -------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "params", "bad", "value"), [
    ("ConstantLR", {"factor": 0.0}, "factor", 0.0),
    ("ConstantLR", {"factor": 1.5}, "factor", 1.5),
    ("ConstantLR", {"total_iters": 0}, "total_iters", 0),
    ("ConstantLR", {"total_iters": 2.0}, "total_iters", 2.0),
    ("LinearLR", {"start_factor": 0.0}, "start_factor", 0.0),
    ("LinearLR", {"start_factor": 1.01}, "start_factor", 1.01),
    ("LinearLR", {"end_factor": -0.1}, "end_factor", -0.1),
    ("LinearLR", {"end_factor": 1.5}, "end_factor", 1.5),
    ("LinearLR", {"total_iters": 0}, "total_iters", 0),
    ("PolynomialLR", {"total_iters": 0}, "total_iters", 0),
    ("PolynomialLR", {"power": -1.0}, "power", -1.0),
    ("PolynomialLR", {"power": float("nan")}, "power", float("nan")),
])
def test_rejects_invalid(name: str, params: dict[str, object], bad: str, value: object) -> None:
    h.assert_rejects(name, [0.1, 0.2], params, bad, value)


def test_defaults() -> None:
    assert make("ConstantLR", [3.0]).lr(0) == [1.0]
    assert make("LinearLR", [3.0]).lr(5) == [3.0]
    assert make("PolynomialLR", [3.0]).lr(5) == [0.0]


# -- worked examples from torch's docstrings -------------------------------------------
def test_constantlr_docstring() -> None:
    # torch 2.x: lr = 0.025 for epoch 0..3 ..., lr = 0.05 if epoch >= 40.
    sched = make("ConstantLR", [0.05], factor=0.5, total_iters=40)
    rec = sched.recurrence(60)
    for e in range(61):
        want = 0.025 if e < 40 else 0.05
        assert sched.lr(e)[0] == pytest.approx(want, rel=1e-15), e
        assert rec[e][0] == pytest.approx(want, rel=1e-15), e
    # torch 1.x: factor=0.5, total_iters=4: 0.025 for epochs 0..3, then 0.05.
    short = make("ConstantLR", [0.05], factor=0.5, total_iters=4)
    assert [short.lr(e)[0] for e in range(6)] == [0.025] * 4 + [0.05] * 2


def test_linearlr_docstring_1x() -> None:
    # torch 1.x: start_factor=0.5, total_iters=4: 0.025, 0.03125, 0.0375, 0.04375, 0.05...
    sched = make("LinearLR", [0.05], start_factor=0.5, total_iters=4)
    want = [0.025, 0.03125, 0.0375, 0.04375, 0.05, 0.05]
    assert [sched.lr(e)[0] for e in range(6)] == pytest.approx(want, rel=1e-15)
    assert [r[0] for r in sched.recurrence(5)] == pytest.approx(want, rel=1e-15)


#: torch 2.x docstring of LinearLR(start_factor=0.05, total_iters=40) at lr 0.05, by epoch.
LINEAR_DOC = {0: 0.003687, 1: 0.004875, 2: 0.006062, 3: 0.00725}


@pytest.mark.xfail(strict=True, reason="the torch 2.x docstring lists each lr one epoch early "
                   "(epoch 0 is 0.05 * 0.05 = 0.0025)")
def test_linearlr_docstring_2x() -> None:
    sched = make("LinearLR", [0.05], start_factor=0.05, total_iters=40)
    for e, want in LINEAR_DOC.items():
        assert sched.lr(e)[0] == pytest.approx(want, abs=1e-6)


def test_linearlr_docstring_2x_is_one_epoch_early() -> None:
    sched = make("LinearLR", [0.05], start_factor=0.05, total_iters=40)
    assert sched.lr(0) == pytest.approx([0.0025])
    for e, want in LINEAR_DOC.items():
        assert sched.lr(e + 1)[0] == pytest.approx(want, abs=1e-6)
    assert sched.lr(40) == sched.lr(99) == [0.05]


def test_polynomiallr_docstring_1x() -> None:
    # torch 1.x: lr=0.001, total_iters=4, power=1.0: 0.001, 0.00075, 0.0005, 0.00025, 0.0.
    sched = make("PolynomialLR", [0.001], total_iters=4, power=1.0)
    want = [0.001, 0.00075, 0.0005, 0.00025, 0.0, 0.0]
    assert [sched.lr(e)[0] for e in range(6)] == pytest.approx(want, rel=1e-15)
    assert [r[0] for r in sched.recurrence(5)] == pytest.approx(want, rel=1e-15)


#: torch 2.x docstring of PolynomialLR(total_iters=50, power=0.9) at lr 0.05, by epoch.
POLY_DOC = {0: 0.0490, 1: 0.0481, 2: 0.0472}


@pytest.mark.xfail(strict=True, reason="the torch 2.x docstring lists each lr one epoch early "
                   "and truncated to 4 decimals (epoch 0 is 0.05)")
def test_polynomiallr_docstring_2x() -> None:
    sched = make("PolynomialLR", [0.05], total_iters=50, power=0.9)
    for e, want in POLY_DOC.items():
        assert sched.lr(e)[0] == pytest.approx(want, abs=5e-5)


def test_polynomiallr_docstring_2x_is_one_epoch_early() -> None:
    sched = make("PolynomialLR", [0.05], total_iters=50, power=0.9)
    assert sched.lr(0) == [0.05]
    for e, want in POLY_DOC.items():
        assert math.floor(sched.lr(e + 1)[0] * 1e4) / 1e4 == pytest.approx(want)
    assert sched.lr(50) == sched.lr(99) == [0.0]


# -- torch 2.x ------------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_torch_trajectory(name: str, data: st.DataObject) -> None:
    h.check_torch_case(name, data)


@pytest.mark.torch
@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_torch_step_epoch(name: str, data: st.DataObject) -> None:
    h.check_torch_epochs(name, data)


@pytest.mark.torch
@pytest.mark.xfail(strict=True, reason="torch accepts ConstantLR(total_iters=0): its initial "
                   "step applies the factor and no later step undoes it, while its closed form "
                   "is the base lr from epoch 0 (the oracle rejects total_iters=0)")
def test_torch_constantlr_zero_total_iters() -> None:
    seen = h.run_torch("ConstantLR", [0.05], {"factor": 0.5, "total_iters": 0}, 3).lrs
    assert seen == [[0.05]] * 4


@pytest.mark.torch
@pytest.mark.xfail(strict=True, raises=ZeroDivisionError,
                   reason="torch accepts ConstantLR(factor=0) but divides by it at total_iters "
                   "(the oracle rejects factor=0)")
def test_torch_constantlr_zero_factor() -> None:
    seen = h.run_torch("ConstantLR", [0.05], {"factor": 0.0, "total_iters": 2}, 3).lrs
    assert seen[-1] == [0.05]


@pytest.mark.torch
def test_torch_linearlr_zero_end_is_not_exactly_zero() -> None:
    """With end_factor 0 torch's recurrence ends a rounding error away from 0, within the
    closed form's tolerance of the base lr (the error model's zero-floor case)."""
    params = {"start_factor": 0.3, "end_factor": 0.0, "total_iters": 7}
    sched = make("LinearLR", [0.05], **params)
    seen = h.run_torch("LinearLR", [0.05], params, 9).lrs
    assert sched.lr(7) == [0.0]
    assert 0 < abs(seen[-1][0]) <= sched.tolerance(9)[-1][0]


@pytest.mark.torch
@pytest.mark.xfail(strict=True, reason="torch's LinearLR recurrence with end_factor 0 can end a "
                   "rounding error below 0: 1 + (f - s) / (T s + (e - 1)(f - s)) rounds negative")
def test_torch_linearlr_zero_end_is_non_negative() -> None:
    params = {"start_factor": 0.3, "end_factor": 0.0, "total_iters": 3}
    seen = h.run_torch("LinearLR", [1.0], params, 5).lrs
    assert min(v for row in seen for v in row) >= 0


def test_kappa_where_rounding_leaves_the_end_factor_off_zero() -> None:
    # s + (0 - s) * T / T rounds to -2e-17 for this s: the term kappa weighs is still 0.
    sched = make("LinearLR", [0.1], start_factor=0.46881351937883103, end_factor=0.0,
                 total_iters=10)
    assert sched.kappa(10) == 0.0
    h.check_bound_finite(sched, 40)
