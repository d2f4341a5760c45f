"""Specs as data: for every reference schedule, how to draw its constructor arguments,
how far to step it, and what it can do (capability flags, read from the oracle).

Arguments that need the optimizer (sub-schedulers) are drawn as `Sub` descriptions; the
harness builds them on the optimizer and the oracle reads them as (name, params) pairs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

import reference
from conformance import versions
from conformance.lambdas import Lam

#: Most steps any example takes: enough to cross three periods of the small and medium
#: periods, while a huge period is still stepped well into its first half.
STEP_CAP = 400

Args = dict[str, Any]
ArgsFor = Callable[[int], st.SearchStrategy[Args]]


@dataclass(frozen=True)
class Sub:
    """A scheduler argument built on the same optimizer (a torch class and its arguments)."""

    name: str
    args: Args

    def oracle(self) -> tuple[str, Args]:
        return (self.name, to_oracle(self.args))


def to_oracle(args: Args) -> Args:
    """Constructor arguments -> oracle parameters (Sub descriptions become pairs)."""
    out: Args = {}
    for key, value in args.items():
        if isinstance(value, Sub):
            out[key] = value.oracle()
        elif isinstance(value, list) and value and all(isinstance(v, Sub) for v in value):
            out[key] = [v.oracle() for v in value]
        else:
            out[key] = value
    return out


@dataclass(frozen=True)
class Spec:
    """How the suite exercises one reference schedule."""

    name: str
    args: ArgsFor
    horizon: Callable[[Args], int]
    #: step(epoch) is documented for this schedule (closed form or fractional epochs).
    epoch_arg: bool = True
    #: Optimizers to draw: "sgd" (momentum) and "adam" (betas).
    optimizers: tuple[str, ...] = ("sgd",)
    #: The oracle's trajectory depends on a metric per step.
    metrics: bool = False
    flags_extra: frozenset[str] = field(default_factory=frozenset)

    @property
    def schedule(self) -> type[reference.Schedule]:
        return reference.SCHEDULES[self.name]

    @property
    def arg_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.schedule.schema)

    @property
    def flags(self) -> frozenset[str]:
        s = self.schedule
        names = {"spec"}
        for flag in ("chainable", "closed", "composite"):
            if getattr(s, flag):
                names.add(flag)
        if s.needs_metric:
            names.add("metrics")
        if s.cycles_momentum:
            names.add("momentum")
        if self.epoch_arg:
            names.add("epoch_arg")
        if any(p.per_group for p in s.schema):
            names.add("per_group_args")
        if not s.composite:
            names.add("atomic")
        return frozenset(names | self.flags_extra)

    def oracle(self, base_lrs: list[float], args: Args) -> reference.Schedule:
        return reference.make(self.name, base_lrs, **to_oracle(args))


# -- building blocks ------------------------------------------------------------------
def period() -> st.SearchStrategy[int]:
    """Tiny, medium and huge periods."""
    return st.one_of(st.integers(1, 6), st.integers(7, 60), st.integers(61, 5000))


def gamma() -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from([0.1, 0.5, 0.9, 0.99]), st.floats(0.05, 0.999))


def lr_value() -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from([0.1, 1.0, 0.05, 3e-4]), st.floats(1e-4, 10.0))


def per_group(groups: int, value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A scalar, or a list with one value per param group."""
    return st.one_of(value, st.lists(value, min_size=groups, max_size=groups))


def fixed(**parts: st.SearchStrategy[Any]) -> ArgsFor:
    """Arguments drawn independently of the number of groups."""
    return lambda groups: st.fixed_dictionaries(parts)


def lam(multiplicative: bool) -> st.SearchStrategy[Lam]:
    if multiplicative:
        return st.one_of(
            st.builds(Lam, st.just("const"), st.floats(0.8, 1.0)),
            st.builds(Lam, st.just("inv"), st.floats(0.0, 0.2)),
        )
    return st.one_of(
        st.builds(Lam, st.just("exp"), st.floats(0.8, 1.0)),
        st.builds(Lam, st.just("inv"), st.floats(0.0, 1.0)),
        st.builds(Lam, st.just("warm"), st.floats(1.0, 50.0)),
        st.builds(Lam, st.just("cos"), st.floats(1.0, 200.0)),
    )


def lambda_args(multiplicative: bool) -> ArgsFor:
    # A list of distinct lambdas first (Hypothesis favours the first branch of one_of): equal
    # lambdas cannot show a group that was given another group's lambda.
    return lambda groups: st.fixed_dictionaries({"lr_lambda": st.one_of(
        st.lists(lam(multiplicative), min_size=groups, max_size=groups, unique=True),
        lam(multiplicative),
    )})


def milestones(max_gap: int = 60, most: int = 4) -> st.SearchStrategy[list[int]]:
    """Increasing milestones, repeats allowed (MultiStepLR multiplies repeated ones)."""
    return st.lists(st.integers(1, max_gap), min_size=1, max_size=most).map(
        lambda gaps: sorted(sum(gaps[: i + 1]) for i in range(len(gaps)))
    ) | st.lists(st.integers(1, 40), min_size=2, max_size=4).map(sorted)


def total_iters() -> st.SearchStrategy[int]:
    return st.one_of(st.integers(1, 10), st.integers(11, 300))


def cap(n: int) -> int:
    return max(1, min(n, STEP_CAP))


# -- sub-scheduler descriptions --------------------------------------------------------
# Strategies are built once per (spec, groups): Hypothesis caches its analysis of a strategy
# on the object, and rebuilding them on every draw made data generation half the run time.
@functools.cache
def args_of(name: str, groups: int) -> st.SearchStrategy[Args]:
    """The spec's argument strategy for `groups` param groups."""
    return SPECS[name].args(groups)


@functools.cache
def sub(name: str, groups: int) -> st.SearchStrategy[Sub]:
    return args_of(name, groups).map(lambda a: Sub(name, a))


@functools.cache
def _sub_list(names: tuple[str, ...], groups: int) -> st.SearchStrategy[list[Sub]]:
    return st.tuples(*(sub(n, groups) for n in names)).map(list)


def subs(names: list[str], groups: int, most: int) -> st.SearchStrategy[list[Sub]]:
    return st.lists(st.sampled_from(names), min_size=1, max_size=most).flatmap(
        lambda chosen: _sub_list(tuple(chosen), groups)
    )


SEQUENTIAL_SUBS = ["ConstantLR", "LinearLR", "ExponentialLR", "StepLR", "MultiStepLR",
                   "CosineAnnealingLR", "PolynomialLR", "LambdaLR"]
CHAINED_SUBS = ["ConstantLR", "LinearLR", "ExponentialLR", "StepLR", "MultiStepLR",
                "CosineAnnealingLR", "PolynomialLR", "MultiplicativeLR"]
AFTER_SUBS = ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR"]


def sequential_args(groups: int) -> st.SearchStrategy[Args]:
    def with_milestones(scheds: list[Sub]) -> st.SearchStrategy[Args]:
        gaps = st.lists(st.integers(0, 40), min_size=len(scheds) - 1,
                        max_size=len(scheds) - 1)
        return gaps.map(lambda g: {
            "schedulers": scheds,
            "milestones": [sum(g[: i + 1]) for i in range(len(g))],
        })
    return subs(SEQUENTIAL_SUBS, groups, 3).flatmap(with_milestones)


def _no_floor(s: Sub) -> Sub:
    # The documented product holds for multiplicative steps; a cosine floor above the chained
    # product drives torch's own recurrence negative.
    return Sub(s.name, {**s.args, "eta_min": 0.0}) if "eta_min" in s.args else s


def chained_args(groups: int) -> st.SearchStrategy[Args]:
    return subs(CHAINED_SUBS, groups, 3).map(lambda s: {"schedulers": [_no_floor(x) for x in s]})


def warmup_args(groups: int) -> st.SearchStrategy[Args]:
    return st.fixed_dictionaries({
        "multiplier": st.one_of(st.just(1.0), st.floats(1.0, 10.0)),
        "total_epoch": st.integers(1, 40),
        "after_scheduler": st.one_of(st.none(), st.sampled_from(AFTER_SUBS).flatmap(
            lambda n: sub(n, groups))),
    })


def sub_horizon(s: Sub) -> int:
    return SPECS[s.name].horizon(s.args)


def cyclic_args(groups: int) -> st.SearchStrategy[Args]:
    @st.composite
    def draw(draw: st.DrawFn) -> Args:
        base = draw(st.lists(st.floats(1e-4, 1.0), min_size=groups, max_size=groups))
        top = [b + draw(st.floats(1e-4, 2.0)) for b in base]
        args: Args = {
            "base_lr": draw(st.sampled_from([base, base[0]])) if groups > 1 else base[0],
            "max_lr": top if draw(st.booleans()) or groups > 1 else top[0],
            "step_size_up": draw(st.integers(1, 60)),
            "step_size_down": draw(st.one_of(st.none(), st.integers(1, 60))),
            "mode": draw(st.sampled_from(["triangular", "triangular2", "exp_range"])),
            "gamma": draw(st.floats(0.9, 1.0)),
            "cycle_momentum": draw(st.booleans()),
            "base_momentum": draw(st.floats(0.5, 0.85)),
            "max_momentum": draw(st.floats(0.86, 0.99)),
        }
        if isinstance(args["base_lr"], float) and isinstance(args["max_lr"], list):
            args["base_lr"] = min(args["base_lr"], *args["max_lr"])
        return args
    return draw()


def cyclic_horizon(a: Args) -> int:
    up = a["step_size_up"]
    down = a["step_size_down"] if a["step_size_down"] is not None else up
    return 3 * (up + down) + 2


def onecycle_args(groups: int) -> st.SearchStrategy[Args]:
    return st.fixed_dictionaries({
        "max_lr": per_group(groups, st.floats(1e-3, 5.0)),
        "total_steps": st.integers(2, 400),
        "pct_start": st.floats(0.05, 0.95),
        "anneal_strategy": st.sampled_from(["cos", "linear"]),
        "cycle_momentum": st.booleans(),
        "base_momentum": st.floats(0.5, 0.85),
        "max_momentum": st.floats(0.86, 0.99),
        "div_factor": st.floats(1.5, 100.0),
        "final_div_factor": st.floats(1.5, 1e4),
        "three_phase": st.booleans(),
    })


def plateau_args(groups: int) -> st.SearchStrategy[Args]:
    return st.fixed_dictionaries({
        "mode": st.sampled_from(["min", "max"]),
        "factor": st.floats(0.05, 0.95),
        "patience": st.integers(0, 6),
        "threshold": st.one_of(st.just(1e-4), st.floats(0.0, 0.2)),
        "threshold_mode": st.sampled_from(["rel", "abs"]),
        "cooldown": st.integers(0, 5),
        "min_lr": per_group(groups, st.one_of(st.just(0.0), st.floats(0.0, 1e-2))),
        "eps": st.one_of(st.just(1e-8), st.floats(0.0, 1e-3)),
    })


#: One draw in four: `draw(QUARTER) == 3` (Hypothesis shrinks towards 0, the usual branch).
QUARTER = st.integers(0, 3)


def warmup_restarts_args(groups: int) -> st.SearchStrategy[Args]:
    @st.composite
    def draw(draw: st.DrawFn) -> Args:
        first = draw(st.integers(1, 80))
        lo = draw(st.floats(0.0, 0.01))
        # Warmup and cycle growth interact (only the part after warmup grows): draw both
        # non-trivial in most examples.
        warmup = draw(st.integers(1, first - 1)) if first > 1 and draw(QUARTER) < 3 else 0
        return {
            "first_cycle_steps": first,
            "cycle_mult": draw(st.one_of(st.sampled_from([1.5, 2.0, 1.0]),
                                         st.floats(1.0, 3.0))),
            "max_lr": lo + draw(st.floats(1e-3, 1.0)),
            "min_lr": lo,
            "warmup_steps": warmup,
            "gamma": draw(st.one_of(st.just(1.0), st.floats(0.1, 1.0))),
        }
    return draw()


def linear_annealing_args(groups: int) -> st.SearchStrategy[Args]:
    return st.integers(1, 100).flatmap(lambda n: st.fixed_dictionaries({
        "num_annealing_steps": st.just(n),
        "num_total_steps": st.integers(n + 1, n + 300),
    }))


SPECS: dict[str, Spec] = {}

#: The warning contract of LRScheduler.step (order, overridden optimizer.step, step(epoch)):
#: documented for the torch classes that inherit that step().
WARNS = frozenset({"epoch_warns", "order_warns"})


def _add(spec: Spec) -> None:
    SPECS[spec.name] = spec


_add(Spec("LambdaLR", lambda_args(False), lambda a: 120, epoch_arg=False,
          flags_extra=WARNS))
_add(Spec("MultiplicativeLR", lambda_args(True), lambda a: 120, epoch_arg=False,
          flags_extra=WARNS))
_add(Spec("StepLR", fixed(step_size=period(), gamma=gamma()),
          lambda a: 3 * a["step_size"] + 2,
          flags_extra=WARNS))
_add(Spec("MultiStepLR", fixed(milestones=milestones(), gamma=gamma()),
          lambda a: max(a["milestones"]) + 5,
          flags_extra=WARNS))
_add(Spec("ConstantLR", fixed(factor=st.floats(0.01, 1.0), total_iters=total_iters()),
          lambda a: a["total_iters"] + 5,
          flags_extra=WARNS))
_add(Spec("LinearLR", fixed(start_factor=st.floats(0.01, 1.0), end_factor=st.floats(0.0, 1.0),
                            total_iters=total_iters()),
          lambda a: a["total_iters"] + 5,
          flags_extra=WARNS))
_add(Spec("ExponentialLR", fixed(gamma=gamma()), lambda a: 150,
          flags_extra=WARNS))
_add(Spec("PolynomialLR", fixed(total_iters=total_iters(), power=st.floats(0.1, 4.0)),
          lambda a: a["total_iters"] + 5,
          flags_extra=WARNS))
_add(Spec("CosineAnnealingLR", fixed(T_max=period(), eta_min=st.one_of(
    st.just(0.0), st.floats(0.0, 1e-2))), lambda a: 6 * a["T_max"] + 2,
          flags_extra=WARNS))
_add(Spec("CosineAnnealingWarmRestarts", fixed(
    T_0=period(), T_mult=st.integers(1, 3), eta_min=st.one_of(st.just(0.0), st.floats(0, 1e-2))),
    lambda a: 3 * a["T_0"] * a["T_mult"] ** 2 + 2,
          flags_extra=frozenset({"fractional"})))
# CyclicLR cycles Adam's betas[0] from torch 2.3 (catalogue entry cyclic_beta1); before, it
# refuses an optimizer without momentum, so the spec draws SGD only there.
_add(Spec("CyclicLR", cyclic_args, cyclic_horizon,
          optimizers=("sgd", "adam") if versions.holds("cyclic_beta1") else ("sgd",),
          flags_extra=WARNS))
_add(Spec("OneCycleLR", onecycle_args, lambda a: a["total_steps"] - 1,
          optimizers=("sgd", "adam"),
          flags_extra=WARNS | {"has_end"}))
_add(Spec("ReduceLROnPlateau", plateau_args, lambda a: 120, epoch_arg=False, metrics=True))
_add(Spec("SequentialLR", sequential_args,
          lambda a: sum(a["milestones"][-1:]) + sub_horizon(a["schedulers"][-1]),
          epoch_arg=False))
_add(Spec("ChainedScheduler", chained_args,
          lambda a: max(sub_horizon(s) for s in a["schedulers"]), epoch_arg=False))
_add(Spec("SWALR", lambda g: st.fixed_dictionaries({
    "swa_lr": per_group(g, st.floats(1e-4, 1.0)),
    "anneal_epochs": st.integers(0, 60),
    "anneal_strategy": st.sampled_from(["cos", "linear"]),
}), lambda a: a["anneal_epochs"] + 5, epoch_arg=False,
          flags_extra=WARNS))
_add(Spec("CosineAnnealingWarmupRestarts", warmup_restarts_args,
          lambda a: int(3 * a["first_cycle_steps"] * a["cycle_mult"] ** 2) + 2))
_add(Spec("LinearAnnealingLR", linear_annealing_args, lambda a: a["num_total_steps"] + 5))
_add(Spec("GradualWarmupScheduler", warmup_args,
          lambda a: a["total_epoch"] + (sub_horizon(a["after_scheduler"])
                                        if a["after_scheduler"] else 5)))


# -- the transformers schedule family (reference/transformers.py) ----------------------------
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
    # Exactly one of min_lr (an lr, below the drawn group lrs' 1e-4) and min_lr_rate.
    floor = st.one_of(
        st.fixed_dictionaries({"min_lr": st.one_of(st.just(0.0), st.floats(0.0, 1e-4))}),
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


# The factories return LambdaLR, so the step-ordering and epoch warnings are torch's own.
_add(Spec("get_constant_schedule_with_warmup", fixed(num_warmup_steps=_warmup_steps()),
          lambda a: a["num_warmup_steps"] + 20, flags_extra=WARNS))
_add(Spec("get_linear_schedule_with_warmup", _with_total(), _total_horizon, flags_extra=WARNS))
_add(Spec("get_cosine_schedule_with_warmup", _with_total(num_cycles=_cycles()), _total_horizon,
          flags_extra=WARNS))
_add(Spec("get_cosine_with_hard_restarts_schedule_with_warmup",
          _with_total(num_cycles=st.integers(1, 6)), _total_horizon, flags_extra=WARNS))
_add(Spec("get_polynomial_decay_schedule_with_warmup", _with_total(
    lr_end=st.one_of(st.sampled_from([1e-7, 0.0]), st.floats(0.0, 1e-5)),
    power=st.one_of(st.sampled_from([1.0, 2.0, 0.5]), st.floats(0.1, 4.0))),
    _total_horizon, flags_extra=WARNS))
_add(Spec("get_inverse_sqrt_schedule", _inverse_sqrt_args,
          lambda a: a["num_warmup_steps"] + 100, flags_extra=WARNS))
_add(Spec("get_cosine_with_min_lr_schedule_with_warmup", _min_lr_args, _total_horizon,
          flags_extra=WARNS))
_add(Spec("get_wsd_schedule", _wsd_args, _wsd_horizon, flags_extra=WARNS))
