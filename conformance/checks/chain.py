"""Family 3, chainable composition: a chainable target applies its documented recurrence to
whatever lr the group has, so it composes with external changes and ChainedScheduler."""

from __future__ import annotations

from conformance.catalogue import check
from conformance.checks.common import Tolerance, compare
from conformance.harness import Case, Mismatch, Run, group_lrs, quiet, script, start
from conformance.targets import Target
from reference import Schedule
from reference.base import SAFETY, U, ulp

#: The external change applied mid-run, and the factor of the scheduler chained after.
EXTERNAL = 0.5
CHAINED_GAMMA = 0.9


def _one_step_tol(oracle: Schedule, prev: list[list[float]], steps: int = 1) -> Tolerance:
    """Tolerance of `steps` recurrence steps from the target's own previous lr, in ulps of
    the largest of that lr, the floor and the base lr."""
    floors = oracle.floor()

    def scale(t: int, g: int) -> float:
        return max(abs(prev[t][g]), abs(floors[g]), abs(oracle.base_lrs[g]))

    def bound(t: int, g: int) -> float:
        d = abs(prev[t][g] - floors[g])
        return steps * (SAFETY * U * oracle.kappa(t + 1) * d
                        + oracle.closed_ulps(t + 1) * ulp(scale(t, g)))

    return Tolerance(bound, scale)


@check("chain.external_change", "spec", "chainable", "lr_scheduler", "no_metrics")
def external_change(target: Target, case: Case) -> float:
    """After an external lr change mid-run, each step is the documented recurrence applied to
    the changed lr (the schedule is chainable, not a function of the epoch alone)."""
    assert target.spec is not None
    oracle = target.spec.oracle(case.lrs, case.args)
    at = case.steps // 2
    prev, seen, expected = [], [], []
    with quiet():
        run = start(target, case)
        for e in range(1, case.steps + 1):
            if e == at + 1:
                # Read through run.lrs(): a target's lr that is no number is its failure.
                for group, lr in zip(run.opt.param_groups, run.lrs(), strict=True):
                    group["lr"] = lr * EXTERNAL
            before = run.lrs()
            run.step()
            prev.append(before)
            seen.append(run.lrs())
            expected.append(oracle.recur(e, before))
    try:
        return compare(target, case, seen, expected, _one_step_tol(oracle, prev),
                       "a step ignored the lr the group had", first=1)
    except Mismatch as exc:
        exc.script = script(target, case, [
            "opt.step()",
            f"for e in range(1, {exc.step} + 1):",
            f"    if e == {at + 1}:",
            "        for g in opt.param_groups:",
            f"            g['lr'] *= {EXTERNAL}",
            "    before = [g['lr'] for g in opt.param_groups]",
            "    sched.step()",
            f"print('step {exc.step}, group {exc.group}: lr before the step', "
            f"before[{exc.group}], 'expected', {exc.expected!r}, 'got', "
            f"opt.param_groups[{exc.group}]['lr'])",
        ])
        if exc.series is not None:
            exc.series["events"] = [{"step": at + 1, "label": f"external lr x{EXTERNAL}"}]
        raise


@check("chain.chained_scheduler", "spec", "chainable", "lr_scheduler", "no_metrics")
def chained(target: Target, case: Case) -> float:
    """In torch's ChainedScheduler followed by ExponentialLR, each step is the target's
    recurrence times gamma (the documented product)."""
    from torch.optim.lr_scheduler import ChainedScheduler, ExponentialLR

    assert target.spec is not None
    oracle = target.spec.oracle(case.lrs, case.args)
    prev, seen, expected = [], [], []
    with quiet():
        run = Run(target, case)
        opt = run.opt
        chain = ChainedScheduler([run.sched, ExponentialLR(opt, gamma=CHAINED_GAMMA)])
        opt.step()
        for e in range(1, case.steps + 1):
            before = group_lrs(opt)
            chain.step()
            prev.append(before)
            seen.append(group_lrs(opt))
            expected.append([v * CHAINED_GAMMA for v in oracle.recur(e, before)])
    try:
        return compare(target, case, seen, expected, _one_step_tol(oracle, prev, 2),
                       "in a ChainedScheduler, a step is not the product",
                       first=1)
    except Mismatch as exc:
        exc.script = script(target, case, [
            f"chain = lr_scheduler.ChainedScheduler([sched, lr_scheduler.ExponentialLR(opt, "
            f"gamma={CHAINED_GAMMA})])",
            "opt.step()",
            f"for e in range(1, {exc.step} + 1):",
            "    before = [g['lr'] for g in opt.param_groups]",
            "    chain.step()",
            f"print('step {exc.step}, group {exc.group}: lr before the step', "
            f"before[{exc.group}], 'expected', {exc.expected!r}, 'got', "
            f"opt.param_groups[{exc.group}]['lr'])",
        ])
        raise
