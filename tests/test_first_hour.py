"""The first hour of a scheduler author (issue 19): every documented path works as written,
failures say what matters first, and the plugin leaves other projects alone."""

from __future__ import annotations

import code
import contextlib
import inspect
import io
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from torch.optim.lr_scheduler import StepLR

from conformance import check_scheduler
from conformance.harness import replable
from conformance.report import Outcome

ROOT = Path(__file__).resolve().parent.parent
PYTEST = str(Path(sys.executable).with_name("pytest"))

MYPKG = '''
import math
from torch.optim.lr_scheduler import LRScheduler

class MySched(LRScheduler):
    """torch's CosineAnnealingLR, written again."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        e = self.last_epoch
        return [self.eta_min + (b - self.eta_min) * (1 + math.cos(math.pi * e / self.T_max)) / 2
                for b in self.base_lrs]
'''


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    from hypothesis import settings

    try:
        return pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly", *args)
    finally:
        settings.load_profile("project")  # the inner run loaded the suite's profile


@pytest.mark.slow
def test_the_headline_command_imports_the_users_package(tmp_path: Path) -> None:
    """`pytest --scheduler mypkg.mod:Cls`, the `pytest` script, from the directory that holds
    mypkg/, with no conftest and no PYTHONPATH."""
    (tmp_path / "mypkg").mkdir()
    (tmp_path / "mypkg" / "__init__.py").write_text("")
    (tmp_path / "mypkg" / "mod.py").write_text(MYPKG)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CONFORMANCE_SCHEDULER")}
    done = subprocess.run([PYTEST, "-p", "no:cacheprovider", "--scheduler", "mypkg.mod:MySched",
                           "--spec", "CosineAnnealingLR", "-k", "oracle.agreement", "-q"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout


def test_reproducers_paste_into_the_interpreter() -> None:
    """A block followed by a top-level line needs a blank line in the REPL; a blank line
    inside a block would end it there."""
    text = replable(["import math", "def f(x):", "", "    y = x", "    return y",
                     "for i in range(2):", "    print(f(i))", "print('done')"])
    assert text == ("import math\n\ndef f(x):\n    y = x\n    return y\n\nfor i in range(2):\n"
                    "    print(f(i))\n\nprint('done')\n")
    assert paste(text) == run_file(text) == "0\n1\ndone\n"


def paste(text: str, namespace: dict[str, Any] | None = None) -> str:
    """What `text` prints when pasted line by line into the interactive interpreter."""
    console = code.InteractiveConsole(namespace if namespace is not None else {})
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        for line in text.splitlines():
            console.push(line)
        console.push("")
    return out.getvalue()


def run_file(text: str, namespace: dict[str, Any] | None = None) -> str:
    """What `text` prints when it runs as a file."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(text, "<reproducer>", "exec"), namespace if namespace is not None else {})
    return out.getvalue()


class TwoWays(StepLR):
    """Two distinct defects: raises for a gamma below 0.5, decays a step late otherwise."""

    def get_lr(self) -> list[float]:  # type: ignore[override]
        if self.gamma < 0.5:
            raise ArithmeticError("gamma below one half")
        if self.last_epoch == 0 or (self.last_epoch - 1) % self.step_size != 0 or \
                self.last_epoch == 1:
            return [g["lr"] for g in self.optimizer.param_groups]
        return [g["lr"] * self.gamma for g in self.optimizer.param_groups]


def test_several_distinct_failures_each_with_its_reproducer() -> None:
    results = check_scheduler(TwoWays, "StepLR", checks=["oracle.agreement"])
    (row,) = results.failed
    reasons = [row.reason] + [o["reason"] for o in row.others]
    assert len(reasons) >= 2, reasons
    assert any("ArithmeticError" in r for r in reasons)
    assert any("lr differs from the reference" in r for r in reasons)
    assert row.reproducer and all(o["reproducer"] for o in row.others)
    assert "ExceptionGroup" not in row.reason


def test_root_cause_first_and_derived_failures_say_so() -> None:
    sys.path.insert(0, str(ROOT / "tests" / "zoo"))
    from zoo.oracle import StepLROffByOne

    results = check_scheduler(StepLROffByOne, "StepLR", checks=["oracle", "chain"])
    failed = {r.check: r for r in results.failed}
    assert failed["oracle.agreement"].derived is None
    assert "may follow from oracle.agreement: the target already leaves the reference at step" \
        in str(failed["chain.external_change"].derived)
    assert [r.check for r in results.rows][:2] == ["oracle.agreement", "oracle.momentum"]


def test_known_failures_of_check_scheduler() -> None:
    sys.path.insert(0, str(ROOT / "tests" / "zoo"))
    from zoo.oracle import StepLROffByOne

    results = check_scheduler(StepLROffByOne, "StepLR", checks=["oracle", "api.finite"],
                              expected_failed_checks={"oracle.agreement": "off by one, #12",
                                                      "api.finite": "not a defect"})
    outcomes = {r.check: r.outcome for r in results.rows}
    assert outcomes["oracle.agreement"] is Outcome.XFAILED
    assert outcomes["api.finite"] is Outcome.STALE
    assert results.ok
    with pytest.raises(ValueError, match="unknown check"):
        check_scheduler(StepLR, expected_failed_checks={"oracle.nope": "x"})


def test_help_of_check_scheduler_shows_its_arguments() -> None:
    params = inspect.signature(check_scheduler).parameters
    assert {"target", "spec", "kwargs", "arg_map", "checks", "expected_failed_checks",
            "profile", "seed"} <= set(params)


def test_contracts_are_whole_sentences() -> None:
    from conformance.catalogue import CHECKS

    for check in CHECKS.values():
        assert check.contract.endswith("."), (check.id, check.contract)
    assert CHECKS["chain.external_change"].contract.endswith(
        "(the schedule is chainable, not a function of the epoch alone).")


def test_deselected_checks_are_reported_not_run(pytester: pytest.Pytester) -> None:
    report = pytester.path / "r.json"
    result = run(pytester, "--scheduler", "torch.optim.lr_scheduler:StepLR", "-k",
                 "oracle.agreement", "--hypothesis-profile", "dev",
                 "--conformance-report", str(report))
    assert result.ret == 0
    result.stdout.fnmatch_lines(["StepLR (StepLR): 1 passed, 0 failed, 0 xfailed, "
                                 "* not applicable, * not run"])
    import json

    rows = json.loads(report.read_text())["targets"][0]["checks"]
    assert {r["outcome"] for r in rows} == {"passed", "skipped", "not run"}
    assert all(r["reason"] == "deselected (-k or -m)" for r in rows if r["outcome"] == "not run")


def test_xfails_for_an_unknown_target_is_a_usage_error(pytester: pytest.Pytester) -> None:
    xfails = pytester.path / "x.txt"
    xfails.write_text("[StepLr] oracle.agreement  # a typo in the label\n")
    result = run(pytester, "--scheduler", "torch.optim.lr_scheduler:StepLR",
                 "--conformance-xfails", str(xfails))
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*x.txt:1: no target of this run is labelled 'StepLr'*"])


def test_list_checks_help_and_did_you_mean(pytester: pytest.Pytester) -> None:
    listed = run(pytester, "--conformance-list-checks")
    assert listed.ret == 0
    listed.stdout.fnmatch_lines(["oracle.agreement *Stepping the target*", "cost.step_cost *"])
    helped = run(pytester, "--help")
    text = " ".join(helped.stdout.str().split())
    assert "CONFORMANCE_SCHEDULER" in text and "get_cosine_schedule_with_warmup" in text
    typo = run(pytester, "--scheduler", "torch.optim.lr_scheduler:StepLR", "--spec", "StepLr")
    assert typo.ret == 4
    typo.stderr.fnmatch_lines(["*unknown spec; did you mean 'StepLR'?*"])


def test_a_plain_hypothesis_project_keeps_its_own_ci_profile(pytester: pytest.Pytester,
                                                             monkeypatch: Any) -> None:
    """With the plugin installed and no target named, CI=true means Hypothesis's own ci
    profile (print_blob, 100 examples), not the suite's."""
    pytester.makepyfile(test_plain='''
        from hypothesis import given, settings, strategies as st

        def test_profile():
            assert settings._current_profile == "ci"
            assert settings().print_blob is True and settings().max_examples == 100

        @given(st.integers())
        def test_property(x):
            assert isinstance(x, int)
    ''')
    monkeypatch.setenv("CI", "true")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == 0, result.stdout.str()[-2000:]
    result.stdout.fnmatch_lines(["*2 passed*"])


def test_docs_cite_only_files_that_exist() -> None:
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = doc.read_text(encoding="utf-8")
        for path in re.findall(r"`((?:docs|reference|conformance|tests|tools|ecosystem|"
                               r"thirdparty)/[\w./-]+\.(?:py|md|json|txt))`", text):
            assert (ROOT / path).exists(), f"{doc.name} cites {path}, which does not exist"
        for link in re.findall(r"\]\(([\w./-]+\.md)\)", text):
            assert (doc.parent / link).exists(), f"{doc.name} links {link}, which does not exist"
        assert "SPEC-RULINGS" not in text and "shared/" not in text, doc.name
