"""The specs of the transformers schedule family (reference/transformers.py): the factories of
transformers.optimization, and the copies diffusers and torchtune keep under the same names."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

import reference
from conformance.specs import FAMILY_MODULES, Args, ArgsFor, Derived, Spec, fixed, register
from reference import SCHEDULES
from reference.transformers import FAMILY


def _warmup_steps() -> st.SearchStrategy[int]:
    """No warmup, a step or two, or a long one."""
    return st.one_of(st.just(0), st.integers(1, 3), st.integers(4, 60))


def _cycles() -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from([0.5, 1.0, 0.25]), st.floats(0.05, 3.0))


def _with_total(**rest: st.SearchStrategy[Any]) -> ArgsFor:
    """num_warmup_steps W, num_training_steps W + 1 ... W + 300, and `rest`."""
    return lambda groups: _warmup_steps().flatmap(lambda w: st.fixed_dictionaries({
        "num_warmup_steps": st.just(w),
        "num_training_steps": st.integers(w + 1, w + 300),
        **rest,
    }))


def _total_horizon(a: Args) -> int:
    return a["num_training_steps"] + 5


def _min_lr_args(groups: int) -> st.SearchStrategy[Args]:
    # Exactly one of min_lr (an lr, below the drawn group lrs' 1e-4) and min_lr_rate; a floor
    # above 0 first, where a floor taken relative to another lr than the group's shows.
    floor = st.one_of(
        st.fixed_dictionaries({"min_lr": st.one_of(st.floats(1e-6, 1e-4), st.just(0.0))}),
        st.fixed_dictionaries({"min_lr_rate": st.one_of(st.sampled_from([0.0, 0.1]),
                                                        st.floats(0.0, 1.0))}))
    return st.tuples(_with_total(num_cycles=_cycles())(groups), floor).map(
        lambda parts: {**parts[0], **parts[1]})


def _inverse_sqrt_args(groups: int) -> st.SearchStrategy[Args]:
    # timescale None defaults to num_warmup_steps, which must then be >= 1.
    return _warmup_steps().flatmap(lambda w: st.fixed_dictionaries({
        "num_warmup_steps": st.just(w),
        "timescale": st.one_of(st.integers(1, 1000), *([st.none()] if w else [])),
    }))


_SHAPES = st.sampled_from(reference.transformers.WSD_SHAPES)


def _wsd_args(groups: int) -> st.SearchStrategy[Args]:
    @st.composite
    def draw(draw: st.DrawFn) -> Args:
        w = draw(_warmup_steps())
        d = draw(st.one_of(st.integers(1, 100), st.just(0)))
        s = draw(st.one_of(st.integers(0, 100), st.just(0)))
        # The stable phase is given directly or through the total (giving both warns).
        by_total = draw(st.booleans())
        return {
            "num_warmup_steps": w,
            "num_decay_steps": d,
            "num_training_steps": w + s + d if by_total else None,
            "num_stable_steps": None if by_total else s,
            "warmup_type": draw(_SHAPES),
            "decay_type": draw(_SHAPES),
            "min_lr_ratio": draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0))),
            "num_cycles": draw(_cycles()),
        }
    return draw()


def _wsd_horizon(a: Args) -> int:
    stable = (a["num_stable_steps"] if a["num_stable_steps"] is not None
              else a["num_training_steps"] - a["num_warmup_steps"] - a["num_decay_steps"])
    return a["num_warmup_steps"] + stable + a["num_decay_steps"] + 5




#: The documented domains' refusals (docs/spec.md, "Invalid arguments"): a negative warmup, a
#: decay of no steps (the formulas divide by T - W), and each factory's own.
_NO_DECAY = {"num_training_steps": Derived("num_training_steps equal to num_warmup_steps",
                                           lambda a, lrs: a["num_warmup_steps"])}
_WARMUP: tuple[dict[str, Any], ...] = ({"num_warmup_steps": -1},)
_TOTAL = (*_WARMUP, _NO_DECAY)
INVALID: dict[str, tuple[dict[str, Any], ...]] = {
    "get_constant_schedule_with_warmup": _WARMUP,
    "get_linear_schedule_with_warmup": _TOTAL,
    "get_cosine_schedule_with_warmup": _TOTAL,
    "get_cosine_with_hard_restarts_schedule_with_warmup": _TOTAL,
    # lr_end at or above the initial lr: transformers' documented ValueError.
    "get_polynomial_decay_schedule_with_warmup": (*_TOTAL, {"lr_end": 20.0}),
    "get_inverse_sqrt_schedule": (*_WARMUP, {"timescale": 0},
                                  {"num_warmup_steps": 0, "timescale": None}),
    "get_cosine_with_min_lr_schedule_with_warmup": (
        *_TOTAL, {"min_lr": 0.0, "min_lr_rate": 0.1}, {"min_lr": None, "min_lr_rate": None},
        {"min_lr": None, "min_lr_rate": 1.5}),
    "get_wsd_schedule": (*_WARMUP, {"num_decay_steps": -1},
                         {"num_training_steps": None, "num_stable_steps": None},
                         {"warmup_type": "exp"}, {"decay_type": "exp"},
                         {"min_lr_ratio": 1.5}),
}


def _add(name: str, args: ArgsFor, horizon: Any) -> None:
    register(Spec(SCHEDULES[name], args, horizon, epoch_arg=True,
                  binds=(f"transformers.optimization:{name}",), invalid=INVALID[name]))


_add("get_constant_schedule_with_warmup", fixed(num_warmup_steps=_warmup_steps()),
     lambda a: a["num_warmup_steps"] + 20)
_add("get_linear_schedule_with_warmup", _with_total(), _total_horizon)
_add("get_cosine_schedule_with_warmup", _with_total(num_cycles=_cycles()), _total_horizon)
_add("get_cosine_with_hard_restarts_schedule_with_warmup",
     _with_total(num_cycles=st.integers(1, 6)), _total_horizon)
_add("get_polynomial_decay_schedule_with_warmup", _with_total(
    lr_end=st.one_of(st.sampled_from([1e-7, 0.0]), st.floats(0.0, 1e-5)),
    power=st.one_of(st.sampled_from([1.0, 2.0, 0.5]), st.floats(0.1, 4.0))), _total_horizon)
_add("get_inverse_sqrt_schedule", _inverse_sqrt_args, lambda a: a["num_warmup_steps"] + 100)
_add("get_cosine_with_min_lr_schedule_with_warmup", _min_lr_args, _total_horizon)
_add("get_wsd_schedule", _wsd_args, _wsd_horizon)

# Modules that copy the family under its names: a factory named as a family member binds its
# spec there too.
for _module in ("transformers.optimization", "diffusers.optimization",
                "torchtune.training.lr_schedulers", "torchtune.modules.lr_schedulers"):
    FAMILY_MODULES[_module] = frozenset(FAMILY)
