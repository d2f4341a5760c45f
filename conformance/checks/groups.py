"""Family 7, param groups: groups with different lrs stay independent, and per-group list
arguments mean what the scalar means for each group."""

from __future__ import annotations

from typing import Any

from conformance.catalogue import check
from conformance.checks.common import Tolerance, compare
from conformance.harness import Case, Mismatch, quiet_trajectory, script, stepping
from conformance.specs import SPECS, Spec, Sub, on_subs
from conformance.targets import Target


def _per_group(spec: Spec | None) -> set[str]:
    if spec is None:
        return set()
    return {p.name for p in spec.schedule.schema if p.per_group}


def _slice(spec: Spec | None, args: dict[str, Any], g: int, n: int) -> dict[str, Any]:
    """The arguments a single-group run of group g takes."""
    names = _per_group(spec)
    out: dict[str, Any] = {}
    for key, value in args.items():
        if key in names and isinstance(value, (list, tuple)) and len(value) == n:
            out[key] = [value[g]]
        else:
            out[key] = on_subs(value, lambda s: Sub(s.name, _slice(SPECS.get(s.name), s.args,
                                                                    g, n)))
    return out


@check("groups.independent")
def independent(target: Target, case: Case) -> float:
    """Each param group's lrs are those of a run with that group alone (sliced arguments)."""
    n = len(case.lrs)
    if n < 2:
        return 0.0
    _, together = quiet_trajectory(target, case)
    worst = 0.0
    for g in range(n):
        alone = Case([case.lrs[g]], _slice(target.spec, case.args, g, n), case.steps,
                     case.metrics, case.optim)
        _, single = quiet_trajectory(target, alone)
        mine = [[row[g]] for row in together]
        try:
            worst = max(worst, compare(target, alone, mine, single, Tolerance.exact(single),
                                       f"group {g} of {n} differs from a run with it alone",
                                       groups=[g]))
        except Mismatch as exc:
            exc.script = _both(target, case, alone, g, exc.step or 0)
            raise
    return worst


def _both(target: Target, case: Case, alone: Case, g: int, step: int) -> str:
    """A reproducer that runs the target with every group, then with group g alone (the
    second script redefines make_opt and build for the single group)."""
    together = script(target, case, [*stepping(target, case, step),
                                     f"together = opt.param_groups[{g}]['lr']"])
    single = script(target, alone, [
        *stepping(target, alone, step),
        f"print('step {step}, group {g}: with every group', together, 'alone', "
        "opt.param_groups[0]['lr'])"])
    return together + "# the same, with group " + str(g) + " alone\n" + single


@check("groups.list_args", "spec", "per_group_args")
def list_args(target: Target, case: Case) -> float:
    """Passing a per-group argument as a list of equal values equals passing the scalar."""
    names = _per_group(target.spec)
    n = len(case.lrs)
    scalar = {k: (v[0] if k in names and isinstance(v, list) else v) for k, v in case.args.items()}
    listed = {k: ([v] * n if k in names and v is not None and not isinstance(v, list) else v)
              for k, v in scalar.items()}
    a = Case(case.lrs, scalar, case.steps, case.metrics, case.optim)
    b = Case(case.lrs, listed, case.steps, case.metrics, case.optim)
    _, want = quiet_trajectory(target, a)
    _, got = quiet_trajectory(target, b)
    return compare(target, b, got, want, Tolerance.exact(want),
                   "a list of equal per-group values differs from the scalar")
