"""Mutation runner: run the conformance suite on every zoo member in one pytest subprocess and
score it.

A broken member is *killed* when it fails at least one check of its expected family (the check
id's prefix). The score is killed / broken members. Members whose family has no check in the
catalogue yet (e.g. `cost`) are *pending*: listed, not scored; they count as soon as a check of
that family exists. Correct implementations (zoo.correct) must pass every applicable check.

    python tests/zoo/runner.py              # full zoo, profile zoo, 2 workers; exit 1 unless
                                            # score 100%, no correct one flagged, every check kills
    python tests/zoo/runner.py --only Linear --report-out /tmp/zoo.json

Importable: `members()`, `run_suite()`, `analyse()`, `evaluate()`.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _on_path() -> None:
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))


@dataclass(frozen=True)
class Member:
    """One zoo class: `path` is its --scheduler value, `family` None for a correct one."""

    path: str
    spec: str
    family: str | None
    doc: str
    #: The --scheduler-config entry's other keys (protocol, map, kwargs, wraps), if any.
    config: tuple[tuple[str, Any], ...] = ()
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or self.path.rpartition(":")[2]

    def entry(self) -> dict[str, Any]:
        """The member's --scheduler-config entry. A broken member runs the checks of its
        family only: it is killed by one of them or not at all, and the other families'
        checks would only cost time."""
        out = {"scheduler": self.path, "spec": self.spec, "label": self.name,
               **dict(self.config)}
        if self.family is not None:
            out["checks"] = [self.family]
        return out


def catalogue() -> dict[str, str]:
    """Every check id in the catalogue -> its family."""
    import conformance.checks  # noqa: F401  (registers the catalogue)
    from conformance.catalogue import CHECKS

    return {cid: c.family for cid, c in CHECKS.items()}


def members() -> list[Member]:
    """Every zoo class with a SPEC, broken ones first, in module order."""
    _on_path()
    import zoo

    from conformance.specs import SPECS

    out: list[Member] = []
    for modname in (*zoo.MODULES, zoo.CORRECT):
        mod = importlib.import_module(f"zoo.{modname}")
        for attr, obj in vars(mod).items():
            if not (inspect.isclass(obj) and obj.__module__ == mod.__name__
                    and "SPEC" in vars(obj)):
                continue
            family = None if modname == zoo.CORRECT else vars(obj).get("FAMILY")
            doc = " ".join((obj.__doc__ or "").split())
            if obj.SPEC not in SPECS:
                raise ValueError(f"zoo.{modname}.{attr}: unknown SPEC {obj.SPEC!r}")
            # Mixed modules hold a correct member (no FAMILY) next to each broken one.
            if modname != zoo.CORRECT and not family and not getattr(mod, "MIXED", False):
                raise ValueError(f"zoo.{modname}.{attr}: a broken member needs FAMILY")
            if not doc:
                raise ValueError(f"zoo.{modname}.{attr}: needs a docstring naming its defect")
            config = dict(getattr(obj, "CONFIG", {}))
            path = getattr(obj, "TARGET", f"zoo.{modname}:{attr}")
            out.append(Member(path, obj.SPEC, family, doc, tuple(config.items()),
                              attr if (config or path.rpartition(":")[2] != attr) else ""))
    names = [m.name for m in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"zoo class names must be unique (they are report labels): {dupes}")
    return out


def run_suite(chosen: Sequence[Member], *, workers: int = 2, profile: str = "zoo",
              report_out: Path | None = None, log: Path | None = None,
              extra: Sequence[str] = ()) -> tuple[dict[str, Any], float]:
    """One pytest subprocess over all `chosen` (--scheduler/--spec pairs); (report, seconds)."""
    with tempfile.TemporaryDirectory(prefix="zoo-") as tmp:
        out = report_out or Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rN",
               "--durations=30",
               "-p", "zooprofile", "--hypothesis-profile", profile,
               "--conformance-report", str(out)]
        if workers > 0:
            cmd += ["-n", str(workers)]
        config = Path(tmp) / "zoo-config.json"
        config.write_text(json.dumps([m.entry() for m in chosen], indent=1), encoding="utf-8")
        cmd += ["--scheduler-config", str(config)]
        cmd += list(extra)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH")) if p)
        log = log or Path(tmp) / "pytest.log"
        start = time.monotonic()
        with log.open("w", encoding="utf-8") as sink:  # streamed: `tail -f` shows progress
            code = subprocess.run(cmd, cwd=tmp, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                  check=False).returncode
        seconds = time.monotonic() - start
        if code not in (0, 1) or not out.exists():
            tail = log.read_text(encoding="utf-8")[-4000:]
            raise RuntimeError(f"the suite did not run (exit {code}):\n{tail}")
        return json.loads(out.read_text(encoding="utf-8")), seconds


@dataclass
class Analysis:
    """What the run showed about the zoo and about the catalogue."""

    families: set[str]
    #: member name -> {check id: first line of the failure reason}
    failures: dict[str, dict[str, str]] = field(default_factory=dict)
    #: member name -> checks that ran (not skipped)
    ran: dict[str, list[str]] = field(default_factory=dict)
    broken: list[Member] = field(default_factory=list)
    pending: list[Member] = field(default_factory=list)
    correct: list[Member] = field(default_factory=list)
    #: check id -> broken members it failed
    kills: dict[str, list[str]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    seconds: float | None = None
    #: The whole zoo ran (a subset cannot show that a check kills nothing).
    complete: bool = True
    #: The suite's JSON report of the run.
    report: dict[str, Any] = field(default_factory=dict)

    def killed(self, m: Member) -> bool:
        return any(cid.partition(".")[0] == m.family for cid in self.failures.get(m.name, {}))

    @property
    def survivors(self) -> list[Member]:
        return [m for m in self.broken if not self.killed(m)]

    @property
    def score(self) -> float:
        return (len(self.broken) - len(self.survivors)) / len(self.broken) if self.broken else 1.0

    @property
    def flagged(self) -> list[Member]:
        return [m for m in self.correct if self.failures.get(m.name) or m.name in self.missing]

    @property
    def no_kill(self) -> list[str]:
        if not self.complete:
            return []
        return [cid for cid, names in self.kills.items() if not names]

    @property
    def ok(self) -> bool:
        return not self.survivors and not self.flagged and not self.no_kill


def analyse(chosen: Sequence[Member], report: dict[str, Any],
            checks: dict[str, str] | None = None) -> Analysis:
    """Score a report of a run over `chosen`."""
    checks = catalogue() if checks is None else checks
    result = Analysis(families=set(checks.values()), kills={cid: [] for cid in checks})
    by_path = {t["path"]: t for t in report.get("targets", [])}
    for m in chosen:
        if m.family is None:
            result.correct.append(m)
        elif m.family in result.families:
            result.broken.append(m)
        else:
            result.pending.append(m)
        target = by_path.get(m.path)
        if target is None:
            result.missing.append(m.name)
            continue
        failed = {}
        for row in target["checks"]:
            if row["outcome"] == "failed":
                failed[row["check"]] = (row.get("reason") or "").strip().split("\n")[0]
        result.failures[m.name] = failed
        result.ran[m.name] = [r["check"] for r in target["checks"]
                              if r["outcome"] not in ("skipped", "not run")]
        if m.family in result.families:
            for cid in failed:
                result.kills.setdefault(cid, []).append(m.name)
    return result


def evaluate(chosen: Sequence[Member] | None = None, **kwargs: Any) -> Analysis:
    """Run the suite on `chosen` (default: the whole zoo) and analyse the report."""
    chosen = members() if chosen is None else list(chosen)
    report, seconds = run_suite(chosen, **kwargs)
    result = analyse(chosen, report)
    result.seconds = seconds
    result.report = report
    return result


# -- printing --------------------------------------------------------------------------
def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    def line(row: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()

    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows)])


def render(result: Analysis) -> str:
    out: list[str] = []
    rows = []
    for m in [*result.broken, *result.pending, *result.correct]:
        failed = result.failures.get(m.name, {})
        if m.name in result.missing:
            verdict = "MISSING"
        elif m.family is None:
            verdict = "FLAGGED" if failed else "passes"
        elif m in result.pending:
            verdict = "pending"
        else:
            verdict = "killed" if result.killed(m) else "SURVIVED"
        rows.append([m.name, m.spec, m.family or "correct", verdict,
                     ", ".join(failed) or "-"])
    out += ["Members", _table(["member", "spec", "family", "verdict", "failed checks"], rows), ""]

    krows = []
    for cid, names in result.kills.items():
        fam = cid.partition(".")[0]
        own = [n for n in names if any(m.name == n and m.family == fam for m in result.broken)]
        krows.append([cid, str(len(own)), str(len(names)), ", ".join(names) or "NONE"])
    out += ["Kills per check (in-family kills, all kills, members failed)",
            _table(["check", "own", "all", "members"], krows), ""]

    for m in result.survivors:
        out.append(f"SURVIVED {m.name} ({m.family}): {m.doc}")
        for cid, why in result.failures.get(m.name, {}).items():
            out.append(f"    failed {cid}: {why}")
    for m in result.flagged:
        out.append(f"FLAGGED correct {m.name} ({m.spec}):")
        for cid, why in result.failures.get(m.name, {}).items():
            out.append(f"    {cid}: {why}")
    for m in result.pending:
        out.append(f"pending {m.name} ({m.family}, no check of that family yet): {m.doc}")
    for cid in result.no_kill:
        out.append(f"NO KILL {cid}: no broken member fails it (a gap in the zoo or the check)")
    if not result.complete:
        out.append("(a subset of the zoo ran: checks without a kill are not judged)")
    killed = len(result.broken) - len(result.survivors)
    out += ["", f"mutation score: {killed}/{len(result.broken)} = {100 * result.score:.1f}%"
                f"  ({len(result.pending)} pending, {len(result.correct)} correct, "
                f"{len(result.flagged)} flagged, {len(result.no_kill)} checks without a kill)"]
    if result.seconds is not None:
        out.append(f"suite wall time: {result.seconds:.0f} s")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--workers", type=int, default=2, help="xdist workers (0: none)")
    parser.add_argument("--profile", default="zoo",
                        help="hypothesis profile (default zoo: ci's 50 examples, no shrinking)")
    parser.add_argument("--only", action="append", default=[], metavar="TEXT",
                        help="only members whose path contains TEXT (repeatable)")
    parser.add_argument("--report-out", type=Path, help="keep the suite's JSON report here")
    parser.add_argument("--report-in", type=Path,
                        help="analyse this earlier report instead of running the suite")
    parser.add_argument("--log", type=Path, help="write the pytest output here")
    args = parser.parse_args(argv)
    chosen = members()
    if args.only:
        chosen = [m for m in chosen if any(t in m.path for t in args.only)]
    if args.report_in:
        result = analyse(chosen, json.loads(args.report_in.read_text(encoding="utf-8")))
    else:
        report, seconds = run_suite(chosen, workers=args.workers, profile=args.profile,
                                    report_out=args.report_out, log=args.log)
        result = analyse(chosen, report)
        result.seconds = seconds
    result.complete = not args.only
    print(render(result))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
