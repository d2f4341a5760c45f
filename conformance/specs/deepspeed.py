"""The specs of DeepSpeed's schedules (reference/deepspeed.py), bound to the classes of
`deepspeed.runtime.lr_schedules`: DeepSpeed's driver steps with `step(e - 1)`, so jumping to a
step sets the closed form there (epoch_arg)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from conformance.specs import QUARTER, Args, Derived, Spec, longer, per_group, register
from reference import SCHEDULES
from reference.deepspeed import WARMUP_TYPES  # also registers the schedules

MODULE = "deepspeed.runtime.lr_schedules"


def _warmup_steps() -> st.SearchStrategy[int]:
    """A few steps, a long warmup, or (one draw in eight) the shortest one: 1, which the
    package clamps to 2."""
    return st.integers(0, 7).flatmap(lambda k: st.integers(2, 10) if k < 4 else
                                     st.integers(11, 300) if k < 7 else st.just(1))


def _low_lr() -> st.SearchStrategy[float]:
    """A warmup's start: 0, or tiny; never above the suite's smallest group lr (1e-4)."""
    return st.one_of(st.just(0.0), st.sampled_from([1e-6, 1e-5, 1e-4]), st.floats(0.0, 1e-4))


def _high_lr() -> st.SearchStrategy[float]:
    """A warmup's end: tiny, medium or huge (at least 1e-4, so above any _low_lr)."""
    return st.one_of(st.sampled_from([1e-4, 1e-3, 0.1, 1.0, 10.0]), st.floats(1e-4, 10.0))


def _ratio() -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from([0.0, 1e-4, 0.1, 1.0]), st.floats(0.0, 1.0))


def _bounds(groups: int) -> dict[str, st.SearchStrategy[Any]]:
    # warmup_max_lr None is each group's lr, which the suite draws >= 1e-4 (above _low_lr).
    return {
        "warmup_min_lr": per_group(groups, _low_lr()),
        "warmup_max_lr": st.one_of(st.none(), per_group(groups, _high_lr())),
        "warmup_type": st.sampled_from(WARMUP_TYPES),
    }


def warmup_args(groups: int) -> st.SearchStrategy[Args]:
    return st.fixed_dictionaries({**_bounds(groups), "warmup_num_steps": _warmup_steps()})


def _with_total(groups: int, parts: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Args]:
    """warmup_num_steps W, total_num_steps T in [W, 390] (T = W: no decay window), so that
    the horizon T + 5 stays under the suite's cap and crosses T."""
    return _warmup_steps().flatmap(lambda w: st.fixed_dictionaries({
        **parts,
        "warmup_num_steps": st.just(w),
        "total_num_steps": st.one_of(st.just(w), st.integers(w, max(w, 390))),
    }))


def decay_args(groups: int) -> st.SearchStrategy[Args]:
    return _with_total(groups, _bounds(groups))


def cosine_args(groups: int) -> st.SearchStrategy[Args]:
    # warmup_min_ratio is documented "float or list": the list form is drawn too.
    return _with_total(groups, {
        "warmup_min_ratio": per_group(groups, _ratio()),
        "cos_min_ratio": _ratio(),
        "warmup_type": st.sampled_from(WARMUP_TYPES),
    })


def _total_horizon(a: Args) -> int:
    return int(a["total_num_steps"]) + 5


def range_test_args(groups: int) -> st.SearchStrategy[Args]:
    return st.fixed_dictionaries({
        "lr_range_test_min_lr": per_group(groups, _high_lr()),
        "lr_range_test_step_size": st.one_of(st.integers(1, 10), st.integers(11, 120)),
        "lr_range_test_step_rate": st.one_of(st.sampled_from([0.0, 1.0, 5.0]),
                                             st.floats(0.0, 50.0)),
        "lr_range_test_staircase": st.booleans(),
    })


def _pairs(groups: int, low: st.SearchStrategy[float], gap: st.SearchStrategy[float],
           ) -> st.SearchStrategy[tuple[Any, Any]]:
    """(low, high) with low <= high: scalars, or one pair per group as two lists."""
    pair = st.tuples(low, gap).map(lambda p: (p[0], p[0] + p[1]))
    return st.one_of(pair, st.lists(pair, min_size=groups, max_size=groups).map(
        lambda ps: ([p[0] for p in ps], [p[1] for p in ps])))


def one_cycle_args(groups: int) -> st.SearchStrategy[Args]:
    @st.composite
    def draw(draw: st.DrawFn) -> Args:
        up = draw(st.one_of(st.integers(1, 6), st.integers(7, 150)))
        # Mostly an asymmetric cycle; one draw in eight each the default (None: symmetric)
        # and an empty falling half.
        kind = draw(st.integers(0, 7))
        down = draw(st.integers(1, 150)) if kind < 6 else None if kind == 6 else 0
        second = up if down is None else down
        stairs = draw(QUARTER) == 3
        lrs = draw(_pairs(groups, _low_lr() | _high_lr(), _high_lr()))
        moms = draw(_pairs(groups, st.floats(0.5, 0.9), st.floats(0.0, 0.09)))
        return {
            "cycle_min_lr": lrs[0],
            "cycle_max_lr": lrs[1],
            "decay_lr_rate": draw(st.one_of(st.just(0.0), st.sampled_from([1e-3, 0.5]),
                                            st.floats(0.0, 2.0))),
            "cycle_first_step_size": up,
            "cycle_second_step_size": down,
            "cycle_first_stair_count": draw(st.integers(1, up)) if stairs else 0,
            "cycle_second_stair_count": (draw(st.one_of(st.none(), st.integers(0, second + 1)))
                                         if stairs else None),
            "decay_step_size": draw(st.one_of(st.just(0), st.integers(1, 50))),
            "cycle_momentum": draw(st.booleans()),
            "cycle_min_mom": moms[0],
            "cycle_max_mom": moms[1],
            "decay_mom_rate": draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0))),
        }
    return draw()


def one_cycle_horizon(a: Args) -> int:
    up = int(a["cycle_first_step_size"])
    down = up if a["cycle_second_step_size"] is None else int(a["cycle_second_step_size"])
    return up + down + 3 * max(1, int(a["decay_step_size"])) + 5


# What docs/spec/deepspeed.md's domains and rulings refuse (docs/spec.md, "Invalid
# arguments"): a warmup of no steps, an unknown warmup_type (the package falls back to log),
# a warmup that decreases, a total before the warmup's end, lists of the wrong length.
_WARMUP: tuple[dict[str, Any], ...] = (
    {"warmup_num_steps": 0}, {"warmup_type": "cosine"}, {"warmup_min_lr": 20.0},
    {"warmup_min_lr": longer("warmup_min_lr")})
_BEFORE_WARMUP = {"total_num_steps": Derived("total_num_steps one less than warmup_num_steps",
                                             lambda a, lrs: a["warmup_num_steps"] - 1)}
INVALID: dict[str, tuple[dict[str, Any], ...]] = {
    "WarmupLR": _WARMUP,
    "WarmupDecayLR": (*_WARMUP, _BEFORE_WARMUP),
    "WarmupCosineLR": ({"warmup_num_steps": 0}, {"warmup_type": "cosine"}, _BEFORE_WARMUP,
                       {"warmup_min_ratio": 1.5}, {"cos_min_ratio": 1.5},
                       {"warmup_min_ratio": longer("warmup_min_ratio")}),
    "LRRangeTest": ({"lr_range_test_step_size": 0}, {"lr_range_test_step_rate": -1.0},
                    {"lr_range_test_min_lr": longer("lr_range_test_min_lr")}),
    "OneCycle": ({"cycle_first_step_size": 0}, {"cycle_min_lr": 2.0, "cycle_max_lr": 1.0},
                 {"cycle_min_lr": longer("cycle_min_lr")}),
}


def _add(name: str, args: Any, horizon: Any, **more: Any) -> None:
    register(Spec(SCHEDULES[f"deepspeed.{name}"], args, horizon, epoch_arg=True,
                  binds=(f"{MODULE}:{name}",), invalid=INVALID[name], **more))


_add("WarmupLR", warmup_args, lambda a: int(a["warmup_num_steps"]) + 10)
_add("WarmupDecayLR", decay_args, _total_horizon)
_add("WarmupCosineLR", cosine_args, _total_horizon)
_add("LRRangeTest", range_test_args, lambda a: 3 * int(a["lr_range_test_step_size"]) + 5)
# OneCycle cycles momentum through Adam's betas only (it leaves SGD's momentum alone).
_add("OneCycle", one_cycle_args, one_cycle_horizon, optimizers=("adam",))
