"""Shared fixtures."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support import Runner, runner, start

pytest_plugins = ["pytester"]

# In-process runs (pytester) forget the modules they imported and re-import them next time;
# torch cannot be imported twice in one process, so it and the suite are imported here first.
import torch  # noqa: E402, F401

import conformance.checks  # noqa: E402
import conformance.harness  # noqa: E402, F401
from conformance.execution import warm_up  # noqa: E402

warm_up()  # the first optimizer step imports torch's compiler modules: here, not in a run

# The project's tests gate CI, so a run must give the same result every time: derandomized
# by default. `--hypothesis-profile explore` draws fresh examples (and more of them).
# Both built on "default": Hypothesis's own CI profile (active under a CI variable) would
# otherwise leak into them.
_BASE = settings.get_profile("default")
settings.register_profile("project", _BASE, derandomize=True, database=None, deadline=None)
settings.register_profile("explore", _BASE, max_examples=300, deadline=None)
settings.load_profile("project")


@pytest.fixture
def suite(tmp_path: Path) -> Runner:
    """Run `python -m pytest ARGS` in a fresh directory; returns the completed process."""
    return runner(tmp_path)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the slow jobs of the selected tests (tests/support.py, `ahead`): not in an xdist
    worker, which runs only part of what it collected."""
    if not hasattr(session.config, "workerinput"):
        start({item.module.__name__ for item in session.items
               if isinstance(item, pytest.Function) and item.module is not None})


@pytest.fixture
def inproc(pytester: pytest.Pytester, tmp_path: Path) -> Runner:
    """Run `pytest ARGS` in this process (pytester), in `tmp_path` (or `cwd=`), with the
    returned object of `suite`: for runs that need no fresh interpreter, ten times faster."""

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 900) -> subprocess.CompletedProcess[str]:
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(cwd or tmp_path)
            for key in [k for k in os.environ if k.startswith(("PYTEST_", "CONFORMANCE_"))]:
                patch.delenv(key)
            for key, value in (env or {}).items():
                patch.setenv(key, value)
            done = pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)
        return subprocess.CompletedProcess(list(args), int(done.ret), "\n".join(done.outlines),
                                           "\n".join(done.errlines))

    return run
