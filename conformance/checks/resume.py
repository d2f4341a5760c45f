"""Family 6, resume: `last_epoch=k` needs `initial_lr` in every group (KeyError otherwise),
and a target resumed through its constructor continues as the target stepped.

Torch counts the constructor's step: a scheduler built with last_epoch=n-1 has last_epoch n
when built, so it takes the place of one stepped n times (PR 149312, issue 102261). Where the
running torch's own class does not resume so, the target is not held to it (torch's behaviour
per class and version, below; docs/findings-resume.md): torch 2.0-2.7 apply one more
chainable step on resume (catalogue entry resume_without_extra_step); StepLR, MultiStepLR and
ConstantLR decide their boundary by last_epoch alone, so the constructor's step applies a
boundary at step n once more; CosineAnnealingWarmRestarts rebuilds its cycle from T_0 alone
(one period subtracted before 2.8, a modulo of T_0 from 2.8: entry warm_restarts_modulo),
right only before the second restart, or with T_mult 1 from 2.8; SWALR anneals by
_step_count, which every construction restarts, so it anneals again from the resumed lr
(different by up to the whole anneal, or by rounding when it resumes at swa_lr) unless
anneal_epochs is at most 1."""

from __future__ import annotations

import copy
from typing import Any

from conformance import versions
from conformance.catalogue import check
from conformance.checks.common import Tolerance, compare
from conformance.harness import Case, Mismatch, Run, optimizer, quiet, script, start, stepping
from conformance.targets import Target


@check("resume.missing_initial_lr", "last_epoch", "atomic")
def missing_initial_lr(target: Target, case: Case) -> None:
    """Building with last_epoch=k >= 0 on groups without 'initial_lr' raises KeyError."""
    k = max(case.steps, 1)
    try:
        with quiet():
            Run(target, case, last_epoch=k)
    except KeyError:
        return
    except Exception as exc:
        raise Mismatch(f"last_epoch={k} without initial_lr raised {type(exc).__name__}: {exc}, "
                       "expected KeyError", actual=type(exc).__name__, expected="KeyError",
                       script=script(target, case, _built(k))) from None
    raise Mismatch(f"last_epoch={k} without initial_lr in the param groups did not raise "
                   "KeyError", expected="KeyError", actual="no error",
                   script=script(target, case, _built(k)))


def _built(k: int) -> list[str]:
    """Script lines that build with last_epoch=k on fresh groups and print what happened."""
    return ["try:", f"    build(last_epoch={k})", "    print('no error')",
            "except Exception as exc:", "    print(type(exc).__name__, exc)"]


def torch_resumes(cls: type, n: int, case: Case, built: Any = None) -> bool:
    """Whether torch's class `cls`, on the running torch, built with last_epoch=n-1 on the
    optimizer state saved after n steps continues as the scheduler stepped n times."""
    from conformance.checks.construct import torch_arg

    name = cls.__name__

    def arg(key: str) -> Any:
        return torch_arg(cls, key, case, built)

    extra_step = versions.entries()["resume_without_extra_step"].concerns
    if name in extra_step and not versions.holds("resume_without_extra_step"):
        return False
    try:
        return _resumes(name, n, arg)
    except TypeError:  # an argument the rule needs is unknown here: hold nothing
        return False


def _resumes(name: str, n: int, arg: Any) -> bool:
    """torch_resumes past the version gate: where each class's own step gets it wrong (the
    module's docstring; docs/findings-resume.md)."""
    if name == "StepLR":
        return bool(n % arg("step_size"))
    if name == "MultiStepLR":
        return n not in set(arg("milestones"))
    if name == "ConstantLR":
        return bool(n != arg("total_iters"))
    if name == "CosineAnnealingWarmRestarts":
        first, mult = arg("T_0"), arg("T_mult")
        if versions.holds("warm_restarts_modulo"):  # T_cur = n % T_0, T_i = T_0 * T_mult
            return n < 2 * first or mult == 1
        return n < first * (1 + mult)  # T_cur = n - T_0, once
    if name == "SWALR":
        return bool(arg("anneal_epochs") <= 1)
    return name not in ("SequentialLR", "ChainedScheduler", "ReduceLROnPlateau")


#: Resume points tried per example, and how far each resumed run is compared.
POINTS, HORIZON = 3, 40


def _points(steps: int) -> list[int]:
    """Steps to resume at, spread over the run: the start, the middle, the end."""
    spread = [1, steps // 2, steps - 1, steps // 4, 3 * steps // 4, 2]
    return [n for n in dict.fromkeys(spread) if 1 <= n < steps]


@check("resume.constructor", "last_epoch", "atomic")
def constructor(target: Target, case: Case) -> None:
    """Built with last_epoch=n-1 on the optimizer state saved after n steps (initial_lr
    included), the target continues exactly as the target stepped n times, wherever torch's
    own class resumes so on the running torch."""
    # Imported here: importing construct registers its checks, and the run's order is the
    # catalogue's (checks/__init__.py).
    from conformance.checks.construct import torch_classes

    with quiet():
        run = start(target, case)
        seen, saved = [run.lrs()], {}
        chosen = set(_points(case.steps))
        for n in range(1, case.steps + 1):
            run.step()
            seen.append(run.lrs())
            if n in chosen:
                saved[n] = copy.deepcopy(run.opt.state_dict())
        held = [n for n in _points(case.steps) if n in saved
                and all(torch_resumes(c, n, case, run.sched) for c in torch_classes(target))]
        for n in held[:POINTS]:
            opt = optimizer(case)
            opt.load_state_dict(saved[n])
            resumed = Run(target, case, opt, last_epoch=n - 1)
            resumed.n = n
            got = [resumed.lrs()]
            resumed.opt.step()
            stop = min(case.steps, n + HORIZON)
            while resumed.n < stop:
                resumed.step()
                got.append(resumed.lrs())
            _compare(target, case, got, seen[n:stop + 1], n)


def _compare(target: Target, case: Case, got: list[list[float]], want: list[list[float]],
             n: int) -> None:
    from conformance.checks.construct import lockstep

    try:
        compare(target, case, got, want, Tolerance.exact(want),
                f"built with last_epoch={n - 1} on the optimizer state saved after {n} "
                f"steps, the target does not continue as the target stepped {n} times",
                first=n)
    except Mismatch as exc:
        step, group = exc.step or n, exc.group or 0
        exc.script = script(target, case, [
            *stepping(target, case, n),
            "import copy",
            "saved = copy.deepcopy(opt.state_dict())",
            "stepped = opt, sched",
            "opt = make_opt()",
            "opt.load_state_dict(saved)  # lrs and initial_lr as saved",
            f"resumed = build(opt, last_epoch={n - 1})",
            "print('last_epoch:', stepped[1].last_epoch, resumed[1].last_epoch)",
            "resumed[0].step()",
            *lockstep("stepped", "resumed", target, case, n, step, group),
        ])
        raise
