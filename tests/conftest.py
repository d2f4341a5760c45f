"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

from tests.support import Runner, runner

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
