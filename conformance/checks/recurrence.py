"""Family 2, recurrence vs closed form: the target's `_get_closed_form_lr`, its `step(epoch)`
and the oracle's closed form agree (the step() path is held to them by oracle.agreement)."""

from __future__ import annotations

from conformance.catalogue import check
from conformance.checks.common import Tolerance, compare
from conformance.harness import Case, Mismatch, jump_lines, number, quiet, script, start, stepping
from conformance.targets import Target


def epochs_for(case: Case, fractional: bool) -> list[float]:
    """Epochs to jump to: forward, backward, across the horizon; halves where fractional."""
    n = case.steps
    picks: list[float] = [0, 1, n // 3, n, n // 2, max(n - 1, 0), 2 * n // 3, 0, n]
    if fractional:
        picks += [n / 3 + 0.5, 0.25, n - 0.5 if n else 0.5]
    return [e for e in picks if e >= 0]


@check("recurrence.own_closed_form", "spec", "closed", "own_closed_form")
def own_closed_form(target: Target, case: Case) -> float:
    """The target's `_get_closed_form_lr()` equals the reference closed form at every step."""
    assert target.spec is not None
    oracle = target.spec.oracle(case.lrs, case.args)
    seen, expected = [], []
    with quiet():
        run = start(target, case)
        for _ in range(case.steps + 1):
            epoch = run.sched.last_epoch
            seen.append([number(v, f"step {epoch}: _get_closed_form_lr()[{g}]", step=epoch,
                                group=g) for g, v in enumerate(run.sched._get_closed_form_lr())])
            expected.append(oracle.lr(epoch))
            run.step()
    try:
        return compare(target, case, seen, expected, Tolerance.closed(oracle, expected),
                       "_get_closed_form_lr() differs from the closed form")
    except Mismatch as exc:
        exc.script = script(target, case, [
            *stepping(target, case, exc.step or 0),
            f'print("step {exc.step}, group {exc.group}: expected", {exc.expected!r}, '
            f'"got", sched._get_closed_form_lr()[{exc.group}])'])
        raise


@check("recurrence.step_epoch", "spec", "closed", "epoch_arg", "jump")
def step_epoch(target: Target, case: Case) -> float:
    """Jumping to an epoch (`step(epoch)`, or a counter protocol's call) sets every group to the
    closed form at that epoch, in any order of epochs."""
    assert target.spec is not None
    oracle = target.spec.oracle(case.lrs, case.args)
    epochs = epochs_for(case, "fractional" in target.spec.flags)
    seen, expected = [], []
    with quiet():
        run = start(target, case)
        for epoch in epochs:
            run.jump(epoch)
            seen.append(run.lrs())
            expected.append(oracle.lr(epoch))

    def jumped(call: int) -> str:
        return " ".join(jump_lines(target, case, repr(epochs[call])))

    try:
        return compare(target, case, seen, expected, Tolerance.closed(oracle, expected, epochs),
                       "step(epoch) differs from the closed form",
                       step_label=lambda call: f"{jumped(call)} (call {call + 1})")
    except Mismatch as exc:
        call = exc.step or 0
        jump = jumped(call)
        if exc.series is not None:
            exc.series["xlabel"] = "call (the epochs jumped to: " + ", ".join(
                map(repr, epochs)) + ")"
        exc.script = script(target, case, [
            "opt.step()",
            f"for epoch in {epochs[: call + 1]!r}:",
            *(f"    {line}" for line in jump_lines(target, case, "epoch")),
            f'print("after {jump}, group {exc.group}: expected", {exc.expected!r}, '
            f'"got", opt.param_groups[{exc.group}]["lr"])',
        ])
        raise
