"""Hostile and broken targets never break the suite (issue 10).

One pytest subprocess runs the suite on the 20 targets of tests/hostile/hostile.py, in order and
in one process, so that what one target does to the process could reach the next; `Sentinel`
comes last and refuses to build if anything leaked.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests import support
from tests.support import Runner, report

HERE = Path(__file__).resolve().parent / "hostile"
sys.path.insert(0, str(HERE))
import hostile  # noqa: E402

pytestmark = pytest.mark.slow


@support.ahead
def _hostile() -> tuple[Any, dict[str, Any]]:
    tmp = Path(tempfile.mkdtemp(prefix="hostile-"))
    suite: Runner = support.runner(tmp)
    args = [a for n in hostile.NAMES for a in ("--scheduler", f"hostile:{n}")]
    done = suite("-q", "-p", "no:xdist", "-p", "fastprofile", "--hypothesis-profile", "hostile",
                 *args, "--spec", "StepLR", "--conformance-timeout", "5",
                 "--conformance-report", str(tmp / "report.json"),
                 env={"PYTHONPATH": str(HERE)}, timeout=900)
    return done, report(tmp / "report.json")


@pytest.fixture(scope="module")
def run() -> tuple[Any, dict[str, Any]]:
    return support.result(_hostile)


def _rows(data: dict[str, Any], label: str) -> list[dict[str, Any]]:
    return next(t["checks"] for t in data["targets"] if t["label"] == label)


def test_the_run_completes_with_failures_not_errors(run: tuple[Any, dict[str, Any]]) -> None:
    done, data = run
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "INTERNAL ERROR" not in done.stdout
    assert [t["label"] for t in data["targets"]] == hostile.NAMES


def test_output_flood_is_clipped(run: tuple[Any, dict[str, Any]]) -> None:
    done, _ = run
    assert len(done.stdout) < 1_000_000, "a target's megabytes of output reached the log"
    assert "characters cut by the conformance suite" in done.stdout


@pytest.mark.parametrize("name", hostile.NAMES)
def test_each_target(run: tuple[Any, dict[str, Any]], name: str) -> None:
    _, data = run
    rows = _rows(data, name)
    ran = [r for r in rows if r["outcome"] != "skipped"]
    failed = [r for r in ran if r["outcome"] == "failed"]
    assert ran, f"{name}: no check ran"
    internal = [f"{r['check']}: {r['reason']}" for r in failed if r.get("error") == "suite"]
    assert not internal, f"{name}: the suite itself raised: {internal}"
    expect = getattr(hostile, name).EXPECT
    if expect == "fail":
        assert failed, f"{name}: no check failed"
    if expect == "pass":
        assert not failed, f"{name}: leaked state reached it: " + "; ".join(
            f"{r['check']}: {r['reason']}" for r in failed)


def test_a_hanging_target_times_out_once(run: tuple[Any, dict[str, Any]]) -> None:
    _, data = run
    failed = [r for r in _rows(data, "HangsInStep") if r["outcome"] == "failed"]
    assert "did not return within 5 s" in failed[0]["reason"]
    assert failed[0]["reproducer"].count("sched.step()") == 1
    assert all(r["reason"].startswith("not run: the target hung") for r in failed[1:])
