"""The README's examples run as written: a spec of the user's own, end to end, through
--spec and through a package's entry point (the examples that need other packages run in
`nox -s ecosystem`)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from readme_examples import README, examples, matches


def files(text: str) -> dict[str, str]:
    """The README's ```python blocks whose first line names a file: `# mypkg/specs.py`."""
    out = {}
    for block in re.findall(r"```python\n(.*?)```", text, re.S):
        first = block.splitlines()[0]
        if re.fullmatch(r"# [\w/]+\.py", first):
            out[first[2:]] = block
    return out


@pytest.fixture
def project(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """The README's package, written out, under a name of its own (modules are cached)."""
    name = f"mypkg_{request.node.name}"
    for path, code in files(README.read_text(encoding="utf-8")).items():
        target = tmp_path / path.replace("mypkg", name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(code.replace("mypkg", name))
        (target.parent / "__init__.py").touch()
    return tmp_path


def test_the_readme_names_the_files_of_its_example() -> None:
    assert set(files(README.read_text(encoding="utf-8"))) == {"mypkg/sched.py",
                                                              "mypkg/specs.py"}


def test_a_users_own_spec_end_to_end(pytester: pytest.Pytester, project: Path) -> None:
    (example,) = [e for e in examples() if e.venv == "default"]
    name = f"mypkg_{'test_a_users_own_spec_end_to_end'}"
    args = [a.replace("mypkg", name) for a in example.pytest_args()]
    pytester.chdir()
    for path in project.rglob("*.py"):
        target = pytester.path / path.relative_to(project)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    from hypothesis import settings

    try:
        result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:randomly", *args)
    finally:
        settings.load_profile("project")
    out = result.stdout.str()
    assert result.ret == 0, out[-3000:]
    for line in example.expected:
        assert matches(line.replace("mypkg", name), out), (line, out[-2000:])


@pytest.mark.slow
def test_a_package_ships_its_spec_through_an_entry_point(project: Path) -> None:
    name = "mypkg_test_a_package_ships_its_spec_through_an_entry_point"
    info = project / f"{name}-0.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.0.1\n")
    (info / "entry_points.txt").write_text(f"[lr_conformance.specs]\n{name} = {name}.specs\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "--scheduler", f"{name}.sched:WarmupCosineTail", "-k",
                           "oracle.agreement", "-q"], cwd=project, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"WarmupCosineTail ({name}.WarmupCosineTail)" in done.stdout


def test_the_readme_lists_every_check_with_its_contract() -> None:
    import conformance.checks  # noqa: F401  (registers the catalogue)
    from conformance.catalogue import CHECKS

    text = README.read_text(encoding="utf-8")
    table = text.split("<!-- checks -->", 1)[1].split("<!-- /checks -->", 1)[0]
    listed = re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \| (.*) \|$", table, re.M)
    assert listed == [(c.id, c.contract.replace("|", "/")) for c in CHECKS.values()]
