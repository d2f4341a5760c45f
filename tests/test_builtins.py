"""The main job as a test: every torch built-in conforms at the ci profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import Runner, report


@pytest.mark.slow
def test_every_torch_builtin_conforms(suite: Runner, tmp_path: Path) -> None:
    import torch.optim.lr_scheduler as sched

    done = suite("--scheduler", "torch", "--hypothesis-profile", "ci", "-n", "2", "-q",
                 "--conformance-report", str(tmp_path / "torch.json"))
    data = report(tmp_path / "torch.json")
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
