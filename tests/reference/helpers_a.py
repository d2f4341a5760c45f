"""Shared strategies and checks for the step, linear, SWA and composite reference tests.

Strategies draw (base_lrs, params, steps) cases per schedule; checks compare the oracle's
views with each other and, for tests marked `torch`, with torch's schedulers.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st

from conformance.lambdas import Lam
from reference.base import Schedule, make, ulp, ulps

Params = dict[str, Any]
Case = tuple[list[float], Params, int]
ParamsFor = Callable[[list[float]], st.SearchStrategy[Params]]

#: Most steps a case takes (the torch cross-checks take at least 300).
STEP_CAP = 400
TORCH_STEPS = 300


# -- strategies -------------------------------------------------------------------------
def lrs(most: int = 3) -> st.SearchStrategy[list[float]]:
    """One to `most` group lrs, different orders of magnitude."""
    value = st.one_of(st.sampled_from([0.1, 1.0, 0.05, 3e-4]), st.floats(1e-4, 10.0))
    return st.lists(value, min_size=1, max_size=most)


def per_group(base: list[float], value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A scalar, or a list with one value per group."""
    return st.one_of(value, st.lists(value, min_size=len(base), max_size=len(base)))


def gamma() -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]), st.floats(0.05, 1.02))


def period(most: int = 100) -> st.SearchStrategy[int]:
    return st.one_of(st.integers(1, 6), st.integers(7, most))


def lam(multiplicative: bool) -> st.SearchStrategy[Lam]:
    if multiplicative:
        return st.one_of(st.builds(Lam, st.just("const"), st.floats(0.8, 1.05)),
                         st.builds(Lam, st.just("inv"), st.floats(0.0, 0.2)))
    return st.one_of(st.builds(Lam, st.just("exp"), st.floats(0.8, 1.0)),
                     st.builds(Lam, st.just("inv"), st.floats(0.0, 1.0)),
                     st.builds(Lam, st.just("warm"), st.floats(1.0, 50.0)),
                     st.builds(Lam, st.just("cos"), st.floats(1.0, 200.0)),
                     st.builds(Lam, st.just("const"), st.floats(0.0, 2.0)))


def _fixed(**parts: st.SearchStrategy[Any]) -> ParamsFor:
    return lambda base: st.fixed_dictionaries(parts)


def _swalr(base: list[float]) -> st.SearchStrategy[Params]:
    swa = st.one_of(per_group(base, st.one_of(st.just(0.0), st.floats(1e-4, 2.0))),
                    st.just(list(base)))  # swa_lr = base_lr: nothing to anneal
    return st.fixed_dictionaries({
        "swa_lr": swa,
        "anneal_epochs": st.one_of(st.integers(0, 3), st.integers(4, 120)),
        "anneal_strategy": st.sampled_from(["cos", "linear"]),
    })


def _milestones(zero: bool) -> st.SearchStrategy[list[int]]:
    """Non-decreasing milestones, repeats allowed."""
    return st.lists(st.integers(0 if zero else 1, 120), max_size=5).map(sorted)


#: Parameter strategies of the leaf schedules, by name.
LEAVES: dict[str, ParamsFor] = {
    "LambdaLR": lambda base: st.fixed_dictionaries({"lr_lambda": per_group(base, lam(False))}),
    "MultiplicativeLR": lambda base: st.fixed_dictionaries(
        {"lr_lambda": per_group(base, lam(True))}),
    "StepLR": _fixed(step_size=period(), gamma=gamma()),
    "MultiStepLR": _fixed(milestones=_milestones(True), gamma=gamma()),
    "ExponentialLR": _fixed(gamma=st.one_of(st.floats(0.5, 1.05),
                                            st.sampled_from([0.0, 0.5, 0.9, 0.99, 1.0]))),
    "ConstantLR": _fixed(factor=st.one_of(st.just(1.0), st.floats(1e-3, 1.0)),
                         total_iters=period(150)),
    "LinearLR": _fixed(start_factor=st.one_of(st.just(1.0), st.floats(1e-3, 1.0)),
                       end_factor=st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0)),
                       total_iters=period(150)),
    "PolynomialLR": _fixed(total_iters=period(150),
                           power=st.one_of(st.sampled_from([0.0, 0.5, 1.0, 2.0]),
                                           st.floats(0.0, 4.0))),
    "SWALR": _swalr,
}


def horizon(name: str, params: Params) -> int:
    """Steps that cross every boundary at least once and every period three times."""
    if name == "StepLR":
        n = 3 * params["step_size"] + 1
    elif name == "MultiStepLR":
        n = max(params["milestones"], default=0) + 3
    elif name in ("ConstantLR", "LinearLR", "PolynomialLR"):
        n = params["total_iters"] + 3
    elif name == "SWALR":
        n = params["anneal_epochs"] + 3
    elif name == "SequentialLR":
        last = params["schedulers"][-1]
        n = max(params["milestones"], default=0) + horizon(*last)
    elif name == "ChainedScheduler":
        n = max(horizon(*sub) for sub in params["schedulers"])
    else:
        n = 0
    return min(STEP_CAP, max(int(n), 40))


def subs(names: Sequence[str], base: list[float], most: int = 3,
         tail: Sequence[str] | None = None) -> st.SearchStrategy[list[tuple[str, Params]]]:
    """1..most (name, params) pairs; positions after the first drawn from `tail`."""
    def pair(name: str) -> st.SearchStrategy[tuple[str, Params]]:
        return LEAVES[name](base).map(lambda p: (name, p))

    first = st.sampled_from(list(names)).flatmap(pair)
    rest = st.sampled_from(list(tail if tail is not None else names)).flatmap(pair)
    return st.tuples(first, st.lists(rest, max_size=most - 1)).map(
        lambda fr: [fr[0], *fr[1]])


def sequential(base: list[float], tail: Sequence[str] | None = None
               ) -> st.SearchStrategy[Params]:
    """SequentialLR params: subs and non-decreasing milestones (0 and repeats allowed)."""
    def with_milestones(scheds: list[tuple[str, Params]]) -> st.SearchStrategy[Params]:
        gaps = st.lists(st.one_of(st.just(0), st.integers(1, 60)),
                        min_size=len(scheds) - 1, max_size=len(scheds) - 1)
        return gaps.map(lambda g: {"schedulers": scheds,
                                   "milestones": [sum(g[: i + 1]) for i in range(len(g))]})
    return subs(list(LEAVES), base, tail=tail).flatmap(with_milestones)


def chained(base: list[float]) -> st.SearchStrategy[Params]:
    return subs(list(LEAVES), base).map(lambda s: {"schedulers": s})


#: Parameter strategies of every schedule these tests own, by name.
PARAMS: dict[str, ParamsFor] = {**LEAVES, "SequentialLR": sequential,
                                "ChainedScheduler": chained}


def cases(name: str, params: ParamsFor | None = None, most: int = 3
          ) -> st.SearchStrategy[Case]:
    """(base_lrs, params, steps) for schedule `name`."""
    draw_params = params or PARAMS[name]
    return lrs(most).flatmap(lambda base: draw_params(base).map(
        lambda p: (base, p, horizon(name, p))))


# -- oracle checks ----------------------------------------------------------------------
def assert_within(seen: Sequence[Sequence[float]], want: Sequence[Sequence[float]],
                  tol: Callable[[int, int], float], scale: Callable[[int, int], float],
                  what: str) -> None:
    """Fail at the first step and group where |seen - want| exceeds tol(step, group)."""
    assert len(seen) == len(want), f"{what}: {len(seen)} steps, expected {len(want)}"
    for t, (got_row, want_row) in enumerate(zip(seen, want, strict=True)):
        assert len(got_row) == len(want_row), f"{what}: step {t} has {len(got_row)} groups"
        for g, (got, exp) in enumerate(zip(got_row, want_row, strict=True)):
            if not (math.isfinite(got) and abs(got - exp) <= tol(t, g)):
                raise AssertionError(
                    f"{what}: step {t}, group {g}: expected {exp!r}, got {got!r} "
                    f"({ulps(got, exp, scale(t, g)):.3g} ulps of {scale(t, g):.3g}; tolerance "
                    f"{tol(t, g) / ulp(scale(t, g)):.3g} ulps)")


def closed_tol(sched: Schedule, values: Sequence[Sequence[float]],
               epochs: Sequence[int] | None = None) -> Callable[[int, int], float]:
    """closed_ulps at the epoch, in ulps of the group's scale."""
    scales = [sched.scale(row) for row in values]
    return lambda t, g: sched.closed_ulps(t if epochs is None else epochs[t]) * ulp(scales[t][g])


def scale_of(sched: Schedule, values: Sequence[Sequence[float]]) -> Callable[[int, int], float]:
    scales = [sched.scale(row) for row in values]
    return lambda t, g: scales[t][g]


def check_recurrence(sched: Schedule, steps: int) -> None:
    """The recurrence from base_lrs stays within tolerance() of the closed form."""
    ref = sched.reference(steps)
    tols = sched.tolerance(steps)
    assert_within(sched.recurrence(steps), ref, lambda t, g: tols[t][g], scale_of(sched, ref),
                  f"{sched!r}: recurrence vs closed form")


def check_bound_finite(sched: Schedule, steps: int) -> None:
    """kappa is finite at every step and the tolerance is finite and positive."""
    for t in range(steps + 1):
        assert math.isfinite(sched.kappa(t)) and sched.kappa(t) >= 0, (sched, t)
    for row in sched.tolerance(steps):
        assert all(math.isfinite(v) and v > 0 for v in row), (sched, row)


def check_replay(sched: Schedule, steps: int, at: int) -> None:
    """Stepping on from any saved state gives the original continuation, bit for bit, and
    leaves the saved state as it was."""
    states = [sched.initial()]
    for _ in range(steps):
        states.append(sched.step(states[-1]))
    at = min(at, steps)
    saved = states[at]
    before = copy.deepcopy(saved)
    state = saved
    for t in range(at + 1, steps + 1):
        state = sched.step(state)
        assert state == states[t], f"{sched!r}: replay from step {at} differs at step {t}"
    assert saved == before, f"{sched!r}: stepping changed the saved state"
    assert [list(s.lrs) for s in states] == sched.trajectory(steps)


def assert_rejects(name: str, base: list[float], params: Params, bad: str, value: Any) -> None:
    """make() raises ValueError naming the parameter and its value."""
    try:
        make(name, base, **params)
    except ValueError as err:
        msg = str(err)
        assert bad in msg, f"{name}: message does not name {bad}: {msg}"
        assert repr(value) in msg, f"{name}: message does not show {value!r}: {msg}"
        assert "valid" in msg, f"{name}: message gives no valid range: {msg}"
    else:
        raise AssertionError(f"{name}({params!r}) was accepted")


# -- torch ------------------------------------------------------------------------------
def torch_optimizer(base: Sequence[float]) -> Any:
    """SGD with momentum and one param group per base lr."""
    import torch

    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": b} for b in base]
    return torch.optim.SGD(groups, lr=base[0], momentum=0.9)


def torch_scheduler(name: str, opt: Any, params: Params) -> Any:
    """The torch scheduler `name` on `opt`; sub-schedules are built first, in order."""
    from torch.optim import lr_scheduler, swa_utils

    cls: Any = swa_utils.SWALR if name == "SWALR" else getattr(lr_scheduler, name)
    args = dict(params)
    if "schedulers" in args:
        args["schedulers"] = [torch_scheduler(n, opt, p) for n, p in args["schedulers"]]
    if name == "ChainedScheduler":
        return cls(args["schedulers"], optimizer=opt)
    return cls(opt, **args)


def group_lrs(opt: Any) -> list[float]:
    return [float(g["lr"]) for g in opt.param_groups]


def torch_trajectory(name: str, base: Sequence[float], params: Params, steps: int
                     ) -> list[list[float]]:
    """Group lrs after construction, then after each optimizer.step(); scheduler.step()."""
    opt = torch_optimizer(base)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = torch_scheduler(name, opt, params)
        out = [group_lrs(opt)]
        for _ in range(steps):
            opt.step()
            sched.step()
            out.append(group_lrs(opt))
    return out


def check_torch_trajectory(name: str, base: list[float], params: Params, steps: int) -> None:
    """torch's step() trajectory is reference() within tolerance() (chainable schedules) or
    within closed_ulps (closed form only)."""
    sched = make(name, base, **params)
    ref = sched.reference(steps)
    seen = torch_trajectory(name, base, params, steps)
    if sched.chainable:
        tols = sched.tolerance(steps)
        tol: Callable[[int, int], float] = lambda t, g: tols[t][g]  # noqa: E731
    else:
        tol = closed_tol(sched, ref)
    assert_within(seen, ref, tol, scale_of(sched, ref), f"torch {name}{params!r} vs reference")


def check_torch_step_epoch(name: str, base: list[float], params: Params,
                           epochs: Sequence[int]) -> None:
    """torch's step(epoch), in any order of epochs, sets the closed form lr(epoch)."""
    sched = make(name, base, **params)
    opt = torch_optimizer(base)
    seen = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        target = torch_scheduler(name, opt, params)
        for epoch in epochs:
            opt.step()
            target.step(epoch)
            seen.append(group_lrs(opt))
    want = [sched.lr(e) for e in epochs]
    assert_within(seen, want, closed_tol(sched, want, epochs), scale_of(sched, want),
                  f"torch {name}{params!r}.step(epoch) for epochs {list(epochs)!r}")
