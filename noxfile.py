"""Sessions: conformance (the main job), tests, lint, bench, mutation, determinism, thorough,
matrix, thirdparty, ecosystem.

Every session pins torch: an unpinned torch pulls a ~3 GB CUDA build. uv is preferred (its
cache is shared across venvs, which the torch matrix needs); virtualenv is the fallback.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "tests", "conformance"]

DEFAULT_TORCH = "2.13.0"
#: The torch versions of the matrix: the newest patch release of every minor from 2.0 on.
MATRIX = ["2.0.1", "2.1.2", "2.2.2", "2.3.1", "2.4.1", "2.5.1", "2.6.0", "2.7.1", "2.8.0",
          "2.9.1", "2.10.0", "2.11.0", "2.12.1", "2.13.0", "2.14.1", "2.15.0"]
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
def determinism(session: nox.Session) -> None:
    """The ci profile's results are identical run after run: `nox -s determinism -- -r 20`."""
    install(session, "[dev]")
    session.run("python", "tools/determinism.py", *session.posargs)


@nox.session(python="3.11")
def thorough(session: nox.Session) -> None:
    """The thorough profile over every built-in with several seeds, on demand:
    `nox -s thorough -- -s 11 -s 12`."""
    install(session, "[dev]")
    session.run("python", "tools/thorough.py", *session.posargs)


def matrix_install(version: str) -> list[str]:
    """`uv pip install` arguments for one matrix venv: torch pinned (the local CPU wheel where
    the find-links folder has it), the suite, and numpy 1.x for torch < 2.3, which was built
    against numpy 1 (its import warns under numpy 2)."""
    folder = local_wheels()
    pin = [f"torch=={version}"]
    if folder and glob.glob(os.path.join(folder, f"torch-{version}+cpu-*.whl")):
        pin = ["--find-links", folder, f"torch=={version}+cpu"]
    old = tuple(int(p) for p in version.split(".")[:2]) < (2, 3)
    return [*pin, *(["numpy<2"] if old else []), "pytest-xdist", "-e", "."]


def free_gb(path: str = ".") -> float:
    return shutil.disk_usage(path).free / 1e9


#: A CUDA build of torch with its nvidia packages takes ~4.5 GB in uv's cache (venvs are
#: hard links into it); the session stops before an install could leave less than 15 GB.
MIN_FREE_GB = float(os.environ.get("MATRIX_MIN_FREE_GB", "20"))


@nox.session(python="3.11", venv_backend="uv")
def matrix(session: nox.Session) -> None:
    """The suite over torch versions, one venv each:
    `nox -s matrix -- [VERSIONS] [--install=PKG] [pytest args]` (default: every version of
    MATRIX, on every torch built-in). Writes reports/matrix/ (a JSON report per version and the
    merged table) and, for a run on the built-ins, docs/torch-versions.md. Red when a check
    fails on some version with no catalogue entry to explain it."""
    versions = [a for a in session.posargs if VERSION.match(a)] or MATRIX
    # --install=SPEC puts a third-party scheduler's package into every version's venv.
    extra = [a.partition("=")[2] for a in session.posargs if a.startswith("--install=")]
    rest = [a for a in session.posargs
            if not VERSION.match(a) and not a.startswith("--install=")]
    builtins = not rest
    rest = rest or ["--scheduler", "torch"]
    out = Path("reports/matrix")
    out.mkdir(parents=True, exist_ok=True)
    # A table shows this run only, unless a machine too small for every version's venv runs
    # the matrix in batches (MATRIX_KEEP_REPORTS=1, pruning uv's cache in between).
    if os.environ.get("MATRIX_KEEP_REPORTS") != "1":
        for old in out.glob("torch-*.json"):
            old.unlink()
    uv = shutil.which("uv", path=os.path.dirname(sys.executable)) or "uv"
    timings: dict[str, dict[str, float]] = {}
    for version in versions:
        venv = Path(".nox/matrix-venvs") / f"torch-{version}"
        python = str(venv / "bin" / "python")
        if not venv.exists():
            if free_gb() < MIN_FREE_GB:
                session.error(f"torch {version}: {free_gb():.0f} GB free, below MATRIX_MIN_FREE_GB="
                              f"{MIN_FREE_GB:.0f}; delete .nox/matrix-venvs/* or prune uv's cache")
            session.run(uv, "venv", "--quiet", "--python", "3.11", str(venv), external=True)
        session.log(f"torch {version}: install")
        began = time.monotonic()
        session.run(uv, "pip", "install", "--quiet", "--python", python,
                    *matrix_install(version), *extra, external=True)
        installed = time.monotonic() - began
        session.log(f"torch {version}: suite")
        began = time.monotonic()
        # The project's addopts name pytest-benchmark's option, which the matrix venvs lack.
        session.run(str(venv / "bin" / "pytest"), "-o", "addopts=", "-p", "no:cacheprovider", "-q",
                    *rest,
                    "--conformance-report", str(out / f"torch-{version}.json"),
                    external=True, success_codes=[0, 1])
        timings[version] = {"install_s": round(installed, 1),
                            "suite_s": round(time.monotonic() - began, 1),
                            "free_gb": round(free_gb(), 1)}
        session.log(f"torch {version}: install {installed:.0f} s, suite "
                    f"{timings[version]['suite_s']:.0f} s, {free_gb():.0f} GB free")
    (out / "timings.json").write_text(json.dumps(timings, indent=2) + "\n", encoding="utf-8")
    table = ["python", "tools/matrix_table.py", *map(str, sorted(out.glob("torch-*.json"))),
             "--out", str(out / "torch-versions.md")]
    if builtins:
        table += ["--docs", "docs/torch-versions.md"]
    session.run(*table)


#: The real packages `thirdparty` checks (versions: thirdparty/constraints.txt).
THIRDPARTY = ["transformers", "pytorch-optimizer", "warmup-scheduler"]


@nox.session(python="3.11")
def thirdparty(session: nox.Session) -> None:
    """The suite on real third-party schedulers (thirdparty/targets.json): transformers'
    schedule factories, pytorch-optimizer's schedulers, warmup-scheduler's
    GradualWarmupScheduler. Green when the only failures are the findings recorded in
    thirdparty/xfails.txt (docs/findings.md); any other failure turns it red."""
    pin = torch_args(session)
    # torch is a constraint as well as a requirement: a package that wants another torch
    # fails to resolve instead of replacing it with a ~3 GB CUDA build.
    constraint = Path(session.create_tmp()) / "torch-constraint.txt"
    constraint.write_text(pin[-1] + "\n", encoding="utf-8")
    session.install(*pin, "-c", str(constraint), "-c", "thirdparty/constraints.txt",
                    "-e", ".", *THIRDPARTY)
    session.run("python", "-c", "import torch; v = torch.__version__; "
                f"assert v.split('+')[0] == {DEFAULT_TORCH!r}, v; print('torch', v)")
    Path("reports").mkdir(exist_ok=True)
    # The project's addopts name pytest-benchmark's option, which this venv lacks.
    session.run("pytest", "-o", "addopts=", "-p", "no:cacheprovider",
                "--scheduler-config", "thirdparty/targets.json",
                "--conformance-xfails", "thirdparty/xfails.txt",
                "--conformance-report", "reports/thirdparty.json", *session.posargs)


#: The ecosystem run, one venv per torch a group of packages needs: timm imports torchvision
#: and speechbrain torchaudio, neither of which imports beside the local CPU torch 2.13.0.
#: Versions are pinned in ecosystem/constraints.txt; torch is pinned per venv, as a
#: constraint too. NeMo installs without its dependencies plus the few its scheduler module
#: imports (a full install pulls its training stack).
ECOSYSTEM: dict[str, dict[str, list[str]]] = {
    "cpu": {
        "torch": ["torch==2.13.0"],
        "packages": ["diffusers", "deepspeed", "mmengine", "pytorch-ignite", "accelerate",
                     "torchtune", "torchao"],
        "no_deps": ["nemo-toolkit"],
        "then": ["hydra-core", "lightning", "wrapt", "huggingface_hub", "onnx",
                 "nv-one-logger-core", "nv-one-logger-training-telemetry",
                 "nv-one-logger-pytorch-lightning-integration"],
        "tests": ["diffusers", "deepspeed", "mmengine", "ignite", "nemo"],
    },
    "timm": {
        "torch": ["torch==2.14.1", "torchvision==0.29.1"],
        "packages": ["timm"], "no_deps": [], "then": [], "tests": ["timm"],
    },
    "speechbrain": {
        "torch": ["torch==2.9.1", "torchaudio==2.9.1"],
        "packages": ["speechbrain"], "no_deps": [], "then": [], "tests": ["speechbrain"],
    },
}
TOOLS = ["pytest", "hypothesis", "numpy", "pytest-benchmark", "matplotlib"]


@nox.session(python=False)
def ecosystem(session: nox.Session) -> None:
    """The suite on the schedulers the ecosystem publishes: `nox -s ecosystem -- [GROUPS]`
    (cpu, timm, speechbrain; default all). Per group: a venv (.nox/ecosystem-venvs/), the
    packages pinned beside their torch, the suite on ecosystem/<group>.json with the findings
    of ecosystem/xfails-<group>.txt, the packages' cross-checks against the oracle
    (tests/reference/test_<pkg>.py) and the README's examples for that venv. Green while the
    only failures are the recorded findings; a JSON report per group in reports/."""
    groups = [g for g in session.posargs if g in ECOSYSTEM] or list(ECOSYSTEM)
    Path("reports").mkdir(exist_ok=True)
    timings: dict[str, dict[str, float]] = {}
    for group in groups:
        plan = ECOSYSTEM[group]
        venv = Path(".nox/ecosystem-venvs") / group
        python, pip = str(venv / "bin" / "python"), [str(venv / "bin" / "python"), "-m", "pip"]
        began = start = time.monotonic()
        if not venv.exists():
            session.run(sys.executable, "-m", "venv", str(venv), external=True)
        pins = Path(session.create_tmp()) / f"torch-{group}.txt"
        pins.write_text("\n".join(plan["torch"]) + "\n", encoding="utf-8")
        limits = ["-c", str(pins), "-c", "ecosystem/constraints.txt"]
        env = {"DS_BUILD_OPS": "0"}  # DeepSpeed's sdist builds no C++ ops on a CPU machine
        session.run(*pip, "install", "-q", *plan["torch"], *plan["packages"], *TOOLS, *limits,
                    external=True, env=env)
        if plan["no_deps"]:
            session.run(*pip, "install", "-q", "--no-deps", *plan["no_deps"], *limits,
                        external=True)
        if plan["then"]:
            session.run(*pip, "install", "-q", *plan["then"], *limits, external=True)
        session.run(*pip, "install", "-q", "--no-deps", "-e", ".", external=True)
        session.run(python, "-c", "import torch; print('torch', torch.__version__)",
                    external=True)
        installed = time.monotonic() - began
        began = time.monotonic()
        xfails = Path(f"ecosystem/xfails-{group}.txt")
        session.run(python, "-m", "pytest", "-o", "addopts=", "-p", "no:cacheprovider", "-q",
                    "--scheduler-config", f"ecosystem/{group}.json",
                    *(["--conformance-xfails", str(xfails)] if xfails.exists() else []),
                    "--conformance-report", f"reports/ecosystem-{group}.json",
                    *[a for a in session.posargs if a not in ECOSYSTEM], external=True)
        suite = time.monotonic() - began
        session.run(python, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                    *[f"tests/reference/test_{pkg}.py" for pkg in plan["tests"]], external=True)
        session.run(python, "tools/readme_examples.py", "--venv", group, "--python", python,
                    external=True)
        timings[group] = {"install_s": round(installed, 1), "suite_s": round(suite, 1),
                          "total_s": round(time.monotonic() - start, 1)}
        session.log(f"{group}: install {installed:.0f} s, suite {suite:.0f} s")
    Path("reports/ecosystem-timings.json").write_text(json.dumps(timings, indent=2) + "\n",
                                                      encoding="utf-8")
