"""Oracle tests for the transformers schedule family: values worked out by hand from the
documented formulas, properties, rejections, and a cross-check against the real factories
(skipped when transformers is not installed)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.specs import SPECS
from reference import make
from reference.transformers import FAMILY
from tests.reference.support import (
    close,
    closed_ulps_check,
    group_lrs,
    rejects,
    rows,
    run,
    spec_case,
)

FAST = settings(max_examples=50, deadline=None)


# -- by hand --------------------------------------------------------------------------------
def test_constant_with_warmup_by_hand() -> None:
    """W = 4, b = 0.8: 0, 0.2, 0.4, 0.6, then 0.8 for good."""
    close(rows("get_constant_schedule_with_warmup", [0.8], 6, num_warmup_steps=4),
          [[0.0], [0.2], [0.4], [0.6], [0.8], [0.8], [0.8]])


def test_linear_with_warmup_by_hand() -> None:
    """W = 2, T = 6, b = 1: up to 1 at W, down to 0 at T, 0 after."""
    close(rows("get_linear_schedule_with_warmup", [1.0, 2.0], 7, num_warmup_steps=2,
               num_training_steps=6),
          [[0, 0], [0.5, 1], [1, 2], [0.75, 1.5], [0.5, 1], [0.25, 0.5], [0, 0], [0, 0]])


def test_cosine_with_warmup_holds_its_end() -> None:
    """W = 0, T = 4, half a cosine: 1, (1 + cos(pi/4))/2, 1/2, ..., 0 at T; past T the value
    at T (the decay ends there), not the cosine climbing back."""
    got = rows("get_cosine_schedule_with_warmup", [1.0], 7, num_warmup_steps=0,
               num_training_steps=4)
    close(got[:3], [[1.0], [(1 + math.cos(math.pi / 4)) / 2], [0.5]])
    assert got[4][0] == pytest.approx(0.0, abs=1e-16)
    assert got[5:] == [got[4]] * 3
    full = rows("get_cosine_schedule_with_warmup", [1.0], 6, num_warmup_steps=2,
                num_training_steps=4, num_cycles=1.0)
    close(full, [[0.0], [0.5], [1.0], [0.0], [1.0], [1.0], [1.0]])


def test_hard_restarts_by_hand() -> None:
    """W = 0, T = 6, two cycles: 1, 3/4, 1/4, restart at 1, 3/4, 1/4, then 0."""
    close(rows("get_cosine_with_hard_restarts_schedule_with_warmup", [1.0], 7,
               num_warmup_steps=0, num_training_steps=6, num_cycles=2),
          [[1.0], [0.75], [0.25], [1.0], [0.75], [0.25], [0.0], [0.0]])


def test_hard_restarts_start_exactly_on_the_boundary() -> None:
    """Every step where n (s - W) is a multiple of T - W starts a cycle at b exactly (the
    phase is computed in integers)."""
    for T in range(2, 60):
        for n in range(1, 7):
            s = make("get_cosine_with_hard_restarts_schedule_with_warmup", [1.0],
                     num_warmup_steps=0, num_training_steps=T, num_cycles=n)
            for e in range(T):
                if (n * e) % T == 0:
                    assert s.lr(e) == [1.0], (T, n, e)


def test_polynomial_by_hand() -> None:
    """W = 0, T = 4, lr_end = 0.1, power 2, b = 1: 0.9 (1 - s/4)^2 + 0.1; lr_end from T on,
    for every group (an lr, not a fraction)."""
    got = rows("get_polynomial_decay_schedule_with_warmup", [1.0, 0.5], 5, num_warmup_steps=0,
               num_training_steps=4, lr_end=0.1, power=2.0)
    close(got, [[1.0, 0.5], [0.60625, 0.325], [0.325, 0.2], [0.15625, 0.125], [0.1, 0.1],
                [0.1, 0.1]])


def test_inverse_sqrt_by_hand() -> None:
    """W = 4 (the default timescale): 1/2 at s = 2, 1 at W, 1/sqrt(3) at s = 12."""
    s = make("get_inverse_sqrt_schedule", [1.0], num_warmup_steps=4)
    assert s.lr(2) == [0.5] and s.lr(4) == [1.0]
    assert s.lr(12)[0] == pytest.approx(1 / math.sqrt(3), rel=1e-15)
    t = make("get_inverse_sqrt_schedule", [1.0], num_warmup_steps=0, timescale=9)
    assert t.lr(27)[0] == pytest.approx(1 / 2, rel=1e-15)


def test_cosine_with_min_lr_by_hand() -> None:
    """min_lr is one lr for every group; min_lr_rate a fraction of each group's lr."""
    close(rows("get_cosine_with_min_lr_schedule_with_warmup", [1.0, 0.5], 3,
               num_warmup_steps=0, num_training_steps=2, min_lr=0.1),
          [[1.0, 0.5], [0.55, 0.3], [0.1, 0.1], [0.1, 0.1]])
    close(rows("get_cosine_with_min_lr_schedule_with_warmup", [1.0, 0.5], 3,
               num_warmup_steps=1, num_training_steps=3, min_lr_rate=0.5),
          [[0.0, 0.0], [1.0, 0.5], [0.75, 0.375], [0.5, 0.25]])


def test_wsd_by_hand() -> None:
    """W = S = D = 2, linear both ways, r = 1/2: 0.5, 0.75, 1, 1, 1, 0.75, 0.5, 0.5."""
    got = rows("get_wsd_schedule", [1.0], 7, num_warmup_steps=2, num_decay_steps=2,
               num_stable_steps=2, warmup_type="linear", decay_type="linear", min_lr_ratio=0.5)
    close(got, [[0.5], [0.75], [1.0], [1.0], [1.0], [0.75], [0.5], [0.5]])
    by_total = rows("get_wsd_schedule", [1.0], 7, num_warmup_steps=2, num_decay_steps=2,
                    num_training_steps=6, warmup_type="linear", decay_type="linear",
                    min_lr_ratio=0.5)
    assert by_total == got
    shapes = make("get_wsd_schedule", [1.0], num_warmup_steps=4, num_decay_steps=4,
                  num_stable_steps=0, warmup_type="1-sqrt", decay_type="1-sqrt")
    assert shapes.lr(3)[0] == pytest.approx(1 - math.sqrt(0.25), rel=1e-15)
    assert shapes.lr(5)[0] == pytest.approx(1 - math.sqrt(0.25), rel=1e-15)
    cos = make("get_wsd_schedule", [1.0], num_warmup_steps=4, num_decay_steps=4,
               num_stable_steps=0, warmup_type="cosine")
    assert cos.lr(2)[0] == pytest.approx(0.5, rel=1e-15)
    assert cos.lr(6)[0] == pytest.approx(0.5, rel=1e-15)


# -- properties -------------------------------------------------------------------------
@FAST
@given(lrs=group_lrs(), w=st.integers(0, 40), extra=st.integers(1, 200),
       cycles=st.floats(0.05, 3.0), data=st.data())
def test_family_shape(lrs: list[float], w: int, extra: int, cycles: float,
                      data: st.DataObject) -> None:
    """Every schedule is b at the end of its warmup, never negative and never above b, and
    linear in s during the warmup (the multiplier, not the group, carries the shape)."""
    T = w + extra
    params = {
        "get_constant_schedule_with_warmup": {},
        "get_linear_schedule_with_warmup": {"num_training_steps": T},
        "get_cosine_schedule_with_warmup": {"num_training_steps": T, "num_cycles": cycles},
        "get_cosine_with_hard_restarts_schedule_with_warmup": {
            "num_training_steps": T, "num_cycles": data.draw(st.integers(1, 6))},
        "get_polynomial_decay_schedule_with_warmup": {"num_training_steps": T, "lr_end": 0.0,
                                                      "power": data.draw(st.floats(0.1, 4))},
        "get_inverse_sqrt_schedule": {"timescale": data.draw(st.integers(1, 500))},
        "get_cosine_with_min_lr_schedule_with_warmup": {"num_training_steps": T,
                                                        "min_lr_rate": 0.1},
        "get_wsd_schedule": {"num_decay_steps": extra, "num_stable_steps": 3},
    }
    assert set(params) == set(FAMILY)
    for name, rest in params.items():
        s = make(name, lrs, num_warmup_steps=w, **rest)
        assert s.lr(w) == pytest.approx(lrs, rel=1e-15), name
        for e in range(T + 5):
            for v, b in zip(s.lr(e), lrs, strict=True):
                assert 0.0 <= v <= b * (1 + 1e-15), (name, e)
        for e in range(w):
            assert s.lr(e) == pytest.approx([b * e / w for b in lrs], rel=1e-15), name


def test_rejects_invalid() -> None:
    rejects(lambda: make("get_linear_schedule_with_warmup", [0.1], num_warmup_steps=5,
                         num_training_steps=5), "num_training_steps=5", "num_warmup_steps = 5")
    rejects(lambda: make("get_polynomial_decay_schedule_with_warmup", [0.1, 1e-3],
                         num_warmup_steps=0, num_training_steps=5, lr_end=1e-2),
            "lr_end=0.01", "every group's lr")
    rejects(lambda: make("get_cosine_with_min_lr_schedule_with_warmup", [0.1],
                         num_warmup_steps=0, num_training_steps=5), "exactly one")
    rejects(lambda: make("get_cosine_with_min_lr_schedule_with_warmup", [0.1],
                         num_warmup_steps=0, num_training_steps=5, min_lr=0.0,
                         min_lr_rate=0.1), "exactly one")
    rejects(lambda: make("get_inverse_sqrt_schedule", [0.1], num_warmup_steps=0),
            "timescale=None")
    rejects(lambda: make("get_wsd_schedule", [0.1], num_warmup_steps=2, num_decay_steps=2),
            "num_stable_steps")
    rejects(lambda: make("get_wsd_schedule", [0.1], num_warmup_steps=2, num_decay_steps=2,
                         num_training_steps=3), "num_training_steps=3")
    rejects(lambda: make("get_wsd_schedule", [0.1], num_warmup_steps=2, num_decay_steps=2,
                         num_stable_steps=0, decay_type="exp"), "decay_type='exp'")


# -- the real transformers ---------------------------------------------------------------
def run_transformers(name: str, lrs: list[float], args: dict[str, Any],
                     steps: int) -> list[list[float]]:
    """Build transformers' factory `name` and step it (optimizer.step() first each time)."""
    factories = pytest.importorskip("transformers.optimization")
    return run(lambda opt: getattr(factories, name)(opt, **args), lrs, steps).lrs


#: Where the spec rules beyond transformers' documentation (docs/spec.md): the cosine decays
#: hold their value past num_training_steps, so the cross-check stops at T for them.
HOLDS_PAST_T = {"get_cosine_schedule_with_warmup",
                "get_cosine_with_min_lr_schedule_with_warmup"}


@pytest.mark.torch
@pytest.mark.parametrize("name", FAMILY)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_transformers_agrees(name: str, data: st.DataObject) -> None:
    """On one param group (whose lr is the optimizer's default lr, which transformers reads
    for lr_end and min_lr) the factory follows the oracle within its closed-form tolerance,
    on the suite's own argument strategies."""
    pytest.importorskip("transformers")
    lrs, args = data.draw(spec_case(name, most=1))
    try:
        oracle = make(name, lrs, **args)
    except ValueError:
        return
    steps = SPECS[name].steps(args)
    if name in HOLDS_PAST_T:
        steps = min(steps, args["num_training_steps"])
    closed_ulps_check(oracle, run_transformers(name, lrs, args, steps))
