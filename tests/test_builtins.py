"""The main job as a test: every torch built-in conforms at the ci profile."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests import support
from tests.support import report


@support.ahead
def _builtins() -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    tmp = Path(tempfile.mkdtemp(prefix="builtins-"))
    done = support.runner(tmp)("--scheduler", "torch", "--hypothesis-profile", "ci", "-n", "2",
                               "-q", "--conformance-report", str(tmp / "torch.json"))
    return done, report(tmp / "torch.json")


@pytest.mark.slow
def test_every_torch_builtin_conforms() -> None:
    import torch.optim.lr_scheduler as sched

    done, data = support.result(_builtins)
    failed = [(t["label"], c["check"], c["reason"]) for t in data["targets"]
              for c in t["checks"] if c["outcome"] not in ("passed", "skipped")]
    assert not failed, failed
    assert done.returncode == 0, done.stdout[-3000:]
    labels = {t["label"] for t in data["targets"]}
    expected = {n for n in sched.__all__ if n != "LRScheduler"} | {"SWALR"}
    assert labels == expected
    for target in data["targets"]:
        outcomes = [c["outcome"] for c in target["checks"]]
        assert outcomes.count("passed") >= 10, (target["label"], outcomes)
        assert target["spec"] == target["label"]
