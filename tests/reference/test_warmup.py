"""Oracle tests for the seed schedules LinearAnnealingLR and GradualWarmupScheduler: the
values SPEC-RULINGS.md implies by hand, properties and rejections (no torch counterpart)."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.specs import args_of, to_oracle
from reference import Schedule, make
from tests.reference.support import check_replay, group_lrs, rejects, uncapped

FAST = settings(max_examples=50, deadline=None)


# -- LinearAnnealingLR ------------------------------------------------------------------
def test_linear_annealing_by_hand() -> None:
    """N = 2, T = 4: b/2, b, b/2, 0, 0 (t = e + 1; zero from t = T on, never negative)."""
    s = make("LinearAnnealingLR", [0.8, 2.0], num_annealing_steps=2, num_total_steps=4)
    assert [s.lr(e) for e in range(5)] == [[0.4, 1.0], [0.8, 2.0], [0.4, 1.0], [0.0, 0.0],
                                           [0.0, 0.0]]
    assert s.lr(50) == [0.0, 0.0]


@FAST
@given(lrs=group_lrs(), args=args_of("LinearAnnealingLR", 1), k=st.integers(0, 500))
def test_linear_annealing_shape(lrs: list[float], args: dict[str, int], k: int) -> None:
    """Peak b at e = N - 1, zero from e = T - 1, linear in between; a resumed state
    continues the same (the schedule is defined on the epoch, not a call counter)."""
    n, T = args["num_annealing_steps"], args["num_total_steps"]
    extra = T - n
    s = make("LinearAnnealingLR", lrs, **args)
    steps = uncapped("LinearAnnealingLR", args)  # past T, uncapped
    assert s.lr(n - 1) == pytest.approx(lrs, rel=1e-15)  # b * N / N rounds twice
    assert s.lr(T - 1) == [0.0] * len(lrs)
    for e in range(steps):
        for v, b in zip(s.lr(e), lrs, strict=True):
            assert 0.0 <= v <= b * (1 + 1e-15)
    mid = n + extra // 2  # t = mid + 1 on the descent
    assert s.lr(mid) == pytest.approx([b * (T - mid - 1) / extra for b in lrs], rel=1e-15)
    check_replay(s, steps, k)


def test_linear_annealing_rejects_invalid() -> None:
    rejects(lambda: make("LinearAnnealingLR", [0.1], num_annealing_steps=4, num_total_steps=4),
            "num_total_steps=4", "num_annealing_steps = 4")
    rejects(lambda: make("LinearAnnealingLR", [0.1], num_annealing_steps=0, num_total_steps=4),
            "num_annealing_steps=0", "[1, inf)")
    rejects(lambda: make("LinearAnnealingLR", [0.1], num_annealing_steps=2),
            "num_total_steps", "required")


# -- GradualWarmupScheduler -------------------------------------------------------------
def test_gradual_warmup_by_hand() -> None:
    """M = 1: b e / E from 0; M > 1: b ((M - 1) e / E + 1) from b; then b M."""
    one = make("GradualWarmupScheduler", [0.4], multiplier=1.0, total_epoch=4)
    assert [one.lr(e)[0] for e in range(7)] == [0.0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.4,
                                                0.4]
    four = make("GradualWarmupScheduler", [0.5, 1.0], multiplier=4.0, total_epoch=3)
    assert [four.lr(e) for e in range(5)] == [[0.5, 1.0], [1.0, 2.0], [1.5, 3.0], [2.0, 4.0],
                                              [2.0, 4.0]]


def test_gradual_warmup_hands_over_to_cosine() -> None:
    """e > E runs the after_scheduler at e - E on base lrs b M: continuous at E."""
    s = make("GradualWarmupScheduler", [0.1, 0.2], multiplier=2.0, total_epoch=5,
             after_scheduler=("CosineAnnealingLR", {"T_max": 10, "eta_min": 0.01}))
    after = make("CosineAnnealingLR", [0.2, 0.4], T_max=10, eta_min=0.01)
    assert s.lr(5) == after.lr(0) == [0.2, 0.4]
    for k in range(1, 30):
        assert s.lr(5 + k) == after.lr(k)
    assert s.lr(15) == [0.01, 0.01]


@FAST
@given(lrs=group_lrs(), data=st.data(), k=st.integers(0, 120))
def test_gradual_warmup_properties(lrs: list[float], data: st.DataObject, k: int) -> None:
    """The warmup rises monotonically to b M at E, the after_scheduler continues from its
    epoch 0 there, and a saved state resumes identically."""
    args = to_oracle(data.draw(args_of("GradualWarmupScheduler", len(lrs))))
    M, E, after = args["multiplier"], args["total_epoch"], args["after_scheduler"]
    s = make("GradualWarmupScheduler", lrs, **args)
    warm = [s.lr(e) for e in range(E + 1)]
    for before, now in pairwise(warm):
        assert all(a <= b for a, b in zip(before, now, strict=True))
    assert warm[-1] == pytest.approx([b * M for b in lrs], rel=1e-15)
    if after is None:
        assert s.lr(E + 1 + k) == [b * M for b in lrs]
    else:
        sub = make(after[0], [b * M for b in lrs], **after[1])
        assert s.lr(E + k) == pytest.approx(sub.lr(k), rel=1e-15)
        assert s.lr(E + 1 + k) == sub.lr(1 + k)
    check_replay(s, E + 60, k)


def test_gradual_warmup_rejects_invalid() -> None:
    def build(**kw: Any) -> Schedule:
        return make("GradualWarmupScheduler", [0.1], **{"multiplier": 2.0, "total_epoch": 3,
                                                        **kw})

    rejects(lambda: build(multiplier=0.5), "multiplier=0.5", "[1.0, inf)")
    rejects(lambda: build(total_epoch=0), "total_epoch=0", "[1, inf)")
    rejects(lambda: build(after_scheduler=("LambdaLR", {})), "after_scheduler=('LambdaLR', {})",
            "StepLR")
    rejects(lambda: build(after_scheduler=("CosineAnnealingLR", {"T_max": 0})),
            "after_scheduler=", "T_max=0")
    rejects(lambda: build(after_scheduler="CosineAnnealingLR"), "after_scheduler=",
            "(name, params)")
    rejects(lambda: make("GradualWarmupScheduler", [0.1], total_epoch=3), "multiplier",
            "required")
