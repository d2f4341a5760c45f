"""The specs of timm's schedulers (reference/timm.py): the classes of `timm.scheduler`, driven
by timm's protocol (the value at t = 0 after construction, then `step(t)`, or
`step_update(t)` when `t_in_epochs` is false, or `step(t, metric)` for the plateau)."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

from conformance.specs import Args, ArgsFor, Derived, Spec, fixed, period, register
from reference import SCHEDULES
from reference.timm import DECAY_FNS, STABLE_FNS


def _warmup_t() -> st.SearchStrategy[int]:
    """No warmup, a step or two, or a long one."""
    return st.one_of(st.just(0), st.integers(1, 3), st.integers(4, 60))


def _warmup_lr_init() -> st.SearchStrategy[float]:
    """0, timm's train.py default 1e-5, or any value up to the smallest group lr drawn."""
    return st.one_of(st.sampled_from([0.0, 1e-5]), st.floats(0.0, 1e-4))


def _lr_min() -> st.SearchStrategy[float]:
    """0, a typical floor, or up to the smallest group lr drawn (so that a cycle's peak
    b d^i can fall under it)."""
    return st.one_of(st.sampled_from([0.0, 1e-5]), st.floats(0.0, 1e-4))


def _warmup(prefix: bool) -> dict[str, st.SearchStrategy[Any]]:
    parts: dict[str, st.SearchStrategy[Any]] = {
        "warmup_t": _warmup_t(), "warmup_lr_init": _warmup_lr_init(),
        "t_in_epochs": st.booleans()}
    if prefix:
        parts["warmup_prefix"] = st.booleans()
    return parts


def _k() -> st.SearchStrategy[float]:
    return st.one_of(st.just(1.0), st.sampled_from([0.5, 2.0]), st.floats(0.2, 4.0))


def _cycles(**rest: st.SearchStrategy[Any]) -> ArgsFor:
    """t_initial, lr_min, the cycle arguments (integer multipliers among them: their
    restarts fall on integer steps), the warmup, and `rest`."""
    return fixed(
        t_initial=period(),
        lr_min=_lr_min(),
        cycle_mul=st.one_of(st.just(1.0), st.sampled_from([2.0, 3.0, 1.5, 10.0]),
                            st.floats(1.0, 3.0)),
        cycle_decay=st.one_of(st.just(1.0), st.sampled_from([0.5, 0.1]),
                              st.floats(0.05, 1.0)),
        cycle_limit=st.one_of(st.just(1), st.integers(2, 6), st.integers(7, 1000)),
        **_warmup(True), **rest)


def _cycles_horizon(a: Args) -> int:
    """The warmup, then every cycle up to cycle_limit, and a few steps of lr_min after
    (the suite caps it)."""
    T0, m, n = a["t_initial"], a["cycle_mul"], a["cycle_limit"]
    if m == 1:
        total = T0 * n
    else:  # T0 (m^n - 1) / (m - 1), without overflowing for a large cycle_limit
        exponent = n * math.log(m)
        total = T0 * math.expm1(exponent) / (m - 1) if exponent < 30 else math.inf
    shift = a["warmup_t"] if a["warmup_prefix"] else 0
    return int(min(shift + total, 10**6)) + 5


def _step_horizon(a: Args) -> int:
    shift = a["warmup_t"] if a["warmup_prefix"] else 0
    return max(a["warmup_t"], shift + math.ceil(3 * a["decay_t"])) + 3


def _multistep_horizon(a: Args) -> int:
    shift = a["warmup_t"] if a["warmup_prefix"] else 0
    return max(a["warmup_t"], shift + max(a["decay_t"], default=0)) + 5


def _decay_rate() -> st.SearchStrategy[float]:
    return st.one_of(st.just(1.0), st.sampled_from([0.1, 0.5]), st.floats(0.05, 1.0))


def _milestones() -> st.SearchStrategy[list[int]]:
    """Sorted milestones, repeats and 0 allowed (0 and 1 apply from the start)."""
    return st.lists(st.one_of(st.integers(0, 12), st.integers(13, 150)), min_size=1,
                    max_size=4).map(sorted)


def _wsd_args(groups: int) -> st.SearchStrategy[Args]:
    @st.composite
    def draw(draw: st.DrawFn) -> Args:
        T = draw(st.one_of(st.integers(1, 10), st.integers(11, 300)))
        w = draw(_warmup_t())
        stable_fn = draw(st.sampled_from(STABLE_FNS))
        # The timescale defaults to warmup_t, which must then be positive.
        needs_tau = stable_fn != "constant" and w == 0
        tau = draw(st.floats(0.5, 100.0) if needs_tau
                   else st.one_of(st.none(), st.floats(0.5, 100.0)))
        return {
            "t_initial": T,
            "decay_t": draw(st.one_of(st.integers(1, T), st.just(T))),
            "lr_min": draw(_lr_min()),
            "stable_fn": stable_fn,
            "stable_timescale": tau,
            "stable_power": draw(st.one_of(st.just(0.5), st.floats(0.1, 2.0))),
            "decay_fn": draw(st.sampled_from(DECAY_FNS)),
            "decay_power": draw(st.one_of(st.just(0.5), st.floats(0.1, 4.0))),
            "decay_ratio": draw(st.one_of(st.just(0.1), st.floats(0.01, 0.99))),
            "warmup_t": w,
            "warmup_lr_init": draw(_warmup_lr_init()),
            "t_in_epochs": draw(st.booleans()),
        }
    return draw()


def _plateau_args(groups: int) -> st.SearchStrategy[Args]:
    return st.fixed_dictionaries({
        "decay_rate": st.one_of(st.just(0.1), st.floats(0.05, 0.95)),
        "patience_t": st.integers(0, 6),
        "threshold": st.one_of(st.just(1e-4), st.floats(0.0, 0.2)),
        "cooldown_t": st.integers(0, 5),
        "warmup_t": st.one_of(st.just(0), st.integers(1, 10)),
        "warmup_lr_init": _warmup_lr_init(),
        "lr_min": st.one_of(st.just(0.0), st.floats(0.0, 1e-2)),
        "mode": st.sampled_from(["min", "max"]),
    })


# What docs/spec/timm.md's domains refuse (docs/spec.md, "Invalid arguments"): lengths of no
# steps, shrinking cycles (undefined past T0 / (1 - m)), no cycle at all, negative counts,
# unknown names, a decay that turns the lr negative.
_CYCLES: tuple[dict[str, Any], ...] = (
    {"t_initial": 0}, {"cycle_mul": 0.5}, {"cycle_limit": 0}, {"warmup_t": -1})
_DECAYS: tuple[dict[str, Any], ...] = ({"decay_rate": -0.5}, {"warmup_t": -1})
INVALID: dict[str, tuple[dict[str, Any], ...]] = {
    "CosineLRScheduler": (*_CYCLES, {"k_decay": -1.0}),
    "TanhLRScheduler": (*_CYCLES, {"lb": 3.0, "ub": -7.0}),
    "PolyLRScheduler": (*_CYCLES, {"power": -1.0}, {"k_decay": -1.0}),
    "StepLRScheduler": (*_DECAYS, {"decay_t": 0.0}),
    "MultiStepLRScheduler": (*_DECAYS, {"decay_t": [20, 10]}),
    "WSDLRScheduler": (
        {"t_initial": 0}, {"decay_t": 0}, {"warmup_t": -1},
        {"decay_t": Derived("decay_t one more than t_initial",
                            lambda a, lrs: a["t_initial"] + 1)},
        {"stable_fn": "cosine"}, {"decay_fn": "step"}, {"decay_fn": "exp", "decay_ratio": 1.0},
        {"stable_fn": "rsqrt", "stable_timescale": 0.0}),
    # The plateau logic is torch's ReduceLROnPlateau: a decay_rate >= 1 and an unknown mode.
    "PlateauLRScheduler": ({"decay_rate": 1.0}, {"mode": "maximum"}),
}


def _add(name: str, module: str, args: ArgsFor, horizon: Any, **kw: Any) -> Spec:
    return register(Spec(SCHEDULES[f"timm.{name}"], args, horizon,
                         binds=(f"timm.scheduler.{module}:{name}",), invalid=INVALID[name],
                         **kw))


COSINE = _add("CosineLRScheduler", "cosine_lr", _cycles(k_decay=_k()), _cycles_horizon,
              epoch_arg=True)
TANH = _add("TanhLRScheduler", "tanh_lr", _cycles(
    lb=st.one_of(st.just(-7.0), st.floats(-10.0, -0.5)),
    ub=st.one_of(st.just(3.0), st.floats(0.5, 10.0))), _cycles_horizon, epoch_arg=True)
POLY = _add("PolyLRScheduler", "poly_lr", _cycles(
    power=st.one_of(st.just(0.5), st.sampled_from([1.0, 2.0, 0.1]), st.floats(0.1, 4.0)),
    k_decay=_k()), _cycles_horizon, epoch_arg=True)
STEP = _add("StepLRScheduler", "step_lr", fixed(
    decay_t=st.one_of(period(), st.floats(0.5, 60.0)), decay_rate=_decay_rate(),
    **_warmup(True)), _step_horizon, epoch_arg=True)
MULTISTEP = _add("MultiStepLRScheduler", "multistep_lr", fixed(
    decay_t=_milestones(), decay_rate=_decay_rate(), **_warmup(True)), _multistep_horizon,
    epoch_arg=True)
WSD = _add("WSDLRScheduler", "wsd_lr", _wsd_args,
           lambda a: a["warmup_t"] + a["t_initial"] + 5, epoch_arg=True)
PLATEAU = _add("PlateauLRScheduler", "plateau_lr", _plateau_args,
               lambda a: a["warmup_t"] + 120, epoch_arg=False)

#: Every timm spec, in the order of timm.scheduler's classes.
ALL = (COSINE, TANH, STEP, MULTISTEP, POLY, WSD, PLATEAU)
