"""compare() and its Tolerance, in process: where a failure is placed, what its message names,
and what each tolerance lets through."""

from __future__ import annotations

import math

import pytest
from torch.optim import lr_scheduler as L

from conformance.checks.common import Tolerance, compare, reference_lrs
from conformance.harness import Case, Mismatch
from conformance.targets import Request, Target, bind
from reference.base import ulp

CASE = Case([0.1, 0.5], {"step_size": 2, "gamma": 0.5}, 3)


@pytest.fixture(scope="module")
def step_lr() -> Target:
    (target,) = bind([("torch.optim.lr_scheduler:StepLR", L.StepLR)], Request())
    return target


def test_exact_names_the_first_step_and_group_that_differ(step_lr: Target) -> None:
    want = [[0.1, 0.5], [0.1, 0.5], [0.05, 0.25]]
    seen = [[0.1, 0.5], [0.1, 0.5], [0.05, 0.25000000000000006]]
    with pytest.raises(Mismatch) as caught:
        compare(step_lr, CASE, seen, want, Tolerance.exact(want), "it differs")
    err = caught.value
    assert (err.step, err.group, err.expected, err.actual) == (2, 1, 0.25, 0.25000000000000006)
    assert err.message.startswith("it differs: step 2, param group 1: expected 0.25, got "
                                  "0.25000000000000006 (error 1 ulps of 0.25, tolerance 0 ulps)")
    assert "print(" in err.script and err.series is not None


def test_labels_groups_and_an_offset_first_step(step_lr: Target) -> None:
    want = [[1.0], [2.0]]
    with pytest.raises(Mismatch) as caught:
        compare(step_lr, CASE, [[1.0], [3.0]], want, Tolerance.exact(want), "alone", first=4,
                groups=[1], step_label=lambda s: f"call {s}")
    err = caught.value
    assert (err.step, err.group) == (5, 1)
    assert "alone: call 5, param group 1: expected 2.0, got 3.0" in err.message
    assert err.script == ""  # a run that does not start at step 0 writes its own


def test_a_row_with_another_number_of_groups_fails(step_lr: Target) -> None:
    with pytest.raises(Mismatch, match="step 0 has 1 lrs for 2 param groups"):
        compare(step_lr, CASE, [[0.1]], [[0.1, 0.5]], Tolerance.exact([[0.1, 0.5]]), "x")


def test_within_the_bound_passes_and_reports_the_worst_error(step_lr: Target) -> None:
    want = [[1.0]]
    got = [[1.0 + 2 * ulp(1.0)]]
    tol = Tolerance(lambda t, g: 4 * ulp(1.0), lambda t, g: 1.0)
    assert compare(step_lr, CASE, got, want, tol, "x") == 2.0
    with pytest.raises(Mismatch):
        compare(step_lr, CASE, [[1.0 + 8 * ulp(1.0)]], want, tol, "x")


def test_nan_fails_against_a_number_and_passes_against_nan(step_lr: Target) -> None:
    tol = Tolerance(lambda t, g: 1.0, lambda t, g: 1.0)
    with pytest.raises(Mismatch):
        compare(step_lr, CASE, [[math.nan]], [[0.5]], tol, "x")
    assert compare(step_lr, CASE, [[math.nan]], [[math.nan]], tol, "x") == 0.0


def test_closed_and_reference_tolerances_follow_the_spec(step_lr: Target) -> None:
    assert step_lr.spec is not None
    oracle = step_lr.spec.oracle(CASE.lrs, CASE.args)
    expected, tol = reference_lrs(oracle, CASE)
    assert expected == [[0.1, 0.5], [0.1, 0.5], [0.05, 0.25], [0.05, 0.25]]
    closed = Tolerance.closed(oracle, expected)
    for t in range(len(expected)):
        for g in range(2):
            assert tol.bound(t, g) >= closed.bound(t, g) > 0
            assert closed.bound(t, g) == oracle.closed_ulps(t) * ulp(closed.scale(t, g))
