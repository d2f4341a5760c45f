"""Saying exactly what a target takes (issue 15): its own arguments, narrower domains,
computed maps, and every bad value a one-line usage error before any example runs.

In-process through pytest's pytester; the targets are small modules of each test's own."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from conformance.binding import UsageFault, make
from conformance.specs import SPECS
from conformance.targets import build_targets

WHERE = {k: k for k in ("kwargs", "map", "domain")}

# A linear warmup-then-decay of our own whose arguments differ from transformers' spec in
# every way a binding has to say: another name, an exclusive end, a required argument of its
# own, an absolute peak lr, and a mode table.
TARGETS = '''
import torch
from torch.optim.lr_scheduler import LambdaLR

class Warmup(LambdaLR):
    """get_linear_schedule_with_warmup with other names; the end is exclusive."""

    def __init__(self, optimizer, warmup, end, shape, peak_lr):
        assert shape == "straight", shape
        assert all(g["lr"] == peak_lr for g in optimizer.param_groups), peak_lr
        total = end - 1
        def factor(s):
            if s < warmup:
                return s / warmup
            return max(0.0, (total - s) / (total - warmup))
        super().__init__(optimizer, factor)

class NeedsWarmupSteps(LambdaLR):
    """A constant schedule that requires an argument no spec has."""

    def __init__(self, optimizer, warmup_steps, T_max=10, eta_min=0.0):
        super().__init__(optimizer, lambda s: 1.0)

def total_plus_one(args, lrs):
    return args["num_training_steps"] + 1
'''

WARMUP_MAP = {"num_warmup_steps": "warmup",
              "num_training_steps": {"to": "end", "plus": 1},
              "shape": {"from": 0, "table": {"0": "straight"}},
              "peak_lr": {"from": "lr", "as": "scalar"}}


@pytest.fixture
def module(pytester: pytest.Pytester, request: pytest.FixtureRequest) -> str:
    """A module of targets in the test's own directory, under a name of its own."""
    name = f"binding_{request.node.name.split('[')[0]}"
    pytester.makepyfile(**{name: TARGETS})
    pytester.syspathinsert()
    return name


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    from hypothesis import settings

    try:
        return pytester.runpytest("-p", "no:cacheprovider", "--hypothesis-profile", "dev",
                                  "-p", "no:randomly", *args)
    finally:
        settings.load_profile("project")  # the inner run loaded the suite's profile


def test_computed_and_translated_arguments(pytester: pytest.Pytester, module: str) -> None:
    config = pytester.path / "targets.json"
    config.write_text(json.dumps([{"scheduler": f"{module}:Warmup",
                                   "spec": "get_linear_schedule_with_warmup",
                                   "map": WARMUP_MAP, "checks": ["oracle", "groups"]}]))
    result = run(pytester, "--scheduler-config", str(config))
    assert result.ret == 0, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines(["*Warmup (get_linear_schedule_with_warmup): * passed, 0 failed*"])


def test_reproducers_call_the_target_as_the_suite_did(pytester: pytest.Pytester,
                                                      module: str) -> None:
    # Without "plus": 1 the end is one step early: a failure whose reproducer shows the
    # target's own names and the computed values.
    wrong = {**WARMUP_MAP, "num_training_steps": "end"}
    config = pytester.path / "targets.json"
    config.write_text(json.dumps([{"scheduler": f"{module}:Warmup",
                                   "spec": "get_linear_schedule_with_warmup", "map": wrong,
                                   "checks": ["oracle.agreement"]}]))
    result = run(pytester, "--scheduler-config", str(config))
    assert result.ret == 1
    out = result.stdout.str()
    call = next(line for line in out.splitlines() if "sched = Warmup(" in line)
    assert "warmup=" in call and "end=" in call and "shape='straight'" in call
    assert "peak_lr=" in call and "num_training_steps" not in call


def test_target_only_arguments(pytester: pytest.Pytester, module: str) -> None:
    # A required argument the spec lacks: given to the target, never to the oracle.
    result = run(pytester, "--scheduler", f"{module}:NeedsWarmupSteps",
                 "--scheduler-kwargs", '{"warmup_steps": 3}', "-k", "api.finite")
    assert result.ret == 0, result.stdout.str()[-2000:]
    missing = run(pytester, "--scheduler", f"{module}:NeedsWarmupSteps")
    assert missing.ret == 4
    missing.stderr.fnmatch_lines(["*NeedsWarmupSteps requires warmup_steps*--scheduler-kwargs*"])


def test_a_narrower_domain_is_applied_to_the_drawn_values() -> None:
    (target,) = build_targets(["torch.optim.lr_scheduler:StepLR"], [], None, [], None,
                              ['{"step_size": {"min": 1, "max": 3}}'])
    from hypothesis import given, settings

    from conformance.catalogue import cases

    seen = []

    @settings(max_examples=40, derandomize=True, database=None)
    @given(cases(target))
    def collect(case: Any) -> None:
        seen.append(case.args["step_size"])

    collect()
    assert seen and all(1 <= w <= 3 for w in seen), seen
    assert set(seen) == {1, 2, 3}


def test_domain_forms_and_choices() -> None:
    spec = SPECS["CyclicLR"]
    binding = make(spec, {}, {}, {"mode": {"choices": ["triangular2"]},
                                  "step_size_up": {"min": 2}}, WHERE)
    assert binding.domain["mode"].choices == ("triangular2",)
    assert binding.domain["step_size_up"].low == 2
    assert not binding.domain["mode"].admits("exp_range")


@pytest.mark.parametrize(("kwargs", "maps", "domain", "needle"), [
    ('{"step_size": 0}', [], [], "step_size=0 is outside the spec's domain; valid: int in [1"),
    ('{"step_size": "3"}', [], [], 'step_size="3" is outside the spec\'s domain'),
    ('{"gamma": -1}', [], [], "gamma=-1 is outside the spec's domain; valid: float in [0"),
    ('{"nope": 1}', [], [], "StepLR takes no argument(s) nope; its parameters: optimizer"),
    (None, ['{"step_size": {"to": "size", "plus": "nope"}}'], [], "'nope' is not an argument"),
    (None, ['{"step_size": {"as": "tuple"}}'], [], '"as" is "list" or "scalar"'),
    (None, ['{"step_size": {"call": "no.such:fn"}}'], [], "cannot import 'no.such'"),
    (None, ['{"step_size": {"plus": 1, "what": 2}}'], [], "unknown key(s) what"),
    (None, [], ['{"step_size": {"min": 5, "max": 2}}'], "leaves nothing to draw"),
    (None, [], ['{"step_size": {"choices": []}}'], '"choices" must be a non-empty list'),
    (None, [], ['{"step_size": {"choices": [0]}}'], "step_size=0 is outside the spec's domain"),
    (None, [], ['{"gamma": {"between": 1}}'], 'give {"min": x, "max": y}'),
    (None, [], ['{"nope": {"min": 1}}'], "'nope' is not an argument of the spec StepLR"),
    ('{"step_size": 9}', [], ['{"step_size": {"max": 5}}'], "lies outside the domain given"),
])
def test_bad_values_are_one_line_usage_errors(kwargs: str | None, maps: list[str],
                                              domain: list[str], needle: str) -> None:
    began = time.monotonic()
    with pytest.raises(UsageFault) as err:
        build_targets(["torch.optim.lr_scheduler:StepLR"], [], kwargs, maps, None, domain)
    assert needle in str(err.value)
    assert "\n" not in str(err.value)
    assert time.monotonic() - began < 5


def test_fixed_values_that_leave_no_valid_case(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--scheduler", "torch.optim.lr_scheduler:LinearLR",
                 "--spec", "get_linear_schedule_with_warmup",
                 "--scheduler-map", '{"num_warmup_steps": null, "num_training_steps": null}',
                 "--scheduler-kwargs", '{"num_warmup_steps": 50, "num_training_steps": 10}')
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*no valid case of the get_linear_schedule_with_warmup spec "
                                 "is left to draw*num_training_steps > num_warmup_steps = 50*"])


def test_map_arithmetic_tables_and_shapes() -> None:
    spec = SPECS["get_linear_schedule_with_warmup"]
    binding = make(spec, {"peak": 2.0}, {
        "num_training_steps": {"to": "end", "plus": 1},
        "num_warmup_steps": {"to": "warm", "times": 2, "minus": 1},
        "top": {"from": "lr", "times": "num_warmup_steps"},
        "first": {"from": "lr", "as": "scalar"},
        "mode": {"from": 1, "table": {"1": "less"}},
    }, {}, WHERE)
    args = {"num_warmup_steps": 3, "num_training_steps": 10}
    assert binding.kwargs(args, [0.5, 0.5]) == {
        "end": 11, "warm": 5, "top": [1.5, 1.5], "first": 0.5, "mode": "less", "peak": 2.0}
    from conformance.binding import Unequal

    with pytest.raises(Unequal):
        binding.kwargs(args, [0.5, 0.25])


def test_a_named_function_computes_an_argument(pytester: pytest.Pytester, module: str) -> None:
    mapping = {**WARMUP_MAP, "num_training_steps": {"to": "end",
                                                     "call": f"{module}:total_plus_one"}}
    config = pytester.path / "targets.json"
    config.write_text(json.dumps([{"scheduler": f"{module}:Warmup",
                                   "spec": "get_linear_schedule_with_warmup", "map": mapping,
                                   "checks": ["oracle.agreement"]}]))
    result = run(pytester, "--scheduler-config", str(config))
    assert result.ret == 0, result.stdout.str()[-2000:]
