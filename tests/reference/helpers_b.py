"""Shared helpers for the oracle tests of cosine, cyclic, plateau and warmup schedules:
strategies for group lrs, comparison in ulps, and stepping a torch scheduler."""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st

from reference import Schedule, State, ulps


def group_lrs(most: int = 4) -> st.SearchStrategy[list[float]]:
    """One to `most` param-group lrs, typical values and arbitrary ones."""
    lr = st.one_of(st.sampled_from([0.1, 1.0, 0.05, 3e-4]), st.floats(1e-4, 10.0))
    return st.lists(lr, min_size=1, max_size=most)


def assert_rows(actual: Sequence[Sequence[float]], expected: Sequence[Sequence[float]],
                tol: Callable[[int, int], float], what: str = "lr") -> float:
    """Every step and group within `tol(step, group)` (absolute); the worst error/tol."""
    assert len(actual) == len(expected), f"{what}: {len(actual)} steps, expected {len(expected)}"
    worst = 0.0
    for t, (row, want) in enumerate(zip(actual, expected, strict=True)):
        for g, (a, e) in enumerate(zip(row, want, strict=True)):
            limit = tol(t, g)
            err = abs(a - e)
            assert err <= limit, (f"{what} at step {t}, group {g}: {a!r} != {e!r} "
                                  f"(error {err:.3g} > tolerance {limit:.3g})")
            worst = max(worst, err / limit if limit else 0.0)
    return worst


def assert_ulps(actual: Sequence[Sequence[float]], expected: Sequence[Sequence[float]],
                limit: Callable[[int], float], scale: Callable[[int, int], float],
                what: str = "lr") -> None:
    """Every step and group within `limit(step)` ulps of `scale(step, group)`."""
    assert len(actual) == len(expected), f"{what}: {len(actual)} steps, expected {len(expected)}"
    for t, (row, want) in enumerate(zip(actual, expected, strict=True)):
        for g, (a, e) in enumerate(zip(row, want, strict=True)):
            d = ulps(a, e, scale(t, g))
            assert d <= limit(t), f"{what} at step {t}, group {g}: {a!r} != {e!r} ({d:.1f} ulps)"


def closed_ulps_check(sched: Schedule, actual: Sequence[Sequence[float]],
                      epochs: Sequence[float] | None = None) -> None:
    """`actual` lrs match the closed form within `closed_ulps` (epochs default 0, 1, ...)."""
    points = list(range(len(actual))) if epochs is None else list(epochs)
    expected = [sched.lr(e) for e in points]
    scales = [sched.scale(row) for row in expected]
    assert_ulps(actual, expected, lambda t: sched.closed_ulps(points[t]),
                lambda t, g: scales[t][g])


def saved(state: State) -> State:
    """A state after a save and load (a pickle round trip: it shares nothing)."""
    restored: State = pickle.loads(pickle.dumps(state))
    return restored


def replay_from(sched: Schedule, k: int, steps: int,
                metrics: Sequence[float] | None = None) -> tuple[list[State], list[State]]:
    """States 0..steps straight through, and states k..steps resumed from a saved state k."""
    states = [sched.initial()]
    for i in range(steps):
        states.append(sched.step(states[-1], None if metrics is None else metrics[i]))
    resumed = [saved(states[k])]
    for i in range(k, steps):
        resumed.append(sched.step(resumed[-1], None if metrics is None else metrics[i]))
    return states[k:], resumed


def optimizer(base_lrs: Sequence[float], adam: bool = False) -> Any:
    """One param group per lr: SGD with momentum 0.9, or Adam (betas)."""
    import torch

    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": b} for b in base_lrs]
    if adam:
        return torch.optim.Adam(groups, lr=base_lrs[0])
    return torch.optim.SGD(groups, lr=base_lrs[0], momentum=0.9)


def momenta_of(opt: Any) -> list[float]:
    """Each group's momentum, or Adam's beta1."""
    return [float(g["betas"][0]) if "betas" in g else float(g["momentum"])
            for g in opt.param_groups]


def run_torch(name: str, base_lrs: Sequence[float], params: dict[str, Any], steps: int,
              metrics: Sequence[float] | None = None, adam: bool = False,
              ) -> tuple[list[list[float]], list[list[float]]]:
    """Build torch's `name` and step it `steps` times (optimizer.step() first each time):
    the group lrs and momenta after construction and after each step."""
    from torch.optim import lr_scheduler

    opt = optimizer(base_lrs, adam)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = getattr(lr_scheduler, name)(opt, **params)
        lrs = [[float(g["lr"]) for g in opt.param_groups]]
        moms = [momenta_of(opt)]
        for i in range(steps):
            opt.step()
            if metrics is None:
                sched.step()
            else:
                sched.step(metrics[i])
            lrs.append([float(g["lr"]) for g in opt.param_groups])
            moms.append(momenta_of(opt))
    return lrs, moms


def rejects(make: Callable[[], object], *needles: str) -> str:
    """`make()` raises ValueError whose message contains every needle; the message."""
    try:
        make()
    except ValueError as err:
        text = str(err)
        for needle in needles:
            assert needle in text, f"{needle!r} not in {text!r}"
        return text
    raise AssertionError("no ValueError raised")
