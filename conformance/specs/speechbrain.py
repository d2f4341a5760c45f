"""The specs of speechbrain's lr schedules (reference/speechbrain.py), bound to
`speechbrain.nnet.schedulers`' callables (the suite's "callable" driver: no optimizer at
construction, one call per step)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

import reference.speechbrain  # noqa: F401  (registers the family before SCHEDULES is read)
from conformance.specs import Args, ArgsFor, Derived, Spec, cap, fixed, lr_value, register
from reference import SCHEDULES

MODULE = "speechbrain.nnet.schedulers"


def _warmup(least: int = 0) -> st.SearchStrategy[int]:
    """None (where allowed), a step or two, a medium or a long warmup."""
    return st.one_of(st.integers(least, 3), st.integers(4, 60), st.integers(61, 2000))


def _tri_stage_args(groups: int) -> st.SearchStrategy[Args]:
    @st.composite
    def draw(draw: st.DrawFn) -> Args:
        W = draw(st.one_of(st.integers(1, 3), st.integers(4, 60)))
        H = draw(st.one_of(st.just(0), st.integers(1, 60)))
        D = draw(st.one_of(st.integers(1, 3), st.integers(4, 100)))
        return {
            "peak_lr": draw(lr_value()),
            "warmup_steps": W,
            "hold_steps": H,
            "decay_steps": D,
            # Documented as 'used to decay' with no formula: the usual sum, or any other.
            "total_steps": draw(st.one_of(st.just(W + H + D), st.integers(0, 400))),
            "init_lr_scale": draw(st.one_of(st.just(0.01), st.floats(0.0, 1.0))),
            "final_lr_scale": draw(st.one_of(st.just(0.05), st.floats(1e-3, 1.0))),
        }
    return draw()


def _linear_warmup_args(groups: int) -> st.SearchStrategy[Args]:
    return st.one_of(st.just(0), st.integers(1, 3), st.integers(4, 60)).flatmap(
        lambda w: st.fixed_dictionaries({
            "initial_value": lr_value(),
            "num_warmup_steps": st.just(w),
            "num_training_steps": st.integers(w + 1, w + 300),
        }))


# What docs/spec/speechbrain.md's domains refuse (docs/spec.md, "Invalid arguments"): phases
# of no steps where a formula divides by them, factors outside their ranges, no decay window.
INVALID: dict[str, tuple[dict[str, Any], ...]] = {
    "NoamScheduler": ({"n_warmup_steps": 0}, {"model_size": 0}),
    "NewBobScheduler": ({"annealing_factor": 0.0}, {"annealing_factor": 1.5},
                        {"improvement_threshold": 1.5}, {"patient": -1}),
    "TriStageLRSchedule": ({"warmup_steps": 0}, {"decay_steps": 0}, {"init_lr_scale": 1.5},
                           {"final_lr_scale": 0.0}),
    "LinearWarmupScheduler": ({"num_warmup_steps": -1}, {"num_training_steps": Derived(
        "num_training_steps equal to num_warmup_steps", lambda a, lrs: a["num_warmup_steps"])}),
    "CyclicCosineScheduler": ({"n_warmup_steps": 0}, {"total_steps": 0}),
}


def _add(name: str, args: ArgsFor, horizon: Any, **kw: Any) -> None:
    # Each call moves one step on: none of these is told a step to jump to (TriStage's
    # num_updates is, but its value at 0 is not the groups' lrs as created, which lr(0) is).
    register(Spec(SCHEDULES[f"speechbrain.{name}"], args, horizon, epoch_arg=False,
                  binds=(f"{MODULE}:{name}",), invalid=INVALID[name], **kw))


_add("NoamScheduler", fixed(lr_initial=lr_value(), n_warmup_steps=_warmup(1),
                            model_size=st.one_of(st.none(), st.integers(1, 1024))),
     lambda a: cap(a["n_warmup_steps"] + 100))
_add("NewBobScheduler", fixed(
    initial_value=lr_value(),
    annealing_factor=st.one_of(st.sampled_from([0.5, 0.1, 0.9]), st.floats(0.05, 1.0)),
    improvement_threshold=st.one_of(st.sampled_from([0.0025, 0.0]), st.floats(0.0, 0.5)),
    patient=st.integers(0, 4)), 60)
_add("TriStageLRSchedule", _tri_stage_args,
     lambda a: cap(a["warmup_steps"] + a["hold_steps"] + a["decay_steps"] + 10),
     map={"peak_lr": "lr"})
_add("LinearWarmupScheduler", _linear_warmup_args, lambda a: cap(a["num_training_steps"] + 5))
_add("CyclicCosineScheduler", fixed(
    n_warmup_steps=st.one_of(st.integers(1, 3), st.integers(4, 60)),
    lr_initial=st.one_of(lr_value(), st.none()),
    total_steps=st.one_of(st.integers(1, 6), st.integers(7, 150), st.just(100000))),
    lambda a: cap(a["n_warmup_steps"] + 2 * a["total_steps"] + 5))
