"""Outcomes per target and check: the terminal summary and the JSON/Markdown report."""

from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from conformance.findings import clip
from conformance.targets import Target

__all__ = ["Outcome", "Recorder", "Row", "clip"]

#: A stale entry's reason when its check does not apply to its target.
INAPPLICABLE = "the check does not apply to this target"

class Outcome(str, Enum):
    """How one check ended on one target."""

    PASSED = "passed"
    FAILED = "failed"
    XFAILED = "xfailed"
    STALE = "stale-xfail"
    SKIPPED = "skipped"
    #: Applicable, but not run: deselected (-k, "checks"), or not reached (-x, interrupted).
    NOT_RUN = "not run"

    @staticmethod
    def of(report: Any) -> Outcome:
        listed = hasattr(report, "wasxfail")
        if report.passed:
            return Outcome.STALE if listed else Outcome.PASSED
        if report.skipped:
            return Outcome.XFAILED if listed else Outcome.SKIPPED
        return Outcome.FAILED


@dataclass
class Row:
    """One check on one target."""

    check: str
    contract: str
    outcome: Outcome
    worst_ulps: float | None = None
    reason: str = ""
    step: int | None = None
    group: int | None = None
    expected: Any = None
    actual: Any = None
    reproducer: str = ""
    #: How it failed: "mismatch" (a check's finding), "target" (the target raised), or
    #: "suite" (the suite's own code raised: a bug of the suite).
    error: str | None = None
    #: The trajectories of a failed trajectory check: {"seen", "expected", "first"}.
    series: dict[str, Any] | None = None
    #: A plot of `series`, when matplotlib is installed (relative to the report).
    plot: str | None = None
    #: Further distinct failures of the same check (reason, step, group, reproducer each).
    others: list[dict[str, Any]] = field(default_factory=list)
    #: Why this failure may follow from another one of the target's (fix that one first).
    derived: str | None = None


@dataclass(eq=False)  # a pytest plugin object: pluggy keeps plugins in sets, by identity
class Recorder:
    """Collects rows during the run; writes the summary and the report at the end."""

    targets: list[Target]
    xfails: dict[tuple[str | None, str], str]
    rows: dict[str, list[Row]] = field(default_factory=dict)
    #: The Hypothesis seed of the run (profiles that are not derandomized).
    seed: int | None = None
    #: The Hypothesis profile's name, when it is not the loaded one (the Python API).
    profile: str | None = None
    #: What the last write() did about plots (see draw_plots).
    plots: dict[str, Any] = field(default_factory=dict)
    #: "[label] check-id" of the items pytest deselected (-k, -m).
    deselected: set[str] = field(default_factory=set)

    def xfail_reason(self, target: Target, check: Any) -> str | None:
        for key in ((target.label, check.id), (target.path, check.id), (None, check.id)):
            if key in self.xfails:
                return self.xfails[key]
        return None

    def record(self, details: dict[str, Any], outcome: Outcome) -> None:
        """Add a finding (as Finding.as_dict() gives it) with its outcome."""
        from conformance.catalogue import CHECKS

        check = CHECKS[details["check"]]
        row = Row(check.id, check.contract, outcome, details.get("worst_ulps"))
        if details.get("failed"):
            for key in ("reason", "step", "group", "expected", "actual", "reproducer", "error",
                        "series", "others"):
                setattr(row, key, details[key])
        target = next(t for t in self.targets if t.label == details["target"])
        if outcome in (Outcome.XFAILED, Outcome.STALE):
            row.reason = self.xfail_reason(target, check) or row.reason
        self.rows.setdefault(target.label, []).append(row)

    def pytest_deselected(self, items: list[Any]) -> None:
        """Hook: remember the checks -k or -m deselected (reported as not run)."""
        self.deselected |= {item.name for item in items}

    def pytest_runtest_logreport(self, report: Any) -> None:
        """Hook: record every check's outcome from its report (also under xdist)."""
        for key, details in report.user_properties:
            if key == "conformance" and report.when == "call":
                self.record(details, Outcome.of(report))

    def finish(self) -> None:
        """Add the not-applicable rows, and order rows as the catalogue is."""
        from conformance.catalogue import CHECKS, missing, reason

        order = list(CHECKS)
        for target in self.targets:
            rows = self.rows.setdefault(target.label, [])
            have = {r.check for r in rows}
            for check in CHECKS.values():
                if check.id in have:
                    continue
                lacking = missing(check, target)
                if lacking:
                    why = "; ".join(reason(f, target) for f in lacking)
                    # An entry naming this target for a check that cannot run on it records
                    # nothing: as stale as one that passes.
                    named = {(target.label, check.id), (target.path, check.id)} & self.xfails.keys()
                    rows.append(Row(check.id, check.contract,
                                    Outcome.STALE if named else Outcome.SKIPPED,
                                    reason=f"{INAPPLICABLE} ({why})" if named else why))
                elif not target.selects(check):
                    rows.append(Row(check.id, check.contract, Outcome.NOT_RUN,
                                    reason="not selected (\"checks\" of the target)"))
                elif f"[{target.label}] {check.id}" in self.deselected:
                    rows.append(Row(check.id, check.contract, Outcome.NOT_RUN,
                                    reason="deselected (-k or -m)"))
                else:
                    rows.append(Row(check.id, check.contract, Outcome.NOT_RUN,
                                    reason="not reached (-x, --maxfail, or the run stopped)"))
            rows.sort(key=lambda r: order.index(r.check))
            for row in rows:
                if row.outcome is Outcome.FAILED and row.derived is None:
                    row.derived = derived(row, rows)

    def summary_lines(self) -> list[str]:
        lines = []
        for target in self.targets:
            rows = self.rows.get(target.label, [])
            count = {o: sum(r.outcome is o for r in rows) for o in Outcome}
            spec = target.spec.name if target.spec else "no spec"
            lines.append(
                f"{target.label} ({spec}): {count[Outcome.PASSED]} passed, "
                f"{count[Outcome.FAILED]} failed, {count[Outcome.XFAILED]} xfailed, "
                f"{count[Outcome.SKIPPED]} not applicable"
                + (f", {count[Outcome.NOT_RUN]} not run" if count[Outcome.NOT_RUN] else "")
                + (f", {count[Outcome.STALE]} stale xfail" if count[Outcome.STALE] else ""))
            for row in rows:
                if row.outcome is Outcome.FAILED:
                    where = f" at step {row.step}" if row.step is not None else ""
                    where += f", group {row.group}" if row.group is not None else ""
                    lines.append(f"  FAILED {row.check}{where}: {row.reason.splitlines()[0]}"
                                 + (f" [{row.derived}]" if row.derived else ""))
                elif row.outcome is Outcome.STALE:
                    why = row.reason if row.reason.startswith(INAPPLICABLE) else "it passes now"
                    lines.append(f"  STALE xfail {row.check}: {why}; remove the entry")
        return lines

    def as_json(self, hyp: Any) -> dict[str, Any]:
        """The report as plain data (schema: docs/report.md)."""
        import torch

        hypothesis = {"profile": self.profile or _profile_name(hyp),
                      "max_examples": hyp.max_examples, "derandomize": hyp.derandomize,
                      "seed": None if hyp.derandomize else self.seed}
        return {
            "schema": 2,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "hypothesis": hypothesis,
            "targets": [
                {
                    "label": t.label,
                    "path": t.path,
                    "spec": t.spec.name if t.spec else None,
                    "torch": torch.__version__,
                    "hypothesis": hypothesis,
                    "fixed_kwargs": {k: repr(v) for k, v in t.fixed.items()},
                    "checks": [
                        {k: (v.value if isinstance(v, Outcome) else v)
                         for k, v in vars(r).items()}
                        for r in self.rows.get(t.label, [])
                    ],
                }
                for t in self.targets
            ],
        }

    def write(self, path: Path, hyp: Any) -> list[Path]:
        """Write the JSON report at `path`, the Markdown next to it (.md), and a PNG per
        failed trajectory check in `<stem>-plots/` when matplotlib is installed."""
        data = self.as_json(hyp)
        path.parent.mkdir(parents=True, exist_ok=True)
        data["plots"] = self.plots = draw_plots(data, path.parent, f"{path.stem}-plots")
        path.write_text(json.dumps(data, indent=2, default=repr) + "\n", encoding="utf-8")
        md = path.with_suffix(".md")
        md.write_text(markdown(data), encoding="utf-8")
        return [path, md]


#: The families whose failures are root causes: the target's trajectory itself is wrong.
ROOTS = ("oracle", "recurrence")


def derived(row: Row, rows: list[Row]) -> str | None:
    """Why a failure may follow from an earlier one of the same target: the same exception,
    or a later step than where the target already leaves the reference (fix that first)."""
    if row.check.partition(".")[0] in ROOTS:
        return None
    failed = [r for r in rows if r.outcome is Outcome.FAILED and r is not row]
    for other in failed:
        if other.error in ("target", "suite") and other.reason == row.reason and \
                order_of(other) < order_of(row):
            return f"the same failure as {other.check}"
    root = next((r for r in failed if r.check == "oracle.agreement"), None)
    if root is not None and (row.step is None or root.step is None or row.step >= root.step):
        where = f" at step {root.step}" if root.step is not None else ""
        return (f"may follow from oracle.agreement: the target already leaves the reference"
                f"{where}")
    return None


def order_of(row: Row) -> int:
    from conformance.catalogue import CHECKS

    return list(CHECKS).index(row.check)


def draw_plots(data: dict[str, Any], root: Path, folder: str) -> dict[str, Any]:
    """Plot every failed check that carries trajectories; set each one's `plot` (relative to
    `root`). Returns what the report says about plots."""
    from conformance import plots

    wanted = [(t["label"], c) for t in data["targets"] for c in t["checks"]
              if c.get("series") and c["outcome"] == Outcome.FAILED.value]
    if not wanted:
        return {"available": plots.available(), "count": 0}
    if not plots.available():
        return {"available": False, "count": 0, "how": plots.INSTALL}
    count = 0
    for label, row in wanted:
        relative = f"{folder}/{plots.file_name(label, row['check'])}"
        try:
            plots.plot(label, row, root / relative)
        except Exception as exc:  # a plot must never cost the report
            row["plot_error"] = f"{type(exc).__name__}: {exc}"
            continue
        row["plot"] = relative
        count += 1
    return {"available": True, "count": count, "folder": folder}


def _profile_name(hyp: Any) -> str:
    from hypothesis import settings

    current = getattr(settings, "_current_profile", None)
    return str(current) if current else "default"


def markdown(data: dict[str, Any]) -> str:
    """The report as Markdown: a table per target, then its plots."""
    hyp = data["hypothesis"]
    seed = "derandomized" if hyp["derandomize"] else f"seed {hyp['seed']}"
    out = [f"# Conformance report (torch {data['torch']}, profile {hyp['profile']}, "
           f"{hyp['max_examples']} examples, {seed})", ""]
    how = data.get("plots", {}).get("how")
    if how:
        out += [f"Plots of failed trajectories: {how}.", ""]
    for t in data["targets"]:
        out += [f"## {t['label']} (spec: {t['spec'] or 'none'})", "",
                "| check | outcome | max error (ulps) | detail |", "|---|---|---|---|"]
        for c in t["checks"]:
            worst = "" if c["worst_ulps"] is None else f"{c['worst_ulps']:.3g}"
            detail = (c["reason"] or "").splitlines()[0] if c["reason"] else ""
            out.append(f"| {c['check']} | {c['outcome']} | {worst} | {detail.replace('|', '/')} |")
        out.append("")
        for c in t["checks"]:
            if c["outcome"] != Outcome.FAILED.value:
                continue
            out += [f"### {c['check']}", "", c["reason"] or "", ""]
            if c.get("derived"):
                out += [f"*Maybe derived: {c['derived']}.*", ""]
            if c.get("plot"):
                out += [f"![{t['label']} {c['check']}]({c['plot']})", ""]
            if c.get("reproducer"):
                out += ["Reproducer:", "", "```python", c["reproducer"].rstrip(), "```", ""]
            for i, other in enumerate(c.get("others") or [], 2):
                out += [f"Distinct failure {i}: {other['reason']}", ""]
                if other.get("reproducer"):
                    out += ["```python", other["reproducer"].rstrip(), "```", ""]
    return "\n".join(out)
