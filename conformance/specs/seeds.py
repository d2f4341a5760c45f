"""The specs of the three seed third-party schedules (SPEC-RULINGS.md, docs/spec.md)."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.specs import QUARTER, Args, Derived, Spec, register, sub, sub_horizon
from reference import SCHEDULES

AFTER_SUBS = ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR"]


def warmup_args(groups: int) -> st.SearchStrategy[Args]:
    return st.fixed_dictionaries({
        "multiplier": st.one_of(st.just(1.0), st.floats(1.0, 10.0)),
        "total_epoch": st.integers(1, 40),
        "after_scheduler": st.one_of(st.none(), st.sampled_from(AFTER_SUBS).flatmap(
            lambda n: sub(n, groups))),
    })



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



#: What SPEC-RULINGS.md's parameter domains refuse (docs/spec.md, "Invalid arguments").
RESTARTS_INVALID = (
    {"first_cycle_steps": 0}, {"cycle_mult": 0.5}, {"gamma": 0.0}, {"gamma": 1.5},
    {"max_lr": 0.1, "min_lr": 0.2},
    {"warmup_steps": Derived("warmup_steps equal to first_cycle_steps",
                             lambda a, lrs: a["first_cycle_steps"])},
)
LINEAR_ANNEALING_INVALID = (
    {"num_annealing_steps": 0},
    {"num_total_steps": Derived("num_total_steps equal to num_annealing_steps",
                                lambda a, lrs: a["num_annealing_steps"])},
)
GRADUAL_WARMUP_INVALID = ({"multiplier": 0.5}, {"total_epoch": 0})

register(Spec(SCHEDULES["CosineAnnealingWarmupRestarts"], warmup_restarts_args,
              lambda a: int(3 * a["first_cycle_steps"] * a["cycle_mult"] ** 2) + 2,
              epoch_arg=True, invalid=RESTARTS_INVALID))
register(Spec(SCHEDULES["LinearAnnealingLR"], linear_annealing_args,
              lambda a: a["num_total_steps"] + 5, epoch_arg=True,
              invalid=LINEAR_ANNEALING_INVALID))
register(Spec(SCHEDULES["GradualWarmupScheduler"], warmup_args,
              lambda a: a["total_epoch"] + (sub_horizon(a["after_scheduler"])
                                            if a["after_scheduler"] else 5), epoch_arg=True,
              invalid=GRADUAL_WARMUP_INVALID))
