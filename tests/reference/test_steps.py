"""Reference LambdaLR, MultiplicativeLR, StepLR, MultiStepLR and ExponentialLR: views agree,
replay, validation, the docs' worked examples, and torch 2.x."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.lambdas import Lam
from conformance.specs import STEP_CAP
from reference import steps
from reference.base import make
from tests.reference import support as h

NAMES = ["LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ExponentialLR"]
CHAINABLE = [n for n in NAMES if n != "LambdaLR"]
CLOSED_FORM = ["LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR"]
FAST = settings(max_examples=40, deadline=None)


CLASSES = [steps.LambdaLR, steps.MultiplicativeLR, steps.StepLR, steps.MultiStepLR,
           steps.ExponentialLR]


def test_flags() -> None:
    assert [c.name for c in CLASSES] == NAMES
    assert all(c.source == steps.DOCS.format(c.name) for c in CLASSES)
    assert not steps.LambdaLR.chainable
    assert all(c.chainable == (c.name in CHAINABLE) and c.closed for c in CLASSES)
    assert not any(c.needs_metric or c.composite or c.cycles_momentum for c in CLASSES)


# -- properties of the oracle -----------------------------------------------------------
@pytest.mark.parametrize("name", CHAINABLE)
@FAST
@given(data=st.data())
def test_recurrence_matches_closed_form(name: str, data: st.DataObject) -> None:
    base, params, n = data.draw(h.cases(name))
    sched = make(name, base, **params)
    h.check_bound_finite(sched, n)
    h.check_recurrence(sched, n)


@pytest.mark.parametrize("name", NAMES)
@FAST
@given(data=st.data(), at=st.integers(0, STEP_CAP))
def test_replay_from_any_state(name: str, data: st.DataObject, at: int) -> None:
    base, params, n = data.draw(h.cases(name))
    h.check_replay(make(name, base, **params), n, at)


@FAST
@given(data=st.data())
def test_multistep_repeats_multiply(data: st.DataObject) -> None:
    ms = data.draw(st.lists(st.integers(0, 30), max_size=6).map(sorted))
    g = data.draw(h.gamma())
    sched = make("MultiStepLR", [1.0], milestones=ms, gamma=g)
    for e in range(35):
        assert sched.lr(e) == [g ** sum(m <= e for m in ms)]


def test_multiplicative_closed_form_is_the_product() -> None:
    sched = make("MultiplicativeLR", [2.0, 3.0],
                 lr_lambda=[Lam("inv", 0.1), Lam("const", 0.5)])
    assert sched.lr(0) == [2.0, 3.0]
    assert sched.lr(3) == pytest.approx([2.0 / (1.1 * 1.2 * 1.3), 3.0 * 0.125], rel=1e-15)
    assert sched.closed_ulps(3) > sched.closed_ulps(0)


# -- validation -------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "params", "bad", "value"), [
    ("StepLR", {"step_size": 0}, "step_size", 0),
    ("StepLR", {"step_size": 2.5}, "step_size", 2.5),
    ("StepLR", {"step_size": 3, "gamma": -0.5}, "gamma", -0.5),
    ("StepLR", {"step_size": 3, "gamma": float("inf")}, "gamma", float("inf")),
    ("MultiStepLR", {"milestones": [5, 3]}, "milestones", [5, 3]),
    ("MultiStepLR", {"milestones": [-1, 3]}, "milestones", [-1, 3]),
    ("MultiStepLR", {"milestones": 3}, "milestones", 3),
    ("ExponentialLR", {"gamma": "0.9"}, "gamma", "0.9"),
    ("ExponentialLR", {"gamma": True}, "gamma", True),
    ("LambdaLR", {"lr_lambda": 0.5}, "lr_lambda", 0.5),
    ("MultiplicativeLR", {"lr_lambda": [Lam("const", 1.0), None]}, "lr_lambda", None),
])
def test_rejects_invalid(name: str, params: dict[str, object], bad: str, value: object) -> None:
    h.assert_rejects(name, [0.1, 0.2], params, bad, value)


def test_rejects_missing_and_unknown() -> None:
    with pytest.raises(ValueError, match="gamma is required"):
        make("ExponentialLR", [0.1])
    with pytest.raises(ValueError, match=r"unknown parameter.*step"):
        make("ExponentialLR", [0.1], gamma=0.5, step=3)
    with pytest.raises(ValueError, match="lr_lambda has 1 values but there are 2"):
        make("LambdaLR", [0.1, 0.2], lr_lambda=[Lam("const", 1.0)])


# -- worked examples from torch's docstrings -------------------------------------------
def test_steplr_docstring() -> None:
    # lr = 0.05 if epoch < 30; 0.005 if 30 <= epoch < 60; 0.0005 if 60 <= epoch < 90
    sched = make("StepLR", [0.05], step_size=30, gamma=0.1)
    for e in range(100):
        want = 0.05 if e < 30 else 0.005 if e < 60 else 0.0005 if e < 90 else 0.00005
        assert sched.lr(e)[0] == pytest.approx(want, rel=1e-14), e
        assert sched.recurrence(99)[e][0] == pytest.approx(want, rel=1e-14), e


def test_multisteplr_docstring() -> None:
    # lr = 0.05 if epoch < 30; 0.005 if 30 <= epoch < 80; 0.0005 if epoch >= 80
    sched = make("MultiStepLR", [0.05], milestones=[30, 80], gamma=0.1)
    rec = sched.recurrence(99)
    for e in range(100):
        want = 0.05 if e < 30 else 0.005 if e < 80 else 0.0005
        assert sched.lr(e)[0] == pytest.approx(want, rel=1e-14), e
        assert rec[e][0] == pytest.approx(want, rel=1e-14), e


def test_lambdalr_docstring() -> None:
    # Two groups: lambda1 = epoch // 30, lambda2 = 0.95 ** epoch.
    sched = make("LambdaLR", [0.05, 0.1],
                 lr_lambda=[lambda e: e // 30, lambda e: 0.95**e])
    for e in (0, 29, 30, 61, 99):
        assert sched.lr(e) == [0.05 * (e // 30), 0.1 * 0.95**e]


def test_multiplicativelr_docstring() -> None:
    # lmbda = lambda epoch: 0.95: the lr is multiplied by 0.95 every epoch.
    sched = make("MultiplicativeLR", [0.05], lr_lambda=lambda e: 0.95)
    for e, (lr,) in enumerate(sched.recurrence(100)):
        assert lr == pytest.approx(0.05 * 0.95**e, rel=1e-13)
        assert sched.lr(e)[0] == pytest.approx(0.05 * 0.95**e, rel=1e-13)


def test_exponentiallr_docstring() -> None:
    sched = make("ExponentialLR", [0.05], gamma=0.95)
    assert [sched.lr(e)[0] for e in (0, 1, 2)] == pytest.approx([0.05, 0.0475, 0.045125])


# -- torch 2.x ------------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_torch_trajectory(name: str, data: st.DataObject) -> None:
    h.check_torch_case(name, data)


@pytest.mark.torch
@pytest.mark.parametrize("name", CLOSED_FORM)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_torch_step_epoch(name: str, data: st.DataObject) -> None:
    h.check_torch_epochs(name, data)
