"""Family 10, torch versions: the behaviour the running torch version documents, from the
catalogue of version differences (conformance/versions.json).

Every check does two things. It first confirms the catalogue on the running torch: each entry
of the check has a probe here, run on torch's own classes, and torch must show the entry's
behaviour inside its range and not outside it (a wrong range fails on that version, naming
the entry). It then holds the target to what that torch documents: a subclass must not break
what its base does on this version (a verbose it forwards to a base that lost it, a step
wrapper it hides, an _is_initial it skips), and a spec'd schedule must start and resume as
this version's torch does. Outside an entry's range the target part asks nothing: an old
torch's behaviour is no contract for a scheduler that already does better.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import io
import types
import warnings
import weakref
from collections import Counter
from collections.abc import Callable
from typing import Any

from conformance import versions
from conformance.catalogue import check
from conformance.harness import Case, Mismatch, Run, group_lrs, number, script, start, stepping
from conformance.targets import Target, accepts
from reference.base import ulp

#: Entry id -> a probe: True when the running torch shows the entry's behaviour.
PROBES: dict[str, Callable[[], bool]] = {}


def probe(entry_id: str) -> Callable[[Callable[[], bool]], Callable[[], bool]]:
    def add(func: Callable[[], bool]) -> Callable[[], bool]:
        PROBES[entry_id] = func
        return func

    return add


# -- probes: torch's own classes, as small as the snippets of the research notes -------------
def _opt(lr: Any = 1.0, adam: bool = False) -> Any:
    import torch

    params = [torch.nn.Parameter(torch.zeros(1))]
    if adam:
        return torch.optim.Adam(params, lr=lr, foreach=False)
    return torch.optim.SGD(params, lr=lr, momentum=0.9)


def _raises(fn: Callable[[], Any], kind: type[BaseException]) -> bool:
    try:
        fn()
    except kind:
        return True
    return False


def _warned(fn: Callable[[], Any], text: str) -> bool:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return any(text in str(w.message) for w in caught)


@probe("verbose_prints")
def _verbose_prints() -> bool:
    from torch.optim.lr_scheduler import StepLR

    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            StepLR(_opt(), step_size=1, verbose=True)  # type: ignore[call-arg]
        except TypeError:
            return False
    return "Adjusting learning rate" in out.getvalue()


@probe("verbose_deprecated")
def _verbose_deprecated() -> bool:
    from torch.optim.lr_scheduler import StepLR

    try:
        return _warned(lambda: StepLR(_opt(), step_size=1, verbose=False),  # type: ignore[call-arg]
                       "verbose parameter is deprecated")
    except TypeError:
        return False


@probe("verbose_removed")
def _verbose_removed() -> bool:
    from torch.optim.lr_scheduler import StepLR

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _raises(lambda: StepLR(_opt(), step_size=1, verbose=False),  # type: ignore[call-arg]
                       TypeError) and "verbose" not in StepLR(_opt(), 1).state_dict()


@probe("print_lr_deprecated")
def _print_lr_deprecated() -> bool:
    from torch.optim.lr_scheduler import StepLR

    sched = StepLR(_opt(), step_size=1)
    if not hasattr(sched, "print_lr"):
        return False
    with contextlib.redirect_stdout(io.StringIO()):
        return _warned(lambda: sched.print_lr(True, 0, 0.1), "print_lr()` is being deprecated")


@probe("print_lr_removed")
def _print_lr_removed() -> bool:
    from torch.optim.lr_scheduler import LRScheduler

    return not hasattr(LRScheduler, "print_lr")


@probe("eta_min_float")
def _eta_min_float() -> bool:
    from torch.optim.lr_scheduler import CosineAnnealingLR, CosineAnnealingWarmRestarts

    return all(type(inspect.signature(c).parameters["eta_min"].default) is float
               for c in (CosineAnnealingLR, CosineAnnealingWarmRestarts))


@probe("warm_restarts_eta_min_type")
def _warm_restarts_eta_min_type() -> bool:
    from torch.optim.lr_scheduler import CosineAnnealingWarmRestarts

    try:
        CosineAnnealingWarmRestarts(_opt(), T_0=2, eta_min="0")  # type: ignore[arg-type]
    except ValueError:
        return True
    except TypeError:  # 2.0: no check; the constructor's step fails in arithmetic
        return False
    return False


@probe("multiplicative_callable_check")
def _multiplicative_callable_check() -> bool:
    from torch.optim.lr_scheduler import MultiplicativeLR

    return _raises(lambda: MultiplicativeLR(_opt(), 0.5), TypeError)  # type: ignore[arg-type]


@probe("step_counter_wrapper")
def _step_counter_wrapper() -> bool:
    from torch.optim.lr_scheduler import StepLR

    opt = _opt()
    StepLR(opt, step_size=1)
    marked = getattr(opt.step, "_with_counter", False)
    opt.step()
    return bool(marked) and getattr(opt, "_step_count", 0) == 1


@probe("opt_called_flag")
def _opt_called_flag() -> bool:
    from torch.optim.lr_scheduler import StepLR

    opt = _opt()
    StepLR(opt, step_size=1)
    marked = hasattr(opt.step, "_wrapped_by_lr_sched")
    opt.step()
    return marked and getattr(opt, "_opt_called", False) is True


@probe("new_scheduler_resets_count")
def _new_scheduler_resets_count() -> bool:
    from torch.optim.lr_scheduler import ExponentialLR, StepLR

    opt = _opt()
    first = StepLR(opt, step_size=1)
    opt.step()
    first.step()
    second = ExponentialLR(opt, gamma=0.9)  # built after optimizer.step() has run
    return _warned(second.step, "before `optimizer.step()`")


@probe("step_wrapper_unnamed")
def _step_wrapper_unnamed() -> bool:
    from torch.optim.lr_scheduler import StepLR

    opt = _opt()
    StepLR(opt, step_size=1)
    return bool(opt.step.__name__ == "wrapper")


@probe("order_warning_stacklevel")
def _order_warning_stacklevel() -> bool:
    from torch.optim.lr_scheduler import StepLR

    sched = StepLR(_opt(), step_size=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sched.step()  # before optimizer.step(): the order warning
    return bool(caught) and not caught[0].filename.endswith("lr_scheduler.py")


@probe("plateau_is_lrscheduler")
def _plateau_is_lrscheduler() -> bool:
    from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau

    opt = _opt()
    step = opt.step
    ReduceLROnPlateau(opt)
    # A subclass that never runs LRScheduler.__init__: no initial_lr, optimizer.step untouched.
    return (issubclass(ReduceLROnPlateau, LRScheduler) and "initial_lr" not in opt.param_groups[0]
            and opt.step == step)


@probe("plateau_last_lr_at_init")
def _plateau_last_lr_at_init() -> bool:
    from torch.optim.lr_scheduler import ReduceLROnPlateau

    try:
        return bool(ReduceLROnPlateau(_opt(lr=0.5)).get_last_lr() == [0.5])
    except AttributeError:
        return False


@probe("plateau_new_group_min_lr")
def _plateau_new_group_min_lr() -> bool:
    import torch
    from torch.optim.lr_scheduler import ReduceLROnPlateau

    opt = _opt()
    sched = ReduceLROnPlateau(opt, patience=0, min_lr=0.0)
    opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 2.0})
    try:
        sched.step(1.0)
        sched.step(2.0)
    except IndexError:
        return False
    return group_lrs(opt) == [0.1, 0.2]


@probe("plateau_is_better_private")
def _plateau_is_better_private() -> bool:
    from torch.optim.lr_scheduler import ReduceLROnPlateau

    sched = ReduceLROnPlateau(_opt())
    return hasattr(sched, "_is_better") and not hasattr(sched, "is_better")


@probe("plateau_tensor_lr_in_place")
def _plateau_tensor_lr_in_place() -> bool:
    import torch
    from torch.optim.lr_scheduler import ReduceLROnPlateau

    lr = torch.tensor(1.0, dtype=torch.float64)
    opt = _opt(lr=lr)
    sched = ReduceLROnPlateau(opt, patience=0)
    sched.step(1.0)
    sched.step(2.0)
    return opt.param_groups[0]["lr"] is lr and float(lr) == 0.1


def _saved(obj: Any) -> io.BytesIO:
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return buf


@probe("load_weights_only_default")
def _load_weights_only_default() -> bool:
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _raises(lambda: torch.load(_saved({"anneal_func": print})), Exception)


@probe("load_future_warning")
def _load_future_warning() -> bool:
    import torch

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.load(_saved({"lr": 0.1}))
    return any(issubclass(w.category, FutureWarning) and "weights_only" in str(w.message)
               for w in caught)


@probe("load_counter_allowed")
def _load_counter_allowed() -> bool:
    import torch

    return not _raises(lambda: torch.load(_saved({"milestones": Counter([2, 4])}),
                                          weights_only=True), Exception)


@probe("swalr_strategy_in_state")
def _swalr_strategy_in_state() -> bool:
    from torch.optim.swa_utils import SWALR

    state = SWALR(_opt(), swa_lr=0.1, anneal_strategy="linear").state_dict()
    return state.get("_anneal_strategy") == "linear" and "anneal_func" not in state


def _onecycle_state() -> dict[str, Any]:
    from torch.optim.lr_scheduler import OneCycleLR

    return OneCycleLR(_opt(), max_lr=1.0, total_steps=10).state_dict()


@probe("onecycle_no_bound_method")
def _onecycle_no_bound_method() -> bool:
    return not isinstance(_onecycle_state().get("anneal_func"), types.MethodType)


@probe("onecycle_anneal_function")
def _onecycle_anneal_function() -> bool:
    return type(_onecycle_state().get("anneal_func")) is types.FunctionType


@probe("onecycle_anneal_string")
def _onecycle_anneal_string() -> bool:
    state = _onecycle_state()
    return state.get("_anneal_func_type") == "cos" and "anneal_func" not in state


def _cyclic(**kwargs: Any) -> Any:
    from torch.optim.lr_scheduler import CyclicLR

    return CyclicLR(_opt(), base_lr=0.1, max_lr=1.0, **kwargs)


@probe("cyclic_deepcopy")
def _cyclic_deepcopy() -> bool:
    return not _raises(lambda: copy.deepcopy(_cyclic()), TypeError)


@probe("cyclic_scale_fn_state")
def _cyclic_scale_fn_state() -> bool:
    return _cyclic(scale_fn=lambda x: 1.0).state_dict()["_scale_fn_custom"] is None


@probe("cyclic_beta1")
def _cyclic_beta1() -> bool:
    from torch.optim.lr_scheduler import CyclicLR

    opt = _opt(adam=True)
    try:
        CyclicLR(opt, base_lr=0.1, max_lr=1.0, step_size_up=2)
    except ValueError:
        return False
    return bool(opt.param_groups[0]["betas"][0] == 0.9)  # max_momentum at step 0


@probe("per_group_length_message")
def _per_group_length_message() -> bool:
    from torch.optim.lr_scheduler import CyclicLR

    try:
        CyclicLR(_opt(), base_lr=[0.1, 0.2], max_lr=1.0)  # one group, two values
    except ValueError as exc:
        return "must have the same length as optimizer.param_groups" in str(exc)
    return False


@probe("is_initial")
def _is_initial() -> bool:
    from torch.optim.lr_scheduler import StepLR

    sched = StepLR(_opt(), step_size=1)
    state = sched.state_dict()
    return vars(sched).get("_is_initial") is False and state.get("_is_initial") is False


def _resumed(make: Callable[[Any], Any]) -> float:
    opt = _opt()
    opt.param_groups[0]["initial_lr"] = 1.0  # as after loading an optimizer checkpoint
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make(opt)
    return float(opt.param_groups[0]["lr"])


@probe("resume_without_extra_step")
def _resume_without_extra_step() -> bool:
    from torch.optim.lr_scheduler import CosineAnnealingLR, ExponentialLR

    return (_resumed(lambda o: ExponentialLR(o, 0.5, last_epoch=2)) == 1.0
            and _resumed(lambda o: CosineAnnealingLR(o, T_max=4, last_epoch=2)) == 1.0)


@probe("warm_restarts_modulo")
def _warm_restarts_modulo() -> bool:
    from torch.optim.lr_scheduler import CosineAnnealingWarmRestarts

    seen: list[Any] = []
    _resumed(lambda o: seen.append(CosineAnnealingWarmRestarts(o, T_0=3, last_epoch=7)))
    return bool(seen[0].T_cur == 2)


@probe("multiplicative_epoch_zero")
def _multiplicative_epoch_zero() -> bool:
    from torch.optim.lr_scheduler import MultiplicativeLR

    opt = _opt()
    sched = MultiplicativeLR(opt, lambda e: 0.5)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched.step(0)
    return bool(opt.param_groups[0]["lr"] == 0.5)


@probe("initial_lr_message")
def _initial_lr_message() -> bool:
    from torch.optim.lr_scheduler import StepLR

    try:
        StepLR(_opt(), step_size=1, last_epoch=3)
    except KeyError as exc:
        return "when resuming scheduler with last_epoch >= 0" in str(exc)
    return False


def _tensor_step(make: Callable[[Any], Any]) -> tuple[Any, Any, Any]:
    """A scheduler on a Tensor lr after one step: (the original tensor, the group, scheduler)."""
    import torch

    lr = torch.tensor(1.0, dtype=torch.float64)
    opt = _opt(lr=lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = make(opt)
        opt.step()
        sched.step()
    return lr, opt.param_groups[0], sched


@probe("tensor_lr_in_place")
def _tensor_lr_in_place() -> bool:
    from torch.optim.lr_scheduler import StepLR

    lr, group, _ = _tensor_step(lambda o: StepLR(o, step_size=1, gamma=0.5))
    return group["lr"] is lr and float(lr) == 0.5


@probe("last_lr_copies")
def _last_lr_copies() -> bool:
    from torch.optim.lr_scheduler import StepLR

    _, group, sched = _tensor_step(lambda o: StepLR(o, step_size=1, gamma=0.5))
    return sched.get_last_lr()[0] is not group["lr"] and sched.base_lrs[0] is not group.get(
        "initial_lr")


@probe("zip_strict")
def _zip_strict() -> bool:
    import torch
    from torch.optim.lr_scheduler import LambdaLR

    opt = _opt()
    sched = LambdaLR(opt, lambda e: 0.5**e)
    opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 2.0})
    opt.step()
    return _raises(sched.step, ValueError)


@probe("warm_restarts_tensor_lr_in_place")
def _warm_restarts_tensor_lr_in_place() -> bool:
    from torch.optim.lr_scheduler import CosineAnnealingWarmRestarts

    lr, group, _ = _tensor_step(lambda o: CosineAnnealingWarmRestarts(o, T_0=4))
    return group["lr"] is lr


@probe("sequential_tensor_alias")
def _sequential_tensor_alias() -> bool:
    import torch
    from torch.optim.lr_scheduler import ConstantLR, ExponentialLR, SequentialLR

    opt = _opt(lr=torch.tensor(1.0, dtype=torch.float64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        SequentialLR(opt, [ConstantLR(opt, factor=0.1, total_iters=2), ExponentialLR(opt, 0.9)],
                     milestones=[2])
    group = opt.param_groups[0]
    return group["lr"] is group["initial_lr"]


@probe("sequential_milestone_zero")
def _sequential_milestone_zero() -> bool:
    from torch.optim.lr_scheduler import ConstantLR, ExponentialLR, SequentialLR

    opt = _opt()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        SequentialLR(opt, [ConstantLR(opt, factor=0.1, total_iters=2),
                           ExponentialLR(opt, gamma=0.5)], milestones=[0])
    return bool(opt.param_groups[0]["lr"] == 1.0)  # ExponentialLR's start, not ConstantLR's 0.1


def _sequential_switch() -> Callable[[], Any]:
    from torch.optim.lr_scheduler import ConstantLR, ExponentialLR, SequentialLR

    opt = _opt()
    seq = SequentialLR(opt, [ConstantLR(opt, 0.5, total_iters=1), ExponentialLR(opt, 0.9)],
                       milestones=[1])

    def switch() -> None:
        opt.step()
        seq.step()

    return switch


@probe("sequential_switch_without_step")
def _sequential_switch_without_step() -> bool:
    return not _warned(_sequential_switch(), "The epoch parameter")


@probe("sequential_recursive_undo")
def _sequential_recursive_undo() -> bool:
    from torch.optim.lr_scheduler import ChainedScheduler, ConstantLR, ExponentialLR, SequentialLR
    from torch.optim.lr_scheduler import StepLR as Step

    opt = _opt()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inner = ChainedScheduler([ConstantLR(opt, factor=0.5, total_iters=2),
                                  ExponentialLR(opt, 0.9)])
        return not _raises(lambda: SequentialLR(opt, [inner, Step(opt, 1)], milestones=[3]),
                           AttributeError)


@probe("container_validation")
def _container_validation() -> bool:
    from torch.optim.lr_scheduler import ExponentialLR, ReduceLROnPlateau, SequentialLR

    opt = _opt()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _raises(lambda: SequentialLR(opt, [ExponentialLR(opt, 0.9),
                                                  ReduceLROnPlateau(opt)], [2]), ValueError)


@probe("chained_optimizer_argument")
def _chained_optimizer_argument() -> bool:
    from torch.optim.lr_scheduler import ChainedScheduler, ExponentialLR

    opt = _opt()
    if "optimizer" not in inspect.signature(ChainedScheduler).parameters:
        return False
    return ChainedScheduler([ExponentialLR(opt, 0.9)], optimizer=opt).optimizer is opt


# -- the catalogue part ------------------------------------------------------------------
@functools.cache
def observed(entry_id: str) -> bool:
    """The probe's answer on the running torch (torch-global: run once per process)."""
    return PROBES[entry_id]()


def _probe_script(entry_id: str) -> str:
    func = PROBES[entry_id]
    helpers: list[Callable[..., Any]] = [_opt, _raises, _warned]
    body = inspect.getsource(func).splitlines()
    body = [line for line in body if not line.startswith("@probe(")]
    lines = ["import contextlib, copy, inspect, io, types, warnings", "import torch",
             "from collections import Counter", ""]
    for helper in helpers:
        lines += [*inspect.getsource(helper).splitlines(), ""]
    return "\n".join([*lines, *body, "", f"print({func.__name__}())"])


def confirm(check_id: str) -> None:
    """Raise Mismatch when the running torch does not behave as the catalogue says, for any
    entry of `check_id`."""
    running = versions.running()
    for entry in versions.entries().values():
        if entry.check != check_id:
            continue
        want = entry.holds(running)
        try:
            got = observed(entry.id)
        except Exception as exc:
            raise Mismatch(f"catalogue entry {entry.id} ({entry.span}): its probe raised "
                           f"{type(exc).__name__}: {exc} on torch {running}",
                           script=_probe_script(entry.id)) from None
        if got != want:
            raise Mismatch(
                f"catalogue entry {entry.id} ({entry.span}): torch {running} "
                f"{'lacks' if want else 'shows'} '{entry.title}'; the catalogue's range is "
                "wrong for this version (conformance/versions.json)",
                expected=want, actual=got, script=_probe_script(entry.id))


def _entry_fail(entry_id: str, message: str, target: Target, case: Case,
                body: list[str], **kw: Any) -> Mismatch:
    entry = versions.entries()[entry_id]
    return Mismatch(f"catalogue entry {entry_id} ({entry.span}, torch {versions.running()}): "
                    f"{message}", script=script(target, case, body), **kw)


# -- the checks --------------------------------------------------------------------------
@functools.cache
def _verbose_text() -> str:
    """The deprecation warning of the running torch's verbose (2.2-2.6), provoked."""
    from torch.optim.lr_scheduler import StepLR

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        StepLR(_opt(), step_size=1, verbose=True)  # type: ignore[call-arg]
    return next(str(w.message) for w in caught if "verbose" in str(w.message))


@check("versions.constructor", "torch_class")
def constructor(target: Target, case: Case) -> None:
    """A target that takes verbose handles it as the running torch does: deprecated with torch's
    warning in 2.2-2.6, never passed on to torch's base from 2.7."""
    confirm("versions.constructor")
    if not accepts(target.obj, "verbose"):
        return
    body = ["import warnings", "warnings.simplefilter('always')", "build(verbose=True)"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            Run(target, case, verbose=True)
        except TypeError as exc:
            entry = "verbose_removed" if versions.holds("verbose_removed") else "verbose_prints"
            why = ", which has none since 2.7" if entry == "verbose_removed" else ""
            raise _entry_fail(entry, f"the target takes verbose, yet verbose=True raised "
                              f"TypeError: {exc} (it passes verbose on to torch's LRScheduler"
                              f"{why}; handle it in the target)", target, case, body,
                              actual=str(exc)) from None
    texts = [str(w.message) for w in caught]
    if versions.holds("verbose_deprecated"):
        want = _verbose_text()
        if want not in texts:
            raise _entry_fail("verbose_deprecated", "verbose=True did not warn torch's "
                              f"deprecation '{want}'; seen: {texts or 'no warning'}", target, case,
                              body, expected=want, actual=texts)
        if out.getvalue():
            raise _entry_fail("verbose_deprecated", "verbose=True printed "
                              f"{out.getvalue()[:80]!r}: torch prints nothing from 2.2",
                              target, case, body, actual=out.getvalue())
    elif versions.holds("verbose_prints"):
        dep = [t for t in texts if "verbose parameter is deprecated" in t]
        if dep:
            raise _entry_fail("verbose_prints", f"verbose=True warned {dep[0]!r}, a deprecation "
                              "torch has only from 2.2", target, case, body, actual=dep)


@check("versions.step_tracking", "torch_warnings")
def step_tracking(target: Target, case: Case) -> None:
    """After construction optimizer.step carries the running torch's marker and records a call
    as that version does (_with_counter/_step_count to 2.3, _wrapped_by_lr_sched/_opt_called)."""
    confirm("versions.step_tracking")
    new = versions.holds("opt_called_flag")
    entry = "opt_called_flag" if new else "step_counter_wrapper"
    marker = "_wrapped_by_lr_sched" if new else "_with_counter"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt = Run(target, case).opt
    body = [f"print(hasattr(opt.step, {marker!r}))"]
    if not hasattr(opt.step, marker):
        raise _entry_fail(entry, f"after construction optimizer.step lacks {marker}: the target "
                          "replaced or re-wrapped it, so torch's step-order check sees an "
                          "overridden optimizer.step", target, case, body,
                          expected=marker, actual=sorted(vars(opt.step)) if hasattr(
                              opt.step, "__dict__") else None)
    opt.step()
    seen = (getattr(opt, "_opt_called", False) is True if new
            else getattr(opt, "_step_count", 0) >= 1)
    if not seen:
        where = "optimizer._opt_called" if new else "optimizer._step_count"
        raise _entry_fail(entry, f"optimizer.step() ran but {where} does not record it",
                          target, case,
                          ["opt.step()", f"print(getattr(opt, {where[10:]!r}, None))"])


@check("versions.plateau", "metrics", "torch_class")
def plateau(target: Target, case: Case) -> None:
    """A metric-driven target's get_last_lr() gives the groups' lrs from construction on (2.3+),
    and a param group added later gets a scalar min_lr (2.6+)."""
    confirm("versions.plateau")
    metrics = case.metrics or [1.0] * case.steps
    if versions.holds("plateau_last_lr_at_init") and hasattr(target.obj, "get_last_lr"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = start(target, case)
            for t in range(case.steps + 1):
                if t:
                    run.step()
                try:
                    got = run.sched.get_last_lr()
                except AttributeError as exc:
                    raise _entry_fail("plateau_last_lr_at_init", f"get_last_lr() raised "
                                      f"AttributeError at step {t}: {exc}", target, case,
                                      [*stepping(target, case, t),
                                       "print(sched.get_last_lr())"], step=t) from None
                if list(got) != run.lrs():
                    raise _entry_fail("plateau_last_lr_at_init", f"get_last_lr() at step {t} is "
                                      f"{got!r}, the groups' lrs are {run.lrs()!r}", target,
                                      case, [*stepping(target, case, t),
                                             "print(sched.get_last_lr())"],
                                      step=t, expected=run.lrs(), actual=got)
    min_lr = case.args.get("min_lr", 0.0)
    if versions.holds("plateau_new_group_min_lr") and isinstance(min_lr, (int, float)):
        _new_group(target, case, metrics, float(min_lr))


def _new_group(target: Target, case: Case, metrics: list[float], min_lr: float) -> None:
    import torch

    worse = 1e9 if case.args.get("mode", "min") == "min" else -1e9
    run = [*metrics, *[worse] * (int(case.args.get("patience", 10)) + 2)]
    body = ['opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))], '
            f'"lr": {case.lrs[0]!r}}})', f"for m in {run!r}:", "    opt.step()",
            "    sched.step(m)", "print([g['lr'] for g in opt.param_groups])"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = start(target, case)
        opt, sched = started.opt, started.sched
        opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))], "lr": case.lrs[0]})
        try:
            for m in run:
                opt.step()
                sched.step(m)
        except Exception as exc:
            raise _entry_fail("plateau_new_group_min_lr", "after add_param_group, step() raised "
                              f"{type(exc).__name__}: {exc} (torch gives the new group the "
                              "scalar min_lr)", target, case, body) from None
    # A reduction never goes below min_lr, and an lr that starts below it stays where it is.
    new = group_lrs(opt)[-1]
    if new < min(case.lrs[0], min_lr):
        raise _entry_fail("plateau_new_group_min_lr", f"the added group's lr fell to {new!r}, "
                          f"below min_lr={min_lr!r}", target, case, body, actual=new,
                          expected=min_lr)


@check("versions.torch_load", "state_dict")
def torch_load(target: Target, case: Case) -> None:
    """The state_dict loads with torch.load's default on the running torch (weights_only=True
    from 2.6)."""
    import torch

    confirm("versions.torch_load")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = start(target, case)
        half = case.steps // 2
        for _ in range(half):
            started.step()
        state = started.save()
    body = [*stepping(target, case, half), "import io", "buf = io.BytesIO()",
            "torch.save(sched.state_dict(), buf)", "buf.seek(0)", "torch.load(buf)"]
    entry = "load_weights_only_default"
    try:
        buf = _saved(state)
    except Exception as exc:
        raise _entry_fail(entry, f"torch.save refuses the state_dict: {type(exc).__name__}: "
                          f"{exc}", target, case, body) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # 2.4-2.5 warn FutureWarning here; the probe checks it
            torch.load(buf)
    except Exception as exc:
        default = "weights_only=True" if versions.holds(entry) else "weights_only=False"
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _entry_fail(entry, f"torch.load(f) with this torch's default ({default}) refuses "
                          f"the state_dict: {first}", target, case, body) from None


@check("versions.initial_step", "lr_scheduler", "last_epoch", "atomic")
def initial_step(target: Target, case: Case) -> None:
    """From 2.8 the constructor's step runs in torch's _initial_mode: _is_initial is False
    after it (get_lr() tells the initial step by it)."""
    # Resuming by last_epoch alone is no contract the suite holds a target to (see resume.py):
    # the entries resume_without_extra_step and warm_restarts_modulo are confirmed on torch only.
    confirm("versions.initial_step")
    if not versions.holds("is_initial"):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = start(target, case).sched
    if vars(sched).get("_is_initial") is not False:
        raise _entry_fail("is_initial", "after construction the instance has no _is_initial "
                          f"(saw {vars(sched).get('_is_initial', 'none')!r}): the constructor's "
                          "step did not run in torch's _initial_mode, so get_lr() cannot tell "
                          "the initial step", target, case,
                          ["print(vars(sched).get('_is_initial', 'none'))"])


def _number(value: Any, step: int, group: int) -> float:
    return number(value, f"step {step}: get_last_lr()[{group}]", step=step, group=group)


@check("versions.tensor_lr", "lr_scheduler")
def tensor_lr(target: Target, case: Case) -> None:
    """On Tensor lrs, steps update each group's tensor in place (2.4+) and get_last_lr() holds
    copies, never the live tensors (2.10+)."""
    import torch

    confirm("versions.tensor_lr")
    spec = target.spec.name if target.spec else ""
    in_place = versions.holds("tensor_lr_in_place") and (
        spec != "CosineAnnealingWarmRestarts" or versions.holds("warm_restarts_tensor_lr_in_place")
    ) and ("metrics" not in (target.spec.flags if target.spec else ())
           or versions.holds("plateau_tensor_lr_in_place"))
    copies = versions.holds("last_lr_copies")
    if not (in_place or copies):
        return
    tensors = [torch.tensor(lr, dtype=torch.float64) for lr in case.lrs]
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": t} for t in tensors]
    opt = (torch.optim.Adam(groups, foreach=False) if case.optim == "adam"
           else torch.optim.SGD(groups, lr=0.1, momentum=0.9))
    setup = ["import torch", "tensors = [torch.tensor(g['lr'], dtype=torch.float64) "
             "for g in make_opt().param_groups]",
             "opt = make_opt()", "for g, t in zip(opt.param_groups, tensors): g['lr'] = t",
             "opt, sched = build(opt)"]
    earlier: list[tuple[int, list[Any], list[float]]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = Run(target, case, opt)
        sched = run.sched
        opt.step()
        for t in range(case.steps + 1):
            if t:
                run.step()
            live = [g["lr"] for g in opt.param_groups]
            if in_place and any(a is not b for a, b in zip(live, tensors, strict=True)):
                g = next(i for i, (a, b) in enumerate(zip(live, tensors, strict=True))
                         if a is not b)
                raise _entry_fail("tensor_lr_in_place", f"step {t}: param group {g}'s Tensor lr "
                                  f"was replaced by a {type(live[g]).__name__} instead of being "
                                  "updated in place", target, case,
                                  [*setup[1:], *stepping(target, case, t),
                                   f"print(opt.param_groups[{g}]['lr'] is tensors[{g}])"],
                                  step=t, group=g)
            if copies:
                last = list(sched.get_last_lr())
                shared = [i for i, v in enumerate(last) if any(v is x for x in live)]
                if shared:
                    raise _entry_fail("last_lr_copies", f"step {t}: get_last_lr()[{shared[0]}] "
                                      "is a param group's live lr tensor, which later steps "
                                      "change; torch returns clones", target, case,
                                      [*setup[1:], *stepping(target, case, t),
                                       "print(sched.get_last_lr()[0] is opt.param_groups[0]"
                                       "['lr'])"], step=t, group=shared[0])
                earlier.append((t, last, [_number(v, t, g) for g, v in enumerate(last)]))
    for t, values, floats in earlier:
        now = [_number(v, t, g) for g, v in enumerate(values)]
        if now != floats:
            raise _entry_fail("last_lr_copies", f"a get_last_lr() result of step {t} changed "
                              f"from {floats!r} to {now!r} with later steps", target, case,
                              [*setup[1:], *stepping(target, case, t),
                               "print(sched.get_last_lr())"],
                              step=t, expected=floats, actual=now)


@check("versions.sequential", "composite", "torch_class")
def sequential(target: Target, case: Case) -> None:
    """A milestone 0 starts the scheduler active at step 0 (2.13+), and crossing a milestone
    warns no epoch deprecation (2.9+)."""
    confirm("versions.sequential")
    milestones = case.args.get("milestones")
    if not (target.spec and accepts(target.obj, "milestones") and milestones):
        return
    if versions.holds("sequential_milestone_zero"):
        zero = Case(case.lrs, {**case.args, "milestones": [0, *milestones[1:]]}, 0,
                    None, case.optim)
        want = target.spec.oracle(zero.lrs, zero.args).trajectory(0)[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = Run(target, zero).lrs()
        for g, (a, b) in enumerate(zip(got, want, strict=True)):
            if abs(a - b) > 4 * ulp(max(abs(b), zero.lrs[g])):
                raise _entry_fail("sequential_milestone_zero", f"with milestones "
                                  f"{zero.args['milestones']}, param group {g} starts at {a!r}, "
                                  f"expected {b!r} (the scheduler active at step 0)", target,
                                  zero, [f"print(opt.param_groups[{g}]['lr'])"],
                                  group=g, expected=b, actual=a)
    if versions.holds("sequential_switch_without_step"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = Run(target, case)
        steps = max(case.steps, max(milestones) + 1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(steps):
                run.opt.step()
                run.step()
        epoch = [str(w.message) for w in caught if "epoch parameter" in str(w.message)]
        if epoch:
            raise _entry_fail("sequential_switch_without_step", "crossing a milestone warned "
                              f"the epoch deprecation ({epoch[0][:60]}...): the next scheduler "
                              "is set with step(0), not _update_lr(0)", target, case,
                              ["import warnings", "warnings.simplefilter('always')",
                               f"for i in range({steps}):", "    opt.step()", "    sched.step()"],
                              actual=epoch)


def _callables(obj: Any, path: str = "state_dict") -> str | None:
    """The path of the first function, method or weak reference inside a state_dict."""
    kinds = (types.FunctionType, types.MethodType, types.BuiltinFunctionType,
             functools.partial, weakref.ref)
    if isinstance(obj, kinds):
        return f"{path} ({type(obj).__name__})"
    items = (obj.items() if isinstance(obj, dict)
             else enumerate(obj) if isinstance(obj, (list, tuple)) else ())
    for key, value in items:
        found = _callables(value, f"{path}[{key!r}]")
        if found:
            return found
    return None


@check("versions.cyclic", "momentum", "torch_class")
def cyclic(target: Target, case: Case) -> None:
    """A momentum-cycling target can be deep-copied (2.1+), builds on Adam (2.3+), and saves no
    function in its state_dict where torch's saves none (CyclicLR 2.2+, OneCycleLR 2.4+)."""
    confirm("versions.cyclic")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sched = start(target, case).sched
    except ValueError as exc:
        if case.optim == "adam" and versions.holds("cyclic_beta1"):
            raise _entry_fail("cyclic_beta1", f"building on Adam raised ValueError: {exc}; "
                              "torch cycles betas[0] instead of momentum", target, case,
                              []) from None
        raise
    if versions.holds("cyclic_deepcopy"):
        try:
            copy.deepcopy(sched)
        except Exception as exc:
            raise _entry_fail("cyclic_deepcopy", f"copy.deepcopy(scheduler) raised "
                              f"{type(exc).__name__}: {exc}", target, case,
                              ["import copy", "copy.deepcopy(sched)"]) from None
    entry = {"CyclicLR": "cyclic_scale_fn_state", "OneCycleLR": "onecycle_anneal_string"}.get(
        target.spec.name if target.spec else "", "onecycle_anneal_string")
    if versions.holds(entry):
        found = _callables(sched.state_dict())
        if found:
            raise _entry_fail(entry, f"state_dict() holds {found}; torch's saves plain data "
                              "(weights_only loading refuses functions)", target, case,
                              ["print(sched.state_dict())"], actual=found)
