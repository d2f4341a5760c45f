"""The specs of torch's built-in schedulers (torch.optim.lr_scheduler and swa_utils.SWALR)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from conformance import versions
from conformance.lambdas import Lam
from conformance.specs import (
    Args,
    ArgsFor,
    Derived,
    Spec,
    Sub,
    fixed,
    gamma,
    longer,
    per_group,
    period,
    register,
    sub_horizon,
    subs,
    total_iters,
)
from reference import SCHEDULES


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




def _add(name: str, args: ArgsFor, horizon: Any, module: str = "torch.optim.lr_scheduler",
         **kw: Any) -> None:
    register(Spec(SCHEDULES[name], args, horizon, binds=(f"{module}:{name}",),
                  invalid=INVALID.get(name, ()), **kw))


def _since(entry: str, *overrides: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """Overrides torch refuses at construction from the version of catalogue entry `entry` on
    (earlier versions accept them, and fail later or not at all)."""
    return overrides if versions.holds(entry) else ()


_ONE_MORE_MILESTONE = Derived("milestones one longer than the schedulers allow", lambda a, lrs: [
    *a["milestones"], (a["milestones"][-1] if a["milestones"] else 0) + 1])
_PLATEAU_CHILD = Derived("a ReduceLROnPlateau in place of the first scheduler", lambda a, lrs: [
    Sub("ReduceLROnPlateau", {}), *a["schedulers"][1:]])

#: The arguments each torch class refuses at construction (ValueError or TypeError), checked on
#: torch 2.13.0 (docs/spec.md, "Invalid arguments"). Values torch accepts and fails on later
#: (StepLR's step_size=0, ...) are findings about torch (docs/findings-torch.md), not here.
INVALID: dict[str, tuple[dict[str, Any], ...]] = {
    # LambdaLR calls a non-callable in its constructor's initial step: TypeError.
    "LambdaLR": ({"lr_lambda": longer("lr_lambda")}, {"lr_lambda": 0.5}),
    "MultiplicativeLR": ({"lr_lambda": longer("lr_lambda")},
                         *_since("multiplicative_callable_check", {"lr_lambda": 0.5})),
    "MultiStepLR": ({"milestones": 5},),
    "ConstantLR": ({"factor": 1.5}, {"factor": -0.5}),
    "LinearLR": ({"start_factor": 0.0}, {"start_factor": 1.5}, {"end_factor": 1.5},
                 {"end_factor": -0.1}),
    "CosineAnnealingWarmRestarts": (
        {"T_0": 0}, {"T_0": 2.5}, {"T_mult": 0}, {"T_mult": 2.5},
        *_since("warm_restarts_eta_min_type", {"eta_min": "1e-3"})),
    "CyclicLR": ({"base_lr": longer("base_lr")}, {"max_lr": longer("max_lr")},
                 {"mode": "linear"},
                 {"cycle_momentum": True, "base_momentum": longer("base_momentum")},
                 {"cycle_momentum": True, "max_momentum": longer("max_momentum")}),
    "OneCycleLR": ({"total_steps": 0}, {"total_steps": 2.5}, {"total_steps": None},
                   {"total_steps": None, "epochs": 0, "steps_per_epoch": 10},
                   {"pct_start": 1.5}, {"pct_start": -0.1}, {"anneal_strategy": "exp"},
                   {"max_lr": longer("max_lr")},
                   {"cycle_momentum": True, "base_momentum": longer("base_momentum")},
                   {"cycle_momentum": True, "max_momentum": longer("max_momentum")}),
    "ReduceLROnPlateau": ({"factor": 1.0}, {"factor": 1.5}, {"mode": "maximum"},
                          {"threshold_mode": "relative"}, {"min_lr": longer("min_lr")}),
    # Before 2.4 the milestone count check refuses an empty SequentialLR too.
    "SequentialLR": ({"schedulers": []}, {"milestones": _ONE_MORE_MILESTONE},
                     *_since("container_validation", {"schedulers": _PLATEAU_CHILD})),
    "ChainedScheduler": _since("container_validation", {"schedulers": []},
                               {"schedulers": _PLATEAU_CHILD}),
    "SWALR": ({"swa_lr": longer("swa_lr")}, {"anneal_strategy": "exp"}, {"anneal_epochs": -1},
              {"anneal_epochs": 2.5}),
}


_add("LambdaLR", lambda_args(False), 120, epoch_arg=False)
_add("MultiplicativeLR", lambda_args(True), 120, epoch_arg=False)
_add("StepLR", fixed(step_size=period(), gamma=gamma()), lambda a: 3 * a["step_size"] + 2,
     epoch_arg=True)
_add("MultiStepLR", fixed(milestones=milestones(), gamma=gamma()),
     lambda a: max(a["milestones"], default=0) + 5, epoch_arg=True)
_add("ConstantLR", fixed(factor=st.floats(0.01, 1.0), total_iters=total_iters()),
     lambda a: a["total_iters"] + 5, epoch_arg=True)
_add("LinearLR", fixed(start_factor=st.floats(0.01, 1.0), end_factor=st.floats(0.0, 1.0),
                       total_iters=total_iters()),
     lambda a: a["total_iters"] + 5, epoch_arg=True)
_add("ExponentialLR", fixed(gamma=gamma()), 150, epoch_arg=True)
_add("PolynomialLR", fixed(total_iters=total_iters(), power=st.floats(0.1, 4.0)),
     lambda a: a["total_iters"] + 5, epoch_arg=True)
_add("CosineAnnealingLR", fixed(T_max=period(), eta_min=st.one_of(
    st.just(0.0), st.floats(0.0, 1e-2))), lambda a: 6 * a["T_max"] + 2, epoch_arg=True)
_add("CosineAnnealingWarmRestarts", fixed(
    T_0=period(), T_mult=st.integers(1, 3), eta_min=st.one_of(st.just(0.0), st.floats(0, 1e-2))),
    lambda a: 3 * a["T_0"] * a["T_mult"] ** 2 + 2, epoch_arg=True,
     extra=frozenset({"fractional"}))
# CyclicLR cycles Adam's betas[0] from torch 2.3 (catalogue entry cyclic_beta1); before, it
# refuses an optimizer without momentum, so the spec draws SGD only there.
_add("CyclicLR", cyclic_args, cyclic_horizon, epoch_arg=True,
     optimizers=("sgd", "adam") if versions.holds("cyclic_beta1") else ("sgd",))
_add("OneCycleLR", onecycle_args, lambda a: a["total_steps"] - 1, epoch_arg=True,
     optimizers=("sgd", "adam"), extra=frozenset({"has_end"}))
_add("ReduceLROnPlateau", plateau_args, 120, epoch_arg=False)
_add("SequentialLR", sequential_args,
     lambda a: sum(a["milestones"][-1:]) + sub_horizon(a["schedulers"][-1]), epoch_arg=False)
_add("ChainedScheduler", chained_args,
     lambda a: max(sub_horizon(s) for s in a["schedulers"]), epoch_arg=False)
_add("SWALR", lambda g: st.fixed_dictionaries({
    "swa_lr": per_group(g, st.floats(1e-4, 1.0)),
    "anneal_epochs": st.integers(0, 60),
    "anneal_strategy": st.sampled_from(["cos", "linear"]),
}), lambda a: a["anneal_epochs"] + 5, module="torch.optim.swa_utils", epoch_arg=False)
