"""Family 7, param groups: groups with different lrs stay independent, and per-group list
arguments mean what the scalar means for each group."""

from __future__ import annotations

from typing import Any

from conformance.catalogue import check
from conformance.checks.common import compare, exact
from conformance.harness import Case, Mismatch, quiet_run
from conformance.specs import SPECS, Spec, Sub
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
        elif isinstance(value, Sub):
            out[key] = Sub(value.name, _slice(SPECS.get(value.name), value.args, g, n))
        elif isinstance(value, list) and value and all(isinstance(v, Sub) for v in value):
            out[key] = [Sub(v.name, _slice(SPECS.get(v.name), v.args, g, n)) for v in value]
        else:
            out[key] = value
    return out


@check("groups.independent")
def independent(target: Target, case: Case) -> float:
    """Each param group's lrs are those of a run with that group alone (sliced arguments)."""
    n = len(case.lrs)
    if n < 2:
        return 0.0
    _, _, together = quiet_run(target, case)
    worst = 0.0
    for g in range(n):
        alone = Case([case.lrs[g]], _slice(target.spec, case.args, g, n), case.steps,
                     case.metrics, case.optim)
        _, _, single = quiet_run(target, alone)
        mine = [[row[g]] for row in together]
        try:
            scale = [abs(row[0]) or 1.0 for row in single]
            worst = max(worst, compare(target, alone, mine, single, exact,
                                       lambda t, _g, s=scale: s[t],  # type: ignore[misc]
                                       f"group {g} of {n} differs from a run with it alone"))
        except Mismatch as exc:
            exc.group = g
            exc.message = exc.message.replace("param group 0", f"param group {g}")
            raise
    return worst


@check("groups.list_args", "spec", "per_group_args")
def list_args(target: Target, case: Case) -> float:
    """Passing a per-group argument as a list of equal values equals passing the scalar."""
    names = _per_group(target.spec)
    n = len(case.lrs)
    scalar = {k: (v[0] if k in names and isinstance(v, list) else v) for k, v in case.args.items()}
    listed = {k: ([v] * n if k in names and not isinstance(v, list) else v)
              for k, v in scalar.items()}
    a = Case(case.lrs, scalar, case.steps, case.metrics, case.optim)
    b = Case(case.lrs, listed, case.steps, case.metrics, case.optim)
    _, _, want = quiet_run(target, a)
    _, _, got = quiet_run(target, b)
    return compare(target, b, got, want, exact, lambda t, g: abs(want[t][g]) or 1.0,
                   "a list of equal per-group values differs from the scalar")
