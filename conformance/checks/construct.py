"""Family construct: the context a target is built in. On an optimizer another scheduler has
already used (the warmup-then-main pattern: `initial_lr` present, optimizer.step wrapped, the
optimizer's state filled) a target steps as on a fresh one; a composite holds another
composite (a ChainedScheduler inside a SequentialLR, a SequentialLR inside a
ChainedScheduler) as it holds the scheduler that composite wraps, where torch's does.

Also what the other families use to hold a target to what torch's own class does on the
running torch (`torch_classes`, `torch_arg`) and to write a constructor call with other
arguments into a reproducer (`call_text`)."""

from __future__ import annotations

import functools
import importlib
import inspect
from typing import Any

from conformance import drivers, versions
from conformance.catalogue import check
from conformance.checks.common import Tolerance, compare
from conformance.harness import (
    Case,
    Mismatch,
    Run,
    _code,
    arguments,
    materialize,
    optimizer,
    quiet,
    script,
    step_lines,
)
from conformance.lambdas import Lam
from conformance.specs import Sub
from conformance.targets import Target


# -- torch's classes behind a target ---------------------------------------------------------
@functools.cache
def _import(path: str) -> Any:
    module, _, attr = path.partition(":")
    try:
        obj: Any = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None
    return obj


def spec_class(target: Target) -> type | None:
    """The torch class the target's spec documents (its binds' torch.optim path), if any."""
    if target.spec is None:
        return None
    for path in target.spec.binds:
        if path.startswith("torch.optim."):
            obj = _import(path)
            if inspect.isclass(obj):
                return obj
    return None


def torch_base(target: Target) -> type | None:
    """The first of torch's scheduler classes in the MRO of what the target builds."""
    kind = target.kind
    if not inspect.isclass(kind):
        return None
    return next((b for b in kind.__mro__ if b.__module__.startswith("torch.optim.")
                 and b.__name__ not in ("LRScheduler", "_LRScheduler")), None)


def torch_classes(target: Target) -> list[type]:
    """Torch's classes whose behaviour on the running torch the target is held to: its spec's
    class (a look-alike is held to the class it documents) and the torch class it inherits
    (a subclass inherits that class's behaviour)."""
    found = [c for c in (spec_class(target), torch_base(target)) if c is not None]
    return list(dict.fromkeys(found))


def torch_arg(cls: type, name: str, case: Case, built: Any = None) -> Any:
    """Argument `name` of torch's class `cls` in this case: the drawn value (the spec's names
    are torch's), else what the built target holds under that name (a subclass keeps torch's
    attributes), else torch's default."""
    if name in case.args:
        return case.args[name]
    if built is not None and hasattr(built, name):
        return getattr(built, name)
    try:
        param = inspect.signature(cls).parameters.get(name)
    except (TypeError, ValueError):
        return None
    return None if param is None or param.default is param.empty else param.default


def small_optimizer() -> Any:
    """Two param groups (lrs 0.1 and 0.5), SGD with momentum: for probing torch's classes."""
    return optimizer(Case([0.1, 0.5], {}, 0))


def build_torch(cls: type, opt: Any) -> Any:
    """Torch's class `cls` on `opt` with small valid arguments (a composite: one
    ExponentialLR), for probing what it does on the running torch."""
    from torch.optim import lr_scheduler

    name = cls.__name__
    if name in ("SequentialLR", "ChainedScheduler"):
        one = [lr_scheduler.ExponentialLR(opt, 0.9)]
        return cls(one) if name == "ChainedScheduler" else cls(opt, one, milestones=[])
    table: dict[str, dict[str, Any]] = {
        "LambdaLR": {"lr_lambda": Lam("exp", 0.9)},
        "MultiplicativeLR": {"lr_lambda": Lam("const", 0.9)},
        "StepLR": {"step_size": 2}, "MultiStepLR": {"milestones": [2]},
        "ExponentialLR": {"gamma": 0.9}, "CosineAnnealingLR": {"T_max": 4},
        "CosineAnnealingWarmRestarts": {"T_0": 2},
        "CyclicLR": {"base_lr": 0.01, "max_lr": 0.2, "step_size_up": 2},
        "OneCycleLR": {"max_lr": 0.2, "total_steps": 10}, "SWALR": {"swa_lr": 0.05},
    }
    return cls(opt, **table.get(name, {}))


def _probe_lrs(sched: Any, opt: Any, steps: int = 6) -> list[list[float]]:
    seen = [[float(g["lr"]) for g in opt.param_groups]]
    metric = sched.__class__.__name__ == "ReduceLROnPlateau"
    for _ in range(steps):
        opt.step()
        if metric:
            sched.step(1.0)
        else:
            sched.step()
        seen.append([float(g["lr"]) for g in opt.param_groups])
    return seen


def call_text(target: Target, case: Case, extra: str = "",
              written: dict[str, str] | None = None) -> str:
    """The target's constructor call on `opt` as a reproducer writes it, with `extra`
    arguments (text) added and the arguments in `written` (the target's names) written as
    given (a function, built schedulers: what the script's `build()` cannot write)."""
    driver = target.driver or drivers.Torch(target.obj)
    written = written or {}
    parts = [f"{k}={written.get(k) or _code(v)}" for k, v in arguments(target, case).items()]
    if extra:
        parts.append(extra)
    first = next(iter(drivers._positional(target.obj)), None)
    by_name = first is not None and first.name not in drivers.OPTIMIZER_NAMES and (
        "optimizer" in {p.name for p in drivers.parameters(target.obj)})
    return driver.call_text(target.path.partition(":")[2], ", ".join(parts), by_name)


def lockstep(a: str, b: str, target: Target, case: Case, start: int, stop: int,
             group: int) -> list[str]:
    """Reproducer lines: step the pairs `a` and `b` ((opt, sched) names) together from step
    `start` to `stop`, and print both lrs of `group`."""
    lines = step_lines(target, case)
    return [
        f"for i in range({start}, {stop}):",
        f"    opt, sched = {a}",
        *(f"    {line}" for line in lines),
        f"    opt, sched = {b}",
        *(f"    {line}" for line in lines),
        f"print('step {stop}, group {group}:', {a}[0].param_groups[{group}]['lr'], "
        f"{b}[0].param_groups[{group}]['lr'])",
    ]


def lrs_of(run: Run, steps: int) -> list[list[float]]:
    """The lrs after building and after each of `steps` steps (optimizer.step() first)."""
    seen = [run.lrs()]
    run.opt.step()
    for _ in range(steps):
        run.step()
        seen.append(run.lrs())
    return seen


def _same(target: Target, case: Case, got: list[list[float]], want: list[list[float]],
          what: str, first: int = 0) -> None:
    compare(target, case, got, want, Tolerance.exact(want), what,
            first=first)


# -- a used optimizer ------------------------------------------------------------------------
class Warmup:
    """The warmup run before the target: half the lr for `steps` steps, then exactly the lr
    (a LambdaLR closed form: base * 1.0 is base, bit for bit)."""

    def __init__(self, steps: int) -> None:
        self.steps = steps

    def __call__(self, epoch: int) -> float:
        return 0.5 if epoch < self.steps else 1.0


WARMUP = 3
#: Steps compared after building: what a used optimizer changes shows at once.
COMPARED = 40


@functools.cache
def torch_builds_on_used(cls: type) -> bool:
    """Whether torch's class `cls`, on the running torch, steps the same on an optimizer a
    warmup has used as on a fresh one (CyclicLR does not: its first lr comes from the
    initial_lr another scheduler set, docs/findings-resume.md)."""
    try:
        with quiet():
            opt = small_optimizer()
            fresh = _probe_lrs(build_torch(cls, opt), opt)
            used, warm = _used(Case([0.1, 0.5], {}, 0))
            again = _probe_lrs(build_torch(cls, used), used)
            del warm
    except Exception:
        return False
    return fresh == again


def _used(case: Case) -> tuple[Any, Any]:
    """The case's optimizer after a LambdaLR warmup ran its course on it: the groups' lrs are
    back at their initial lrs, `initial_lr` is set, optimizer.step is wrapped and the
    optimizer has state. The warmup is returned too (kept alive, as SequentialLR keeps it)."""
    from torch.optim.lr_scheduler import LambdaLR

    opt = optimizer(case)
    warm = LambdaLR(opt, Warmup(WARMUP))
    for _ in range(WARMUP):
        opt.step()
        warm.step()
    return opt, warm


def _used_lines(target: Target, case: Case) -> list[str]:
    return [
        "from conformance.checks.construct import Warmup",
        "fresh = build()",
        "opt = make_opt()",
        f"warm = lr_scheduler.LambdaLR(opt, Warmup({WARMUP}))",
        f"for _ in range({WARMUP}):",
        "    opt.step()",
        "    warm.step()",
        "print('lr, initial_lr:', [(g['lr'], g['initial_lr']) for g in opt.param_groups])",
        "used = build(opt)",
    ]


@check("construct.used_optimizer")
def used_optimizer(target: Target, case: Case) -> None:
    """Built on an optimizer another scheduler has already used (a warmup that ran its course:
    initial_lr set, optimizer.step wrapped, the lrs back at their initial values), the target
    steps exactly as on a fresh optimizer, wherever torch's own class does on the running
    torch."""
    if not all(torch_builds_on_used(c) for c in torch_classes(target)):
        return  # torch's own class does not: nothing to hold to
    steps = min(case.steps, COMPARED)
    with quiet():
        want = lrs_of(Run(target, case), steps)
        opt, warm = _used(case)
        try:
            run = Run(target, case, opt)
        except Mismatch:
            raise
        except Exception as exc:
            raise Mismatch(f"building on an optimizer a LambdaLR warmup had used raised "
                           f"{type(exc).__name__}: {exc}; it builds on a fresh optimizer",
                           actual=f"{type(exc).__name__}: {exc}",
                           script=script(target, case, _used_lines(target, case))) from None
        got = lrs_of(run, steps)
        del warm
    try:
        _same(target, case, got, want, "built on an optimizer another scheduler had used, "
              "the target steps otherwise than on a fresh optimizer")
    except Mismatch as exc:
        step, group = exc.step or 0, exc.group or 0
        exc.script = script(target, case, [
            *_used_lines(target, case),
            "fresh[0].step()",
            "used[0].step()",
            *lockstep("fresh", "used", target, case, 0, step, group),
        ])
        raise


# -- composites in composites ------------------------------------------------------------
#: The composite that wraps the first scheduler of each composite spec.
NESTING = {"SequentialLR": "ChainedScheduler", "ChainedScheduler": "SequentialLR"}
WRAPS = {"ChainedScheduler": "lr_scheduler.ChainedScheduler([first])",
         "SequentialLR": "lr_scheduler.SequentialLR(opt, [first], milestones=[])"}


def _wrap(kind: str, inner: Any) -> Any:
    """`inner` inside a composite of its own, as WRAPS writes it."""
    from torch.optim import lr_scheduler

    if kind == "ChainedScheduler":
        return lr_scheduler.ChainedScheduler([inner])
    return lr_scheduler.SequentialLR(inner.optimizer, [inner], milestones=[])


def _nested_args(case: Case, opt: Any, kind: str) -> dict[str, Any]:
    """The case's arguments with its schedulers built on `opt` in order, the first wrapped
    in a composite `kind` right after it is built (before the next one sees the optimizer:
    SequentialLR resets the lrs when it is built)."""
    subs = case.args["schedulers"]
    built = [_wrap(kind, materialize(subs[0], opt))]
    built += [materialize(s, opt) for s in subs[1:]]
    return {**case.args, "schedulers": built}


def _torch_lrs(name: str, case: Case, nest: bool, steps: int) -> list[list[float]] | None:
    """Torch's own composite `name` on the case (its first scheduler nested when `nest`), or
    None where the running torch refuses it or raises."""
    from torch.optim import lr_scheduler

    cls = getattr(lr_scheduler, name)
    opt = optimizer(case)
    try:
        if nest:
            args = _nested_args(case, opt, NESTING[name])
        else:
            args = {**case.args, "schedulers": [materialize(s, opt) for s in
                                                case.args["schedulers"]]}
        sched = cls(args["schedulers"]) if name == "ChainedScheduler" else cls(opt, **args)
        seen = [[float(g["lr"]) for g in opt.param_groups]]
        opt.step()
        for _ in range(steps):
            sched.step()
            seen.append([float(g["lr"]) for g in opt.param_groups])
    except Exception:
        return None
    return seen


def torch_nests(name: str, case: Case, steps: int) -> bool:
    """Whether torch's own composite `name` steps the same on this case, on the running
    torch, with its first scheduler nested in the other composite as without. Before 2.6 a
    SequentialLR refuses a container (catalogue entry sequential_recursive_undo); a
    ChainedScheduler's initial step does not run its children in _initial_mode (2.8+), so
    inside a SequentialLR a child that tells its initial step by _is_initial steps once
    more; and at a milestone SequentialLR calls _update_lr(0) (2.9+) or step(0), which a
    ChainedScheduler does not take (docs/findings-resume.md)."""
    if name == "SequentialLR" and not versions.holds("sequential_recursive_undo"):
        return False
    with quiet():
        flat = _torch_lrs(name, case, False, steps)
        nested = _torch_lrs(name, case, True, steps)
    return flat is not None and flat == nested


@check("construct.nested", "composite")
def nested(target: Target, case: Case) -> None:
    """A composite whose first scheduler is wrapped in the other composite (a ChainedScheduler
    of it in a SequentialLR, a SequentialLR of it in a ChainedScheduler) steps exactly as with
    the scheduler itself, wherever torch's own composite does on the running torch."""
    assert target.spec is not None
    name = target.spec.name
    subs = case.args.get("schedulers")
    if name not in NESTING or not subs or not all(isinstance(s, Sub) for s in subs):
        return
    steps = min(case.steps, COMPARED)
    if not torch_nests(name, case, steps):
        return  # torch's own composite does not hold it on this case: nothing to hold to
    kind = NESTING[name]
    with quiet():
        want = lrs_of(Run(target, case), steps)
        opt = optimizer(case)
        inner = Case(case.lrs, _nested_args(case, opt, kind), case.steps, case.metrics,
                     case.optim)
        try:
            got = lrs_of(Run(target, inner, opt), steps)
        except Mismatch:
            raise
        except Exception as exc:
            raise Mismatch(f"with its first scheduler inside a {kind} it raised "
                           f"{type(exc).__name__}: {exc}",
                           actual=f"{type(exc).__name__}: {exc}",
                           script=_nested_script(target, case, kind, 1, 0)) from None
    try:
        _same(target, case, got, want, f"with its first scheduler inside a {kind}, the "
              "composite steps otherwise than with the scheduler itself")
    except Mismatch as exc:
        exc.script = _nested_script(target, case, kind, exc.step or 0, exc.group or 0)
        raise


def _nested_script(target: Target, case: Case, kind: str, step: int, group: int) -> str:
    subs = case.args["schedulers"]
    key = next(k for k, v in arguments(target, case).items()
               if isinstance(v, list) and v and all(isinstance(s, Sub) for s in v))
    return script(target, case, [
        "flat = opt, sched",
        f"# the same, its first scheduler in a {kind} built right after it",
        "opt = make_opt()",
        f"first = {_code(subs[0])}",
        f"subs = [{WRAPS[kind]}, {', '.join(_code(s) for s in subs[1:])}]",
        f"nested = opt, {call_text(target, case, written={key: 'subs'})}",
        "flat[0].step()",
        "nested[0].step()",
        *lockstep("flat", "nested", target, case, 0, step, group),
    ])
