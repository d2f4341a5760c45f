"""The suite without pytest: `check_scheduler(target)` runs the catalogue and returns the
results, as scikit-learn's `check_estimator` does, for notebooks and other test runners."""

from __future__ import annotations

import contextlib
import io
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import settings

from conformance.report import Outcome, Recorder, Row, clip
from conformance.targets import (
    Request,
    Target,
    UsageFault,
    bind,
    importable_cwd,
    looks_like_scheduler,
    resolve,
)


@dataclass
class Results:
    """The outcome of `check_scheduler`: one Row per check and target (passed, failed or
    skipped, with the reason, step, group, expected and actual values and a reproducer)."""

    recorder: Recorder
    profile: settings

    @property
    def rows(self) -> list[Row]:
        return [r for t in self.recorder.targets for r in self.recorder.rows.get(t.label, [])]

    @property
    def failed(self) -> list[Row]:
        return [r for r in self.rows if r.outcome is Outcome.FAILED]

    @property
    def ok(self) -> bool:
        """True when no check failed."""
        return not self.failed

    def as_json(self) -> dict[str, Any]:
        """The same data as the plugin's JSON report (docs/report.md)."""
        data: dict[str, Any] = json.loads(json.dumps(self.recorder.as_json(self.profile),
                                                     default=repr))
        return data

    def write(self, path: str | Path) -> list[Path]:
        """Write the JSON report, its Markdown and the plots, as --conformance-report does."""
        return self.recorder.write(Path(path), self.profile)

    def __str__(self) -> str:
        return "\n".join(self.recorder.summary_lines())


# The command line's option names in usage errors -> check_scheduler's arguments.
_ARGUMENTS = [("--scheduler-kwargs", "kwargs="), ("--scheduler-map", "arg_map="),
              ("--scheduler", "check_scheduler"),
              ("--spec", "spec=")]


def _target(target: Any, spec: str | None, kwargs: dict[str, Any] | None,
            arg_map: dict[str, str | None] | None) -> list[Target]:
    if isinstance(target, str):
        resolved = resolve(target)
    elif looks_like_scheduler(target):
        name = getattr(target, "__qualname__", type(target).__name__)
        resolved = [(f"{getattr(target, '__module__', '__main__')}:{name}", target)]
    else:
        raise UsageFault(f"check_scheduler: {target!r} is neither a scheduler class nor a "
                         "factory f(optimizer, **kwargs) -> scheduler")
    where = {k: f"check_scheduler {k}" for k in ("kwargs", "domain", "protocol", "claims",
                                                  "wraps")}
    return bind(resolved, Request(spec=spec, kwargs=dict(kwargs or {}), map=dict(arg_map or {}),
                                  where={**where, "map": "check_scheduler arg_map",
                                         "spec": "spec="}))


def check_scheduler(target: Any, spec: str | None = None, *,
                    kwargs: dict[str, Any] | None = None,
                    arg_map: dict[str, Any] | None = None,
                    checks: list[str] | None = None,
                    expected_failed_checks: dict[str, str] | None = None,
                    profile: str = "ci", timeout: float | None = None,
                    seed: int | None = None) -> Results:
    """Run the conformance checks on `target` and return the results.

    `target` is a scheduler class, a factory f(optimizer, **kwargs) -> scheduler, or a
    "MODULE:ATTR" string ("torch" for every torch built-in); `spec` names the reference
    schedule (torch's classes find theirs), or is a "MODULE:ATTR" spec of your own; `kwargs`
    fixes constructor arguments (the rest are drawn; names the spec lacks go to the target
    only); `arg_map` maps the spec's argument names to the target's (None: the target has no
    such argument), as --scheduler-map does; `checks` limits the run to these check ids (or
    family prefixes such as "state_dict"); `expected_failed_checks` lists known failures,
    {check id: reason}, as --conformance-xfails does (reported as xfailed, or as a stale
    entry when the check passes); `profile` is a Hypothesis profile (dev, ci, thorough);
    `seed` the seed of a profile that is not derandomized (default: a fresh one, kept in
    the results). The target's output is captured, so that a notebook stays readable; when
    the target raised, the output is attached, clipped, to that failure.
    Raises ValueError for a usage error (bad path, unknown spec, check or profile, a bad
    argument map).
    """
    import conformance.checks  # noqa: F401  (registers the catalogue)
    from conformance import profiles
    from conformance.catalogue import CHECKS, missing
    from conformance.execution import HUNG, TIMEOUT
    from conformance.findings import conduct

    importable_cwd()
    try:
        targets = _target(target, spec, kwargs, arg_map)
    except UsageFault as exc:
        message = str(exc)
        for option, argument in _ARGUMENTS:
            message = message.replace(option, argument)
        raise ValueError(message) from None
    chosen = list(CHECKS.values())
    if checks is not None:
        chosen = [c for c in chosen if c.id in checks or c.family in checks]
        unknown = sorted(set(checks) - {c.id for c in chosen} - {c.family for c in chosen})
        if unknown:
            raise ValueError(f"check_scheduler: unknown check(s) {unknown}; known: "
                             f"{', '.join(CHECKS)}")
    known = dict(expected_failed_checks or {})
    unknown = sorted(set(known) - set(CHECKS))
    if unknown:
        raise ValueError(f"check_scheduler expected_failed_checks: unknown check(s) {unknown}; "
                         f"known: {', '.join(CHECKS)}")
    try:
        chosen_profile = profiles.get(profile)
    except ValueError as exc:
        raise ValueError(f"check_scheduler: {exc}") from None
    fresh = random.SystemRandom().getrandbits(32)
    recorder = Recorder(targets, {(None, k): v for k, v in known.items()},
                        seed=seed if seed is not None else fresh, profile=profile)
    for t in targets:
        HUNG.pop(t.label, None)  # a target that hung in an earlier call gets a new chance
        for check in chosen:
            if missing(check, t):
                continue
            sink = io.StringIO()
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                finding, _ = conduct(check, t, TIMEOUT if timeout is None else timeout,
                                     recorder.seed, chosen_profile)
            if finding.error in ("target", "suite") and sink.getvalue():
                finding.reason += "\n" + clip(sink.getvalue())
            listed = check.id in known
            outcome = (Outcome.XFAILED if listed else Outcome.FAILED) if finding.failed else (
                Outcome.STALE if listed else Outcome.PASSED)
            recorder.record(finding.as_dict(), outcome)
    recorder.finish()
    if checks is not None:
        for t in targets:
            ids = {c.id for c in chosen}
            recorder.rows[t.label] = [r for r in recorder.rows[t.label] if r.check in ids]
    return Results(recorder, chosen_profile)
