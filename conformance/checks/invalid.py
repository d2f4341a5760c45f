"""Family construct, invalid arguments: an argument the spec refuses, the target refuses when
it is built, with ValueError or TypeError and a message.

A spec declares its invalid domains in `Spec.invalid`: overrides of a valid drawn case (torch's
specs: values torch's own class refuses; the others: values their documented ruling refuses),
whose values may depend on the case (`specs.Derived`: a per-group list one longer than the
groups). Every example tries each override on its case, translated through the target's map
(its own names, computed values); one the spec's reference accepts for this case, or that the
target cannot be given (its map drops the argument, takes a list as one value, or cannot
translate the value), is skipped. An invalid value accepted, then failing later (a step
raising, a NaN) or silently giving some schedule, is the target's failure: the spec defines no
schedule for it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from conformance.binding import Unequal
from conformance.catalogue import check
from conformance.harness import Case, Mismatch, Run, quiet, script, stepping
from conformance.specs import Derived, Spec, overridden
from conformance.targets import Target

#: What translating an invalid value through a target's map may raise: the target cannot be
#: given the value (arithmetic on None or a string, a table without it, unequal groups).
UNTRANSLATABLE = (Unequal, ArithmeticError, TypeError, ValueError, KeyError, IndexError)


def ungiven(target: Target, values: Mapping[str, Any]) -> bool:
    """Whether the target cannot be given these values: its map drops one of the arguments
    (it has no such argument), or takes a per-group list as one value ("as": "scalar"), which
    would turn a list of the wrong length into a valid scalar."""
    rules = target.binding.rules
    for key, value in values.items():
        rule = rules.get(key)
        if rule is not None and (rule.to is None or (
                rule.shape == "scalar" and isinstance(value, (list, tuple)))):
            return True
    return False


def refusal(spec: Spec, lrs: list[float], args: dict[str, Any]) -> str | None:
    """The reference's reason for refusing `args`, or None when it accepts them."""
    try:
        spec.oracle(lrs, args)
    except ValueError as exc:
        return str(exc)
    return None


def describe(target: Target, override: Mapping[str, Any], values: Mapping[str, Any]) -> str:
    """`name=value` for each overridden argument, with the target's own name where its map
    renames it, and what a Derived value is."""
    parts = []
    for key, value in values.items():
        rule = target.binding.rules.get(key)
        own = f" (the target's {rule.to})" if rule is not None and rule.to not in (None, key) \
            else ""
        given = override[key]
        what = f" ({given.text})" if isinstance(given, Derived) else ""
        parts.append(f"{key}{own}={value!r:.80}{what}")
    return ", ".join(parts)


def aftermath(run: Run, steps: int) -> tuple[int, str]:
    """Step an accepted target `steps` times: (the step, what happened) at the first step that
    raises or leaves an lr that is not finite, else (steps, a description of the run)."""
    run.opt.step()
    for n in range(1, steps + 1):
        try:
            run.step()
            lrs = run.lrs()
        except Exception as exc:  # the target's failure, described (not the suite's)
            message = getattr(exc, "message", None) or str(exc)
            return n, f"step {n} raised {type(exc).__name__}: {message:.160}"
        bad = [g for g, lr in enumerate(lrs) if not math.isfinite(lr)]
        if bad:
            return n, f"at step {n} the lr of param group {bad[0]} is {lrs[bad[0]]!r}"
    ran = f"{steps} step{'s' if steps > 1 else ''}"
    return steps, (f"{ran} ran without an error (lrs at the end: {run.lrs()!r:.120}): a "
                   "schedule the spec does not define")


@check("construct.invalid_arguments", "spec", "invalid")
def invalid_arguments(target: Target, case: Case) -> None:
    """Building the target with an argument its spec refuses raises ValueError or TypeError
    with a message, before any step."""
    spec = target.spec
    assert spec is not None
    with quiet():
        try:
            Run(target, case)
        except Exception:
            # A valid case the target cannot build is the formula checks' failure (they report
            # it); a refusal below must be the override's, so this example shows nothing.
            return
        # Every refused value is tried, so one report names all the target lets through.
        missed: list[Mismatch] = []
        for override in spec.invalid:
            values = overridden(override, case.args, case.lrs)
            if ungiven(target, values):
                continue
            args = {**case.args, **values}
            why = refusal(spec, case.lrs, args)
            if why is None:
                continue  # valid for this case: not an invalid argument here
            try:
                target.kwargs(args, case.lrs)
            except UNTRANSLATABLE:
                continue  # the target's map cannot take the value
            try:
                _refuses(target, Case(case.lrs, args, case.steps, case.metrics, case.optim),
                         describe(target, override, values), why, spec.steps(case.args))
            except Mismatch as err:
                missed.append(err)
    if missed:
        first = missed[0]
        if len(missed) > 1:
            first.message += "; also not refused: " + "; ".join(
                m.message.split(": the reference refuses", 1)[0] for m in missed[1:])
            first.args = (first.message,)
        raise first


def _refuses(target: Target, bad: Case, named: str, why: str, steps: int) -> None:
    """Build the target on `bad`; a Mismatch unless it raises ValueError or TypeError with a
    message."""
    where = f"{named}: the reference refuses it ({why})"
    built = "# expected: the build() above raises ValueError or TypeError with a message"
    try:
        run = Run(target, bad)
    except (ValueError, TypeError) as exc:
        if str(exc).strip():
            return
        raise Mismatch(f"{where}; the target raised {type(exc).__name__} with an empty "
                       "message (say which argument is wrong and why)",
                       expected="a message", actual=f"{type(exc).__name__}()",
                       script=script(target, bad, [built])) from None
    except Mismatch:
        raise
    except Exception as exc:
        raise Mismatch(f"{where}; building the target raised {type(exc).__name__}: {exc!s:.160}, "
                       "not ValueError or TypeError", expected="ValueError or TypeError",
                       actual=type(exc).__name__, script=script(target, bad, [built])) from None
    step, happened = aftermath(run, max(steps, 1))
    raise Mismatch(f"{where}; the target accepted it at construction, then {happened}",
                   step=step, expected="ValueError or TypeError at construction",
                   actual="accepted",
                   script=script(target, bad, [
                       "# expected: the build() above raises ValueError or TypeError",
                       "print('accepted: built without ValueError or TypeError')",
                       *stepping(target, bad, step),
                       "print([g['lr'] for g in opt.param_groups])"]))
