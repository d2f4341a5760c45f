"""Helpers shared by the project's tests: run the suite in a subprocess, read reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

Runner = Callable[..., subprocess.CompletedProcess[str]]


def runner(default_cwd: Path) -> Runner:
    """A function running `python -m pytest ARGS` in `default_cwd` (or `cwd=`)."""

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 900) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("PYTEST_", "CONFORMANCE_"))}
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
            cwd=cwd or default_cwd, env=full_env, capture_output=True, text=True,
            timeout=timeout, check=False,
        )

    return run


def report(path: Path) -> dict[str, Any]:
    """A JSON report written by --conformance-report."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
