"""conformance.check_scheduler: the catalogue without pytest (issue 9)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from torch.optim import Optimizer
from torch.optim.lr_scheduler import CosineAnnealingLR, StepLR

from conformance import check_scheduler
from conformance.report import Outcome

sys.path.insert(0, str(Path(__file__).resolve().parent / "zoo"))
from zoo.oracle import StepLROffByOne
from zoo.state import CyclicLRLoadForgetsEpoch


def test_a_torch_class_passes_every_applicable_check() -> None:
    results = check_scheduler(StepLR, checks=["oracle", "state_dict", "api"])
    assert results.ok, str(results)
    ran = [r for r in results.rows if r.outcome is Outcome.PASSED]
    assert {r.check for r in ran} >= {"oracle.agreement", "state_dict.roundtrip", "api.finite"}
    assert all(r.check.split(".")[0] in ("oracle", "state_dict", "api") for r in results.rows)


def test_a_broken_scheduler_fails_with_where_and_a_reproducer() -> None:
    results = check_scheduler(StepLROffByOne, "StepLR", checks=["oracle.agreement"])
    assert not results.ok
    (row,) = results.failed
    assert row.check == "oracle.agreement" and row.error == "mismatch"
    assert row.step is not None and row.group is not None
    assert row.expected != row.actual
    assert "StepLROffByOne(opt" in row.reproducer
    assert "FAILED oracle.agreement at step" in str(results)


def test_a_path_string_and_fixed_kwargs(tmp_path: Path) -> None:
    results = check_scheduler("torch.optim.lr_scheduler:CosineAnnealingLR",
                              kwargs={"T_max": 7}, checks=["oracle.agreement"], profile="dev",
                              seed=3)
    assert results.ok, str(results)
    data = results.as_json()
    assert data["hypothesis"] == {"profile": "dev", "max_examples": 15, "derandomize": False,
                                  "seed": 3}
    assert data["targets"][0]["fixed_kwargs"] == {"T_max": "7"}
    written = results.write(tmp_path / "r.json")
    assert json.loads(written[0].read_text())["targets"][0]["spec"] == "CosineAnnealingLR"


@pytest.mark.parametrize("path", ["torch.optim.lr_scheduler:MultiStepLR",
                                  "mmengine.optim.scheduler:MultiStepLR"])
def test_fixed_empty_milestones_run(path: str) -> None:
    # No milestone: the horizon has no last milestone to read (once an INTERNALERROR).
    if path.startswith("mmengine"):
        pytest.importorskip("mmengine")
    results = check_scheduler(path, kwargs={"milestones": []}, checks=["oracle.agreement"],
                              profile="dev")
    assert results.ok, str(results)


class RenamedCosine(CosineAnnealingLR):
    """CosineAnnealingLR under other argument names, as third-party look-alikes have."""

    def __init__(self, optimizer: Optimizer, total_steps: int, floor: float = 0.0) -> None:
        super().__init__(optimizer, T_max=total_steps, eta_min=floor)


def test_an_argument_map_renames_the_spec_arguments() -> None:
    renamed = {"T_max": "total_steps", "eta_min": "floor"}
    results = check_scheduler(RenamedCosine, "CosineAnnealingLR", arg_map=renamed,
                              checks=["oracle.agreement"])
    assert results.ok, str(results)
    # Refused by its signature before any example runs, with the way out.
    with pytest.raises(ValueError, match=r"takes no argument\(s\) T_max, eta_min.*arg_map"):
        check_scheduler(RenamedCosine, "CosineAnnealingLR", checks=["oracle.agreement"])
    with pytest.raises(ValueError, match=r"check_scheduler arg_map: 'nope' is not an argument"):
        check_scheduler(RenamedCosine, "CosineAnnealingLR", arg_map={"nope": "x"})
    with pytest.raises(ValueError, match="needs a spec; bind one with spec="):
        check_scheduler("tests.test_api:RenamedCosine", arg_map=renamed)


def test_state_findings_come_back_as_rows() -> None:
    results = check_scheduler(CyclicLRLoadForgetsEpoch, "CyclicLR", checks=["state_dict"])
    assert "state_dict.roundtrip" in {r.check for r in results.failed}


@pytest.mark.parametrize(("args", "message"), [
    (("no.such:Thing",), "cannot import module 'no.such'"),
    ((StepLR,), None),
    (("torch.optim.lr_scheduler:StepLR", "NoSuchSpec"), "unknown spec"),
    ((42,), "neither a scheduler class nor a factory"),
])
def test_usage_errors_are_value_errors(args: tuple[object, ...], message: str | None) -> None:
    if message is None:
        with pytest.raises(ValueError, match="unknown check"):
            check_scheduler(*args, checks=["no.such_check"])
        with pytest.raises(ValueError, match="unknown Hypothesis profile"):
            check_scheduler(*args, profile="nope")
        return
    with pytest.raises(ValueError, match=message):
        check_scheduler(*args)


def test_a_target_that_exits_does_not_end_the_caller() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent / "hostile"))
    import hostile

    results = check_scheduler(hostile.ExitsInStep, "StepLR", checks=["api.finite"])
    (row,) = results.failed
    assert row.error == "target" and "SystemExit" in row.reason


def test_profiles_do_not_depend_on_a_ci_variable() -> None:
    # Under CI=true Hypothesis activates its own "ci" profile at import; dev and thorough
    # must not inherit its derandomize=True (a given seed would be ignored in CI only).
    code = ("from conformance import profiles\nprofiles.register()\n"
            "from hypothesis import settings\n"
            "print([settings.get_profile(p).derandomize for p in ('dev', 'ci', 'thorough')])")
    env = {**os.environ, "CI": "true"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[False, True, False]"
