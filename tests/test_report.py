"""A failing run's report, plots and reproducers (issue 9)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support import Runner, report

ZOO = str(Path(__file__).resolve().parent / "zoo")
MEMBER = ["--scheduler", "zoo.oracle:MultiStepLRLate", "--spec", "MultiStepLR", "-k", "oracle"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    from tests.support import runner

    tmp = tmp_path_factory.mktemp("report")
    done = runner(tmp)(*MEMBER, "--conformance-report", str(tmp / "out" / "r.json"),
                       env={"PYTHONPATH": ZOO})
    assert done.returncode == 1, done.stdout[-2000:]
    return tmp / "out", report(tmp / "out" / "r.json"), done.stdout


def _failed(data: dict[str, Any]) -> dict[str, Any]:
    rows = data["targets"][0]["checks"]
    return next(r for r in rows if r["check"] == "oracle.agreement")


def test_the_report_carries_what_a_ci_gate_needs(failing: Any) -> None:
    _, data, _ = failing
    target = data["targets"][0]
    assert target["torch"] == data["torch"] and target["spec"] == "MultiStepLR"
    assert target["hypothesis"] == {"profile": "ci", "max_examples": 50, "derandomize": True,
                                    "seed": None}
    row = _failed(data)
    assert row["outcome"] == "failed" and row["error"] == "mismatch"
    assert row["worst_ulps"] > 1e6 and row["step"] >= 1 and row["reproducer"]
    assert len(row["series"]["seen"]) == len(row["series"]["expected"])


def test_a_plot_is_saved_and_embedded(failing: Any) -> None:
    out, data, stdout = failing
    row = _failed(data)
    assert "plots: 1 PNG(s) in" in stdout
    png = out / row["plot"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert f"]({row['plot']})" in (out / "r.md").read_text()
    assert "```python" in (out / "r.md").read_text()


def test_the_reproducer_shows_the_same_divergence(failing: Any, tmp_path: Path) -> None:
    _, data, _ = failing
    row = _failed(data)
    done = subprocess.run([sys.executable, "-c", row["reproducer"]], cwd=tmp_path,
                          env={"PYTHONPATH": ZOO, "PATH": ""}, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    printed = re.search(r"expected (\S+) got (\S+)", done.stdout)
    assert printed, done.stdout
    assert float(printed[1]) == row["expected"] and float(printed[2]) == row["actual"]


def test_without_matplotlib_it_says_how_to_get_plots(suite: Runner, tmp_path: Path) -> None:
    (tmp_path / "nompl.py").write_text("import sys\nsys.modules['matplotlib'] = None\n")
    done = suite("-p", "nompl", *MEMBER, "--conformance-report", str(tmp_path / "r.json"),
                 env={"PYTHONPATH": f"{ZOO}:{tmp_path}"})
    assert done.returncode == 1, done.stdout[-2000:]
    data = report(tmp_path / "r.json")
    assert data["plots"]["available"] is False and "matplotlib" in data["plots"]["how"]
    assert "plots" in done.stdout and "pip install" in done.stdout
    assert "Plots of failed trajectories: pip install" in (tmp_path / "r.md").read_text()
    assert not _failed(data).get("plot")
