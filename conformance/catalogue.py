"""The check registry: every check has a stable id, a one-line contract (its docstring's
first line) and the capability flags it needs; checks are chosen by flags, never by name."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

from conformance.binding import Narrowing, Unequal
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

    @property
    def family(self) -> str:
        return self.id.partition(".")[0]

    @property
    def contract(self) -> str:
        """The docstring's first sentence, whole (it may span lines)."""
        doc = " ".join((self.func.__doc__ or "").split())
        end = doc.find(". ")
        return doc if end < 0 else doc[: end + 1]


CHECKS: dict[str, Check] = {}

#: Why a target lacks a flag of the spec's, for the report's not-applicable lines.
SPEC_REASONS = {
    "spec": "the target has no spec (bind one with --spec)",
    "chainable": "the spec documents no chainable recurrence",
    "closed": "the spec has no closed form",
    "epoch_arg": "the spec documents no way to jump to an epoch",
    "metrics": "the spec is not metric-driven",
    "momentum": "the spec does not cycle momentum",
    "composite": "the spec is not built from other schedulers",
    "atomic": "the spec builds on other schedulers",
    "per_group_args": "the spec has no per-group arguments",
    "invalid": "the spec declares no invalid arguments",
    "callable_args": "the spec takes no function-valued argument",
}


def reason(flag: str, target: Target) -> str:
    """Why `target` lacks `flag`, in words a user understands."""
    if flag in SPEC_REASONS:
        return SPEC_REASONS[flag]
    driver = target.driver
    title = driver.title if driver is not None else "its protocol"
    torch_own = ("lr_scheduler", "torch_warnings", "torch_class")
    if flag in torch_own and driver is not None and driver.name not in ("torch", "metric"):
        return f"not part of {title}"
    claims = {
        "class": "the target is a function, not a class",
        "torch_class": "the target is not one of torch's scheduler classes or a subclass",
        "lr_scheduler": "the target is not a torch LRScheduler subclass",
        "torch_warnings": "the target does not inherit torch's LRScheduler.step, whose warning "
                          "texts and step(epoch) deprecation are torch's contract",
        "last_epoch": "the target takes no last_epoch argument",
        "get_last_lr": "the target has no get_last_lr()",
        "state_dict": f"the target has no way to save its state in {title}",
        "jump": f"the target cannot be set to a step directly in {title}",
        "own_closed_form": "the target has no _get_closed_form_lr()",
        "per_group_lrs": f"{title} sets one lr for all param groups",
        "no_metrics": "the target's steps take a metric",
    }
    return claims.get(flag, f"needs {flag}")


def check(check_id: str, *needs: str) -> Callable[[CheckFn], CheckFn]:
    """Register a check function under `check_id`, needing the capability flags `needs`."""

    def add(func: CheckFn) -> CheckFn:
        if check_id in CHECKS:
            raise ValueError(f"duplicate check id {check_id}")
        if not (func.__doc__ or "").strip():
            raise ValueError(f"check {check_id} has no contract docstring")
        CHECKS[check_id] = Check(check_id, func, frozenset(needs))
        return func

    return add


def missing(check: Check, target: Target) -> list[str]:
    """The flags `check` needs that `target` lacks (empty: the check applies)."""
    return sorted(check.needs - target.flags)


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


#: Why the last drawn case of each target was outside the spec's domain (for the usage error
#: of fixed values that leave no valid case).
REJECTED: dict[str, str] = {}


def cases(target: Target, steps_cap: int | None = None) -> st.SearchStrategy[Case]:
    """Cases for `target`: 1-3 param groups (one lr for all where its protocol sets one),
    drawn or fixed arguments inside any narrower domain given for them, a step count that
    reaches the spec's horizon (periods, milestones, restarts) in most examples."""
    spec = target.spec
    flags = target.flags
    with_metrics = "metrics" in flags or "no_metrics" not in flags
    same_lr = "per_group_lrs" not in flags
    optimizers = st.sampled_from(spec.optimizers) if spec and len(spec.optimizers) > 1 else None
    narrow = target.binding.domain

    @st.composite
    def draw(draw: st.DrawFn) -> Case:
        groups = draw(_GROUPS)
        lrs = draw(_LRS[groups])
        if same_lr:
            lrs = [lrs[0]] * groups
        args: dict[str, Any] = draw(args_of(spec, groups)) if spec else {}
        args.update(target.fixed)
        for key, domain in narrow.items():
            if key in args and not domain.admits(args[key]):
                args[key] = draw(_inside(domain, spec.params[key].kind if spec else "float"))
        if spec is not None:
            try:
                spec.oracle(lrs, args)
            except ValueError as exc:
                REJECTED[target.label] = str(exc)
                reject()  # outside the schedule's valid domain, as the oracle's schema says
        try:
            target.kwargs(args, lrs)
        except Unequal:
            reject()  # the target takes one value where these groups have several
        horizon = spec.steps(args) if spec else cap(60)
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


@functools.cache
def _inside(domain: Narrowing, kind: str) -> st.SearchStrategy[Any]:
    """Values inside a narrowed domain (drawn where the spec's own draw fell outside it)."""
    if domain.choices is not None:
        return st.sampled_from(domain.choices)
    lo, hi = domain.low, domain.high
    if kind == "int":
        low = int(lo) if lo is not None else (int(hi) - 100 if hi is not None else 0)
        return st.integers(low, int(hi) if hi is not None else low + 100)
    low_f = lo if lo is not None else (hi - 10.0 if hi is not None else 0.0)
    return st.floats(low_f, hi if hi is not None else low_f + 10.0)
