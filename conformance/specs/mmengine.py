"""The specs of mmengine's lr schedules (reference/mmengine.py): torch's schedules in a window
[begin, end) of steps, bound to `mmengine.optim.scheduler.lr_scheduler`'s classes.

Every strategy draws the window as well as the schedule: mostly from step 0, sometimes from a
later step; an end a few steps past the schedule's own phases, inside them, or mmengine's
default (INF); so that the horizon crosses begin, the schedule's boundaries and end.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from conformance.specs import (
    Args,
    ArgsFor,
    Derived,
    Spec,
    cap,
    gamma,
    longer,
    per_group,
    period,
    register,
)
from conformance.specs.torch_optim import milestones
from reference import SCHEDULES
from reference.mmengine import INF

MODULE = "mmengine.optim.scheduler.lr_scheduler"


def _begin() -> st.SearchStrategy[int]:
    """From the start (mostly), a step or two later, or well into training."""
    return st.one_of(st.just(0), st.integers(1, 3), st.integers(4, 60))


def _windowed(span: int, length: st.SearchStrategy[int] | None = None,
              open_end: bool = True, **rest: st.SearchStrategy[Any]) -> ArgsFor:
    """begin, end = begin + a drawn length (>= span) or INF, by_epoch, and `rest`."""
    lengths = length if length is not None else st.one_of(
        st.integers(span, span + 4), st.integers(span + 5, 300))
    ends = st.one_of(lengths, st.just(None)) if open_end else lengths

    def with_begin(begin: int) -> st.SearchStrategy[Args]:
        return st.fixed_dictionaries({
            "begin": st.just(begin),
            "end": ends.map(lambda n: INF if n is None else begin + n),
            "by_epoch": st.booleans(),
            **rest,
        })

    return lambda groups: _begin().flatmap(with_begin)


def _through(a: Args, own: int) -> int:
    """Past the window's end when it is finite, else past the schedule's own `own` steps."""
    if a["end"] < INF:
        return cap(a["end"] + 5)
    return cap(a["begin"] + own)


def _floor() -> st.SearchStrategy[Args]:
    """eta_min, eta_min_ratio or neither (CosineAnnealingLR's eta_min = 0)."""
    return st.one_of(
        st.fixed_dictionaries({"eta_min": st.one_of(st.just(0.0), st.floats(0.0, 1e-2))}),
        st.fixed_dictionaries({"eta_min_ratio": st.one_of(st.sampled_from([0.0, 0.1]),
                                                          st.floats(0.0, 1.0))}),
        st.just({}))


def _merged(base: ArgsFor, extra: st.SearchStrategy[Args]) -> ArgsFor:
    return lambda groups: st.tuples(base(groups), extra).map(lambda p: {**p[0], **p[1]})


def _cosine_horizon(a: Args) -> int:
    T = a["T_max"] if a["T_max"] is not None else a["end"] - a["begin"]
    return min(_through(a, 6 * T + 2), cap(a["begin"] + 6 * T + 2))


def _onecycle_args(groups: int) -> st.SearchStrategy[Args]:
    @st.composite
    def draw(draw: st.DrawFn) -> Args:
        begin = draw(_begin())
        # The cycle is end - begin long, or total_steps; the package raises past total_steps,
        # so an end beyond it comes with a horizon that stops there.
        length = draw(st.integers(2, 300))
        total = draw(st.one_of(st.none(), st.integers(2, 300)))
        return {
            "eta_max": draw(per_group(groups, st.floats(1e-3, 5.0))),
            "total_steps": total,
            "pct_start": draw(st.floats(0.05, 0.95)),
            "anneal_strategy": draw(st.sampled_from(["cos", "linear"])),
            "div_factor": draw(st.floats(1.5, 100.0)),
            "final_div_factor": draw(st.floats(1.5, 1e4)),
            "three_phase": draw(st.booleans()),
            "begin": begin,
            "end": begin + length,
            "by_epoch": draw(st.booleans()),
        }
    return draw()


def _onecycle_horizon(a: Args) -> int:
    total = a["total_steps"] if a["total_steps"] is not None else a["end"] - a["begin"]
    if a["end"] - a["begin"] <= total:
        return cap(a["end"] + 5)
    return cap(a["begin"] + total - 1)


def _restart_args(groups: int) -> st.SearchStrategy[Args]:
    @st.composite
    def draw(draw: st.DrawFn) -> Args:
        periods = draw(st.lists(st.one_of(st.integers(1, 6), st.integers(7, 60)), min_size=1,
                                max_size=4))
        weights = draw(st.lists(st.one_of(st.just(1.0), st.floats(0.0, 1.0)),
                                min_size=len(periods), max_size=len(periods)))
        floor = draw(st.one_of(
            st.fixed_dictionaries({"eta_min": st.one_of(st.just(0.0), st.floats(0.0, 1e-2))}),
            st.fixed_dictionaries({"eta_min_ratio": st.floats(0.0, 1.0)})))
        begin = draw(_begin())
        length = draw(st.one_of(st.none(), st.integers(1, sum(periods) + 10)))
        return {"periods": periods, "restart_weights": weights, **floor, "begin": begin,
                "end": INF if length is None else begin + length,
                "by_epoch": draw(st.booleans())}
    return draw()


def _plateau_args(groups: int) -> st.SearchStrategy[Args]:
    return _begin().flatmap(lambda begin: st.fixed_dictionaries({
        "rule": st.sampled_from(["less", "greater"]),
        "factor": st.floats(0.05, 0.95),
        "patience": st.integers(0, 6),
        "threshold": st.one_of(st.just(1e-4), st.floats(0.0, 0.2)),
        "threshold_rule": st.sampled_from(["rel", "abs"]),
        "cooldown": st.integers(0, 5),
        "min_value": per_group(groups, st.one_of(st.just(0.0), st.floats(0.0, 1e-2))),
        "eps": st.one_of(st.just(1e-8), st.floats(0.0, 1e-3)),
        "begin": st.just(begin),
        "end": st.one_of(st.just(INF), st.integers(begin + 1, begin + 100)),
        "by_epoch": st.just(True),
    }))


# What docs/spec/mmengine.md's domains refuse (docs/spec.md, "Invalid arguments"): an empty
# window, then each schedule's own (torch's refusals, a factor of 0, both floors).
_EMPTY: dict[str, Any] = {"end": Derived("end equal to begin", lambda a, lrs: a["begin"])}
_BOTH_FLOORS: dict[str, Any] = {"eta_min": 0.0, "eta_min_ratio": 0.1}
INVALID: dict[str, tuple[dict[str, Any], ...]] = {
    "StepLR": (_EMPTY, {"step_size": 0}),
    "MultiStepLR": (_EMPTY, {"milestones": 5}),
    "ExponentialLR": (_EMPTY,),
    "ConstantLR": (_EMPTY, {"factor": 1.5}, {"factor": 0.0}),
    "LinearLR": (_EMPTY, {"start_factor": 0.0}, {"start_factor": 1.5}, {"end_factor": 1.5}),
    "PolyLR": (_EMPTY,),
    "CosineAnnealingLR": (_EMPTY, _BOTH_FLOORS, {"T_max": 0}),
    "OneCycleLR": (_EMPTY, {"total_steps": 0}, {"pct_start": 1.5}, {"anneal_strategy": "exp"},
                   {"eta_max": longer("eta_max")}),
    "CosineRestartLR": (_EMPTY, {"periods": []}, _BOTH_FLOORS, {"restart_weights": Derived(
        "restart_weights one longer than periods",
        lambda a, lrs: [*a["restart_weights"], 1.0])}),
    "ReduceOnPlateauLR": (_EMPTY, {"factor": 1.0}, {"rule": "lesser"},
                          {"threshold_rule": "relative"}, {"min_value": longer("min_value")},
                          {"by_epoch": False}),
}


def _add(name: str, args: ArgsFor, horizon: Any, **kw: Any) -> None:
    # step() takes no epoch: jumping to a step is not part of mmengine's protocol.
    register(Spec(SCHEDULES[f"mmengine.{name}"], args, horizon, epoch_arg=False,
                  binds=(f"{MODULE}:{name}",), invalid=INVALID[name], **kw))


_add("StepLR", _windowed(1, step_size=period(), gamma=gamma()),
     lambda a: _through(a, 3 * a["step_size"] + 2))
_add("MultiStepLR", _windowed(1, milestones=milestones(), gamma=gamma()),
     lambda a: _through(a, max(a["milestones"], default=0) + 5))
_add("ExponentialLR", _windowed(1, gamma=gamma()), lambda a: _through(a, 150))
_add("ConstantLR", _windowed(2, factor=st.floats(0.01, 1.0)), lambda a: _through(a, 60))
_add("LinearLR", _windowed(2, start_factor=st.floats(0.01, 1.0),
                           end_factor=st.floats(0.0, 1.0)), lambda a: _through(a, 60))
_add("PolyLR", _windowed(2, eta_min=st.one_of(st.just(0.0), st.floats(0.0, 1e-3)),
                         power=st.one_of(st.just(1.0), st.floats(0.1, 4.0))),
     lambda a: _through(a, 60))
_add("CosineAnnealingLR", _merged(_windowed(1, T_max=st.one_of(st.none(), period())), _floor()),
     _cosine_horizon)
_add("OneCycleLR", _onecycle_args, _onecycle_horizon, extra=frozenset({"has_end"}))
_add("CosineRestartLR", _restart_args,
     lambda a: _through(a, sum(a["periods"]) + 5))
_add("ReduceOnPlateauLR", _plateau_args, 120)
