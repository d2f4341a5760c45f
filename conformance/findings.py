"""One check run on one target, and what it found: the record that the pytest plugin,
`check_scheduler` and the report all read, made in one place (`conduct`)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from conformance.targets import Target

try:
    from builtins import BaseExceptionGroup as Group  # Python 3.11+
except ImportError:  # Python 3.10: Hypothesis depends on the backport
    from exceptiongroup import BaseExceptionGroup as Group  # type: ignore[no-redef]

#: Most characters of a target's captured output kept in a report (it may print megabytes).
OUTPUT_CAP = 4000


def clip(text: str, cap: int = OUTPUT_CAP) -> str:
    """`text`, cut to `cap` characters with a note of how much was dropped."""
    if len(text) <= cap:
        return text
    return text[:cap] + f"\n... [{len(text) - cap} more characters cut by the conformance suite]"


@dataclass
class Finding:
    """What one check found on one target (plain data: it crosses xdist as a dict)."""

    target: str
    check: str
    failed: bool = False
    worst_ulps: float | None = None
    #: How it failed: "mismatch" (a check's finding), "target" (the target raised), or
    #: "suite" (the suite's own code raised: a bug of the suite).
    error: str | None = None
    reason: str = ""
    step: int | None = None
    group: int | None = None
    expected: Any = None
    actual: Any = None
    reproducer: str = ""
    #: The trajectories of a failed trajectory check: {"seen", "expected", "first", ...}.
    series: dict[str, Any] | None = None
    #: Further distinct failures Hypothesis found in the same check: {reason, step, group,
    #: reproducer} each.
    others: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, target: Target, check: Any, worst: float | None,
           exc: BaseException | None) -> Finding:
        """The finding of `check` on `target`: passed (exc None), or how it failed."""
        out = cls(target.label, check.id, worst_ulps=worst)
        if exc is None:
            return out
        leaves = _leaves(exc)
        out._describe(leaves[0], target)
        for leaf in leaves[1:]:
            other = cls(target.label, check.id)
            other._describe(leaf, target)
            out.others.append({k: getattr(other, k) for k in ("reason", "step", "group",
                                                               "reproducer")})
        if out.others:
            out.reason += (f"\n  (and {len(out.others)} more distinct failure(s) of this check, "
                           "each with its reproducer below)")
        return out

    def _describe(self, exc: BaseException, target: Target) -> None:
        from conformance.execution import origin
        from conformance.harness import Mismatch, script, stepping

        self.failed = True
        if isinstance(exc, Mismatch):
            self.error = "mismatch"
            self.reason = clip(exc.message)
        else:
            self.error = origin(exc)
            who = ("INTERNAL ERROR of the conformance suite (please report it):"
                   if self.error == "suite" else "the target raised")
            self.reason = clip(f"{who} {type(exc).__name__}: {exc}")
        for key in ("step", "group", "expected", "actual"):
            value = getattr(exc, key, None)
            plain = isinstance(value, (int, float, str, type(None)))
            setattr(self, key, value if plain else clip(repr(value), 200))
        self.reproducer = getattr(exc, "script", "")
        case = getattr(exc, "conformance_case", None)
        if not self.reproducer and case is not None:
            # The target's own exception: the shrunk case built and stepped as the check did,
            # then the check's own call that met it, where that was a call of the target's.
            self.reproducer = script(target, case, [*stepping(target, case, case.steps),
                                                    *_last_call(exc)])
        if getattr(exc, "ulps", None) is not None:
            self.worst_ulps = exc.ulps  # type: ignore[attr-defined]
        self.series = getattr(exc, "series", None)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(**data)

    def text(self, label: str, contract: str, note: str = "") -> str:
        """The failure as the terminal shows it: the check, its contract, why, where, and
        each reproducer."""
        head = f"[{label}] {self.check}: {contract}"
        parts = [f"{head}\n  {self.reason}" + (f"\n  {note}" if note else "")]
        if self.reproducer:
            parts.append("Reproducer (paste into python):\n" + self.reproducer)
        for i, other in enumerate(self.others, 2):
            parts.append(f"Distinct failure {i}: {other['reason']}")
            if other.get("reproducer"):
                parts.append("Reproducer (paste into python):\n" + other["reproducer"])
        return "\n\n".join(parts)


def _last_call(exc: BaseException) -> list[str]:
    """The check's line where the target's exception left the target, when it calls the
    target (`run.sched.get_last_lr()`), as a reproducer's line (`sched.get_last_lr()`)."""
    import traceback

    checks = ("conformance/checks/", "conformance/versions/checks.py")
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if any(c in f.filename.replace("\\", "/") for c in checks)]
    line = (frames[-1].line or "").strip() if frames else ""
    match = re.search(r"\bsched\.(\w+)\(\)", line)  # a call with no argument: replayable
    return [f"print(sched.{match[1]}())"] if match else []


def _leaves(exc: BaseException) -> list[BaseException]:
    """The distinct failures in `exc`: itself, or every leaf of an exception group (Hypothesis
    raises one when it finds several distinct failures), the check's own findings first."""
    from conformance.harness import Mismatch

    if not isinstance(exc, Group):
        return [exc]
    flat: list[BaseException] = []
    for inner in exc.exceptions:
        flat += _leaves(inner)
    return sorted(flat, key=lambda e: not isinstance(e, Mismatch)) or [exc]


def conduct(check: Any, target: Target, timeout: float | None, seed: Any,
            profile: Any = None) -> tuple[Finding, BaseException | None]:
    """Run `check` on `target` (isolated, under the time limit) and say what it found; the
    exception it raised, if any, for a caller that shows its traceback."""
    from conformance.execution import execute

    try:
        worst = execute(check, target, timeout, seed, profile)
    except (Exception, SystemExit) as exc:  # the target's exception is a finding
        return Finding.of(target, check, None, exc), exc
    return Finding.of(target, check, worst, None), None
