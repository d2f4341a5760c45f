"""Run the suite N times and compare the JSON reports: the ci profile must give identical
results every time (issue 10).

    python tools/determinism.py                       # 20 runs of pytest --scheduler torch -n 2
    python tools/determinism.py -r 5 -- --scheduler mypkg:MySched --spec StepLR

Exit 0 when every report equals the first (its creation time aside), else 1, naming the
checks that differed and how.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: Report fields that may differ between identical runs.
VOLATILE = ("created",)


def normal(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k not in VOLATILE}


def differences(first: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """Where `other` differs from `first`: per check of each target, else the top level."""
    out = []
    for a, b in zip(first["targets"], other["targets"], strict=False):
        rows_b = {r["check"]: r for r in b["checks"]}
        for row in a["checks"]:
            if rows_b.get(row["check"]) != row:
                keys = sorted(k for k in row if rows_b.get(row["check"], {}).get(k) != row[k])
                out.append(f"[{a['label']}] {row['check']}: {', '.join(keys)}")
    if not out and normal(first) != normal(other):
        out.append("report fields outside the checks differ")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-r", "--runs", type=int, default=20)
    parser.add_argument("pytest_args", nargs="*",
                        default=["--scheduler", "torch", "-n", "2"])
    args = parser.parse_args(argv)
    reports, seconds = [], []
    with tempfile.TemporaryDirectory(prefix="determinism-") as tmp:
        for i in range(args.runs):
            path = Path(tmp) / f"run{i}.json"
            start = time.monotonic()
            code = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                                   "-q", *args.pytest_args, "--conformance-report", str(path)],
                                  cwd=tmp, capture_output=True, check=False).returncode
            seconds.append(time.monotonic() - start)
            if not path.exists():
                print(f"run {i + 1}: no report written")
                return 1
            reports.append(json.loads(path.read_text(encoding="utf-8")))
            print(f"run {i + 1}/{args.runs}: exit {code}, {seconds[-1]:.1f} s", flush=True)
    bad = 0
    for i, report in enumerate(reports[1:], 2):
        found = differences(reports[0], report)
        if found:
            bad += 1
            print(f"run {i} differs from run 1:", *found, sep="\n  ")
    checks = sum(len(t["checks"]) for t in reports[0]["targets"])
    verdict = "identical" if not bad else f"{bad} run(s) differ"
    print(f"{args.runs} runs, {checks} check results each: {verdict}; "
          f"median {sorted(seconds)[len(seconds) // 2]:.1f} s a run")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
