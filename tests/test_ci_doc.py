"""docs/ci.md runs as written: its install and test steps, in a fresh venv, on a repository
that ships the realistic warmup + cosine scheduler it describes, with the default torch."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests import support

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "ci.md"
TORCH = "2.13.0"  # CI stays on the default torch; the doc's matrix runs this leg here

SCHEDULERS = '''
import math
from torch.optim.lr_scheduler import LRScheduler


class WarmupCosine(LRScheduler):
    """A linear warmup over warmup_steps, then half a cosine down to 0 at total_steps."""

    def __init__(self, optimizer, warmup_steps, total_steps, last_epoch=-1):
        if not 0 <= warmup_steps < total_steps:
            raise ValueError(f"need 0 <= warmup_steps < total_steps, got {warmup_steps}, "
                             f"{total_steps}")
        self.warmup_steps, self.total_steps = warmup_steps, total_steps
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        s, W, T = self.last_epoch, self.warmup_steps, self.total_steps
        if s < W:
            factor = s / W
        else:
            factor = 0.5 * (1 + math.cos(math.pi * min(s - W, T - W) / (T - W)))
        return [b * factor for b in self.base_lrs]
'''

PYPROJECT = '''
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "mypkg"
version = "0.0.1"

[tool.setuptools]
packages = ["mypkg"]
'''


def steps(text: str) -> dict[str, str]:
    """The workflow's `run:` blocks by step name."""
    yaml = text.split("```yaml", 1)[1].split("```", 1)[0]
    out: dict[str, str] = {}
    for match in re.finditer(r"- name: (.+)\n(\s+)run: \|\n((?:\2  .*\n|\s*\n)+)", yaml):
        indent = len(match[2]) + 2
        out[match[1].strip()] = "\n".join(line[indent:] for line in match[3].splitlines())
    return out


def test_the_workflow_has_the_steps_it_documents() -> None:
    found = steps(DOC.read_text(encoding="utf-8"))
    assert {"Install torch, the suite (pinned) and your package",
            "Run the conformance suite"} <= set(found)
    assert "pytest-xdist" in found["Install torch, the suite (pinned) and your package"]


@support.ahead
def _workflow() -> tuple[Path, list[tuple[str, subprocess.CompletedProcess[str]]]]:
    """docs/ci.md's install and test steps, run in a fresh venv on a repository of its own:
    the repository and each step's completed process, up to the first that failed."""
    text = DOC.read_text(encoding="utf-8")
    found = steps(text)
    tmp_path = Path(tempfile.mkdtemp(prefix="ci-doc-"))
    repo = tmp_path / "repo"
    (repo / "mypkg").mkdir(parents=True)
    (repo / "mypkg" / "__init__.py").write_text("")
    (repo / "mypkg" / "schedulers.py").write_text(SCHEDULERS)
    (repo / "pyproject.toml").write_text(PYPROJECT)
    github = repo / ".github"
    github.mkdir()
    xfails = text.split("## `.github/lr-conformance-xfails.txt`", 1)[1]
    (github / "lr-conformance-xfails.txt").write_text(
        xfails.split("```text\n", 1)[1].split("```", 1)[0])
    # The pinned wheel the doc keeps next to the workflow, built as it says.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(github),
                    str(ROOT)], check=True, capture_output=True, timeout=600)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=600)
    base = support.environ()
    env = {**{k: v for k, v in base.items()
              if not k.startswith(("PYTEST_", "CONFORMANCE_", "VIRTUAL_ENV", "PYTHONPATH"))},
           "PATH": f"{venv / 'bin'}{os.pathsep}{base['PATH']}"}
    done = []
    for name in ("Install torch, the suite (pinned) and your package", "Run the conformance suite"):
        script = found[name].replace("${{ matrix.torch }}", TORCH)
        done.append((name, subprocess.run(["bash", "-eo", "pipefail", "-c", script], cwd=repo,
                                          env=env, capture_output=True, text=True,
                                          timeout=1200, check=False)))
        if done[-1][1].returncode:
            break
    return repo, done


@pytest.mark.slow
def test_ci_doc_runs_as_written() -> None:
    repo, done = support.result(_workflow)
    for name, step in done:
        assert step.returncode == 0, f"{name}:\n{step.stdout[-4000:]}\n{step.stderr[-3000:]}"
    assert len(done) == 2
    assert "WarmupCosine (get_cosine_schedule_with_warmup):" in done[-1][1].stdout
    assert (repo / "reports" / f"torch-{TORCH}" / "report.json").exists()
