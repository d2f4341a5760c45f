"""Family 8, API and numbers: get_last_lr() gives fresh lists of the groups' lrs and their
type; last_epoch advances by one; lrs stay finite and non-negative; no reference cycle
keeps the optimizer alive."""

from __future__ import annotations

import gc
import math
import warnings
import weakref
from typing import Any

from conformance.catalogue import check
from conformance.harness import Case, Mismatch, quiet_trajectory, script, start, stepping
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
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
    for t, live, copy in earlier:
        if live != copy:
            raise _fail(target, case, t, "a list returned by get_last_lr() was changed by later "
                        f"steps ({copy!r} became {live!r}): it aliases live state", LAST_LR,
                        expected=copy, actual=live)


@check("api.last_epoch", "last_epoch", "no_metrics")
def last_epoch(target: Target, case: Case) -> None:
    """last_epoch is 0 after construction and advances by exactly one per step()."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = start(target, case)
        for t in range(case.steps + 1):
            if t:
                run.step()
            if run.sched.last_epoch != t:
                raise _fail(target, case, t, f"last_epoch is {run.sched.last_epoch!r}, expected "
                            f"{t}", "sched.last_epoch", expected=t, actual=run.sched.last_epoch)


#: How far below zero rounding may leave an lr that should reach 0 exactly (torch's LinearLR
#: with end_factor=0 ends at about -2e-17), in ulps of the group's largest lr.
NEGATIVE_ULPS = 16


@check("api.finite")
def finite(target: Target, case: Case) -> None:
    """On valid input every lr is finite and not below zero (beyond rounding)."""
    _, seen = quiet_trajectory(target, case)
    for g in range(len(seen[0]) if seen else 0):
        top = max((abs(row[g]) for row in seen if math.isfinite(row[g])), default=1.0)
        floor = -NEGATIVE_ULPS * math.ulp(top or 1.0)
        for t, row in enumerate(seen):
            lr = row[g]
            if not math.isfinite(lr) or lr < floor:
                raise _fail(target, case, t, f"param group {g} has lr {lr!r}", GROUPS,
                            group=g, actual=lr)


@check("api.no_reference_cycle")
def no_cycle(target: Target, case: Case) -> None:
    """Dropping the scheduler and optimizer frees the optimizer without the cycle collector."""
    # No gc.collect() around it: a full collection per example cost 35-60 s per target, and
    # a cycle left behind is freed by the next automatic collection anyway.
    enabled = gc.isenabled()
    gc.disable()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = start(target, case)
            for _ in range(min(case.steps, 3)):
                run.step()
        ref = weakref.ref(run.opt)
        del run
        alive = ref() is not None
    finally:
        if enabled:
            gc.enable()
    if alive:
        raise Mismatch("the optimizer outlives the scheduler and itself without gc: a reference "
                       "cycle holds it (store a weakref, not a bound method or self)",
                       script=script(target, case, [
                           "import gc, weakref", "gc.disable()", *stepping(target, case, 1),
                           "ref = weakref.ref(opt)", "del sched, opt",
                           "print('optimizer still alive:', ref() is not None)"]))
