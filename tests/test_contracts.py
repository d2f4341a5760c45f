"""The contracts of issue 18 in process: the rules that say where torch's own classes keep a
contract (checked against the running torch, so a torch that changes is noticed here first),
the helpers the checks read states with, and each new check on a broken zoo member and on the
torch class it is written against."""

from __future__ import annotations

import copy
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from torch.optim import lr_scheduler as L
from torch.optim.swa_utils import SWALR

import conformance.checks.construct  # noqa: F401  (registers the construct family)
from conformance import check_scheduler
from conformance.checks import construct, resume, state
from conformance.harness import Case
from conformance.lambdas import Lam

sys.path.insert(0, str(Path(__file__).resolve().parent / "zoo"))
from zoo import contracts


def _opt(lrs: tuple[float, ...] = (0.1, 0.5)) -> torch.optim.Optimizer:
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=0.1, momentum=0.9)


def _resumes(make: Any, n: int, steps: int = 12) -> bool:
    """Whether `make(opt, **kw)` built with last_epoch=n-1 on the optimizer state saved after
    n steps continues as the run stepped n times, on the running torch."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt = _opt()
        sched = make(opt)
        seen: list[list[float]] = []
        saved: dict[str, Any] = {}
        for t in range(1, steps + 1):
            opt.step()
            sched.step()
            seen.append([g["lr"] for g in opt.param_groups])
            if t == n:
                saved = copy.deepcopy(opt.state_dict())
        again = _opt()
        again.load_state_dict(saved)
        resumed = make(again, last_epoch=n - 1)
        got = [[g["lr"] for g in again.param_groups]]
        for _ in range(steps - n):
            again.step()
            resumed.step()
            got.append([g["lr"] for g in again.param_groups])
    return got == seen[n - 1:]


RESUMED = [
    (L.StepLR, {"step_size": 3, "gamma": 0.5}),
    (L.MultiStepLR, {"milestones": [2, 5, 9], "gamma": 0.5}),
    (L.ConstantLR, {"factor": 0.5, "total_iters": 4}),
    (L.ExponentialLR, {"gamma": 0.9}),
    (L.CosineAnnealingLR, {"T_max": 5, "eta_min": 0.001}),
    (L.LinearLR, {"start_factor": 0.2, "total_iters": 6}),
    (L.PolynomialLR, {"total_iters": 6, "power": 2.0}),
    (L.LambdaLR, {"lr_lambda": Lam("exp", 0.9)}),
    (L.MultiplicativeLR, {"lr_lambda": Lam("const", 0.9)}),
    (L.CosineAnnealingWarmRestarts, {"T_0": 3, "T_mult": 2, "eta_min": 0.001}),
    (L.CosineAnnealingWarmRestarts, {"T_0": 2, "T_mult": 1}),
    (L.CyclicLR, {"base_lr": 0.01, "max_lr": 0.2, "step_size_up": 3}),
    (L.OneCycleLR, {"max_lr": 1.0, "total_steps": 30}),
    (SWALR, {"swa_lr": 0.05, "anneal_epochs": 4}),
    (SWALR, {"swa_lr": 0.05, "anneal_epochs": 1}),
]


@pytest.mark.parametrize(("cls", "args"), RESUMED,
                         ids=[f"{c.__name__}-{i}" for i, (c, _) in enumerate(RESUMED)])
def test_where_the_rules_hold_a_target_torch_resumes(cls: type, args: dict[str, Any]) -> None:
    case = Case([0.1, 0.5], args, 12)
    for n in range(1, 11):
        if resume.torch_resumes(cls, n, case):
            assert _resumes(lambda opt, **kw: cls(opt, **args, **kw), n), (cls.__name__, n)


#: Where torch does not resume (docs/findings-resume.md): the rules must leave these out.
NOT_RESUMED = [
    (L.StepLR, {"step_size": 3}, 3),
    (L.MultiStepLR, {"milestones": [2, 5]}, 5),
    (L.ConstantLR, {"factor": 0.5, "total_iters": 4}, 4),
    (L.CosineAnnealingWarmRestarts, {"T_0": 3, "T_mult": 2}, 6),
    (SWALR, {"swa_lr": 0.05, "anneal_epochs": 4, "anneal_strategy": "linear"}, 2),
]


@pytest.mark.parametrize(("cls", "args", "n"), NOT_RESUMED,
                         ids=[c.__name__ for c, _, _ in NOT_RESUMED])
def test_torch_does_not_resume_where_the_findings_say(cls: type, args: dict[str, Any],
                                                       n: int) -> None:
    assert not _resumes(lambda opt, **kw: cls(opt, **args, **kw), n)
    assert not resume.torch_resumes(cls, n, Case([0.1, 0.5], args, 12))


def test_the_probes_of_torch_s_classes() -> None:
    assert state.torch_loads_cleanly(L.StepLR) and state.torch_loads_cleanly(L.SequentialLR)
    assert construct.torch_builds_on_used(L.OneCycleLR)
    assert construct.torch_builds_on_used(L.ExponentialLR)
    if hasattr(L.CyclicLR, "load_state_dict") and "load_state_dict" in vars(L.CyclicLR):
        assert not state.torch_loads_cleanly(L.CyclicLR)  # docs/findings-resume.md, 5
    assert not construct.torch_builds_on_used(L.CyclicLR)  # docs/findings-resume.md, 6


def test_same_value_reads_tensors_and_ignores_key_order() -> None:
    a = {"x": torch.tensor([1.0]), "y": [1, 2.5]}
    assert state.same_value(a, {"y": [1, 2.5], "x": torch.tensor([1.0])})
    assert not state.same_value(a, {"x": torch.tensor([2.0]), "y": [1, 2.5]})
    assert not state.same_value(a, {"x": torch.tensor([1.0])})
    assert state.same_value(float("nan"), float("nan"))


def test_weight_counts_items_not_values() -> None:
    assert state.weight({"last_epoch": 3}) == state.weight({"last_epoch": 10**9})
    assert state.weight({"h": [0.1] * 50}) > state.weight({"h": [0.1]}) + state.SLACK


def test_perturbed_arguments_stay_of_their_kind() -> None:
    assert state._perturbed(None, 3) == 4 and state._perturbed(None, 0.5) == 0.25
    assert state._perturbed(None, True) is False
    assert state._perturbed(None, Lam("exp", 0.9)) == Lam("exp", 0.45)
    assert state._perturbed(None, [2, 5]) == [3, 6]


def _failed(results: Any) -> set[str]:
    return {row.check for row in results.failed}


def _run(target: Any, spec: str, checks: list[str]) -> Any:
    return check_scheduler(target, spec, checks=checks, profile="dev", seed=1)


BROKEN = [
    (contracts.ExponentialLRLastEpochGuard, "ExponentialLR", "resume.constructor"),
    (contracts.LambdaLRRebasesOnLoad, "LambdaLR", "state_dict.reload"),
    (contracts.StepLRLoadPopsLastLr, "StepLR", "state_dict.reload"),
    (contracts.CosineAnnealingLRKeepsOwnArguments, "CosineAnnealingLR", "state_dict.reload"),
    (contracts.LambdaLRSavesFunctions, "LambdaLR", "state_dict.functions"),
    (contracts.MultiplicativeLRDropsObjectState, "MultiplicativeLR", "state_dict.functions"),
    (contracts.MultiStepLRKeepsHistory, "MultiStepLR", "state_dict.snapshot"),
    (contracts.LinearLRTakesInitialLrAsResume, "LinearLR", "construct.used_optimizer"),
    (contracts.StepLRCountsThroughFunc, "StepLR", "construct.used_optimizer"),
    (contracts.SequentialLRFlatUndo, "SequentialLR", "construct.nested"),
    (contracts.CosineAnnealingLRFloatEpoch, "CosineAnnealingLR", "api.last_epoch"),
    (contracts.CosineAnnealingWarmRestartsRecursiveCycle, "CosineAnnealingWarmRestarts",
     "api.no_reference_cycle"),
    (contracts.StepLRLocked, "StepLR", "api.copyable"),
    (contracts.ExponentialLRRewrapsStep, "ExponentialLR", "cost.step_cost"),
]


@pytest.mark.parametrize(("member", "spec", "check"), BROKEN,
                         ids=[m.__name__ for m, _, _ in BROKEN])
def test_a_broken_member_fails_its_check_and_torch_passes_it(member: Any, spec: str,
                                                              check: str) -> None:
    assert check in _failed(_run(member, spec, [check]))
    base = getattr(L, spec, None) or SWALR
    assert not _failed(_run(base, spec, [check]))


@pytest.mark.parametrize("member", [contracts.ResumableStepLR, contracts.RecentLambdaLR,
                                    contracts.CountingCosineAnnealingLR,
                                    contracts.ProductChain], ids=lambda m: m.__name__)
def test_a_correct_member_passes_the_new_checks(member: Any) -> None:
    checks = ["resume.constructor", "state_dict.reload", "state_dict.functions",
              "state_dict.snapshot", "construct", "api", "cost.step_cost"]
    results = _run(member, member.SPEC, checks)
    assert results.ok, str(results)


def test_finite_allows_what_the_spec_s_error_model_allows() -> None:
    """The thorough profile's seed 2: in torch's ChainedScheduler, LinearLR's last factor
    1 + (0 - 0.01) / (0.03 - 0.02) cancels to -2^-52 and ConstantLR's restore multiplies it by
    64, so the lr that should be 0 is -7.4e-20, 22 ulps of the group's largest lr: beyond the
    16 a lone schedule's rounding takes, within the chain's error model. A clearly negative
    lr still fails."""
    from conformance.checks.api import finite
    from conformance.specs import Sub
    from conformance.targets import Request, bind

    (chain,) = bind([("torch.optim.lr_scheduler:ChainedScheduler", L.ChainedScheduler)],
                    Request())
    subs = [Sub("MultiplicativeLR", {"lr_lambda": [Lam("const", 1.0), Lam("const", 0.875)]}),
            Sub("LinearLR", {"start_factor": 0.01, "end_factor": 0.0, "total_iters": 3}),
            Sub("ConstantLR", {"factor": 0.015625, "total_iters": 3})]
    finite(chain, Case([0.1, 0.1], {"schedulers": subs}, 3))
    below = [Sub("MultiplicativeLR", {"lr_lambda": Lam("const", -1.0)}),
             Sub("ConstantLR", {"factor": 0.5, "total_iters": 3})]
    with pytest.raises(AssertionError, match="has lr -"):
        finite(chain, Case([0.1, 0.1], {"schedulers": below}, 3))
