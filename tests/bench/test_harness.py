"""What the suite costs (issue 8), compared within a benchmark group (`nox -s bench`):

- on CosineAnnealingLR, over the 50 cases the ci profile draws (the same ones each round):
  `raw` builds and steps the scheduler with bare torch, as a user's script would;
  `harness` runs one Hypothesis example per case whose body is the harness's build-and-step
  (drawing the case, building, stepping, recording the lrs): the ratio of the medians is the
  harness overhead; `check` runs the whole oracle.agreement check per example (the reference
  trajectory, its error model and the comparison on top). Where the harness time goes:
  `floor` is 50 examples of a bare `st.integers()` with an empty body (Hypothesis's own cost
  per example), `draw` is 50 examples drawing the cases with an empty body, `build` is the
  harness's build-and-step on the same cases without Hypothesis.
- `default run`: the wall time of `pytest --scheduler torch` (ci profile), in one process and
  with `-n 2` (pytest-xdist).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import conformance.checks  # noqa: F401  (registers the catalogue)
from conformance.catalogue import CHECKS, cases
from conformance.harness import Case, quiet_trajectory
from conformance.targets import build_targets

EXAMPLES = 50
TARGET = build_targets(["torch.optim.lr_scheduler:CosineAnnealingLR"], [], None)[0]
CI = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def examples(action: Any) -> None:
    """Run `action` on the ci profile's cases for the target (the same cases every time:
    derandomized Hypothesis seeds from the test function, which is always this `body`)."""

    def body(case: Case) -> None:
        action(case)

    CI(given(cases(TARGET))(body))()


def drawn() -> list[Case]:
    out: list[Case] = []
    examples(out.append)
    return out


CASES = drawn()


def raw() -> None:
    """Construct and step with bare torch, as a user's script would."""
    sched_cls = torch.optim.lr_scheduler.CosineAnnealingLR
    for case in CASES:
        groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in case.lrs]
        opt = torch.optim.SGD(groups, lr=0.1, momentum=0.9)
        sched = sched_cls(opt, **case.args)
        opt.step()
        for _ in range(case.steps):
            sched.step()


def harness() -> None:
    examples(lambda case: quiet_trajectory(TARGET, case))


def floor() -> None:
    def body(n: int) -> None:
        pass

    CI(given(st.integers())(body))()


def draw() -> None:
    examples(lambda case: None)


def build() -> None:
    for case in CASES:
        quiet_trajectory(TARGET, case)


def check() -> None:
    examples(lambda case: CHECKS["oracle.agreement"].func(TARGET, case))


def test_cases_are_the_same_every_time() -> None:
    assert len(CASES) == EXAMPLES and drawn() == CASES


@pytest.mark.parametrize("how", ["raw", "harness", "check", "floor", "draw", "build"])
def test_example_overhead(benchmark: Any, how: str) -> None:
    benchmark.group = f"{EXAMPLES} examples against raw construct-and-step, CosineAnnealingLR"
    run = {"raw": raw, "harness": harness, "check": check, "floor": floor, "draw": draw,
           "build": build}[how]
    benchmark.pedantic(run, rounds=15, warmup_rounds=1)


@pytest.mark.parametrize("workers", [0, 2])
def test_default_run(benchmark: Any, tmp_path: Path, workers: int) -> None:
    if benchmark.disabled:
        pytest.skip("a benchmark of minutes: run it with nox -s bench")
    benchmark.group = "default run: pytest --scheduler torch"
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--scheduler",
           "torch"] + (["-n", str(workers)] if workers else ["-p", "no:xdist"])

    def run() -> int:
        return subprocess.run(cmd, cwd=tmp_path, capture_output=True, check=False).returncode

    assert benchmark.pedantic(run, rounds=3, iterations=1) == 0
