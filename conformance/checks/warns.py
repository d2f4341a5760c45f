"""Family 4, step ordering and warnings: silent in correct use; the installed torch's texts
for scheduler-before-optimizer, an overridden optimizer.step, and step(epoch)."""

from __future__ import annotations

import functools
import types
import warnings
from typing import Any

from conformance.catalogue import check
from conformance.harness import Case, Mismatch, Run, optimizer, quiet, script, start, step_lines
from conformance.targets import Target


@functools.cache
def torch_texts() -> dict[str, str]:
    """The warning texts of the installed torch, provoked on its own StepLR."""
    from torch.optim import lr_scheduler

    def provoke(action: str) -> str:
        opt = optimizer(Case([0.1], {}, 1))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sched = lr_scheduler.StepLR(opt, step_size=1)
            if action == "override":
                opt.step = types.MethodType(type(opt).step, opt)  # type: ignore[method-assign]
                opt.step()
            sched.step()
        return str(caught[0].message) if caught else ""

    return {
        "order": provoke("order"),
        "override": provoke("override"),
        "epoch": lr_scheduler.EPOCH_DEPRECATION_WARNING,
    }


def _record(fn: Any) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return list(caught)


def _texts(caught: list[warnings.WarningMessage]) -> list[str]:
    return [f"{w.category.__name__}: {w.message}" for w in caught]


#: What a target may warn while it is built: that it is itself deprecated (documented, and
#: no sign of misuse).
OWN_DEPRECATION = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


@check("warnings.silent_in_correct_use")
def silent(target: Target, case: Case) -> None:
    """Building the target and calling optimizer.step() before each step() warns nothing (but
    a deprecation of the target itself, when it is built)."""
    runs: list[Run] = []
    built = _record(lambda: runs.append(Run(target, case)))

    def use() -> None:
        for _ in range(case.steps):
            runs[0].opt.step()
            runs[0].step()

    caught = [w for w in built if not issubclass(w.category, OWN_DEPRECATION)] + _record(use)
    if caught:
        raise Mismatch(
            f"correct use warned {len(caught)} time(s); first: {_texts(caught)[0]}",
            actual=_texts(caught), expected=[],
            script=script(target, case, [
                "import warnings",
                "with warnings.catch_warnings(record=True) as caught:",
                "    warnings.simplefilter('always')",
                "    opt, sched = build()",
                f"    for i in range({case.steps}):",
                "        opt.step()",
                *(f"        {line}" for line in step_lines(target, case)),
                "print([f'{w.category.__name__}: {w.message}' for w in caught])",
            ]))


def _expect_once(target: Target, case: Case, key: str, caught: list[warnings.WarningMessage],
                 body: list[str]) -> None:
    want = torch_texts()[key]
    hits = [w for w in caught if str(w.message) == want and issubclass(w.category, UserWarning)]
    if len(hits) != 1:
        raise Mismatch(
            f"expected the installed torch's warning exactly once, got {len(hits)}; "
            f"expected: UserWarning: {want[:90]}...; seen: {_texts(caught) or 'no warning'}",
            expected=want, actual=_texts(caught),
            script=script(target, case, [
                "import warnings", "with warnings.catch_warnings(record=True) as caught:",
                "    warnings.simplefilter('always')", *(f"    {line}" for line in body),
                "print([f'{w.category.__name__}: {w.message}' for w in caught])"]))


@check("warnings.step_before_optimizer", "torch_warnings")
def order(target: Target, case: Case) -> None:
    """Calling step() before any optimizer.step() warns once, with torch's text."""
    caught = _record(lambda: Run(target, case).step())
    _expect_once(target, case, "order", caught, ["sched.step()"])


@check("warnings.optimizer_step_overridden", "torch_warnings")
def overridden(target: Target, case: Case) -> None:
    """Replacing optimizer.step after construction makes the first step() warn (torch's text)."""

    def use() -> None:
        run = Run(target, case)
        opt = run.opt
        opt.step = types.MethodType(type(opt).step, opt)  # type: ignore[method-assign]
        opt.step()
        run.step()

    _expect_once(target, case, "override", _record(use), [
        "import types", "opt.step = types.MethodType(type(opt).step, opt)", "opt.step()",
        "sched.step()"])


@check("warnings.epoch_deprecated", "torch_warnings")
def epoch(target: Target, case: Case) -> None:
    """step(epoch) warns with torch's epoch deprecation text."""
    with quiet():
        run = start(target, case)
    _expect_once(target, case, "epoch", _record(lambda: run.jump(max(case.steps, 1))),
                 ["opt.step()", f"sched.step({max(case.steps, 1)})"])
