"""Family 5, state_dict: holds no optimizer; is a snapshot; round-trips in memory, through
pickle and through torch.save + torch.load(weights_only=True), and a restored scheduler on
a fresh optimizer continues identically; restores what it holds into a scheduler built with
other arguments; leaves the caller's dict alone; saves function-valued arguments as torch
documents; does not grow with the step count.

What torch's state_dict holds, per class (torch 2.13): every attribute (`__dict__` less the
optimizer), so every constructor argument, under its own name or as what it computes
(CyclicLR's max_lrs and total_size, OneCycleLR's phases, SWALR's strategy); LambdaLR's and
MultiplicativeLR's lr_lambdas and CyclicLR's scale_fn as None for a function or lambda and as
a copy of `__dict__` for a callable object (a bound method: its function's `__dict__`); the
composites, each child's state_dict. What a scheduler sets in the param groups (initial_lr,
OneCycleLR's max_lr and min_lr, SWALR's swa_lr) the optimizer's state_dict holds. So a torch
scheduler loaded into one built with other arguments continues as the saved one, except
with function-valued arguments that are functions."""

from __future__ import annotations

import copy
import functools
import io
import pickle
import types
import weakref
from collections.abc import Callable
from typing import Any

from conformance import versions
from conformance.binding import Unequal
from conformance.catalogue import check
from conformance.checks.common import Tolerance, compare
from conformance.harness import (
    Case,
    Mismatch,
    Run,
    optimizer,
    optimizer_text,
    quiet,
    script,
    start,
    step_lines,
    stepping,
)
from conformance.lambdas import Lam
from conformance.specs import SPECS, Spec, Sub
from conformance.targets import Target
from reference.base import Param


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


def _rest(run: Run, case: Case, stop: int | None = None) -> list[list[float]]:
    """The lrs from where `run` stands to the end of the case (or step `stop`, if sooner)."""
    out = [run.lrs()]
    end = case.steps if stop is None else min(case.steps, stop)
    while run.n < end:
        run.step()
        out.append(run.lrs())
    return out


def _continues(target: Target, case: Case, transport: Callable[[Any], Any], how: str) -> float:
    """Save halfway, restore into a fresh optimizer and scheduler through `transport`, and
    require the same lrs as the original from there on, bit for bit."""
    with quiet():
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
        return compare(target, case, got, want, Tolerance.exact(want),
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


def show_path(target: Target, found: str, state: str = "sd") -> list[str]:
    """Script lines that print what the saved state holds at `found` ("state_dict[...] (Type)",
    as _find names it)."""
    expr = found.rsplit(" (", 1)[0].replace("state_dict", state, 1)
    return [f"{state} = {_save_text(target)}", f"print({found!r}, 'is a', type({expr}).__name__)"]


def _save_text(target: Target) -> str:
    return target.driver.save_text() if target.driver else "sched.state_dict()"


@check("state_dict.no_optimizer", "state_dict")
def no_optimizer(target: Target, case: Case) -> None:
    """state_dict() holds no optimizer and no scheduler object, at any depth."""
    from torch.optim import Optimizer
    from torch.optim.lr_scheduler import LRScheduler

    with quiet():
        run, half = _prefix(target, case)
        state = run.save()
    found = _find(state, (Optimizer, LRScheduler))
    if found:
        raise Mismatch(f"the saved state holds {found}: it cannot be loaded with "
                       "weights_only=True and pins the optimizer", actual=found,
                       script=script(target, case, [*stepping(target, case, half),
                                                    *show_path(target, found)]))


# -- size ------------------------------------------------------------------------------------
def weight(obj: Any, seen: set[int] | None = None) -> int:
    """How much a state holds: one per number, string or object, plus what containers,
    objects and tensors hold (the values of numbers do not count)."""
    import torch

    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 1
    seen.add(id(obj))
    if isinstance(obj, torch.Tensor):
        return 1 + obj.numel()
    if isinstance(obj, dict):
        return 1 + sum(weight(k, seen) + weight(v, seen) for k, v in obj.items())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return 1 + sum(weight(v, seen) for v in obj)
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return 1 + weight(vars(obj), seen)
    return 1


#: The state is weighed at step EARLY (or where the snapshot is taken, if later) and at the
#: end of a run of at least LONG steps; the later state may hold SLACK more items (a field
#: set on first use), not one per step.
EARLY, LONG, SLACK = 10, 60, 8


@check("state_dict.snapshot", "state_dict")
def snapshot(target: Target, case: Case) -> None:
    """A state_dict() taken earlier is not changed by later steps, and later ones hold no more
    than it: the state does not grow with the step count (no history kept in it)."""
    ends = target.spec is not None and "has_end" in target.spec.flags
    steps = case.steps if ends else max(case.steps, LONG)
    with quiet():
        run, half = _prefix(target, case)
        taken = run.save()
        frozen = pickle.dumps(copy.deepcopy(taken))
        # Weighed from step EARLY on: a field may fill up in the first steps (a bounded log).
        early_at = max(half, min(EARLY, steps))
        early = weight(copy.deepcopy(taken))
        while run.n < steps:
            run.step()
            if run.n == early_at:
                early = weight(run.save())
        late = weight(run.save())
        unchanged = pickle.dumps(taken) == frozen
    lines = step_lines(target, case)
    if not unchanged:
        changed = sorted(k for k in taken if pickle.dumps(taken[k]) !=
                         pickle.dumps(pickle.loads(frozen)[k])) if isinstance(taken, dict) else []
        raise Mismatch(f"later steps changed a state_dict() taken at step {half}: "
                       f"key(s) {changed or '?'} alias the scheduler's live state",
                       step=half, actual=changed,
                       script=script(target, case, [
                           "import pickle",
                           *stepping(target, case, half), f"sd = {_save_text(target)}",
                           "before = {k: pickle.dumps(v) for k, v in sd.items()}",
                           f"for i in range({half}, {steps}):",
                           *(f"    {line}" for line in lines),
                           "print('changed by later steps:', "
                           "sorted(k for k in sd if pickle.dumps(sd[k]) != before[k]))"]))
    if late > early + SLACK:
        raise Mismatch(f"the state_dict holds {late} items after {steps} steps, {early} after "
                       f"{early_at}: it grows with the step count (a history kept in the state)",
                       step=steps, expected=early, actual=late,
                       script=script(target, case, [
                           "from conformance.checks.state import weight",
                           "opt.step()", f"for i in range({steps}):",
                           *(f"    {line}" for line in lines),
                           f"    if i + 1 in ({early_at}, {steps}):",
                           f"        print('step', i + 1, 'state_dict items:', "
                           f"weight({_save_text(target)}))"]))


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


# -- loading into a scheduler built otherwise ------------------------------------------------
def _perturbed(param: Param | None, value: Any) -> Any:
    """Another valid-looking value of the same kind: a flag flipped, an int one more, a float
    halved, another choice, a callable object of the same kind with its parameter halved, a
    sub-scheduler with its own arguments perturbed."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 0.5
    if isinstance(value, str) and param is not None and param.choices:
        return next((c for c in param.choices if c != value), value)
    if isinstance(value, Lam):
        return Lam(value.kind, value.a * 0.5)
    if isinstance(value, Sub):
        spec = SPECS.get(value.name)
        return Sub(value.name, {k: _perturbed(spec.params.get(k) if spec else None, v)
                                for k, v in value.args.items()})
    if isinstance(value, list):
        return [_perturbed(param, v) for v in value]
    return value


def _admits(target: Target, lrs: list[float], args: dict[str, Any]) -> bool:
    spec = target.spec
    try:
        if spec is not None:
            spec.oracle(lrs, args)
        target.kwargs(args, lrs)
    except (ValueError, Unequal):
        return False
    return all(domain.admits(args[k]) for k, domain in target.binding.domain.items()
               if k in args and not isinstance(args[k], list))


def _holds_arguments(target: Target) -> bool:
    """Whether the target keeps torch's state: a class of torch's or a subclass, whose state
    holds every constructor argument (a look-alike, or a factory whose arguments go into a
    function, is held to its group lrs only)."""
    return target.spec is not None and {"class", "torch_class"} <= target.flags


#: Protocols whose targets keep torch's state: the base lrs (or the initial_lr the optimizer's
#: state restores) rather than the lrs of the groups they were built on. The others' states
#: are their own (DeepSpeed's holds the batch count; their lrs come from their arguments).
#: A factory is not held to it either: what it reads when called (transformers' polynomial
#: decay reads optimizer.defaults["lr"]) goes into a function, which torch's state omits.
TORCH_PROTOCOLS = ("torch", "metric", "validation")


def other_case(target: Target, case: Case) -> Case:
    """The case with other group lrs (three times each) where the target is a class of torch's
    protocol, and each drawn argument perturbed where it keeps torch's state (one at a time,
    kept where the spec admits it)."""
    torch_like = target.driver is None or target.driver.name in TORCH_PROTOCOLS
    lrs = [lr * 3 for lr in case.lrs] if torch_like and "class" in target.flags else list(
        case.lrs)
    args = dict(case.args)
    if _holds_arguments(target):
        assert target.spec is not None
        for key, value in case.args.items():
            if key in target.fixed:
                continue
            trial = {**args, key: _perturbed(target.spec.params.get(key), value)}
            if trial[key] != value and _admits(target, lrs, trial):
                args = trial
    if not _admits(target, lrs, args):
        lrs = list(case.lrs)
    return Case(lrs, args, case.steps, case.metrics, case.optim)


def _loaded_lines(target: Target, case: Case, other: Case, half: int, loads: int = 1
                  ) -> list[str]:
    """Reproducer lines: step `half` times, save both states, build on `other`'s lrs and
    arguments, load both states (`loads` times) and step the two together."""
    from conformance.checks.construct import call_text

    groups = ", ".join(f'{{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": {lr!r}}}'
                       for lr in other.lrs)
    optim = optimizer_text(other)
    load = target.driver.load_lines("sched", "saved") if target.driver else [
        "sched.load_state_dict(saved)"]
    return [
        *stepping(target, case, half),
        "import copy",
        f"saved = {_save_text(target)}",
        "opt_saved = copy.deepcopy(opt.state_dict())",
        "original = opt, sched",
        f"groups = [{groups}]",
        f"opt = {optim}",
        f"sched = {call_text(target, other)}",
        "opt.load_state_dict(opt_saved)",
        *(load * loads),
        "opt.step()",
        "loaded = opt, sched",
    ]


def same_value(a: Any, b: Any, seen: set[tuple[int, int]] | None = None) -> bool:
    """Deep equality that reads tensors by value, dict keys in any order, and objects by
    their attributes (a deep copy of an object is the same value)."""
    import torch

    seen = set() if seen is None else seen
    if (id(a), id(b)) in seen:
        return True  # a cycle: compared where it started
    seen.add((id(a), id(b)))
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
                and a.shape == b.shape and bool(torch.equal(a, b)))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k], seen) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return (type(a) is type(b) and len(a) == len(b)
                and all(same_value(x, y, seen) for x, y in zip(a, b, strict=True)))
    try:
        if bool(a == b) or (a != a and b != b):  # NaN saved is NaN kept
            return True
    except Exception:
        pass
    if type(a) is type(b) and hasattr(a, "__dict__") and not isinstance(a, type):
        return same_value(vars(a), vars(b), seen)
    return a is b


def _changed_keys(now: Any, before: Any) -> list[str]:
    if not (isinstance(now, dict) and isinstance(before, dict)):
        return [] if same_value(now, before) else ["(the whole state)"]
    keys = sorted(set(now) | set(before), key=str)
    return [str(k) for k in keys if k not in now or k not in before
            or not same_value(now[k], before[k])]


@functools.cache
def torch_loads_cleanly(cls: type) -> bool:
    """Whether torch's class `cls`, on the running torch, loads a state_dict without changing
    it and can load it twice (CyclicLR pops '_scale_fn_custom' from 2.2:
    docs/findings-resume.md)."""
    from conformance.checks.construct import build_torch, small_optimizer

    try:
        with quiet():
            saved = build_torch(cls, small_optimizer()).state_dict()
            before = copy.deepcopy(saved)
            other = build_torch(cls, small_optimizer())
            other.load_state_dict(saved)
            other.load_state_dict(saved)
    except Exception:
        return False
    return same_value(saved, before)


#: Steps compared after loading: what other arguments change shows within them (the round
#: trips compare to the end of the case).
RELOADED = 100


@check("state_dict.reload", "state_dict")
def reload(target: Target, case: Case) -> float:
    """Loaded twice into a target built with other group lrs and arguments (its optimizer's
    state loaded too), the state continues exactly as the saved scheduler, and leaves the dict
    it was loaded from as it was.

    The lrs are other under torch's protocol, the arguments where the state is torch's (a
    torch class's holds them all); the dict is held to stay unchanged, and to load twice,
    where torch's own class does so on the running torch."""
    other = other_case(target, case)
    twice = all(torch_loads_cleanly(c) for c in _torch_classes(target))
    with quiet():
        run, half = _prefix(target, case)
        # A copy: a state that aliases the live scheduler is state_dict.snapshot's finding.
        saved, opt_saved = copy.deepcopy(run.save()), copy.deepcopy(run.opt.state_dict())
        before = copy.deepcopy(saved)
        want = _rest(run, case, half + RELOADED)
        fresh = Run(target, other, optimizer(other))
        fresh.opt.load_state_dict(opt_saved)
        fresh.load(saved)
        if twice:
            _unchanged(target, case, saved, before, half)
            try:
                fresh.load(saved)
            except Mismatch:
                raise
            except Exception as exc:
                raise Mismatch(f"loading the same state a second time raised "
                               f"{type(exc).__name__}: {exc}",
                               actual=f"{type(exc).__name__}: {exc}",
                               script=script(target, case, _loaded_lines(
                                   target, case, other, half, loads=2))) from None
        fresh.n = half
        fresh.opt.step()
        got = _rest(fresh, case, half + RELOADED)
    changed = sorted(k for k in case.args if other.args.get(k) != case.args[k])
    try:
        return compare(target, case, got, want, Tolerance.exact(want),
                       f"loaded {'twice ' if twice else ''}into one built with group lrs "
                       f"{other.lrs} and other {', '.join(changed) or 'arguments: none'}, the "
                       "state does not continue as the saved scheduler", first=half)
    except Mismatch as exc:
        from conformance.checks.construct import lockstep

        exc.script = script(target, case, [
            *_loaded_lines(target, case, other, half, loads=2 if twice else 1),
            *lockstep("original", "loaded", target, case, half, exc.step or half,
                      exc.group or 0)])
        raise


def _unchanged(target: Target, case: Case, saved: Any, before: Any, half: int) -> None:
    changed = _changed_keys(saved, before)
    if changed:
        load = (target.driver.load_lines("fresh", "saved") if target.driver
                else ["fresh.load_state_dict(saved)"])
        raise Mismatch(f"load_state_dict() changed the dict it was given: key(s) {changed} (a "
                       "checkpoint loaded twice, or kept, is damaged)", actual=changed,
                       script=script(target, case, [
                           *stepping(target, case, half), f"saved = {_save_text(target)}",
                           "import copy", "before = copy.deepcopy(saved)",
                           "opt, fresh = build()", *load,
                           "from conformance.checks.state import same_value",
                           "print('keys changed:', [k for k in set(saved) | set(before) if k "
                           "not in saved or k not in before or not same_value(saved[k], "
                           "before[k])])"]))


def _torch_classes(target: Target) -> list[type]:
    # Imported here: importing construct registers its checks, and the run's order is the
    # catalogue's (checks/__init__.py).
    from conformance.checks.construct import torch_classes

    return torch_classes(target)


# -- function-valued arguments ---------------------------------------------------------------
def inverse(x: float) -> float:
    """A plain function, as lr_lambda or scale_fn: 1 / (1 + x / 10)."""
    return 1.0 / (1.0 + 0.1 * x)


class Decay:
    """A callable object (its rate is state torch saves) with a method of the same shape."""

    def __init__(self, rate: float) -> None:
        self.rate = rate

    def __call__(self, x: float) -> float:
        return 1.0 / (1.0 + self.rate * x)

    def factor(self, x: float) -> float:
        return 1.0 / (1.0 + self.rate * x)


#: The function-valued arguments tried: (what, how a reproducer writes it, the value).
FUNCTIONS: tuple[tuple[str, str, Callable[[float], float]], ...] = (
    ("a plain function", "inverse", inverse),
    ("a lambda", "lambda x: 1.0 / (1.0 + 0.2 * x)", lambda x: 1.0 / (1.0 + 0.2 * x)),
    ("a bound method", "Decay(0.3).factor", Decay(0.3).factor),
    ("a callable object", "Decay(0.3)", Decay(0.3)),
)
#: Steps before the state is read, and compared after a callable object's state is loaded.
FUNCTION_STEPS, RESTORED = 3, 10


def _callables(obj: Any, path: str = "state_dict",
               seen: set[int] | None = None) -> str | None:
    """The path of the first function, method, lambda, partial, weak reference or callable
    object (not a plain container or number) inside a state."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return None
    seen.add(id(obj))
    kinds = (types.FunctionType, types.MethodType, types.BuiltinFunctionType,
             functools.partial, weakref.ref, Decay, Lam)
    if isinstance(obj, kinds):
        return f"{path} ({type(obj).__name__})"
    items = (obj.items() if isinstance(obj, dict)
             else enumerate(obj) if isinstance(obj, (list, tuple)) else ())
    for key, value in items:
        found = _callables(value, f"{path}[{key!r}]", seen)
        if found:
            return found
    return None


def _holds_dict(obj: Any, want: dict[str, Any]) -> bool:
    if isinstance(obj, dict):
        if obj == want:
            return True
        return any(_holds_dict(v, want) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return any(_holds_dict(v, want) for v in obj)
    return False


def _function_params(spec: Spec, target: Target) -> list[str]:
    """The spec's function-valued arguments the target takes, where torch saves them as
    documented on the running torch (CyclicLR's scale_fn from 2.2: cyclic_scale_fn_state)."""
    names = [p.name for p in spec.schedule.schema if p.kind == "callable"]
    cyclic = any(c.__name__ == "CyclicLR" for c in _torch_classes(target))
    if cyclic and not versions.holds("cyclic_scale_fn_state"):
        names = [n for n in names if n != "scale_fn"]
    return [n for n in names if n not in target.fixed and target.binding.renames.get(n, n)]


#: Targets (label, path, spec) whose function-valued arguments passed: what is saved for them does
#: not depend on the drawn case, so once per target and process is enough (a failure fails
#: every time).
FUNCTIONS_PASSED: set[tuple[str, str, str]] = set()


@check("state_dict.functions", "state_dict", "spec", "callable_args")
def functions(target: Target, case: Case) -> None:
    """A function-valued argument (lr_lambda, scale_fn) is saved as torch documents: a plain
    function, lambda or bound method not at all, a callable object as a copy of its __dict__,
    which loading restores into the loading scheduler's own object."""
    if target.spec is None or (target.label, target.path, target.spec.name) in FUNCTIONS_PASSED:
        return
    _functions(target, case)
    FUNCTIONS_PASSED.add((target.label, target.path, target.spec.name))


def _functions(target: Target, case: Case) -> None:
    assert target.spec is not None
    for name in _function_params(target.spec, target):
        for what, text, fn in FUNCTIONS:
            given = Case(case.lrs, {**case.args, name: fn}, case.steps, case.metrics,
                         case.optim)
            body = ["from conformance.checks.state import Decay, inverse",
                    "opt = make_opt()", f"sched = {_call(target, given, name, text)}",
                    *_steps(target, given, FUNCTION_STEPS)]
            with quiet():
                run = start(target, given)
                for _ in range(FUNCTION_STEPS):
                    run.step()
                state = run.save()
            found = _callables(state)
            if found:
                raise Mismatch(f"with {name}={what}, the state_dict holds {found}: torch saves "
                               "no function (it cannot be loaded with weights_only=True, and "
                               "a lambda cannot be pickled)", actual=found,
                               script=script(target, case, [
                                   *body, *show_path(target, found)]))
            if isinstance(fn, Decay):
                _restores(target, case, given, name, state, body)


def _call(target: Target, case: Case, name: str, text: str) -> str:
    from conformance.checks.construct import call_text

    key = target.binding.renames.get(name, name) or name
    return call_text(target, case, written={key: text})


def _restores(target: Target, case: Case, given: Case, name: str, state: Any,
              body: list[str]) -> None:
    """The saved __dict__ of the callable object of `given`: in the state, and restored on load
    into a target built with another object of the same class (`case`: the drawn case, which
    the reproducer's build() writes)."""
    fn = given.args[name]
    if not _holds_dict(state, vars(fn)):
        raise Mismatch(f"with {name}=a callable object, the state_dict does not hold a copy "
                       f"of its __dict__ {vars(fn)!r}", expected=vars(fn),
                       script=script(target, case, [*body, f"print({_save_text(target)})"]))
    other = Case(given.lrs, {**given.args, name: Decay(fn.rate * 2)}, given.steps,
                 given.metrics, given.optim)
    with quiet():
        run = start(target, given)
        loaded = start(target, other)
        for _ in range(FUNCTION_STEPS):
            run.step()
            loaded.step()
        saved, opt_saved = copy.deepcopy(run.save()), copy.deepcopy(run.opt.state_dict())
        loaded.opt.load_state_dict(opt_saved)
        loaded.load(saved)
        stop = FUNCTION_STEPS + RESTORED
        want, got = _rest(run, given, stop), _rest(loaded, given, stop)
    try:
        compare(target, case, got, want, Tolerance.exact(want),
                f"loaded into one built with {name}=Decay({fn.rate * 2}), the state of "
                f"{name}=Decay({fn.rate}) does not continue as the saved scheduler: the "
                "callable object's __dict__ was not restored", first=FUNCTION_STEPS)
    except Mismatch as exc:
        from conformance.checks.construct import lockstep

        load = (target.driver.load_lines("sched", "saved") if target.driver
                else ["sched.load_state_dict(saved)"])
        exc.script = script(target, case, [
            *body, "import copy", f"saved = copy.deepcopy({_save_text(target)})",
            "opt_saved = copy.deepcopy(opt.state_dict())", "original = opt, sched",
            "opt = make_opt()", f"sched = {_call(target, other, name, f'Decay({fn.rate * 2})')}",
            *_steps(target, other, FUNCTION_STEPS), "opt.load_state_dict(opt_saved)", *load,
            "loaded = opt, sched",
            *lockstep("original", "loaded", target, case, FUNCTION_STEPS,
                      exc.step or FUNCTION_STEPS, exc.group or 0)])
        raise


def _steps(target: Target, case: Case, n: int) -> list[str]:
    """Reproducer lines: optimizer.step(), then n of the protocol's steps."""
    return ["opt.step()", f"for i in range({n}):",
            *(f"    {line}" for line in step_lines(target, case))]
