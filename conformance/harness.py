"""Build an optimizer and a target scheduler from a drawn case, step it, and write a
reproducer script for what was seen."""

from __future__ import annotations

import functools
import inspect
import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from conformance.lambdas import Lam
from conformance.specs import Sub
from conformance.targets import Target


class Mismatch(AssertionError):
    """A check's failure: what was expected, what was seen, where, and how to reproduce it."""

    def __init__(self, message: str, *, step: int | None = None, group: int | None = None,
                 expected: Any = None, actual: Any = None, ulps: float | None = None,
                 script: str = "", series: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.step = step
        self.group = group
        self.expected = expected
        self.actual = actual
        self.ulps = ulps
        self.script = script
        #: For trajectory checks: {"seen", "expected", "first"} lrs per step and group.
        self.series = series


@dataclass
class Case:
    """One drawn example: group lrs, constructor arguments, step count, metrics, optimizer."""

    lrs: list[float]
    args: dict[str, Any]
    steps: int
    metrics: list[float] | None = None
    optim: str = "sgd"
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"Case(lrs={self.lrs!r}, args={self.args!r}, steps={self.steps}, "
                f"optim={self.optim!r}" + (f", metrics={self.metrics!r}" if self.metrics else "")
                + ")")


def optimizer(case: Case) -> torch.optim.Optimizer:
    """An optimizer with one param group per drawn lr (a float lr each)."""
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in case.lrs]
    if case.optim == "adam":
        return torch.optim.Adam(groups, lr=case.lrs[0])
    return torch.optim.SGD(groups, lr=case.lrs[0], momentum=0.9)


def materialize(value: Any, opt: torch.optim.Optimizer) -> Any:
    """Sub descriptions -> torch schedulers built on `opt` (in order, as a user would)."""
    if isinstance(value, Sub):
        from torch.optim import lr_scheduler

        return getattr(lr_scheduler, value.name)(opt, **value.args)
    if isinstance(value, list) and value and all(isinstance(v, Sub) for v in value):
        return [materialize(v, opt) for v in value]
    return value


def construct(target: Target, opt: torch.optim.Optimizer, case: Case, **extra: Any) -> Any:
    """The target built on `opt` with the case's arguments (sub-schedulers built first)."""
    args = target.translate({k: materialize(v, opt) for k, v in case.args.items()})
    args.update(extra)
    positional: tuple[Any, ...] = (opt,)
    if takes_optimizer_by_name(target.obj):
        positional, args = (), {"optimizer": opt, **args}
    elif first_parameter(target.obj) in args:  # torch < 2.4: ChainedScheduler(schedulers)
        positional = ()
    try:
        sched = target.obj(*positional, **args)
    except TypeError as exc:
        refused = _refused(target, case, positional, args)
        if refused is None:
            raise
        raise refused from exc
    if not callable(getattr(sched, "step", None)):
        raise Mismatch(f"the target returned {type(sched).__name__} {sched!r:.80}, which has "
                       "no step(): not a scheduler", actual=repr(sched)[:80],
                       script=script(target, case, ["print(sched)"]))
    return sched


def _refused(target: Target, case: Case, positional: tuple[Any, ...],
             args: dict[str, Any]) -> Mismatch | None:
    """A Mismatch when the target's signature does not take the case's arguments: the
    TypeError comes from the call itself, so its traceback ends in the suite, and it would
    read as the suite's internal error."""
    try:
        inspect.signature(target.obj).bind(*positional, **args)
        return None
    except ValueError:  # no signature to compare with
        return None
    except TypeError as why:
        hint = ""
        if target.spec is not None and case.args:
            example = json.dumps({next(iter(case.args)): "its_name"})
            hint = (f"; if it names them differently, map the {target.spec.name} spec's names "
                    f"to its own with --scheduler-map '{example}' (check_scheduler: arg_map=)")
        return Mismatch(f"{target.label} does not take the arguments it was given ({why})"
                        f"{hint}", actual=str(why), script=script(target, case, []))


def _parameters(obj: Any) -> Mapping[str, inspect.Parameter]:
    try:
        return inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return {}


@functools.cache
def first_parameter(obj: Any) -> str | None:
    """The name of a callable's first parameter (None when it has none or no signature)."""
    return next(iter(_parameters(obj)), None)


@functools.cache
def takes_optimizer_by_name(obj: Any) -> bool:
    """True for constructors like ChainedScheduler(schedulers, optimizer=None), whose first
    parameter is not the optimizer."""
    return first_parameter(obj) not in (None, "optimizer") and "optimizer" in _parameters(obj)


def number(value: Any, what: str, **where: Any) -> float:
    """`value` as a float; a Mismatch naming `what` when it is no number (None, a string)."""
    try:
        return float(value)
    except (TypeError, ValueError, RuntimeError):
        raise Mismatch(f"{what} is {value!r:.80} ({type(value).__name__}), not a number",
                       actual=repr(value)[:80], **where) from None


def group_lrs(opt: torch.optim.Optimizer) -> list[float]:
    """The groups' lrs as floats; a Mismatch if one is not a real number (None, a string)."""
    try:  # every step of every check comes here: the named conversion only when this fails
        return [float(group["lr"]) for group in opt.param_groups]
    except (TypeError, ValueError, RuntimeError, KeyError):
        return [number(group.get("lr"), f"param group {g}'s lr", group=g)
                for g, group in enumerate(opt.param_groups)]


def advance(sched: Any, case: Case, i: int) -> None:
    """One scheduler step: with the i-th metric for metric-driven schedules."""
    if case.metrics is not None:
        sched.step(case.metrics[i])
    else:
        sched.step()


def start(target: Target, case: Case) -> tuple[torch.optim.Optimizer, Any]:
    """The case's optimizer and the target built on it, after one optimizer.step() (the order
    of correct use)."""
    opt = optimizer(case)
    sched = construct(target, opt, case)
    opt.step()
    return opt, sched


def run(target: Target, case: Case) -> tuple[Any, torch.optim.Optimizer, list[list[float]]]:
    """Build, then step `case.steps` times; the group lrs after construction and each step."""
    opt = optimizer(case)
    sched = construct(target, opt, case)
    seen = [group_lrs(opt)]
    opt.step()
    for i in range(case.steps):
        advance(sched, case, i)
        seen.append(group_lrs(opt))
    return sched, opt, seen


def quiet_run(target: Target, case: Case) -> tuple[Any, torch.optim.Optimizer, list[list[float]]]:
    """`run` with warnings silenced (for checks that are not about warnings)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run(target, case)


# -- reproducers ------------------------------------------------------------------------
def _code(value: Any) -> str:
    if isinstance(value, Sub):
        args = ", ".join(f"{k}={_code(v)}" for k, v in value.args.items())
        return f"lr_scheduler.{value.name}(opt, {args})"
    if isinstance(value, Lam):
        return f"Lam({value.kind!r}, {value.a!r})"
    if isinstance(value, list):
        return "[" + ", ".join(_code(v) for v in value) + "]"
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    return repr(value)


def _import_line(target: Target) -> str:
    module, _, attr = target.path.partition(":")
    return f"from {module} import {attr.split('.')[0]}"


def script(target: Target, case: Case, body: Sequence[str]) -> str:
    """A copy-paste script: `build()` makes the case's optimizer and target, then `body`."""
    attr = target.path.partition(":")[2]
    groups = ", ".join(
        f'{{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": {lr!r}}}' for lr in case.lrs
    )
    optim = ("torch.optim.Adam(groups)" if case.optim == "adam"
             else "torch.optim.SGD(groups, lr=0.1, momentum=0.9)")
    named = target.translate(case.args)  # under the target's own argument names
    args = ", ".join(f"{k}={_code(v)}" for k, v in named.items())
    opt_arg = ("optimizer=opt" if takes_optimizer_by_name(target.obj)
               else "" if first_parameter(target.obj) in named else "opt")
    lines = ["import torch", "from torch.optim import lr_scheduler  # noqa: F401",
             _import_line(target)]
    if "Lam(" in repr(case.args):
        lines.append("from conformance.lambdas import Lam")
    lines += [
        "",
        "def make_opt():",
        f"    groups = [{groups}]",
        f"    return {optim}",
        "",
        "def build(opt=None, **extra):",
        "    opt = make_opt() if opt is None else opt",
        f"    return opt, {attr}({', '.join(p for p in (opt_arg, args) if p)}, **extra)",
        "",
        "opt, sched = build()",
    ]
    if case.metrics is not None:
        lines.append(f"metrics = {case.metrics!r}")
    lines += list(body)
    return "\n".join(lines)


def stepping(case: Case, steps: int) -> list[str]:
    """Script lines that step the scheduler as `run` does, `steps` times."""
    call = "sched.step(metrics[i])" if case.metrics is not None else "sched.step()"
    return ["opt.step()", f"for i in range({steps}):", f"    {call}"]


def trajectory_script(target: Target, case: Case, step: int, group: int,
                      expected: float) -> str:
    """Reproducer of a wrong lr at `step` in `group`."""
    return script(target, case, [
        *stepping(case, step),
        f'print("step {step}, group {group}: expected", {expected!r}, '
        f'"got", opt.param_groups[{group}]["lr"])',
    ])


def accepts(obj: Any, name: str) -> bool:
    """Whether a callable takes a parameter `name`: named in its signature, or, for a class
    whose constructor takes **kwargs, named by a base class's constructor it forwards to."""
    params = _parameters(obj)
    if name in params:
        return True
    if not inspect.isclass(obj) or not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return False
    return any(name in _parameters(vars(base)["__init__"])
               for base in obj.__mro__[1:] if "__init__" in vars(base))
