"""The check registry: every check has a stable id, a one-line contract (its docstring's
first line) and the capability flags it needs; checks are chosen by flags, never by name."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

from conformance.harness import Case
from conformance.specs import QUARTER, args_of, cap, lr_value
from conformance.targets import Target

CheckFn = Callable[[Target, Case], "float | None"]


@dataclass(frozen=True)
class Check:
    """One conformance check."""

    id: str
    func: CheckFn
    needs: frozenset[str]
    #: Runs once on a fixed case instead of under Hypothesis (deterministic checks).
    once: bool = False

    @property
    def family(self) -> str:
        return self.id.partition(".")[0]

    @property
    def contract(self) -> str:
        doc = (self.func.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""


CHECKS: dict[str, Check] = {}

#: Why a target lacks a flag, for the report's "skipped" lines.
REASONS = {
    "spec": "the target has no spec (bind one with --spec)",
    "chainable": "the spec documents no chainable recurrence",
    "closed": "the spec has no closed form",
    "epoch_arg": "the spec documents no step(epoch)",
    "metrics": "the spec is not metric-driven",
    "momentum": "the spec does not cycle momentum",
    "composite": "the spec is not built from other schedulers",
    "class": "the target is a factory, not a class",
    "lr_scheduler": "the target is not an LRScheduler subclass",
    "no_metrics": "the target's step() needs a metric",
    "last_epoch": "the target's constructor has no last_epoch argument",
    "atomic": "the spec builds on other schedulers",
    "own_closed_form": "the target has no _get_closed_form_lr()",
    "per_group_args": "the spec has no per-group arguments",
    "epoch_warns": "the spec documents no epoch deprecation warning for step(epoch)",
    "order_warns": "the spec documents no step-ordering warnings (step() is overridden)",
}


def check(check_id: str, *needs: str, once: bool = False) -> Callable[[CheckFn], CheckFn]:
    """Register a check function under `check_id`, needing the capability flags `needs`."""

    def add(func: CheckFn) -> CheckFn:
        if check_id in CHECKS:
            raise ValueError(f"duplicate check id {check_id}")
        if not (func.__doc__ or "").strip():
            raise ValueError(f"check {check_id} has no contract docstring")
        CHECKS[check_id] = Check(check_id, func, frozenset(needs), once)
        return func

    return add


def target_flags(target: Target) -> frozenset[str]:
    """The capability flags of a target: its spec's, plus what its type shows."""
    import inspect

    from torch.optim.lr_scheduler import LRScheduler

    from conformance.harness import accepts

    flags = set(target.spec.flags) if target.spec else {"atomic"}
    if hasattr(target.obj, "_get_closed_form_lr"):
        flags.add("own_closed_form")
    if target.is_class:
        flags.add("class")
        if issubclass(target.obj, LRScheduler):
            flags.add("lr_scheduler")
            if target.spec is None and target.obj.step is LRScheduler.step:
                flags |= {"order_warns", "epoch_warns"}
        if accepts(target.obj, "last_epoch"):
            flags.add("last_epoch")
    step = getattr(target.obj, "step", None)
    needs_metric = "metrics" in flags
    if step is not None and not needs_metric:
        try:
            params = list(inspect.signature(step).parameters.values())[1:]
            needs_metric = bool(params) and params[0].default is inspect.Parameter.empty
        except (TypeError, ValueError):
            pass
    if not needs_metric:
        flags.add("no_metrics")
    return frozenset(flags)


def missing(check: Check, target: Target) -> list[str]:
    """The flags `check` needs that `target` lacks (empty: the check applies)."""
    return sorted(check.needs - target_flags(target))


@functools.cache
def metrics_strategy(n: int) -> st.SearchStrategy[list[float]]:
    """Metric sequences with plateaus, improvements and ties (threshold edges)."""
    value = st.one_of(st.sampled_from([1.0, 0.5, 0.9999, 2.0, 1.0001]), st.floats(-5.0, 5.0))
    return st.lists(value, min_size=n, max_size=n)


@functools.cache
def _up_to(n: int) -> st.SearchStrategy[int]:
    return st.integers(0, n)


# Strategies are built once and reused: Hypothesis analyses each strategy object once, and
# drawing through fresh objects made data generation dominate the run (issue 8).
_GROUPS = st.integers(1, 3)
_LRS = {g: st.lists(lr_value(), min_size=g, max_size=g) for g in (1, 2, 3)}


def cases(target: Target, steps_cap: int | None = None) -> st.SearchStrategy[Case]:
    """Cases for `target`: 1-3 param groups, drawn or fixed arguments, a step count that
    reaches the spec's horizon (periods, milestones, restarts) in most examples."""
    spec = target.spec
    flags = target_flags(target)
    with_metrics = "metrics" in flags or "no_metrics" not in flags
    optimizers = st.sampled_from(spec.optimizers) if spec and len(spec.optimizers) > 1 else None

    @st.composite
    def draw(draw: st.DrawFn) -> Case:
        groups = draw(_GROUPS)
        lrs = draw(_LRS[groups])
        args: dict[str, Any] = draw(args_of(spec.name, groups)) if spec else {}
        args.update(target.fixed)
        if spec is not None:
            try:
                spec.oracle(lrs, args)
            except ValueError:
                reject()  # outside the schedule's valid domain, as the oracle's schema says
        horizon = cap(spec.horizon(args) if spec else 60)
        if steps_cap is not None:
            horizon = min(horizon, steps_cap)
        # Three in four examples run to the horizon (the simplest choice, so shrinking keeps
        # it); the rest stop anywhere before it.
        steps = draw(_up_to(horizon)) if draw(QUARTER) == 3 else horizon
        metrics = draw(metrics_strategy(steps)) if with_metrics else None
        optim = (draw(optimizers) if optimizers is not None
                 else spec.optimizers[0] if spec else "sgd")
        return Case(lrs, args, steps, metrics, optim)

    return draw()
