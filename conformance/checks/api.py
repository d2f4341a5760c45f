"""Family 8, API and numbers: get_last_lr() gives fresh lists of the groups' lrs and their
type; last_epoch advances by one, and stays an int after step(epoch); lrs stay finite and
non-negative; no reference cycle keeps the optimizer alive, and a step leaves no garbage
cycles; the scheduler survives copy.deepcopy and pickling where torch's own class does."""

from __future__ import annotations

import copy
import functools
import gc
import math
import pickle
import weakref
from collections.abc import Callable
from typing import Any

from conformance import versions
from conformance.catalogue import check
from conformance.checks.common import Tolerance, compare, reference_lrs
from conformance.harness import (
    Case,
    Mismatch,
    quiet,
    quiet_trajectory,
    script,
    start,
    step_lines,
    stepping,
)
from conformance.targets import Target


def _fail(target: Target, case: Case, step: int, message: str, show: str, **kw: Any
          ) -> Mismatch:
    return Mismatch(f"step {step}: {message}", step=step,
                    script=script(target, case, [*stepping(target, case, step),
                                                 f"print({show})"]), **kw)


LAST_LR = "sched.get_last_lr(), [g['lr'] for g in opt.param_groups]"
GROUPS = "[g['lr'] for g in opt.param_groups]"


@check("api.get_last_lr", "get_last_lr", "no_metrics")
def last_lr(target: Target, case: Case) -> None:
    """get_last_lr() lists every group's lr, of the group lr's type, in a list that later steps
    do not change."""
    with quiet():
        run = start(target, case)
        earlier: list[tuple[int, list[Any], list[Any]]] = []
        for t in range(case.steps + 1):
            if t:
                run.step()
            got = run.sched.get_last_lr()
            want = [g["lr"] for g in run.opt.param_groups]
            if not isinstance(got, list) or len(got) != len(want):
                raise _fail(target, case, t, f"get_last_lr() returned {got!r}, expected a list "
                            f"of {len(want)} lrs", LAST_LR, expected=want, actual=got)
            for g, (a, b) in enumerate(zip(got, want, strict=True)):
                if type(a) is not type(b) or a != b:
                    raise _fail(target, case, t, f"get_last_lr()[{g}] is {a!r} "
                                f"({type(a).__name__}), the group's lr is {b!r} "
                                f"({type(b).__name__})", LAST_LR, group=g, expected=b, actual=a)
            earlier.append((t, got, list(got)))
    for t, live, kept in earlier:
        if live != kept:
            raise Mismatch(
                f"step {t}: a list returned by get_last_lr() was changed by later steps "
                f"({kept!r} became {live!r}): it aliases live state", step=t, expected=kept,
                actual=live, script=script(target, case, [
                    *stepping(target, case, t), "got = sched.get_last_lr()",
                    "print('at step', " + str(t) + ", list(got))",
                    f"for i in range({t}, {case.steps}):",
                    *(f"    {line}" for line in step_lines(target, case)),
                    "print('after later steps, the same list:', got)"]))


@check("api.last_epoch", "last_epoch", "no_metrics")
def last_epoch(target: Target, case: Case) -> None:
    """last_epoch is an int: 0 after construction, one more per step(), and still an int after
    step(epoch) with an int epoch and the steps that follow."""
    with quiet():
        run = start(target, case)
        for t in range(case.steps + 1):
            if t:
                run.step()
            if run.sched.last_epoch != t or type(run.sched.last_epoch) is not int:
                raise _fail(target, case, t, f"last_epoch is {run.sched.last_epoch!r}, expected "
                            f"{t}", "sched.last_epoch", expected=t, actual=run.sched.last_epoch)
        if "jump" not in target.flags or case.steps < 2:
            return  # no step(epoch), or a schedule that ends takes no step past its case
        n = case.steps // 2
        run.jump(n)
        after_jump = run.sched.last_epoch
        run.step()
        after_step = run.sched.last_epoch
    for what, value in ((f"step({n})", after_jump), (f"step({n}) and a step()", after_step)):
        if type(value) is not int:
            raise Mismatch(f"after {case.steps} steps and {what}, last_epoch is {value!r} "
                           f"({type(value).__name__}), not an int: it reaches the state_dict, "
                           "lr_lambda and every later comparison of epochs", expected="int",
                           actual=type(value).__name__, script=script(target, case, [
                               *stepping(target, case, case.steps), f"sched.step({n})",
                               "print(type(sched.last_epoch), sched.last_epoch)"]))


#: How far below zero rounding may leave an lr that should reach 0 exactly (torch's LinearLR
#: with end_factor=0 ends at about -2e-17), in ulps of the group's largest lr; where the
#: target has a spec, its error model may allow more (a chain that multiplies that rounding).
NEGATIVE_ULPS = 16


@check("api.finite")
def finite(target: Target, case: Case) -> None:
    """On valid input every lr is finite and not below zero (beyond rounding)."""
    _, seen = quiet_trajectory(target, case)
    bound = None
    if target.spec is not None:
        bound = reference_lrs(target.spec.oracle(case.lrs, case.args), case)[1].bound
    for g in range(len(seen[0]) if seen else 0):
        top = max((abs(row[g]) for row in seen if math.isfinite(row[g])), default=1.0)
        floor = -NEGATIVE_ULPS * math.ulp(top or 1.0)
        for t, row in enumerate(seen):
            lr = row[g]
            low = floor if bound is None else min(floor, -bound(t, g))
            if not math.isfinite(lr) or lr < low:
                raise _fail(target, case, t, f"param group {g} has lr {lr!r}", GROUPS,
                            group=g, actual=lr)


#: Steps whose allocations are collected for garbage cycles.
GARBAGE_STEPS = 3


@check("api.no_reference_cycle")
def no_cycle(target: Target, case: Case) -> None:
    """No reference cycles: a step leaves none for the garbage collector, and dropping the
    scheduler and optimizer frees the optimizer without it."""
    kinds = target.flags | ({target.spec.name} if target.spec else set())
    if versions.lacking("api.no_reference_cycle", kinds) is not None:
        return  # torch's own class leaves cycles on this torch (the catalogue): nothing to hold
    # No full gc.collect() around it: one per example cost 35-60 s per target, and a cycle
    # left behind is freed by the next automatic collection anyway. The youngest generation
    # is cheap to collect, and with the collector off it holds what the steps allocated.
    enabled = gc.isenabled()
    gc.disable()
    try:
        with quiet():
            run = start(target, case)
            first = min(case.steps, 1)
            for _ in range(first):
                run.step()
            gc.collect(0)
            steps = min(case.steps - first, GARBAGE_STEPS)
            for _ in range(steps):
                run.step()
            found = gc.collect(0)
        ref = weakref.ref(run.opt)
        del run
        alive = ref() is not None
    finally:
        if enabled:
            gc.enable()
    if found:
        raise Mismatch(f"{steps} steps left {found} objects in reference cycles for the garbage "
                       "collector (a closure, frame or object that refers to itself, made on "
                       "every step)", actual=found, script=script(target, case, [
                           "import gc", *stepping(target, case, first), "gc.disable()",
                           "gc.collect(0)", f"for i in range({first}, {first + steps}):",
                           *(f"    {line}" for line in step_lines(target, case)),
                           "print('unreachable objects:', gc.collect(0))"]))
    if alive:
        raise Mismatch("the optimizer outlives the scheduler and itself without gc: a reference "
                       "cycle holds it (store a weakref, not a bound method or self)",
                       script=script(target, case, [
                           "import gc, weakref", "gc.disable()", *stepping(target, case, 1),
                           "ref = weakref.ref(opt)", "del sched, opt",
                           "print('optimizer still alive:', ref() is not None)"]))


def _deep(pair: Any) -> Any:
    return copy.deepcopy(pair)


def _pickled(pair: Any) -> Any:
    return pickle.loads(pickle.dumps(pair))


#: How a scheduler is copied: (what, how a reproducer writes it on `pair`, the copy).
COPIES: tuple[tuple[str, str, Callable[[Any], Any]], ...] = (
    ("copy.deepcopy", "copy.deepcopy(pair)", _deep),
    ("pickling", "pickle.loads(pickle.dumps(pair))", _pickled),
)
#: The copy is made after COPY_AT steps at most (half the case, if shorter), and compared
#: for COPY_STEPS steps: whether an object copies does not depend on how far it has run.
COPY_AT, COPY_STEPS = 8, 4


@functools.cache
def _torch_target(path: str, spec_name: str) -> Target:
    from conformance.targets import Request, bind, resolve

    return bind(resolve(path), Request(spec=spec_name))[0]


#: What torch's own class of each spec survives (its drawn arguments are all plain data or
#: callable objects, so one case of the spec tells).
COPIED: dict[str, list[str]] = {}


def torch_copies(target: Target, case: Case) -> list[str]:
    """How torch's own class of the target's spec survives being copied, on the running
    torch: the names in COPIES that work on it (probed on the first case, once per spec)."""
    from conformance.checks.construct import spec_class

    cls = spec_class(target)
    if cls is None or target.spec is None:
        return []
    if target.spec.name not in COPIED:
        COPIED[target.spec.name] = _copies(cls, target.spec.name, case)
    return COPIED[target.spec.name]


def _copies(cls: type, spec_name: str, case: Case) -> list[str]:
    own = _torch_target(f"{cls.__module__}:{cls.__name__}", spec_name)
    out = []
    with quiet():
        try:
            run = start(own, case)
            if case.steps:
                run.step()
        except Exception:
            return []
        for what, _, how in COPIES:
            try:
                how((run.sched, run.opt))
            except Exception:
                continue
            out.append(what)
    return out


@check("api.copyable", "spec")
def copyable(target: Target, case: Case) -> None:
    """The scheduler survives copy.deepcopy and pickling (with its optimizer) and the copy
    steps on exactly as the original, wherever torch's own class of the spec does on the
    running torch."""
    kept = torch_copies(target, case)
    if not kept:
        return  # no torch class of this spec survives it here: nothing to hold to
    from conformance.checks.construct import lockstep

    half = min(case.steps // 2, COPY_AT)
    lines = [*stepping(target, case, half), "import copy, pickle", "pair = (sched, opt)"]
    with quiet():
        run = start(target, case)
        for _ in range(half):
            run.step()
        twins = []
        for what, text, how in COPIES:
            if what not in kept:
                continue
            try:
                sched, opt = how((run.sched, run.opt))
            except Exception as exc:
                raise Mismatch(f"{what} of the scheduler (with its optimizer) raised "
                               f"{type(exc).__name__}: {exc}; torch's own "
                               f"{target.spec.name if target.spec else ''} survives it",
                               actual=f"{type(exc).__name__}: {exc}",
                               script=script(target, case, [*lines, text])) from None
            twin = copy.copy(run)
            twin.sched, twin.opt = sched, opt
            twins.append((what, text, twin, [twin.lrs()]))
        want = [run.lrs()]
        for _ in range(min(COPY_STEPS, case.steps - half)):
            run.step()
            want.append(run.lrs())
            for _, _, twin, got in twins:
                twin.step()
                got.append(twin.lrs())
    for what, text, _, got in twins:
        try:
            compare(target, case, got, want, Tolerance.exact(want),
                    f"the copy made by {what} does not step on as the original", first=half)
        except Mismatch as exc:
            exc.script = script(target, case, [
                *lines, f"sched2, opt2 = {text}",
                "original, copied = (opt, sched), (opt2, sched2)",
                *lockstep("original", "copied", target, case, half, exc.step or half,
                          exc.group or 0)])
            raise
