"""Every version-dependent behaviour of torch's schedulers, declared once: its catalogue entry
(the range of versions that has it, what the source says, what it concerns, the check that
confirms it) next to its probe, a few lines on torch's own classes (the snippets of the research
notes) that answer True when the running torch shows it.

conformance/versions.json is generated from here, for the tools that read the catalogue without
torch: after an edit, `python -m conformance.versions.probes` rewrites it (tests/test_versions.py
fails while it differs). Importing this module imports no torch; running a probe does.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import io
import json
import types
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from conformance import versions
from conformance.harness import quiet

ABOUT = (
    "Version-dependent behaviour of torch's LR schedulers, torch 2.0 to 2.15, generated from "
    "conformance/versions/probes.py, which declares each entry next to its probe: edit it there, "
    "then run `python -m conformance.versions.probes`. One entry a behaviour: 'since' is the "
    "first minor release that has it, 'until' the last (absent: still current); versions are "
    "compared as MAJOR.MINOR. 'says' quotes the documentation or source of the first version "
    "with it (file:line as in that wheel); 'before' is the behaviour outside the range. 'check' "
    "is the versions.* check that confirms the running torch (and the target) behave as "
    "catalogued. 'concerns' names the targets the behaviour is about, in the suite's words: "
    "capability flags (the spec's, such as metrics or momentum, and the target's claims, such "
    "as lr_scheduler or state_dict) and schedules (spec names); an entry concerns a target that "
    "has one of them, and the checks hold a target only to the entries that concern it. "
    "'explains' lists the '[Target] check-id' results of the main catalogue that differ on "
    "versions outside the range (or inside it, when 'explains_where' is 'inside'): the matrix "
    "shows them as catalogued differences.")


@dataclass(frozen=True, eq=False)
class Behaviour:
    """One behaviour: its catalogue entry as versions.json writes it, and its probe (named as
    the entry)."""

    probe: Callable[[], bool]
    raw: dict[str, Any]

    @property
    def id(self) -> str:
        return self.probe.__name__

    @property
    def entry(self) -> versions.Entry:
        """The entry of the packaged catalogue (the one the rest of the suite reads)."""
        try:
            return versions.entries()[self.id]
        except KeyError:
            raise versions.CatalogueError(
                f"{self.id} is not in {versions.CATALOGUE}: regenerate it with "
                "`python -m conformance.versions.probes`") from None

    def holds(self, version: str | None = None) -> bool:
        """Whether torch `version` (default: the running one) has this behaviour."""
        return self.entry.holds(version)


#: Entry id -> its behaviour, in catalogue order.
BEHAVIOURS: dict[str, Behaviour] = {}


def behaviour(*, since: str, until: str | None = None, check: str, concerns: Sequence[str],
              title: str, says: str, before: str, explains: Sequence[str] = (),
              explains_where: str | None = None) -> Callable[[Callable[[], bool]], Behaviour]:
    """Declare the probe below as a catalogue entry (the fields of versions.json)."""

    def add(probe: Callable[[], bool]) -> Behaviour:
        raw: dict[str, Any] = {"id": probe.__name__, "since": since}
        if until is not None:
            raw["until"] = until
        raw |= {"check": check, "concerns": list(concerns), "title": title, "says": says,
                "before": before}
        if explains:
            raw["explains"] = list(explains)
        if explains_where is not None:
            raw["explains_where"] = explains_where
        if probe.__name__ in BEHAVIOURS:
            raise versions.CatalogueError(f"duplicate entry id {probe.__name__!r}")
        BEHAVIOURS[probe.__name__] = found = Behaviour(probe, raw)
        return found

    return add


# -- the probes' helpers (a reproducer of a probe pastes them in) ----------------------------
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


# -- versions.constructor: verbose, print_lr and the constructors' validation ---------------------
@behaviour(
    since="2.0", until="2.1", check="versions.constructor", concerns=["torch_class"],
    title="verbose=True prints every lr update to stdout",
    says="2.0.1 lr_scheduler.py:162 `self.print_lr(self.verbose, i, lr, epoch)` in "
         "LRScheduler.step, printing 'Adjusting learning rate of group {} to {:.4e}.'",
    before="2.2 deletes the print_lr calls: verbose=True prints nothing")
def verbose_prints() -> bool:
    from torch.optim.lr_scheduler import StepLR

    out = io.StringIO()
    with contextlib.redirect_stdout(out), quiet():
        try:
            StepLR(_opt(), step_size=1, verbose=True)  # type: ignore[call-arg]
        except TypeError:
            return False
    return "Adjusting learning rate" in out.getvalue()


@behaviour(
    since="2.2", until="2.6", check="versions.constructor", concerns=["torch_class"],
    title="any explicit verbose argument warns 'The verbose parameter is deprecated...'",
    says="2.2.2 lr_scheduler.py:25-31 `_check_verbose_deprecated_warning`: if verbose != "
         "'deprecated': warnings.warn('The verbose parameter is deprecated. Please use "
         "get_last_lr() to access the learning rate.', UserWarning); the docs: 'Deprecated since "
         "version 2.2: verbose is deprecated.'",
    before="2.0-2.1 accept verbose silently; 2.7 removes the parameter")
def verbose_deprecated() -> bool:
    from torch.optim.lr_scheduler import StepLR

    try:
        return _warned(lambda: StepLR(_opt(), step_size=1, verbose=False),  # type: ignore[call-arg]
                       "verbose parameter is deprecated")
    except TypeError:
        return False


@behaviour(
    since="2.7", check="versions.constructor", concerns=["torch_class"],
    title="the verbose parameter is gone: passing it raises TypeError, state_dict() has no "
          "'verbose'",
    says="2.7.1 lr_scheduler.py:79-83 `def __init__(self, optimizer: Optimizer, last_epoch: int = "
         "-1)`; every subclass drops verbose",
    before="2.0-2.6 accept verbose (keyword or positional) and store it in state_dict()")
def verbose_removed() -> bool:
    from torch.optim.lr_scheduler import StepLR

    with quiet():
        return _raises(lambda: StepLR(_opt(), step_size=1, verbose=False),  # type: ignore[call-arg]
                       TypeError) and "verbose" not in StepLR(_opt(), 1).state_dict()


@behaviour(
    since="2.4", until="2.6", check="versions.constructor", concerns=["lr_scheduler"],
    title="LRScheduler.print_lr() warns that it is being deprecated (and still prints)",
    says="2.4.1 lr_scheduler.py:173-199 warnings.warn('`LRScheduler.print_lr()` is being "
         "deprecated. To fetch the learning rate, please use `get_last_lr()` instead. ...', "
         "UserWarning)",
    before="2.0-2.3 print silently; 2.7 removes the method")
def print_lr_deprecated() -> bool:
    from torch.optim.lr_scheduler import StepLR

    sched = StepLR(_opt(), step_size=1)
    if not hasattr(sched, "print_lr"):
        return False
    with contextlib.redirect_stdout(io.StringIO()):
        return _warned(lambda: sched.print_lr(True, 0, 0.1), "print_lr()` is being deprecated")


@behaviour(
    since="2.7", check="versions.constructor", concerns=["lr_scheduler"],
    title="LRScheduler has no print_lr() method",
    says="2.7.1: the 2.6.0 -> 2.7.1 diff removes LRScheduler.print_lr",
    before="2.0-2.6 have print_lr(is_verbose, group, lr, epoch=None)")
def print_lr_removed() -> bool:
    from torch.optim.lr_scheduler import LRScheduler

    return not hasattr(LRScheduler, "print_lr")


@behaviour(
    since="2.5", check="versions.constructor",
    concerns=["CosineAnnealingLR", "CosineAnnealingWarmRestarts"],
    title="the default eta_min is the float 0.0",
    says="2.5.1 lr_scheduler.py:1077 and :1744 `eta_min: float = 0.0`",
    before="2.0-2.4 default to the int 0 (state_dict()['eta_min'] is an int)")
def eta_min_float() -> bool:
    from torch.optim.lr_scheduler import CosineAnnealingLR, CosineAnnealingWarmRestarts

    return all(type(inspect.signature(c).parameters["eta_min"].default) is float
               for c in (CosineAnnealingLR, CosineAnnealingWarmRestarts))


@behaviour(
    since="2.1", check="versions.constructor", concerns=["CosineAnnealingWarmRestarts"],
    title="a non-number eta_min raises ValueError at construction",
    says="2.1.2 lr_scheduler.py:1362-1363 `if not isinstance(eta_min, (float, int)): raise "
         "ValueError(f'Expected float or int eta_min, but got {eta_min} of type {type(eta_min)}')`",
    before="2.0 accepts it (and fails later, in arithmetic)")
def warm_restarts_eta_min_type() -> bool:
    from torch.optim.lr_scheduler import CosineAnnealingWarmRestarts

    try:
        CosineAnnealingWarmRestarts(_opt(), T_0=2, eta_min="0")  # type: ignore[arg-type]
    except ValueError:
        return True
    except TypeError:  # 2.0: no check; the constructor's step fails in arithmetic
        return False
    return False


@behaviour(
    since="2.8", check="versions.constructor", concerns=["MultiplicativeLR"],
    title="a non-callable lr_lambda raises TypeError at construction",
    says="2.8.0 lr_scheduler.py:416-420 `if not callable(lr_lambda): raise TypeError(f'lr_lambda "
         "should be a function, but got {type(lr_lambda).__name__}')`",
    before="2.0-2.7 fail only at the first step() ('float' object is not callable)")
def multiplicative_callable_check() -> bool:
    from torch.optim.lr_scheduler import MultiplicativeLR

    return _raises(lambda: MultiplicativeLR(_opt(), 0.5), TypeError)  # type: ignore[arg-type]


# -- versions.step_tracking: how the scheduler tracks optimizer.step ------------------------------
@behaviour(
    since="2.0", until="2.3", check="versions.step_tracking", concerns=["torch_warnings"],
    title="the scheduler wraps optimizer.step in a counter: optimizer.step._with_counter, "
          "optimizer._step_count",
    says="2.0.1 lr_scheduler.py:51-85: `wrapper._with_counter = True`, `instance._step_count += "
         "1`; step() warns when `self.optimizer._step_count < 1`",
    before="2.4 replaces the counter by the _opt_called flag")
def step_counter_wrapper() -> bool:
    from torch.optim.lr_scheduler import StepLR

    opt = _opt()
    StepLR(opt, step_size=1)
    marked = getattr(opt.step, "_with_counter", False)
    opt.step()
    return bool(marked) and getattr(opt, "_step_count", 0) == 1


@behaviour(
    since="2.4", check="versions.step_tracking", concerns=["torch_warnings"],
    title="the scheduler marks optimizer.step with _wrapped_by_lr_sched and records a call in "
          "optimizer._opt_called",
    says="2.4.1 lr_scheduler.py:118-144: `if hasattr(opt.step, '_wrapped_by_lr_sched')`, "
         "`opt._opt_called = True`, `wrapper._wrapped_by_lr_sched = True`; step() warns when `not "
         "getattr(self.optimizer, '_opt_called', False)`",
    before="2.0-2.3 count calls in optimizer._step_count (marker _with_counter)")
def opt_called_flag() -> bool:
    from torch.optim.lr_scheduler import StepLR

    opt = _opt()
    StepLR(opt, step_size=1)
    marked = hasattr(opt.step, "_wrapped_by_lr_sched")
    opt.step()
    return marked and getattr(opt, "_opt_called", False) is True


@behaviour(
    since="2.0", until="2.3", check="versions.step_tracking", concerns=["torch_warnings"],
    title="a scheduler built after optimizer.step() has run warns 'Detected call of "
          "lr_scheduler.step() before optimizer.step()' at its first step",
    says="2.0.1 lr_scheduler.py:83 `self.optimizer._step_count = 0` in _initial_step, on every "
         "scheduler's construction",
    before="2.4 never resets the _opt_called flag: no warning")
def new_scheduler_resets_count() -> bool:
    from torch.optim.lr_scheduler import ExponentialLR, StepLR

    opt = _opt()
    first = StepLR(opt, step_size=1)
    opt.step()
    first.step()
    second = ExponentialLR(opt, gamma=0.9)  # built after optimizer.step() has run
    return _warned(second.step, "before `optimizer.step()`")


@behaviour(
    since="2.4", until="2.4", check="versions.step_tracking", concerns=["torch_warnings"],
    title="the wrapped optimizer.step is named 'wrapper' (no functools.wraps)",
    says="2.4.1 lr_scheduler.py:126-133 `def wrapper(*args, **kwargs)` without @wraps",
    before="2.0-2.3 and 2.5 on use @wraps(func): the wrapper is named 'step'")
def step_wrapper_unnamed() -> bool:
    from torch.optim.lr_scheduler import StepLR

    opt = _opt()
    StepLR(opt, step_size=1)
    return bool(opt.step.__name__ == "wrapper")


@behaviour(
    since="2.10", check="versions.step_tracking", concerns=["torch_warnings"],
    title="the step-order and epoch warnings name the caller's file (stacklevel=2)",
    says="2.10.0 lr_scheduler.py:256-281 `warnings.warn(..., UserWarning, stacklevel=2)`",
    before="2.0-2.9 warn from torch/optim/lr_scheduler.py itself")
def order_warning_stacklevel() -> bool:
    from torch.optim.lr_scheduler import StepLR

    sched = StepLR(_opt(), step_size=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sched.step()  # before optimizer.step(): the order warning
    return bool(caught) and not caught[0].filename.endswith("lr_scheduler.py")


@behaviour(
    since="2.4", check="versions.step_tracking", concerns=["CosineAnnealingWarmRestarts"],
    title="CosineAnnealingWarmRestarts.step() leaves no reference cycle",
    says="2.4.1 lr_scheduler.py:1800 `with _enable_get_lr_call(self):`, the module's class "
         "(lr_scheduler.py:268)",
    before="2.0-2.3 define `class _enable_get_lr_call` inside step() (2.3.1 lr_scheduler.py:"
           "1511): a new class on every step, which the garbage collector must free (27 objects "
           "in cycles after 3 steps)",
    explains=["[CosineAnnealingWarmRestarts] api.no_reference_cycle"])
def warm_restarts_step_acyclic() -> bool:
    import gc

    from torch.optim.lr_scheduler import CosineAnnealingWarmRestarts

    opt = _opt()
    sched = CosineAnnealingWarmRestarts(opt, T_0=2)
    opt.step()
    enabled = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        for _ in range(3):
            sched.step()
        return gc.collect() == 0
    finally:
        if enabled:
            gc.enable()


# -- versions.plateau: ReduceLROnPlateau ----------------------------------------------------------
@behaviour(
    since="2.2", check="versions.plateau", concerns=["ReduceLROnPlateau"],
    title="ReduceLROnPlateau subclasses LRScheduler (without calling its __init__: no initial_lr, "
          "no wrapped optimizer.step)",
    says="2.2.2 lr_scheduler.py:953 `class ReduceLROnPlateau(LRScheduler):`; its __init__ never "
         "calls super().__init__",
    before="2.0-2.1: a plain class, without get_last_lr()")
def plateau_is_lrscheduler() -> bool:
    from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau

    opt = _opt()
    step = opt.step
    ReduceLROnPlateau(opt)
    # A subclass that never runs LRScheduler.__init__: no initial_lr, optimizer.step untouched.
    return (issubclass(ReduceLROnPlateau, LRScheduler) and "initial_lr" not in opt.param_groups[0]
            and opt.step == step)


@behaviour(
    since="2.3", check="versions.plateau", concerns=["metrics"],
    title="ReduceLROnPlateau.get_last_lr() works right after construction",
    says="2.3.1 lr_scheduler.py:1047 `self._last_lr = [group['lr'] for group in "
         "self.optimizer.param_groups]` in __init__",
    before="2.2 raises AttributeError ('_last_lr') before the first step; 2.0-2.1 have no "
           "get_last_lr()")
def plateau_last_lr_at_init() -> bool:
    from torch.optim.lr_scheduler import ReduceLROnPlateau

    try:
        return bool(ReduceLROnPlateau(_opt(lr=0.5)).get_last_lr() == [0.5])
    except AttributeError:
        return False


@behaviour(
    since="2.6", check="versions.plateau", concerns=["metrics"],
    title="a param group added after construction gets a scalar min_lr (a list min_lr raises "
          "RuntimeError)",
    says="2.6.0 lr_scheduler.py:1390-1403: `if len(self.optimizer.param_groups) != "
         "len(self.min_lrs): if self.default_min_lr is None: raise RuntimeError(...) else: "
         "self.min_lrs = [self.default_min_lr] * len(...)`",
    before="2.0-2.5 raise IndexError when a reduction reaches the new group")
def plateau_new_group_min_lr() -> bool:
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
    return [float(g["lr"]) for g in opt.param_groups] == [0.1, 0.2]


@behaviour(
    since="2.9", check="versions.plateau", concerns=["ReduceLROnPlateau"],
    title="is_better() is private: _is_better()",
    says="2.9.1 lr_scheduler.py:1392 `def _is_better(self, a, best):` (no alias)",
    before="2.0-2.8 have the public is_better()")
def plateau_is_better_private() -> bool:
    from torch.optim.lr_scheduler import ReduceLROnPlateau

    sched = ReduceLROnPlateau(_opt())
    return hasattr(sched, "_is_better") and not hasattr(sched, "is_better")


@behaviour(
    since="2.10", check="versions.plateau", concerns=["metrics"],
    title="a reduction updates a Tensor lr in place",
    says="2.10.0 lr_scheduler.py:1738 `_update_param_group_val(param_group, 'lr', new_lr)` (fill_ "
         "into a Tensor)",
    before="2.0-2.9 replace the Tensor by a float")
def plateau_tensor_lr_in_place() -> bool:
    import torch
    from torch.optim.lr_scheduler import ReduceLROnPlateau

    lr = torch.tensor(1.0, dtype=torch.float64)
    opt = _opt(lr=lr)
    sched = ReduceLROnPlateau(opt, patience=0)
    sched.step(1.0)
    sched.step(2.0)
    return opt.param_groups[0]["lr"] is lr and float(lr) == 0.1


# -- versions.torch_load: torch.load and what it accepts ------------------------------------------
def _saved(obj: Any) -> io.BytesIO:
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return buf


@behaviour(
    since="2.6", check="versions.torch_load", concerns=["state_dict"],
    title="torch.load defaults to weights_only=True: a state_dict holding a function or method no "
          "longer loads",
    says="2.6.0 serialization.py:101-103 `_default_to_weights_only` and :1375-1378 `if "
         "weights_only_not_set: weights_only = _default_to_weights_only(pickle_module)`",
    before="2.0-2.5 default to weights_only=False")
def load_weights_only_default() -> bool:
    import torch

    with quiet():
        return _raises(lambda: torch.load(_saved({"anneal_func": print})), Exception)


@behaviour(
    since="2.4", until="2.5", check="versions.torch_load", concerns=["state_dict"],
    title="torch.load without weights_only warns FutureWarning that the default will flip",
    says="2.4.1 serialization.py:1025-1052: FutureWarning 'You are using `torch.load` with "
         "`weights_only=False` (the current default value), ...'",
    before="2.0-2.3 load silently; 2.6 flips the default")
def load_future_warning() -> bool:
    import torch

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.load(_saved({"lr": 0.1}))
    return any(issubclass(w.category, FutureWarning) and "weights_only" in str(w.message)
               for w in caught)


@behaviour(
    since="2.4", check="versions.torch_load", concerns=["MultiStepLR"],
    title="weights_only loading allows collections.Counter (MultiStepLR's milestones)",
    says='2.4.1 _weights_only_unpickler.py:128 `"collections.Counter": Counter,`',
    before="2.0-2.3 refuse a MultiStepLR state_dict (and a SequentialLR or ChainedScheduler one "
           "holding it) with weights_only=True",
    explains=["[MultiStepLR] state_dict.weights_only_roundtrip",
              "[SequentialLR] state_dict.weights_only_roundtrip",
              "[ChainedScheduler] state_dict.weights_only_roundtrip"])
def load_counter_allowed() -> bool:
    import torch

    return not _raises(lambda: torch.load(_saved({"milestones": Counter([2, 4])}),
                                          weights_only=True), Exception)


@behaviour(
    since="2.10", check="versions.torch_load", concerns=["SWALR"],
    title="SWALR's state_dict() holds the anneal strategy as a string, not the anneal function",
    says="2.10.0 swa_utils.py:520-549: `self._anneal_strategy = anneal_strategy`; state_dict() "
         "leaves out 'optimizer' and 'anneal_func'",
    before="2.0-2.9 save 'anneal_func' (a function): weights_only loading refuses it, and from "
           "2.6 so does plain torch.load",
    explains=["[SWALR] state_dict.weights_only_roundtrip", "[SWALR] versions.torch_load"])
def swalr_strategy_in_state() -> bool:
    from torch.optim.swa_utils import SWALR

    state = SWALR(_opt(), swa_lr=0.1, anneal_strategy="linear").state_dict()
    return state.get("_anneal_strategy") == "linear" and "anneal_func" not in state


# -- versions.cyclic: CyclicLR and OneCycleLR -----------------------------------------------------
def _onecycle_state() -> dict[str, Any]:
    from torch.optim.lr_scheduler import OneCycleLR

    return OneCycleLR(_opt(), max_lr=1.0, total_steps=10).state_dict()


@behaviour(
    since="2.1", check="versions.cyclic", concerns=["OneCycleLR"],
    title="OneCycleLR holds no bound method of itself: no reference cycle, and its state_dict is "
          "a snapshot",
    says="2.1.2 lr_scheduler.py:1681-1682 `@staticmethod def _annealing_cos(start, end, pct)`: "
         "self.anneal_func is a plain function",
    before="2.0: self.anneal_func = self._annealing_cos, a bound method: a cycle scheduler -> "
           "method -> scheduler keeps the optimizer alive without gc, and the state_dict holds "
           "the live scheduler",
    explains=["[OneCycleLR] api.no_reference_cycle", "[OneCycleLR] state_dict.snapshot"])
def onecycle_no_bound_method() -> bool:
    return not isinstance(_onecycle_state().get("anneal_func"), types.MethodType)


@behaviour(
    since="2.1", until="2.3", check="versions.cyclic", concerns=["OneCycleLR"],
    title="OneCycleLR's state_dict()['anneal_func'] is a plain function (staticmethod)",
    says="2.1.2 lr_scheduler.py:1681-1682 `@staticmethod def _annealing_cos(start, end, pct)`",
    before="2.0 saves a bound method (the scheduler itself inside); 2.4 saves a string")
def onecycle_anneal_function() -> bool:
    return type(_onecycle_state().get("anneal_func")) is types.FunctionType


@behaviour(
    since="2.4", check="versions.cyclic", concerns=["OneCycleLR"],
    title="OneCycleLR's state_dict() names its anneal strategy by a string, '_anneal_func_type'",
    says="2.4.1 lr_scheduler.py:2021 `self._anneal_func_type = anneal_strategy` and :2057-2066 "
         "`_anneal_func` dispatch",
    before="2.0-2.3 save the function in 'anneal_func': weights_only loading refuses it",
    explains=["[OneCycleLR] state_dict.weights_only_roundtrip"])
def onecycle_anneal_string() -> bool:
    state = _onecycle_state()
    return state.get("_anneal_func_type") == "cos" and "anneal_func" not in state


def _cyclic(**kwargs: Any) -> Any:
    from torch.optim.lr_scheduler import CyclicLR

    return CyclicLR(_opt(), base_lr=0.1, max_lr=1.0, **kwargs)


@behaviour(
    since="2.1", check="versions.cyclic", concerns=["momentum"],
    title="a CyclicLR can be deep-copied (no WeakMethod inside)",
    says="2.1.2 lr_scheduler.py:1238 `self._scale_fn_ref = self._triangular_scale_fn` (was "
         "`weakref.WeakMethod(...)`)",
    before="2.0: copy.deepcopy(CyclicLR(...)) raises TypeError: cannot pickle 'WeakMethod' object")
def cyclic_deepcopy() -> bool:
    return not _raises(lambda: copy.deepcopy(_cyclic()), TypeError)


@behaviour(
    since="2.2", check="versions.cyclic", concerns=["CyclicLR"],
    title="CyclicLR's state_dict() saves a custom scale_fn as None (a function) or its __dict__ "
          "(a callable object)",
    says="2.2.2 lr_scheduler.py:1366-1385: `fn = state.pop('_scale_fn_custom'); "
         "state['_scale_fn_custom'] = None; if fn is not None and not isinstance(fn, "
         "types.FunctionType): state['_scale_fn_custom'] = fn.__dict__.copy()`",
    before="2.0-2.1 save the scale_fn object itself")
def cyclic_scale_fn_state() -> bool:
    return _cyclic(scale_fn=lambda x: 1.0).state_dict()["_scale_fn_custom"] is None


@behaviour(
    since="2.3", check="versions.cyclic", concerns=["momentum"],
    title="CyclicLR cycles betas[0] of an optimizer without momentum (Adam)",
    says="2.3.1 lr_scheduler.py:1278-1292: `if 'momentum' not in optimizer.defaults and 'betas' "
         "not in optimizer.defaults: raise ValueError(...)`, `self.use_beta1 = 'betas' in "
         "self.optimizer.defaults`",
    before="2.0-2.2 raise ValueError('optimizer must support momentum with `cycle_momentum` "
           "option enabled') for Adam")
def cyclic_beta1() -> bool:
    from torch.optim.lr_scheduler import CyclicLR

    opt = _opt(adam=True)
    try:
        CyclicLR(opt, base_lr=0.1, max_lr=1.0, step_size_up=2)
    except ValueError:
        return False
    return bool(opt.param_groups[0]["betas"][0] == 0.9)  # max_momentum at step 0


@behaviour(
    since="2.4", check="versions.cyclic", concerns=["CyclicLR", "OneCycleLR", "SWALR"],
    title="a per-group argument of the wrong length raises ValueError '{name} must have the same "
          "length as optimizer.param_groups...'",
    says="2.4.1 lr_scheduler.py:69-82 `_format_param`: f'{name} must have the same length as "
         "optimizer.param_groups. {name} has {len(param)} values, param_groups has "
         "{len(optimizer.param_groups)}.'",
    before="2.0-2.3: 'expected {n} values for {name}, got {m}'")
def per_group_length_message() -> bool:
    from torch.optim.lr_scheduler import CyclicLR

    try:
        CyclicLR(_opt(), base_lr=[0.1, 0.2], max_lr=1.0)  # one group, two values
    except ValueError as exc:
        return "must have the same length as optimizer.param_groups" in str(exc)
    return False


# -- versions.initial_step: the constructor's step and resuming -----------------------------------
@behaviour(
    since="2.8", check="versions.initial_step", concerns=["lr_scheduler"],
    title="the constructor's step runs with _is_initial set; _is_initial is False after it and is "
          "saved in state_dict()",
    says="2.8.0 lr_scheduler.py:86 `_is_initial: bool = False`, :143-147 `with "
         "_initial_mode(self): self.step()`, :255-263 `class _initial_mode`",
    before="2.0-2.7 have no _is_initial; get_lr() tells the initial step by last_epoch == 0")
def is_initial() -> bool:
    from torch.optim.lr_scheduler import StepLR

    sched = StepLR(_opt(), step_size=1)
    state = sched.state_dict()
    return vars(sched).get("_is_initial") is False and state.get("_is_initial") is False


def _resumed(make: Callable[[Any], Any]) -> float:
    opt = _opt()
    opt.param_groups[0]["initial_lr"] = 1.0  # as after loading an optimizer checkpoint
    with quiet():
        make(opt)
    return float(opt.param_groups[0]["lr"])


@behaviour(
    since="2.8", check="versions.initial_step",
    concerns=["MultiplicativeLR", "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR"],
    title="constructing with last_epoch=k >= 0 leaves the groups' lrs as they are",
    says="2.8.0: get_lr() guards become `if self._is_initial` (ExponentialLR :799, "
         "CosineAnnealingLR :1089, MultiplicativeLR :468, LinearLR :733, PolynomialLR :1003)",
    before="2.0-2.7 apply one chainable update on resume (ExponentialLR(last_epoch=2) multiplies "
           "by gamma once more)")
def resume_without_extra_step() -> bool:
    from torch.optim.lr_scheduler import CosineAnnealingLR, ExponentialLR

    return (_resumed(lambda o: ExponentialLR(o, 0.5, last_epoch=2)) == 1.0
            and _resumed(lambda o: CosineAnnealingLR(o, T_max=4, last_epoch=2)) == 1.0)


@behaviour(
    since="2.8", check="versions.initial_step", concerns=["CosineAnnealingWarmRestarts"],
    title="step() wraps T_cur with a modulo: resuming far past T_0 lands on the documented cycle "
          "position",
    says="2.8.0 lr_scheduler.py:1824 `self.T_cur = self.T_cur % self.T_i`",
    before="2.0-2.7 subtract one period (`self.T_cur = self.T_cur - self.T_i`): last_epoch=7, "
           "T_0=3 gives T_cur 5")
def warm_restarts_modulo() -> bool:
    from torch.optim.lr_scheduler import CosineAnnealingWarmRestarts

    seen: list[Any] = []
    _resumed(lambda o: seen.append(CosineAnnealingWarmRestarts(o, T_0=3, last_epoch=7)))
    return bool(seen[0].T_cur == 2)


@behaviour(
    since="2.8", check="versions.initial_step", concerns=["MultiplicativeLR"],
    title="MultiplicativeLR.step(0) multiplies by lr_lambda(0)",
    says="2.8.0 lr_scheduler.py:468 `if not self._is_initial:` (was `if self.last_epoch > 0:`)",
    before="2.0-2.7: step(0) leaves the lr")
def multiplicative_epoch_zero() -> bool:
    from torch.optim.lr_scheduler import MultiplicativeLR

    opt = _opt()
    sched = MultiplicativeLR(opt, lambda e: 0.5)
    opt.step()
    with quiet():
        sched.step(0)
    return bool(opt.param_groups[0]["lr"] == 0.5)


@behaviour(
    since="2.10", check="versions.initial_step", concerns=["last_epoch"],
    title="the KeyError for a missing initial_lr says '...when resuming scheduler with last_epoch "
          ">= 0' and why",
    says="2.10.0 lr_scheduler.py:139-144 KeyError(\"param 'initial_lr' is not specified in "
         "param_groups[{i}] when resuming scheduler with last_epoch >= 0.\\nThis typically "
         'happens when: ...")',
    before='2.0-2.9: "... when resuming an optimizer"')
def initial_lr_message() -> bool:
    from torch.optim.lr_scheduler import StepLR

    try:
        StepLR(_opt(), step_size=1, last_epoch=3)
    except KeyError as exc:
        return "when resuming scheduler with last_epoch >= 0" in str(exc)
    return False


# -- versions.tensor_lr: Tensor lrs ---------------------------------------------------------------
def _tensor_step(make: Callable[[Any], Any]) -> tuple[Any, Any, Any]:
    """A scheduler on a Tensor lr after one step: (the original tensor, the group, scheduler)."""
    import torch

    lr = torch.tensor(1.0, dtype=torch.float64)
    opt = _opt(lr=lr)
    with quiet():
        sched = make(opt)
        opt.step()
        sched.step()
    return lr, opt.param_groups[0], sched


@behaviour(
    since="2.4", check="versions.tensor_lr", concerns=["lr_scheduler"],
    title="a Tensor lr in a param group is updated in place (fill_): the group keeps its tensor",
    says="2.4.1 lr_scheduler.py:239-245 `if isinstance(param_group['lr'], Tensor): ... "
         "param_group['lr'].fill_(lr_val)`",
    before="2.0-2.3 replace the group's lr by a new object")
def tensor_lr_in_place() -> bool:
    from torch.optim.lr_scheduler import StepLR

    lr, group, _ = _tensor_step(lambda o: StepLR(o, step_size=1, gamma=0.5))
    return group["lr"] is lr and float(lr) == 0.5


@behaviour(
    since="2.10", check="versions.tensor_lr", concerns=["lr_scheduler"],
    title="get_last_lr() and base_lrs hold copies (clones) of Tensor lrs, not the groups' live "
          "tensors",
    says="2.10.0 lr_scheduler.py:72-80 `_param_groups_val_list`: `group[key].clone() if "
         "isinstance(group[key], Tensor) else group[key]`, used for base_lrs (:145) and _last_lr "
         "(:299)",
    before="2.4-2.9 return the live tensors, which later steps change in place")
def last_lr_copies() -> bool:
    from torch.optim.lr_scheduler import StepLR

    _, group, sched = _tensor_step(lambda o: StepLR(o, step_size=1, gamma=0.5))
    return sched.get_last_lr()[0] is not group["lr"] and sched.base_lrs[0] is not group.get(
        "initial_lr")


@behaviour(
    since="2.10", check="versions.tensor_lr", concerns=["lr_scheduler"],
    title="per-group values are zipped with strict=True: a param group added after construction "
          "raises ValueError where a per-group list is used",
    says="2.10.0 lr_scheduler.py:296 `zip(self.optimizer.param_groups, values, strict=True)`, "
         ":466 `zip(self.lr_lambdas, self.base_lrs, strict=True)`",
    before="2.0-2.9 silently skip the extra group (LambdaLR leaves its lr)")
def zip_strict() -> bool:
    import torch
    from torch.optim.lr_scheduler import LambdaLR

    opt = _opt()
    sched = LambdaLR(opt, lambda e: 0.5**e)
    opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 2.0})
    opt.step()
    return _raises(sched.step, ValueError)


@behaviour(
    since="2.10", check="versions.tensor_lr", concerns=["CosineAnnealingWarmRestarts"],
    title="CosineAnnealingWarmRestarts updates a Tensor lr in place",
    says="2.10.0 lr_scheduler.py:2268 `_update_param_group_val(param_group, 'lr', lr)`",
    before="2.0-2.9 replace the tensor (`param_group['lr'] = lr`)")
def warm_restarts_tensor_lr_in_place() -> bool:
    from torch.optim.lr_scheduler import CosineAnnealingWarmRestarts

    lr, group, _ = _tensor_step(lambda o: CosineAnnealingWarmRestarts(o, T_0=4))
    return group["lr"] is lr


@behaviour(
    since="2.4", until="2.9", check="versions.tensor_lr", concerns=["SequentialLR"],
    title="SequentialLR makes a Tensor group lr the same object as initial_lr, and steps mutate it",
    says="2.9.1 lr_scheduler.py:890 `group['lr'] = group['initial_lr']` with in-place updates "
         "from 2.4 (lr_scheduler.py:241-243)",
    before="2.0-2.3 and 2.10 on keep them apart (2.10.0:1164 fills the lr tensor from initial_lr)",
    explains=["[SequentialLR] versions.tensor_lr"],
    explains_where="inside")
def sequential_tensor_alias() -> bool:
    import torch
    from torch.optim.lr_scheduler import ConstantLR, ExponentialLR, SequentialLR

    opt = _opt(lr=torch.tensor(1.0, dtype=torch.float64))
    with quiet():
        SequentialLR(opt, [ConstantLR(opt, factor=0.1, total_iters=2), ExponentialLR(opt, 0.9)],
                     milestones=[2])
    group = opt.param_groups[0]
    return group["lr"] is group["initial_lr"]


# -- versions.sequential: SequentialLR and ChainedScheduler ---------------------------------------
@behaviour(
    since="2.13", check="versions.sequential", concerns=["SequentialLR"],
    title="with a milestone 0, the scheduler active at step 0 is the one initialised",
    says="2.13.0 lr_scheduler.py:1168-1170 `idx = bisect_right(self._milestones, 0); "
         "self._schedulers[idx]._initial_step(); self._last_lr = schedulers[idx].get_last_lr()`",
    before="2.0-2.12 always initialise schedulers[0]: the lrs start from the first scheduler's",
    explains=["[SequentialLR] oracle.agreement",
              "[SequentialLR] chain.external_change",
              "[SequentialLR] chain.chained_scheduler"])
def sequential_milestone_zero() -> bool:
    from torch.optim.lr_scheduler import ConstantLR, ExponentialLR, SequentialLR

    opt = _opt()
    with quiet():
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


@behaviour(
    since="2.9", check="versions.sequential", concerns=["SequentialLR"],
    title="at a milestone the next scheduler is set with _update_lr(0): no epoch deprecation "
          "warning, no step count",
    says="2.9.1 lr_scheduler.py:919 `scheduler._update_lr(0)`",
    before="2.0-2.8 call `scheduler.step(0)`, which warns the epoch deprecation text at every "
           "milestone",
    explains=["[SequentialLR] warnings.silent_in_correct_use"])
def sequential_switch_without_step() -> bool:
    return not _warned(_sequential_switch(), "The epoch parameter")


@behaviour(
    since="2.6", check="versions.sequential", concerns=["SequentialLR", "ChainedScheduler"],
    title="SequentialLR accepts nested containers (a ChainedScheduler child): its undo recurses",
    says="2.6.0 lr_scheduler.py:911 `self.recursive_undo()` and :918-924",
    before="2.0-2.5 raise AttributeError: 'ChainedScheduler' object has no attribute 'last_epoch'")
def sequential_recursive_undo() -> bool:
    from torch.optim.lr_scheduler import ChainedScheduler, ConstantLR, ExponentialLR, SequentialLR
    from torch.optim.lr_scheduler import StepLR as Step

    opt = _opt()
    with quiet():
        inner = ChainedScheduler([ConstantLR(opt, factor=0.5, total_iters=2),
                                  ExponentialLR(opt, 0.9)])
        return not _raises(lambda: SequentialLR(opt, [inner, Step(opt, 1)], milestones=[3]),
                           AttributeError)


@behaviour(
    since="2.4", check="versions.sequential", concerns=["SequentialLR", "ChainedScheduler"],
    title="SequentialLR and ChainedScheduler refuse a ReduceLROnPlateau child and an empty list "
          "with ValueError",
    says="2.4.1 lr_scheduler.py:846-876: `if isinstance(scheduler, ReduceLROnPlateau): raise "
         "ValueError(f'{cls} does not support `ReduceLROnPlateau` scheduler ...')`",
    before="2.0-2.3 accept a ReduceLROnPlateau child; ChainedScheduler([]) raises IndexError")
def container_validation() -> bool:
    from torch.optim.lr_scheduler import ExponentialLR, ReduceLROnPlateau, SequentialLR

    opt = _opt()
    with quiet():
        return _raises(lambda: SequentialLR(opt, [ExponentialLR(opt, 0.9),
                                                  ReduceLROnPlateau(opt)], [2]), ValueError)


@behaviour(
    since="2.4", check="versions.sequential", concerns=["ChainedScheduler"],
    title="ChainedScheduler takes an optional optimizer: ChainedScheduler(schedulers, "
          "optimizer=None), and has .optimizer",
    says="2.4.1 lr_scheduler.py:1125-1151 `def __init__(self, schedulers, optimizer=None)`, "
         "`optimizer = optimizer or schedulers[0].optimizer`",
    before="2.0-2.3: ChainedScheduler(schedulers) only, without an optimizer attribute")
def chained_optimizer_argument() -> bool:
    from torch.optim.lr_scheduler import ChainedScheduler, ExponentialLR

    opt = _opt()
    if "optimizer" not in inspect.signature(ChainedScheduler).parameters:
        return False
    return ChainedScheduler([ExponentialLR(opt, 0.9)], optimizer=opt).optimizer is opt



# -- running the probes --------------------------------------------------------------------
@functools.cache
def observed(entry_id: str) -> bool:
    """The probe's answer on the running torch (torch-global: run once per process)."""
    return BEHAVIOURS[entry_id].probe()


def script(entry_id: str) -> str:
    """The probe of `entry_id` as a script that prints its answer (a reproducer)."""
    func = BEHAVIOURS[entry_id].probe
    source = inspect.getsource(func).splitlines()
    body = source[next(i for i, line in enumerate(source) if line.startswith("def ")):]
    lines = ["import contextlib, copy, inspect, io, types, warnings", "import torch",
             "from collections import Counter", ""]
    for helper in (_opt, _raises, _warned):
        lines += [*inspect.getsource(helper).splitlines(), ""]
    return "\n".join([*lines, *body, "", f"print({func.__name__}())"])


@functools.cache
def verbose_warning() -> str:
    """The deprecation warning of the running torch's verbose (2.2-2.6), provoked."""
    from torch.optim.lr_scheduler import StepLR

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        StepLR(_opt(), step_size=1, verbose=True)  # type: ignore[call-arg]
    return next(str(w.message) for w in caught if "verbose" in str(w.message))


# -- the catalogue file --------------------------------------------------------------------
def catalogue() -> str:
    """versions.json as declared here."""
    data = {"about": ABOUT, "entries": [b.raw for b in BEHAVIOURS.values()]}
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    versions.CATALOGUE.write_text(catalogue(), encoding="utf-8")
    print(f"wrote {versions.CATALOGUE} ({len(BEHAVIOURS)} entries)")
