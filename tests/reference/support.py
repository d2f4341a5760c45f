"""Shared helpers of the oracle's tests.

Cases are drawn through the specs' own strategies and horizons (conformance.specs): where a
test probes the oracle beyond the domain the suite draws, it says so here, as a named
extension of the spec's strategy (`widened`, `replaced`, `gamma`, `lam`, LEAVES). Then:
comparisons in ulps, replay from saved states, rejections, and driving a real scheduler on a
torch optimizer (the torch cross-checks and the ecosystem packages' cross-checks).
"""

from __future__ import annotations

import copy
import math
import pickle
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import strategies as st

from conformance import specs
from conformance.lambdas import Lam
from conformance.specs import SPECS, Sub, args_of, lr_value, per_group
from conformance.specs.torch_optim import lam as spec_lam
from reference.base import Schedule, make, ulp

Params = dict[str, Any]
Case = tuple[list[float], Params, int]
ParamsFor = Callable[[list[float]], st.SearchStrategy[Params]]
#: A wider domain for one argument: a strategy, or a function of the groups' lrs giving one.
Edge = st.SearchStrategy[Any] | Callable[[list[float]], st.SearchStrategy[Any]]
#: An absolute tolerance at (step, group): a function, or a table by step and group.
Tol = Callable[[int, int], float] | Sequence[Sequence[float]]

#: Fewest steps a leaf case takes: the specs stop a few steps past the last boundary, the
#: oracle's tests go on well past it (the value held, a decay that goes on).
MIN_STEPS = 40
#: Fewest steps of a torch cross-check.
TORCH_STEPS = 300


# -- cases through the specs ----------------------------------------------------------------
def group_lrs(most: int = 4) -> st.SearchStrategy[list[float]]:
    """One to `most` param-group lrs (4: one group more than the suite draws), each drawn as
    the suite draws a group's lr."""
    return st.lists(lr_value(), min_size=1, max_size=most)


def spec_case(name: str, most: int = 3) -> st.SearchStrategy[tuple[list[float], Params]]:
    """(group lrs, arguments) as the suite draws them for spec `name` (1 to 3 groups)."""
    return group_lrs(most).flatmap(lambda lrs: args_of(name, len(lrs)).map(
        lambda args: (lrs, args)))


def widened(name: str, **edges: Edge) -> ParamsFor:
    """The arguments of spec `name` for the groups' lrs, with any of `edges` drawn from its
    wider domain instead of the spec's."""
    def params(base: list[float]) -> st.SearchStrategy[Params]:
        wide = {key: edge if isinstance(edge, st.SearchStrategy) else edge(base)
                for key, edge in edges.items()}
        return st.tuples(args_of(name, len(base)), st.fixed_dictionaries({}, optional=wide)
                         ).map(lambda parts: {**parts[0], **parts[1]})
    return params


def replaced(name: str, **own: st.SearchStrategy[Any]) -> ParamsFor:
    """The arguments of spec `name` for the groups' lrs, with `own` always drawn instead of
    the spec's (a test's own range for them: longer or shorter than the suite's)."""
    def params(base: list[float]) -> st.SearchStrategy[Params]:
        return st.tuples(args_of(name, len(base)), st.fixed_dictionaries(own)).map(
            lambda parts: {**parts[0], **parts[1]})
    return params


def horizon(name: str, params: Params) -> int:
    """Steps of a case: the spec's horizon (sub-schedules, (name, params) pairs, read as its
    Subs), at least MIN_STEPS, at most the suite's STEP_CAP."""
    return max(MIN_STEPS, SPECS[name].steps(_as_spec(name, params)))


def uncapped(name: str, args: Params) -> int:
    """The spec's horizon for `args`, without the suite's step cap (for a test that steps
    through every phase of a long schedule)."""
    steps = SPECS[name].horizon
    assert callable(steps)
    return steps(args)


def _as_spec(name: str, params: Params) -> Params:
    """`params` as the spec's horizon reads them."""
    if "schedulers" in params:
        return {**params, "schedulers": [Sub(n, _as_spec(n, p)) for n, p in params["schedulers"]]}
    return params


# -- the step, linear and SWA leaves: the specs' arguments and the oracle's edges ---------------
def gamma() -> st.SearchStrategy[float]:
    """The spec's gamma, and the oracle's edges that the suite leaves out: 0 (the lr drops to
    0 and stays there), 1 (no decay) and a growing lr, up to 1.05."""
    return st.one_of(specs.gamma(), st.sampled_from([0.0, 1.0]), st.floats(0.999, 1.05))


def lam(multiplicative: bool) -> st.SearchStrategy[Lam]:
    """The spec's lambdas, and a constant one the suite leaves out: for LambdaLR any factor
    from 0 to 2 (an lr of 0, or above the base lr), for MultiplicativeLR up to 1.05 (an lr
    that grows every step)."""
    const = st.floats(0.8, 1.05) if multiplicative else st.floats(0.0, 2.0)
    return st.one_of(spec_lam(multiplicative), st.builds(Lam, st.just("const"), const))


def _lambdas(multiplicative: bool) -> Edge:
    # Lists may repeat a lambda (the spec's do not: for the suite, equal lambdas could not
    # show a group that was given another group's).
    return lambda base: per_group(len(base), lam(multiplicative))


#: The leaf schedules of the step, linear, SWA and composite tests: the spec's arguments,
#: widened to edges of the oracle's domain that the suite does not draw (the oracle must be
#: right there too: a target's fixed --scheduler-kwargs may land there).
LEAVES: dict[str, ParamsFor] = {
    "LambdaLR": widened("LambdaLR", lr_lambda=_lambdas(False)),
    "MultiplicativeLR": widened("MultiplicativeLR", lr_lambda=_lambdas(True)),
    "StepLR": widened("StepLR", gamma=gamma()),
    # No milestones, one at 0 (applied from the start), up to five, repeats.
    "MultiStepLR": widened("MultiStepLR", gamma=gamma(),
                           milestones=st.lists(st.integers(0, 120), max_size=5).map(sorted)),
    "ExponentialLR": widened("ExponentialLR", gamma=gamma()),
    # A factor of 1 (no change) and factors down to 1e-3 (the spec's go to 0.01).
    "ConstantLR": widened("ConstantLR", factor=st.one_of(st.just(1.0), st.floats(1e-3, 1.0))),
    "LinearLR": widened("LinearLR",
                        start_factor=st.one_of(st.just(1.0), st.floats(1e-3, 1.0)),
                        end_factor=st.sampled_from([0.0, 1.0])),  # a zero floor, no change
    # Power 0 (constant) and below the spec's 0.1.
    "PolynomialLR": widened("PolynomialLR", power=st.one_of(
        st.sampled_from([0.0, 0.5, 1.0, 2.0]), st.floats(0.0, 4.0))),
    # swa_lr 0, up to 2 (the spec's stop at 1) or each group's own lr (nothing to anneal);
    # up to 120 anneal epochs (the spec's 60).
    "SWALR": widened("SWALR", anneal_epochs=st.integers(0, 120), swa_lr=lambda base: st.one_of(
        per_group(len(base), st.one_of(st.just(0.0), st.floats(1e-4, 2.0))),
        st.just(list(base)))),
}


def subs(names: Sequence[str], base: list[float], most: int = 3,
         tail: Sequence[str] | None = None) -> st.SearchStrategy[list[tuple[str, Params]]]:
    """1..most (name, params) pairs of LEAVES; positions after the first drawn from `tail`."""
    def pair(name: str) -> st.SearchStrategy[tuple[str, Params]]:
        return LEAVES[name](base).map(lambda p: (name, p))

    first = st.sampled_from(list(names)).flatmap(pair)
    rest = st.sampled_from(list(tail if tail is not None else names)).flatmap(pair)
    return st.tuples(first, st.lists(rest, max_size=most - 1)).map(
        lambda fr: [fr[0], *fr[1]])


# The composites are the oracle's own: every leaf above (its edges too), up to 60 steps
# between milestones. The specs keep to what torch composes as documented (a MultiplicativeLR
# or SWALR restarts from the group's lr in torch's SequentialLR, two SWALRs share a group's
# swa_lr: test_composite's xfails); the oracle composes them all.
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


#: Parameter strategies of every schedule the leaf and composite tests draw, by name.
PARAMS: dict[str, ParamsFor] = {**LEAVES, "SequentialLR": sequential,
                                "ChainedScheduler": chained}


def cases(name: str, params: ParamsFor | None = None, most: int = 3
          ) -> st.SearchStrategy[Case]:
    """(base_lrs, params, steps) for schedule `name`."""
    draw_params = params or PARAMS[name]
    return group_lrs(most).flatmap(lambda base: draw_params(base).map(
        lambda p: (base, p, horizon(name, p))))


# -- comparisons ----------------------------------------------------------------------------
def cells(seen: Sequence[Sequence[float]], want: Sequence[Sequence[float]], what: str
          ) -> Iterator[tuple[int, int, float, float]]:
    """(step, group, seen, wanted) of two trajectories, which must have the same shape."""
    assert len(seen) == len(want), f"{what}: {len(seen)} steps, expected {len(want)}"
    for t, (row, want_row) in enumerate(zip(seen, want, strict=True)):
        assert len(row) == len(want_row), f"{what}: step {t} has {len(row)} groups"
        for g, (got, exp) in enumerate(zip(row, want_row, strict=True)):
            yield t, g, got, exp


def assert_rows(seen: Sequence[Sequence[float]], want: Sequence[Sequence[float]], tol: Tol,
                what: str = "lr", scale: Callable[[int, int], float] | None = None) -> None:
    """Fail at the first step and group where `seen` is not finite or not within `tol` of
    `want` (absolute; the message gives it in ulps of scale(step, group))."""
    for t, g, got, exp in cells(seen, want, what):
        limit = tol(t, g) if callable(tol) else tol[t][g]
        if not (math.isfinite(got) and abs(got - exp) <= limit):
            err = abs(got - exp)
            size = (f"error {err:.3g}, tolerance {limit:.3g}" if scale is None else
                    f"error {err / ulp(scale(t, g)):.3g} ulps of {scale(t, g):.3g}, "
                    f"tolerance {limit / ulp(scale(t, g)):.3g} ulps")
            raise AssertionError(
                f"{what}: step {t}, group {g}: expected {exp!r}, got {got!r} ({size})")


def scale_of(sched: Schedule, rows: Sequence[Sequence[float]]) -> Callable[[int, int], float]:
    """The group's scale at each row of a trajectory (what its ulps are counted in)."""
    scales = [sched.scale(row) for row in rows]
    return lambda t, g: scales[t][g]


def closed_ulps_check(sched: Schedule, seen: Sequence[Sequence[float]],
                      epochs: Sequence[float] | None = None, what: str = "lr") -> None:
    """`seen` lrs match the closed form within `closed_ulps` of the group's scale at each
    epoch (default 0, 1, ...), as the suite compares them."""
    points = list(range(len(seen))) if epochs is None else list(epochs)
    want = [sched.lr(e) for e in points]
    scale = scale_of(sched, want)
    assert_rows(seen, want, lambda t, g: sched.closed_ulps(points[t]) * ulp(scale(t, g)), what,
                scale)


def rows(name: str, lrs: list[float], steps: int, **params: Any) -> list[list[float]]:
    """The closed form of `name` at steps 0 .. steps."""
    s = make(name, lrs, **params)
    return [s.lr(e) for e in range(steps + 1)]


def close(a: list[list[float]], b: list[list[float]]) -> None:
    """Equal rows, to rounding (values worked out by hand)."""
    assert len(a) == len(b), f"{len(a)} rows, expected {len(b)}"
    for x, y in zip(a, b, strict=True):
        assert x == pytest.approx(y, rel=1e-14, abs=1e-15)


# -- oracle checks --------------------------------------------------------------------------
def check_recurrence(sched: Schedule, steps: int) -> None:
    """The recurrence from base_lrs stays within tolerance() of the closed form."""
    ref = sched.reference(steps)
    assert_rows(sched.recurrence(steps), ref, sched.tolerance(steps),
                f"{sched!r}: recurrence vs closed form", scale_of(sched, ref))


def check_bound_finite(sched: Schedule, steps: int) -> None:
    """kappa is finite at every step and the tolerance is finite and positive."""
    for t in range(steps + 1):
        assert math.isfinite(sched.kappa(t)) and sched.kappa(t) >= 0, (sched, t)
    for row in sched.tolerance(steps):
        assert all(math.isfinite(v) and v > 0 for v in row), (sched, row)


def check_replay(sched: Schedule, steps: int, at: int,
                 metrics: Sequence[float] | None = None) -> None:
    """Stepping on from the state at step `at`, and from a copy of it through pickle (a save
    and load), gives the original continuation, bit for bit, and leaves the saved state as it
    was; the states' lrs are the trajectory."""
    def step(state: Any, t: int) -> Any:
        return sched.step(state, None if metrics is None else metrics[t])

    states = [sched.initial()]
    for t in range(steps):
        states.append(step(states[-1], t))
    at = min(at, steps)
    saved = states[at]
    before = copy.deepcopy(saved)
    for start in (saved, pickle.loads(pickle.dumps(saved))):
        assert start == saved
        state = start
        for t in range(at, steps):
            state = step(state, t)
            assert state == states[t + 1], f"{sched!r}: replay from {at} differs at {t + 1}"
    assert saved == before, f"{sched!r}: stepping changed the saved state"
    assert [list(s.lrs) for s in states] == sched.trajectory(steps, metrics)


def rejects(build: Callable[[], object], *needles: str) -> str:
    """`build()` raises ValueError whose message contains every needle; the message."""
    try:
        build()
    except ValueError as err:
        text = str(err)
        for needle in needles:
            assert needle in text, f"{needle!r} not in {text!r}"
        return text
    raise AssertionError("no ValueError raised")


def assert_rejects(name: str, base: list[float], params: Params, bad: str, value: Any) -> None:
    """make() raises ValueError naming the parameter, its value and the valid range."""
    rejects(lambda: make(name, base, **params), bad, repr(value), "valid")


def assert_imports_no_torch_or_numpy(*modules: str) -> None:
    """Importing `modules` in a fresh interpreter imports neither torch nor numpy."""
    code = (f"import sys, {', '.join(modules)}; "
            "print(sorted({'torch', 'numpy'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=str(Path(__file__).parents[2]))
    assert out.stdout.strip() == "[]"


# -- driving a real scheduler -------------------------------------------------------------------
def optimizer(lrs: Sequence[float], adam: bool = False) -> Any:
    """One param group per lr: SGD with momentum 0.9, or Adam (betas)."""
    import torch

    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": b} for b in lrs]
    if adam:
        return torch.optim.Adam(groups, lr=lrs[0])
    return torch.optim.SGD(groups, lr=lrs[0], momentum=0.9)


def lrs_of(opt: Any) -> list[float]:
    """Each group's lr."""
    return [float(g["lr"]) for g in opt.param_groups]


def momenta_of(opt: Any) -> list[float]:
    """Each group's momentum, or Adam's beta1."""
    return [float(g["betas"][0]) if "betas" in g else float(g["momentum"])
            for g in opt.param_groups]


class Trajectory(NamedTuple):
    """Group lrs and momenta after construction, then after each step."""

    lrs: list[list[float]]
    momenta: list[list[float]]


def _step(sched: Any, opt: Any, i: int) -> None:
    sched.step()


def run(build: Callable[[Any], Any], lrs: Sequence[float], steps: int,
        step: Callable[[Any, Any, int], object] = _step, adam: bool = False) -> Trajectory:
    """Build a scheduler with `build(optimizer)` on `optimizer(lrs, adam)` and step it
    `steps` times: optimizer.step(), then `step(scheduler, optimizer, i)` (default
    scheduler.step()), warnings silenced."""
    opt = optimizer(lrs, adam)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = build(opt)
        out = Trajectory([lrs_of(opt)], [momenta_of(opt)])
        for i in range(steps):
            opt.step()
            step(sched, opt, i)
            out.lrs.append(lrs_of(opt))
            out.momenta.append(momenta_of(opt))
    return out


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


def run_torch(name: str, lrs: Sequence[float], params: Params, steps: int,
              metrics: Sequence[float] | None = None, adam: bool = False) -> Trajectory:
    """torch's `name` stepped `steps` times (step(metric) where metrics are given)."""
    def step(sched: Any, opt: Any, i: int) -> None:
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])

    return run(lambda opt: torch_scheduler(name, opt, params), lrs, steps, step, adam)


def check_torch_trajectory(name: str, base: list[float], params: Params, steps: int) -> None:
    """torch's step() trajectory is reference() within tolerance() (chainable schedules) or
    within closed_ulps (closed form only)."""
    sched = make(name, base, **params)
    seen = run_torch(name, base, params, steps).lrs
    what = f"torch {name}{params!r} vs reference"
    if not sched.chainable:
        closed_ulps_check(sched, seen, what=what)
        return
    ref = sched.reference(steps)
    assert_rows(seen, ref, sched.tolerance(steps), what, scale_of(sched, ref))


def check_torch_step_epoch(name: str, base: list[float], params: Params,
                           epochs: Sequence[int]) -> None:
    """torch's step(epoch), in any order of epochs, sets the closed form lr(epoch)."""
    seen = run(lambda opt: torch_scheduler(name, opt, params), base, len(epochs),
               lambda sched, opt, i: sched.step(epochs[i])).lrs[1:]
    closed_ulps_check(make(name, base, **params), seen, epochs,
                      f"torch {name}{params!r}.step(epoch) for epochs {list(epochs)!r}")


def check_torch_case(name: str, data: st.DataObject) -> None:
    """On a drawn case of `name`, torch's step() trajectory over at least TORCH_STEPS steps
    is the oracle's."""
    pytest.importorskip("torch")
    base, params, n = data.draw(cases(name))
    check_torch_trajectory(name, base, params, max(n, TORCH_STEPS))


def check_torch_epochs(name: str, data: st.DataObject) -> None:
    """On a drawn case of `name`, torch's step(epoch) at drawn epochs (up to twice the
    horizon) is the oracle's closed form."""
    pytest.importorskip("torch")
    base, params, n = data.draw(cases(name))
    epochs = data.draw(st.lists(st.integers(0, 2 * n), min_size=1, max_size=12))
    check_torch_step_epoch(name, base, params, epochs)
