"""Sessions: conformance (the main job), tests, lint, bench, mutation, matrix.

Every session pins torch: an unpinned torch pulls a ~3 GB CUDA build. uv is preferred (its
cache is shared across venvs, which the torch matrix needs); virtualenv is the fallback.
"""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "tests", "conformance"]

DEFAULT_TORCH = "2.13.0"
#: The torch versions of the matrix; the version-matrix issue extends this list.
MATRIX = [DEFAULT_TORCH]
VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")


def local_wheels() -> str | None:
    """The folder pip's find-links names, when it holds a torch wheel (a local CPU build)."""
    for folder in os.environ.get("PIP_FIND_LINKS", "").split():
        if glob.glob(os.path.join(folder, "torch-*.whl")):
            return folder
    return None


def torch_args(session: nox.Session, version: str = DEFAULT_TORCH) -> list[str]:
    """Install arguments for a pinned torch. uv does not read pip's find-links, so it is
    pointed at the local folder and the local (+cpu) version is named."""
    folder = local_wheels()
    if session.venv_backend == "uv" and folder:
        local = glob.glob(os.path.join(folder, f"torch-{version}+cpu-*.whl"))
        if local:
            return ["--find-links", folder, f"torch=={version}+cpu"]
    return [f"torch=={version}"]


def install(session: nox.Session, extras: str = "") -> None:
    session.install(*torch_args(session), "-e", f".{extras}")


@nox.session(python="3.11")
def conformance(session: nox.Session) -> None:
    """The main job: the suite on every torch built-in, with a report in reports/."""
    install(session)
    Path("reports").mkdir(exist_ok=True)
    session.run("pytest", "--scheduler", "torch",
                "--conformance-report", f"reports/torch-{DEFAULT_TORCH}.json", *session.posargs)


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """The project's own tests (oracle, plugin, zoo, built-ins)."""
    install(session, "[dev]")
    session.run("pytest", "tests", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff and mypy."""
    install(session, "[dev]")
    session.run("ruff", "check", ".")
    session.run("mypy")


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """pytest-benchmark benchmarks (medians and ratios)."""
    install(session, "[dev]")
    session.run("pytest", "tests/bench", "--benchmark-enable", "--benchmark-only", "-p", "no:xdist",
                "--benchmark-columns=median,iqr,rounds", *session.posargs)


@nox.session(python="3.11")
def mutation(session: nox.Session) -> None:
    """The mutation score: the suite on the zoo of broken schedulers."""
    install(session, "[dev]")
    session.run("python", "tests/zoo/runner.py", *session.posargs)


@nox.session(python="3.11")
def matrix(session: nox.Session) -> None:
    """The suite over torch versions: `nox -s matrix -- 2.4.1 2.8.0 [pytest args]`."""
    versions = [a for a in session.posargs if VERSION.match(a)] or MATRIX
    rest = [a for a in session.posargs if not VERSION.match(a)] or ["--scheduler", "torch"]
    Path("reports").mkdir(exist_ok=True)
    for version in versions:
        session.log(f"torch {version}")
        session.install(*torch_args(session, version), "-e", ".")
        session.run("pytest", *rest, "--conformance-report",
                    f"reports/matrix/torch-{version}.json", success_codes=[0, 1])
