"""The specs of pytorch-ignite's lr schedulers (reference/ignite.py), bound to the classes of
`ignite.handlers.param_scheduler`. Ignite's driver builds `Cls(optimizer, param_name="lr",
**args)` and fires the handler once per event, so no event can be jumped to (no epoch_arg)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from conformance.specs import QUARTER, Args, Spec, register
from reference.base import Schedule
from reference.ignite import CosineAnnealingScheduler, LinearCyclicalScheduler, PiecewiseLinear

MODULE = "ignite.handlers.param_scheduler"

#: The argument every ignite scheduler takes before the schedule's own.
KWARGS = {"param_name": "lr"}


def _value() -> st.SearchStrategy[float]:
    """A start or end value: 0, tiny, medium or huge."""
    return st.one_of(st.sampled_from([0.0, 1e-5, 0.1, 1.0, 10.0]), st.floats(0.0, 10.0))


def _mult() -> st.SearchStrategy[float]:
    """A per-cycle factor on a value: mostly 1, else a decay or a mild growth."""
    return st.one_of(st.just(1.0), st.sampled_from([0.5, 0.9]), st.floats(0.5, 1.1))


def _cyclical(linear: bool) -> st.SearchStrategy[Args]:
    """CyclicalScheduler's arguments, with LinearCyclicalScheduler's `monotonic` if linear."""
    @st.composite
    def draw(draw: st.DrawFn) -> Args:
        mono = draw(st.booleans()) if linear else None
        # A warm-up is allowed with the cosine and with the monotonic linear schedule only.
        warm = mono is not False and draw(QUARTER) >= 2
        args: Args = {
            "start_value": draw(_value()),
            "end_value": draw(_value()),
            "cycle_size": draw(st.one_of(st.integers(2, 6), st.integers(7, 60),
                                         st.integers(61, 200))),
            "cycle_mult": draw(st.one_of(st.just(1.0), st.sampled_from([1.5, 2.0]),
                                         st.floats(1.0, 2.5))),
            "start_value_mult": draw(_mult()),
            "end_value_mult": draw(_mult()),
            "warmup_duration": draw(st.one_of(st.integers(1, 5), st.integers(6, 40)))
            if warm else 0,
        }
        if mono is not None:
            args["monotonic"] = mono
        return args
    return draw()


def cosine_args(groups: int) -> st.SearchStrategy[Args]:
    return _cyclical(linear=False)


def linear_args(groups: int) -> st.SearchStrategy[Args]:
    return _cyclical(linear=True)


def cyclical_horizon(a: Args) -> int:
    """Three cycles (their sizes and warm-ups grow by cycle_mult), and a few events more."""
    size, warmup, total = int(a["cycle_size"]), int(a["warmup_duration"]), 0
    for _ in range(3):
        total += size + warmup
        size, warmup = int(size * a["cycle_mult"]), int(warmup * a["cycle_mult"])
    return total + 5


def piecewise_args(groups: int) -> st.SearchStrategy[Args]:
    # Ignite takes the pairs as tuples only ("list of tuples"), and milestones increasing.
    milestones = st.one_of(st.lists(st.integers(0, 10), min_size=1, max_size=3, unique=True),
                           st.lists(st.integers(0, 300), min_size=1, max_size=6, unique=True))
    return milestones.flatmap(lambda ms: st.lists(
        _value(), min_size=len(ms), max_size=len(ms)).map(
        lambda vs: {"milestones_values": [(m, v) for m, v in zip(sorted(ms), vs, strict=True)]}))


# What docs/spec/ignite.md's domains refuse (docs/spec.md, "Invalid arguments"): a cycle of
# fewer than 2 events, shrinking cycles (they reach 0 events, where ignite divides by zero),
# a negative warm-up, milestones empty or decreasing. (Negative values are left out: the
# spec reads them as lrs, but ignite's schedulers set any parameter, where they are valid.)
_CYCLICAL: tuple[dict[str, Any], ...] = (
    {"cycle_size": 1}, {"cycle_mult": 0.5}, {"warmup_duration": -1})
INVALID: dict[str, tuple[dict[str, Any], ...]] = {
    "CosineAnnealingScheduler": _CYCLICAL,
    "LinearCyclicalScheduler": (*_CYCLICAL, {"warmup_duration": 2, "monotonic": False}),
    "PiecewiseLinear": ({"milestones_values": []},
                        {"milestones_values": [(10, 0.5), (5, 0.1)]}),
}


def _add(schedule: type[Schedule], args: Any, horizon: Any) -> None:
    name = schedule.name.removeprefix("ignite.")
    register(Spec(schedule, args, horizon, epoch_arg=False, binds=(f"{MODULE}:{name}",),
                  kwargs=KWARGS, invalid=INVALID[name]))


_add(CosineAnnealingScheduler, cosine_args, cyclical_horizon)
_add(LinearCyclicalScheduler, linear_args, cyclical_horizon)
_add(PiecewiseLinear, piecewise_args,
     lambda a: max(m for m, _ in a["milestones_values"]) + 10)
