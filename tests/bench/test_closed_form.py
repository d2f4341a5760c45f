"""The oracle's closed form against the bare arithmetic expression (issue: at most 2x).

Each pair evaluates 1,000 epochs: `bare` inlines the documented expression, `oracle` calls
`Schedule.lr_fn(0)`. Compare the medians within a group (`nox -s bench`).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

import reference

EPOCHS = range(1000)


def bare_step(b: float = 0.1, gamma: float = 0.1, size: int = 30) -> float:
    x = 0.0
    for e in EPOCHS:
        x = b * gamma ** (e // size)
    return x


def bare_cosine(b: float = 0.1, m: float = 0.001, T: int = 100) -> float:
    cos, pi = math.cos, math.pi
    x = 0.0
    for e in EPOCHS:
        x = m + (b - m) * (1 + cos(pi * e / T)) / 2
    return x


def bare_poly(b: float = 0.1, T: int = 800, p: float = 2.0) -> float:
    x = 0.0
    for e in EPOCHS:
        x = b * (1.0 - min(T, e) / T) ** p
    return x


def through(f: Any) -> float:
    x = 0.0
    for e in EPOCHS:
        x = f(e)
    return x


CASES = {
    "StepLR": (bare_step, reference.make("StepLR", [0.1], step_size=30, gamma=0.1)),
    "CosineAnnealingLR": (bare_cosine,
                          reference.make("CosineAnnealingLR", [0.1], T_max=100, eta_min=0.001)),
    "PolynomialLR": (bare_poly, reference.make("PolynomialLR", [0.1], total_iters=800, power=2.0)),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("how", ["bare", "oracle"])
def test_closed_form_cost(benchmark: Any, name: str, how: str) -> None:
    bare, oracle = CASES[name]
    benchmark.group = f"closed form {name}"
    f = oracle.lr_fn(0)
    result = benchmark(bare) if how == "bare" else benchmark(through, f)
    assert result == f(EPOCHS[-1])
