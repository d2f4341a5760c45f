"""Helpers shared by the project's tests: run the suite in a subprocess, read reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

Runner = Callable[..., subprocess.CompletedProcess[str]]


def runner(default_cwd: Path) -> Runner:
    """A function running `python -m pytest ARGS` in `default_cwd` (or `cwd=`)."""

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 900) -> subprocess.CompletedProcess[str]:
        full_env = {k: v for k, v in environ().items()
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


# -- slow jobs ahead of time ---------------------------------------------------------------
# A few tests each wait on one long subprocess (the zoo, the built-ins, the hostile targets,
# docs/ci.md's fresh venv). Started when the session's tests are known, they run beside the
# in-process tests instead of one after another, which halves the wall time on two cores.
_JOBS: dict[str, Callable[[], Any]] = {}
_STARTED: dict[str, Future[Any]] = {}
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ahead")
_AHEAD = threading.local()


def environ() -> dict[str, str]:
    """The environment a subprocess gets: in a job run ahead, the session's at its start (a
    test may be monkeypatching os.environ meanwhile), else the current one."""
    return dict(getattr(_AHEAD, "env", None) or os.environ)


def ahead(job: Callable[[], Any]) -> Callable[[], Any]:
    """Register `job` (no arguments, absolute paths only: tests chdir meanwhile) to start as
    soon as a test of its module is selected; `result(job)` waits for its value."""
    _JOBS[f"{job.__module__}:{job.__qualname__}"] = job
    return job


def start(modules: set[str]) -> None:
    """Start the jobs of the selected test modules."""
    env = dict(os.environ)

    def run(job: Callable[[], Any]) -> Any:
        _AHEAD.env = env
        return job()

    for key, job in _JOBS.items():
        if key.partition(":")[0] in modules and key not in _STARTED:
            _STARTED[key] = _POOL.submit(run, job)


def result(job: Callable[[], Any]) -> Any:
    """The job's value (its exception re-raised): started ahead, or run now."""
    started = _STARTED.get(f"{job.__module__}:{job.__qualname__}")
    return started.result() if started is not None else job()
