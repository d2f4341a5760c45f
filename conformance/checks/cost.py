"""Family 9, step cost: a step() late in training costs what a step early on costs (no replay
of history). Cost is counted in Python lines and calls executed, which is deterministic where
wall time on a shared machine is not; work done inside C code is not seen."""

from __future__ import annotations

import sys
import warnings
from typing import Any

from conformance.catalogue import check
from conformance.harness import Case, Mismatch, script, start, step_lines
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


def lines(call: Any) -> int:
    """Python lines and calls executed by `call()` (the tracer sees every frame it enters)."""
    count = 0

    def local(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        count += event == "line"
        return local

    def enter(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        count += 1
        return local

    previous = sys.gettrace()
    sys.settrace(enter)
    try:
        call()
    finally:
        sys.settrace(previous)
    return count


@check("cost.step_cost")
def step_cost(target: Target, case: Case) -> None:
    """step() executes no more Python at the end of a long run than at step 10 (O(1) per step)."""
    ends = target.spec is not None and "has_end" in target.spec.flags
    steps = case.steps if ends else max(case.steps, LONG)
    if steps < SHORTEST:
        return
    costs: dict[int, int] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = start(target, case)
        for i in range(steps):
            if EARLY <= i + 1 < EARLY + WINDOW or i + 1 > steps - WINDOW:
                costs[i + 1] = lines(run.step)
            else:
                run.step()
    early = {t: c for t, c in costs.items() if t < EARLY + WINDOW}
    late = {t: c for t, c in costs.items() if t not in early}
    worst_early = max(early.values())
    t, cheapest = min(late.items(), key=lambda kv: kv[1])
    if cheapest > FACTOR * worst_early + SLACK:
        raise Mismatch(
            f"step() at step {t} executed {cheapest} Python lines and calls, at most "
            f"{worst_early} at steps {EARLY}-{EARLY + WINDOW - 1}: the cost of a step grows "
            "with the step count (history replayed or rescanned)",
            step=t, expected=worst_early, actual=cheapest,
            script=_reproducer(target, case, t))


def _reproducer(target: Target, case: Case, late: int) -> str:
    # Runs longer than the case repeat its metrics.
    step = [line.replace("metrics[i]", "(metrics[i % len(metrics)] if metrics else 1.0)")
            for line in step_lines(target, case)]
    return script(target, case, [
        "def one_step(i):",
        *(f"    {line}" for line in step),
        "import sys",
        "",
        "def lines(call):",
        "    n = [0]",
        "    def local(frame, event, arg):",
        "        n[0] += event == 'line'",
        "        return local",
        "    def enter(frame, event, arg):",
        "        n[0] += 1",
        "        return local",
        "    sys.settrace(enter)",
        "    call()",
        "    sys.settrace(None)",
        "    return n[0]",
        "",
        "opt.step()",
        f"for i in range({late}):",
        "    cost = lines(lambda: one_step(i))",
        f"    if i + 1 in ({EARLY}, {late}):",
        "        print('step', i + 1, 'executed', cost, 'Python lines and calls')",
    ])
