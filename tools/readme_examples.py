"""The README's runnable examples: each `<!-- example: VENV -->` marks a ```sh block, and the
indented block after it is what its summary must say. `tests/test_readme.py` runs the
`default` ones (the project's venv); `nox -s ecosystem` runs the others in their venvs:

    python tools/readme_examples.py --venv cpu --python /path/to/venv/bin/python

A line of the expected output may hold `...` for any text; a summary line must match one of
the run's summary lines.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MARK = re.compile(r"<!-- example: (\w+) -->\n```sh\n(.*?)```\n(?:\n((?:    [^\n]*\n)+))?", re.S)


@dataclass(frozen=True)
class Example:
    venv: str
    commands: tuple[str, ...]
    expected: tuple[str, ...]

    def pytest_args(self) -> list[str]:
        """The arguments of the example's (last) pytest command."""
        command = next(c for c in reversed(self.commands) if "pytest" in c)
        words = shlex.split(command)
        return words[next(i for i, w in enumerate(words) if w.endswith("pytest")) + 1:]


def examples(text: str | None = None) -> list[Example]:
    text = README.read_text(encoding="utf-8") if text is None else text
    out = []
    for match in MARK.finditer(text):
        body = match[2].replace("\\\n", " ")
        commands = tuple(line.strip() for line in body.splitlines()
                         if line.strip() and not line.strip().startswith("#"))
        expected = tuple(line[4:] for line in (match[3] or "").splitlines() if line.strip())
        out.append(Example(match[1], commands, expected))
    return out


def matches(expected: str, output: str) -> bool:
    """Whether a line of `output` matches `expected` (`...` stands for any text)."""
    pattern = ".*".join(re.escape(part.strip()) for part in expected.split("..."))
    return any(re.search(pattern, line) for line in output.splitlines())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", required=True, help="which examples: cpu, timm, ...")
    parser.add_argument("--python", default=sys.executable, help="the venv's python")
    args = parser.parse_args(argv)
    failed = 0
    for example in examples():
        if example.venv != args.venv:
            continue
        done = subprocess.run([args.python, "-m", "pytest", "-p", "no:cacheprovider",
                               "-o", "addopts=", *example.pytest_args()], cwd=ROOT,
                              capture_output=True, text=True, check=False)
        missing = [line for line in example.expected if not matches(line, done.stdout)]
        status = "ok" if not missing else "DIFFERS"
        print(f"{status}: pytest {' '.join(example.pytest_args())[:100]}")
        for line in missing:
            failed += 1
            print(f"    README says: {line}")
        if missing:
            summary = done.stdout.split("conformance summary")[-1]
            print("    the run says:\n" + "\n".join(f"      {s}" for s in summary.splitlines()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
