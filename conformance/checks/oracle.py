"""Family 1, oracle agreement: the target's trajectory is the reference schedule's."""

from __future__ import annotations

from conformance.catalogue import check
from conformance.checks.common import Tolerance, compare, reference_lrs
from conformance.harness import Case, Mismatch, Run, quiet, quiet_trajectory, script, stepping
from conformance.targets import Target
from reference.base import ulp


def _momenta(opt: object) -> list[float]:
    groups = opt.param_groups  # type: ignore[attr-defined]
    return [float(g["betas"][0] if "betas" in g else g["momentum"]) for g in groups]


@check("oracle.agreement", "spec")
def agreement(target: Target, case: Case) -> float:
    """Stepping the target gives the reference lr at every step and in every param group."""
    assert target.spec is not None
    oracle = target.spec.oracle(case.lrs, case.args)
    _, seen = quiet_trajectory(target, case)
    expected, tol = reference_lrs(oracle, case)
    return compare(target, case, seen, expected, tol, "lr differs from the reference schedule")


@check("oracle.momentum", "spec", "momentum")
def momentum(target: Target, case: Case) -> float:
    """Where the spec cycles momentum (or Adam's beta1), every step's value is the reference's."""
    assert target.spec is not None
    oracle = target.spec.oracle(case.lrs, case.args)
    if oracle.momenta(0) is None:
        return 0.0
    opt_seen: list[list[float]] = []
    with quiet():
        run = Run(target, case)
        opt_seen.append(_momenta(run.opt))
        run.opt.step()
        for _ in range(case.steps):
            run.step()
            opt_seen.append(_momenta(run.opt))
    expected = [oracle.momenta(e) or [] for e in range(case.steps + 1)]
    # The spec's error model: momentum_ulps(step) ulps of the group's momentum scale.
    scales = [oracle.momentum_scale(row) for row in expected]
    try:
        tol = Tolerance(lambda t, g: oracle.momentum_ulps(t) * ulp(scales[t][g]),
                        lambda t, g: scales[t][g])
        return compare(target, case, opt_seen, expected, tol,
                       "momentum differs from the reference schedule")
    except Mismatch as err:
        # compare's reproducer prints the lr; this check's must print the momentum.
        if err.step is not None and err.group is not None:
            err.script = script(target, case, [
                *stepping(target, case, err.step),
                f"g = opt.param_groups[{err.group}]",
                f'print("step {err.step}, group {err.group}: expected momentum", '
                f'{err.expected!r}, "got", g["betas"][0] if "betas" in g else g["momentum"])',
            ])
        raise
