"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import Runner, runner


@pytest.fixture
def suite(tmp_path: Path) -> Runner:
    """Run `python -m pytest ARGS` in a fresh directory; returns the completed process."""
    return runner(tmp_path)
