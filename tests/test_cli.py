"""The command-line contract of DESIGN.md: options, silence, usage errors, xfails. In process
(pytester), but where the plugin's import is part of what is tested."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import Runner, report

CLASS = "torch.optim.lr_scheduler:StepLR"


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize(("args", "needle"), [
    (["--scheduler", "no.such:Thing"], "cannot import module 'no.such'"),
    (["--scheduler", "torch.optim.lr_scheduler:Nope"], "has no attribute 'Nope'"),
    (["--scheduler", "torch.optim.lr_scheduler.StepLR"], "write torch.optim.lr_scheduler:StepLR"),
    (["--scheduler", "torch.optim.lr_scheduler:EPOCH_DEPRECATION_WARNING"],
     "not a scheduler class or a factory"),
    (["--scheduler", CLASS, "--spec", "NoSuchSpec"], "unknown spec"),
    (["--scheduler", CLASS, "--scheduler-kwargs", "{bad"], "invalid JSON"),
    (["--scheduler", CLASS, "--scheduler-kwargs", "[1]"], "expected a JSON object"),
    (["--scheduler", CLASS, "--scheduler-kwargs", '{"nope": 1}'], "takes no argument(s) nope"),
    (["--scheduler", "json"], "has no scheduler class with a spec"),
    (["--spec", "StepLR"], "need a target"),
    (["--scheduler", CLASS, "--conformance-timeout", "-1"], "give a number of seconds >= 0"),
])
def test_usage_errors_exit_4_with_one_line(inproc: Runner, args: list[str], needle: str) -> None:
    done = inproc(*args)
    assert done.returncode == 4, done.stdout + done.stderr
    assert needle in one_error_line(done.stderr)


def test_malformed_xfails_is_a_usage_error(inproc: Runner, tmp_path: Path) -> None:
    bad = tmp_path / "xfails.txt"
    bad.write_text("oracle.agreement # ok\nthis is not a check id\n")
    done = inproc("--scheduler", CLASS, "--conformance-xfails", str(bad))
    assert done.returncode == 4
    assert "xfails.txt:2: malformed line" in one_error_line(done.stderr)


def test_unknown_check_in_xfails_is_a_usage_error(inproc: Runner, tmp_path: Path) -> None:
    bad = tmp_path / "xfails.txt"
    bad.write_text("oracle.nonesuch  # typo\n")
    done = inproc("--scheduler", CLASS, "--conformance-xfails", str(bad))
    assert done.returncode == 4
    assert "unknown check id 'oracle.nonesuch'" in one_error_line(done.stderr)


def test_help_works_with_a_broken_target(inproc: Runner) -> None:
    done = inproc("--help", "--scheduler", "no.such:Thing")
    assert done.returncode == 0
    assert "--scheduler" in done.stdout and "--conformance-report" in done.stdout


def test_plain_pytest_in_another_project_is_unchanged(suite: Runner, tmp_path: Path) -> None:
    # A fresh interpreter: what the plugin does at import is part of what is tested.
    (tmp_path / "test_theirs.py").write_text("def test_one():\n    assert True\n")
    done = suite("-q")
    assert done.returncode == 0, done.stdout
    assert "1 passed" in done.stdout
    assert "conformance" not in done.stdout


def test_named_target_runs_the_catalogue_not_local_tests(inproc: Runner, tmp_path: Path) -> None:
    # A project layout: tests under testpaths, with a conftest (pytest then builds hook
    # subsets per directory, which needs hashable plugin objects).
    (tmp_path / "pytest.ini").write_text("[pytest]\ntestpaths = theirs\n")
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "conftest.py").write_text("import pytest\n")
    (tmp_path / "theirs" / "test_theirs.py").write_text("def test_one():\n    assert False\n")
    done = inproc("--scheduler", CLASS, "--hypothesis-profile", "dev", "-q",
                 "--conformance-report", str(tmp_path / "r.json"))
    assert done.returncode == 0, done.stdout[-3000:]
    assert "[StepLR] oracle.agreement" in done.stdout or "passed" in done.stdout
    data = report(tmp_path / "r.json")
    (target,) = data["targets"]
    outcomes = {c["check"]: c["outcome"] for c in target["checks"]}
    assert outcomes["oracle.agreement"] == "passed"
    assert all(v in ("passed", "skipped") for v in outcomes.values()), outcomes
    skipped = [c for c in target["checks"] if c["outcome"] == "skipped"]
    assert all(c["reason"] for c in skipped)
    assert (tmp_path / "r.md").read_text().startswith("# Conformance report")


@pytest.mark.parametrize("how", ["env", "ini"])
def test_target_from_env_or_ini(inproc: Runner, tmp_path: Path, how: str) -> None:
    env = {}
    if how == "env":
        env["CONFORMANCE_SCHEDULER"] = CLASS
    else:
        (tmp_path / "pytest.ini").write_text(f"[pytest]\nconformance_scheduler = {CLASS}\n")
    done = inproc("--hypothesis-profile", "dev", "-q", "-k", "oracle.agreement", env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert "1 passed" in done.stdout


def test_xfails_mark_known_failures_and_report_stale_entries(inproc: Runner,
                                                             tmp_path: Path) -> None:
    listed = tmp_path / "xfails.txt"
    # StepLR passes oracle.agreement, so listing it is a stale entry: reported, not a failure.
    # oracle.momentum does not apply to StepLR: an entry for it records nothing, stale too.
    listed.write_text("# known\n[StepLR] oracle.agreement  # pretend\n"
                      "[StepLR] oracle.momentum  # pretend\n")
    done = inproc("--scheduler", CLASS, "--conformance-xfails", str(listed), "-q",
                 "--hypothesis-profile", "dev", "-k", "oracle.agreement",
                 "--conformance-report", str(tmp_path / "r.json"))
    assert done.returncode == 0, done.stdout[-2000:]
    assert "STALE xfail oracle.agreement" in done.stdout
    rows = report(tmp_path / "r.json")["targets"][0]["checks"]
    assert "STALE xfail oracle.momentum: the check does not apply to this target" in done.stdout
    outcomes = {c["check"]: c["outcome"] for c in rows}
    assert outcomes["oracle.agreement"] == outcomes["oracle.momentum"] == "stale-xfail"
