"""Reference SWALR: views agree, replay, validation, documented behaviour, and torch 2.x."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.specs import STEP_CAP
from reference import swa
from reference.base import make
from tests.reference import support as h

FAST = settings(max_examples=60, deadline=None)


def test_flags() -> None:
    cls = swa.SWALR
    assert cls.source.endswith("torch.optim.swa_utils.SWALR.html")
    assert cls.chainable and cls.closed
    assert not (cls.needs_metric or cls.composite or cls.cycles_momentum)
    assert [p.name for p in cls.schema] == ["swa_lr", "anneal_epochs", "anneal_strategy"]


# -- properties of the oracle -----------------------------------------------------------
@FAST
@given(case=h.cases("SWALR"))
def test_recurrence_matches_closed_form(case: h.Case) -> None:
    base, params, n = case
    sched = make("SWALR", base, **params)
    h.check_bound_finite(sched, n)
    h.check_recurrence(sched, max(n, 3 * params["anneal_epochs"] + 3))


@FAST
@given(case=h.cases("SWALR"), at=st.integers(0, STEP_CAP))
def test_replay_from_any_state(case: h.Case, at: int) -> None:
    base, params, n = case
    h.check_replay(make("SWALR", base, **params), n, at)


@FAST
@given(case=h.cases("SWALR"))
def test_ends_at_swa_lr(case: h.Case) -> None:
    base, params, _ = case
    sched = make("SWALR", base, **params)
    A = params["anneal_epochs"]
    assert sched.floor() == sched.lr(A) == sched.lr(A + 5) == sched.recurrence(A + 1)[-1]
    if A:
        assert sched.lr(0) == base


@FAST
@given(case=h.cases("SWALR"), epoch=st.integers(0, 200))
def test_between_base_and_swa(case: h.Case, epoch: int) -> None:
    base, params, _ = case
    sched = make("SWALR", base, **params)
    for b, s, lr in zip(base, sched.floor(), sched.lr(epoch), strict=True):
        assert min(b, s) * (1 - 1e-15) <= lr <= max(b, s) * (1 + 1e-15)


def test_zero_anneal_epochs_is_swa_lr_at_once() -> None:
    sched = make("SWALR", [0.1, 0.2], swa_lr=[0.01, 0.03], anneal_epochs=0)
    assert sched.lr(0) == sched.recur(0, [0.1, 0.2]) == [0.01, 0.03]
    assert sched.recurrence(3) == [[0.01, 0.03]] * 4


def test_kappa_is_finite_when_base_is_swa_lr() -> None:
    sched = make("SWALR", [0.1, 0.2], swa_lr=[0.1, 0.05], anneal_epochs=7)
    assert all(math.isfinite(sched.kappa(e)) for e in range(12))


# -- validation -------------------------------------------------------------------------
@pytest.mark.parametrize(("params", "bad", "value"), [
    ({"swa_lr": -0.1}, "swa_lr", -0.1),
    ({"swa_lr": [0.1, float("nan")]}, "swa_lr", float("nan")),
    ({"swa_lr": 0.1, "anneal_epochs": -1}, "anneal_epochs", -1),
    ({"swa_lr": 0.1, "anneal_epochs": 1.5}, "anneal_epochs", 1.5),
    ({"swa_lr": 0.1, "anneal_strategy": "exp"}, "anneal_strategy", "exp"),
])
def test_rejects_invalid(params: dict[str, object], bad: str, value: object) -> None:
    h.assert_rejects("SWALR", [0.1, 0.2], params, bad, value)


def test_rejects_wrong_group_count_and_missing() -> None:
    with pytest.raises(ValueError, match="swa_lr has 3 values but there are 2"):
        make("SWALR", [0.1, 0.2], swa_lr=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="swa_lr is required"):
        make("SWALR", [0.1])


# -- documented examples ----------------------------------------------------------------
def test_linear_anneal_to_swa_lr_in_five_epochs() -> None:
    # torch.optim docs: SWALR(optimizer, anneal_strategy="linear", anneal_epochs=5,
    # swa_lr=0.05) anneals each group's lr linearly to 0.05 in 5 epochs, then keeps it.
    sched = make("SWALR", [0.1], swa_lr=0.05, anneal_epochs=5, anneal_strategy="linear")
    want = [0.1, 0.09, 0.08, 0.07, 0.06, 0.05, 0.05, 0.05]
    assert [sched.lr(e)[0] for e in range(8)] == pytest.approx(want, rel=1e-15)
    assert [r[0] for r in sched.recurrence(7)] == pytest.approx(want, rel=1e-15)


def test_cosine_anneal_halfway() -> None:
    # cos strategy: alpha = (1 - cos(pi t)) / 2, so halfway is the midpoint.
    sched = make("SWALR", [0.1], swa_lr=0.05, anneal_epochs=10)
    assert sched.lr(5)[0] == pytest.approx(0.075, rel=1e-15)
    assert sched.lr(10) == [0.05]


# -- torch 2.x ------------------------------------------------------------------------------
@pytest.mark.torch
@settings(max_examples=60, deadline=None)
@given(case=h.cases("SWALR"))
def test_torch_trajectory(case: h.Case) -> None:
    pytest.importorskip("torch")
    base, params, n = case
    h.check_torch_trajectory("SWALR", base, params, max(n, h.TORCH_STEPS))


@pytest.mark.torch
@pytest.mark.xfail(strict=True, reason="torch's SWALR has no closed form: step(epoch) takes one "
                   "step from the group's lr (it counts calls, not epochs)")
def test_torch_step_epoch_jumps() -> None:
    pytest.importorskip("torch")
    params = {"swa_lr": 0.01, "anneal_epochs": 4, "anneal_strategy": "linear"}
    h.check_torch_step_epoch("SWALR", [0.05], params, [3])
