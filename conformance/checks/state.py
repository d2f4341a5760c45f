"""Family 5, state_dict: holds no optimizer; is a snapshot; round-trips in memory, through
pickle and through torch.save + torch.load(weights_only=True), and a restored scheduler on
a fresh optimizer continues identically."""

from __future__ import annotations

import copy
import io
import pickle
import warnings
from collections.abc import Callable
from typing import Any

from conformance.catalogue import check
from conformance.checks.common import compare, exact
from conformance.harness import Case, Mismatch, Run, optimizer, script, start, step_lines, stepping
from conformance.targets import Target


def _find(obj: Any, kinds: tuple[type, ...], path: str = "state_dict",
          seen: set[int] | None = None) -> str | None:
    """The path of the first object of `kinds` inside `obj` (containers and objects)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return None
    seen.add(id(obj))
    if isinstance(obj, kinds):
        return f"{path} ({type(obj).__name__})"
    if isinstance(obj, dict):
        items = [(f"{path}[{k!r}]", v) for k, v in obj.items()]
    elif isinstance(obj, (list, tuple, set)):
        items = [(f"{path}[{i}]", v) for i, v in enumerate(obj)]
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        items = [(f"{path}.{k}", v) for k, v in vars(obj).items()]
    else:
        return None
    for sub_path, value in items:
        found = _find(value, kinds, sub_path, seen)
        if found:
            return found
    return None


def _prefix(target: Target, case: Case) -> tuple[Run, int]:
    """A target stepped through half the case, and the steps taken."""
    run = start(target, case)
    half = case.steps // 2
    for _ in range(half):
        run.step()
    return run, half


def _rest(run: Run, case: Case) -> list[list[float]]:
    """The lrs from where `run` stands to the end of the case."""
    out = [run.lrs()]
    while run.n < case.steps:
        run.step()
        out.append(run.lrs())
    return out


def _continues(target: Target, case: Case, transport: Callable[[Any], Any], how: str) -> float:
    """Save halfway, restore into a fresh optimizer and scheduler through `transport`, and
    require the same lrs as the original from there on, bit for bit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run, half = _prefix(target, case)
        saved, opt_saved = transport(run.save()), copy.deepcopy(run.opt.state_dict())
        want = _rest(run, case)
        fresh = Run(target, case, optimizer(case))
        fresh.opt.load_state_dict(opt_saved)
        fresh.load(saved)
        fresh.n = half
        fresh.opt.step()
        got = _rest(fresh, case)
    try:
        return compare(target, case, got, want, exact, lambda t, g: abs(want[t][g]) or 1.0,
                       f"restored {how}, the scheduler does not continue identically",
                       first=half)
    except Mismatch as exc:
        steps = step_lines(target, case)
        exc.script = script(target, case, [
            *stepping(target, case, half),
            "import copy",
            f"saved = copy.deepcopy({target.driver.save_text() if target.driver else ''})",
            "opt_saved = copy.deepcopy(opt.state_dict())",
            f"# restore {how}",
            "original = opt, sched",
            "opt, sched = build()",
            "opt.load_state_dict(opt_saved)",
            *(target.driver.load_lines("sched", "saved") if target.driver else []),
            "opt.step()",
            "restored = opt, sched",
            f"for i in range({half}, {exc.step}):",
            "    opt, sched = original",
            *(f"    {line}" for line in steps),
            "    opt, sched = restored",
            *(f"    {line}" for line in steps),
            f"print('step {exc.step}, group {exc.group}: original', "
            f"original[0].param_groups[{exc.group}]['lr'], 'restored', "
            f"restored[0].param_groups[{exc.group}]['lr'])",
        ])
        raise


def _save_text(target: Target) -> str:
    return target.driver.save_text() if target.driver else "sched.state_dict()"


@check("state_dict.no_optimizer", "state_dict")
def no_optimizer(target: Target, case: Case) -> None:
    """state_dict() holds no optimizer and no scheduler object, at any depth."""
    from torch.optim import Optimizer
    from torch.optim.lr_scheduler import LRScheduler

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run, half = _prefix(target, case)
        state = run.save()
    found = _find(state, (Optimizer, LRScheduler))
    if found:
        raise Mismatch(f"the saved state holds {found}: it cannot be loaded with "
                       "weights_only=True and pins the optimizer", actual=found,
                       script=script(target, case, [*stepping(target, case, half),
                                                    f"print({_save_text(target)})"]))


@check("state_dict.snapshot", "state_dict")
def snapshot(target: Target, case: Case) -> None:
    """A state_dict() taken earlier is not changed by later steps."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run, half = _prefix(target, case)
        taken = run.save()
        frozen = pickle.dumps(copy.deepcopy(taken))
        _rest(run, case)
    if pickle.dumps(taken) != frozen:
        changed = sorted(k for k in taken if pickle.dumps(taken[k]) !=
                         pickle.dumps(pickle.loads(frozen)[k])) if isinstance(taken, dict) else []
        raise Mismatch(f"later steps changed a state_dict() taken at step {half}: "
                       f"key(s) {changed or '?'} alias the scheduler's live state",
                       step=half, actual=changed,
                       script=script(target, case, [
                           *stepping(target, case, half), f"sd = {_save_text(target)}",
                           "before = repr(sd)", *step_lines(target, case, str(half + 1)),
                           "print('unchanged by a later step:', before == repr(sd))"]))


@check("state_dict.roundtrip", "state_dict")
def roundtrip(target: Target, case: Case) -> float:
    """Restored in memory on a fresh optimizer (its state loaded too), it continues identically."""
    return _continues(target, case, copy.deepcopy, "in memory")


@check("state_dict.pickle_roundtrip", "state_dict")
def pickle_roundtrip(target: Target, case: Case) -> float:
    """Restored through pickle on a fresh optimizer, it continues identically."""
    return _continues(target, case, lambda sd: pickle.loads(pickle.dumps(sd)), "through pickle")


@check("state_dict.weights_only_roundtrip", "state_dict")
def weights_only(target: Target, case: Case) -> float:
    """Restored through torch.save + torch.load(weights_only=True), it continues identically."""
    import torch

    def through_torch(sd: Any) -> Any:
        buf = io.BytesIO()
        torch.save(sd, buf)
        buf.seek(0)
        try:
            return torch.load(buf, weights_only=True)
        except Exception as exc:
            raise Mismatch(
                "torch.load(weights_only=True) refuses the state_dict: "
                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                script=script(target, case, [
                    "import io", "buf = io.BytesIO()", f"torch.save({_save_text(target)}, buf)",
                    "buf.seek(0)", "torch.load(buf, weights_only=True)"])) from None

    return _continues(target, case, through_torch, "through torch.save/weights_only load")
