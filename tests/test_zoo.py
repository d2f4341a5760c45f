"""The checks bite (issue 5): every broken zoo member fails a check of its expected family, every
correct implementation passes, and every check in the catalogue fails some broken member.

One pytest subprocess runs the whole zoo (tests/zoo/runner.py: profile zoo, the ci profile's
50 derandomized examples without shrinking; 2 workers): the slowest test.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import support

RUNNER = Path(__file__).resolve().parent / "zoo" / "runner.py"


def _load_runner() -> Any:
    spec = importlib.util.spec_from_file_location("zoo_runner", RUNNER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


runner = _load_runner()
MEMBERS = runner.members()
BROKEN = [m for m in MEMBERS if m.family is not None]
CORRECT = [m for m in MEMBERS if m.family is None]
CHECKS = sorted(runner.catalogue())

pytestmark = pytest.mark.slow


@support.ahead
def _zoo() -> Any:
    return runner.evaluate(MEMBERS)


@pytest.fixture(scope="module")
def result() -> Any:
    return support.result(_zoo)


def _name(m: Any) -> str:
    return str(m.name)


@pytest.mark.parametrize("member", BROKEN, ids=_name)
def test_broken_member_is_caught(result: Any, member: Any) -> None:
    if member in result.pending:
        pytest.skip(f"pending: the catalogue has no {member.family}.* check yet")
    assert member.name not in result.missing, f"{member.path} is missing from the report"
    failed = result.failures[member.name]
    assert result.killed(member), (
        f"{member.path} ({member.doc}) survived: no {member.family}.* check failed; "
        f"failed instead: {sorted(failed) or 'nothing'}")


@pytest.mark.parametrize("member", CORRECT, ids=_name)
def test_correct_implementation_passes(result: Any, member: Any) -> None:
    assert member.name not in result.missing, f"{member.path} is missing from the report"
    failed = result.failures[member.name]
    assert not failed, f"correct {member.path} ({member.spec}) flagged: " + "; ".join(
        f"{cid}: {why}" for cid, why in failed.items())


@pytest.mark.parametrize("check_id", CHECKS)
def test_every_check_kills_a_member(result: Any, check_id: str) -> None:
    assert result.kills.get(check_id), (
        f"suite defect: check {check_id} fails no broken zoo member; it bites nothing "
        "(add a member it must catch, or fix the check)")


def test_every_reproducer_pastes_runs_and_shows_its_failure(result: Any) -> None:
    """Each failure's reproducer runs from a file and pasted into the interpreter, prints the
    same both ways, and shows the failure it reports (issue 19)."""
    sys.path.insert(0, str(RUNNER.parent))
    import reproducers

    bad = []
    for target in result.report["targets"]:
        for row in target["checks"]:
            if row["outcome"] != "failed":
                continue
            scripts = [(row, row["reproducer"])] + [
                ({**row, **other}, other["reproducer"]) for other in row.get("others") or []]
            for shown, text in scripts:
                if not text:
                    bad.append(f"{target['label']} {row['check']}: no reproducer")
                    continue
                done = reproducers.run(text)
                if done.syntax or not reproducers.same_output(done):
                    bad.append(f"{target['label']} {row['check']}: does not paste into python")
                elif not reproducers.shows(shown, done):
                    bad.append(f"{target['label']} {row['check']}: does not show "
                               f"{shown.get('actual')!r}; prints {done.file_out[-120:]!r}")
    assert not bad, f"{len(bad)} reproducers:\n" + "\n".join(bad)
