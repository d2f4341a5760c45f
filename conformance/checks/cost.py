"""Family 9, step cost: a training iteration (optimizer.step(), then the scheduler's step) late
in training costs what one early on costs: no replay of history in the step, no wrapper or
hook added to optimizer.step on every step. Cost is counted in Python lines and calls
executed, which is deterministic where wall time on a shared machine is not; work done inside
C code is not seen."""

from __future__ import annotations

import sys
from typing import Any

from conformance.catalogue import check
from conformance.harness import Case, Mismatch, quiet, script, start, step_lines
from conformance.targets import Target

#: The early window starts here; each window is WINDOW consecutive steps.
EARLY, WINDOW = 10, 5
#: Steps to reach before measuring late (schedules with a documented end stop at their end).
LONG = 400
#: A later step may cost up to FACTOR times the dearest early step plus SLACK lines: branches
#: (a restart, a milestone) cost a little extra, replaying t steps costs t times a loop body.
FACTOR, SLACK = 2, 60
#: Examples shorter than this prove nothing about growth and are passed over.
SHORTEST = 100


def lines(call: Any, skip: str = "conformance.") -> int:
    """Python lines and calls executed by `call()` (the tracer sees every frame it enters),
    but the suite's own (modules named `skip...`): what the target and torch execute, which
    a reproducer counts the same way."""
    count = 0

    def local(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        count += event == "line"
        return local

    def enter(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        if frame.f_globals.get("__name__", "").startswith(skip):
            return None
        count += 1
        return local

    previous = sys.gettrace()
    sys.settrace(enter)
    try:
        call()
    finally:
        sys.settrace(previous)
    return count


def _grows(costs: dict[int, int]) -> tuple[int, int, int] | None:
    """(late step, its cost, the dearest early cost) when even the cheapest late cost exceeds
    what the early ones allow; else None."""
    early = {t: c for t, c in costs.items() if t < EARLY + WINDOW}
    late = {t: c for t, c in costs.items() if t not in early}
    worst_early = max(early.values())
    t, cheapest = min(late.items(), key=lambda kv: kv[1])
    return (t, cheapest, worst_early) if cheapest > FACTOR * worst_early + SLACK else None


@check("cost.step_cost")
def step_cost(target: Target, case: Case) -> None:
    """A training iteration (optimizer.step(), then step()) executes no more Python at the end
    of a long run than at step 10: O(1) per step, and no wrapper or hook added to
    optimizer.step on every step."""
    ends = target.spec is not None and "has_end" in target.spec.flags
    steps = case.steps if ends else max(case.steps, LONG)
    if steps < SHORTEST:
        return
    # optimizer.step() runs at the first two steps of each window only: what a scheduler adds
    # to it builds up with the scheduler's steps, and the optimizer's own work is the same
    # every time (tracing it costs as much as the rest of the check).
    costs: dict[int, int] = {}
    iteration: dict[int, int] = {}
    with quiet():
        run = start(target, case)
        for t in range(1, steps + 1):
            if t in (EARLY, EARLY + 1, steps - WINDOW + 1, steps - WINDOW + 2):
                optimizer = lines(run.opt.step)
                costs[t] = lines(run.step)
                iteration[t] = optimizer + costs[t]
            elif EARLY <= t < EARLY + WINDOW or t > steps - WINDOW:
                costs[t] = lines(run.step)
            else:
                run.step()
    grown = _grows(costs)
    if grown is not None:
        t, cheapest, worst_early = grown
        raise Mismatch(
            f"step() at step {t} executed {cheapest} Python lines and calls, at most "
            f"{worst_early} at steps {EARLY}-{EARLY + WINDOW - 1}: the cost of a step grows "
            "with the step count (history replayed or rescanned)",
            step=t, expected=worst_early, actual=cheapest,
            script=_reproducer(target, case, t))
    grown = _grows(iteration)
    if grown is not None:
        t, cheapest, worst_early = grown
        raise Mismatch(
            f"optimizer.step() then step() at step {t} executed {cheapest} Python lines and "
            f"calls, at most {worst_early} at steps {EARLY}-{EARLY + 1}, with the "
            "scheduler's own step unchanged: optimizer.step() costs more every step (the "
            "scheduler wraps it again, or adds a hook to it, on every step)",
            step=t, expected=worst_early, actual=cheapest,
            script=_reproducer(target, case, t, optimizer=True))


def _reproducer(target: Target, case: Case, late: int, optimizer: bool = False) -> str:
    """Counts as the check does: the target's and torch's lines, not this script's; with
    `optimizer`, optimizer.step() runs at the measured steps, as in the check."""
    step = step_lines(target, case)
    measured = (EARLY, late)
    what = "optimizer.step() and step()" if optimizer else "step()"
    return script(target, case, [
        "import sys",
        "def one_step(i):",
        *(f"    {line}" for line in step),
        "def lines(call):",
        "    n = [0]",
        "    def local(frame, event, arg):",
        "        n[0] += event == 'line'",
        "        return local",
        "    def enter(frame, event, arg):",
        "        if frame.f_globals.get('__name__') == '__main__':",
        "            return None",
        "        n[0] += 1",
        "        return local",
        "    sys.settrace(enter)",
        "    call()",
        "    sys.settrace(None)",
        "    return n[0]",
        "opt.step()",
        f"for i in range({late}):",
        *([f"    cost = lines(opt.step) if i + 1 in {measured} else 0"]
          if optimizer else ["    cost = 0"]),
        "    cost += lines(lambda: one_step(i))",
        f"    if i + 1 in {measured}:",
        f"        print('step', i + 1, {what!r}, 'executed', cost, 'Python lines and calls')",
    ])
