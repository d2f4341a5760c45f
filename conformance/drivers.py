"""Drivers: how the suite builds, steps, reads, saves and restores a target of each scheduler
protocol, and how a reproducer writes each of those calls. Checks go through a driver (by way
of `conformance.harness.Run`), never through a target's own methods, so a new protocol is one
driver here and every check and reproducer works with it.

The oracle's convention is the same for every protocol: step 0 is what building the target
leaves in the optimizer's groups, step n what n of the protocol's steps leave.
"""

from __future__ import annotations

import functools
import inspect
import os
import tempfile
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

#: Names under which a constructor or a call takes the optimizer.
OPTIMIZER_NAMES = frozenset({"optimizer", "opt", "optim", "optimiser"})
#: Names under which a call takes a list of optimizers (speechbrain's plateau).
OPTIMIZERS_NAMES = frozenset({"optimizers", "optim_list", "opt_list"})
#: Names of a step counter: required, such an argument is never taken for a metric.
COUNTER_NAMES = frozenset({
    "epoch", "epochs", "num_updates", "num_update", "step", "steps", "step_num", "num_steps",
    "current_step", "current_epoch", "global_step", "iteration", "iterations", "it", "t",
    "n", "n_steps", "batch_iteration", "last_batch_iteration", "count",
})
#: Names of a wrapped scheduler, first in a wrapper's constructor.
SCHEDULER_NAMES = frozenset({"scheduler", "lr_scheduler", "schedule", "sched"})


class NoProtocol(Exception):
    """The target fits no protocol the suite drives (a usage error: one line, exit 4)."""


def parameters(obj: Any) -> list[inspect.Parameter]:
    """A callable's parameters, without `self` (empty when it has no signature)."""
    try:
        return list(inspect.signature(obj).parameters.values())
    except (TypeError, ValueError):
        return []


def _positional(obj: Any) -> list[inspect.Parameter]:
    return [p for p in parameters(obj)
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _required(p: inspect.Parameter) -> bool:
    return p.default is inspect.Parameter.empty


class Driver:
    """One protocol: how to build a target, advance it one step, read and save it, and the
    reproducer's line for each. Subclasses override what their protocol does differently."""

    #: The name --scheduler-protocol and a config's "protocol" key take.
    name: ClassVar[str] = ""
    #: The protocol in words, for not-applicable reasons ("timm's Scheduler protocol").
    title: ClassVar[str] = ""
    #: The protocol gives every param group its own lr (else one value for all groups).
    per_group: ClassVar[bool] = True
    #: The protocol's constructor takes the optimizer.
    takes_optimizer: ClassVar[bool] = True
    #: Each step takes a metric.
    metric: bool = False
    #: The protocol can set the schedule to any step directly (a counter, or step(epoch)).
    jumps: ClassVar[bool] = False

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    # -- building ------------------------------------------------------------------------
    def arguments(self, opt: Any, kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The constructor's positional and keyword arguments."""
        if not self.takes_optimizer:
            return (), kwargs
        first = next(iter(_positional(self.obj)), None)
        names = {p.name for p in parameters(self.obj)}
        if first is not None and first.name not in OPTIMIZER_NAMES and "optimizer" in names:
            return (), {"optimizer": opt, **kwargs}  # ChainedScheduler(schedulers, optimizer)
        if first is not None and first.name in kwargs:  # torch < 2.4: ChainedScheduler(schedulers)
            return (), kwargs
        return (opt,), kwargs

    def build(self, opt: Any, kwargs: dict[str, Any]) -> Any:
        args, kw = self.arguments(opt, kwargs)
        return self.obj(*args, **kw)

    def start(self, sched: Any, opt: Any) -> None:
        """What the protocol does right after building (nothing, for most)."""

    # -- stepping ------------------------------------------------------------------------
    def step(self, sched: Any, opt: Any, n: int, metric: float | None) -> None:
        """Step `n` (1, 2, ...): the protocol's call after the n-th optimizer step."""
        sched.step()

    def jump(self, sched: Any, opt: Any, n: float) -> None:
        """Set the schedule to step `n` directly."""
        raise NotImplementedError(f"{self.title} has no way to jump to a step")

    # -- state ---------------------------------------------------------------------------
    def saves(self, kind: type) -> bool:
        """Whether targets of type `kind` can save and restore their state."""
        return callable(getattr(kind, "state_dict", None)) and callable(
            getattr(kind, "load_state_dict", None))

    def save(self, sched: Any) -> Any:
        return sched.state_dict()

    def load(self, sched: Any, state: Any) -> None:
        sched.load_state_dict(state)

    # -- reproducer lines ------------------------------------------------------------------
    def prelude(self) -> list[str]:
        """Lines a reproducer needs before `build()` (imports, helpers)."""
        return []

    def build_lines(self, call: str) -> list[str]:
        """`build()`'s body after the optimizer: `call` is the constructor call's text."""
        return [f"sched = {call}"]

    def call_text(self, name: str, args: str, takes_by_name: bool) -> str:
        if not self.takes_optimizer:
            return f"{name}({args})"
        opt = "optimizer=opt" if takes_by_name else "opt"
        return f"{name}({', '.join(p for p in (opt, args) if p)}"  + ")"

    def step_lines(self, n: str, metric: str, kwargs: Mapping[str, Any]) -> list[str]:
        """The protocol's step `n` (an expression), with `metric` (an expression) where it
        takes one."""
        return ["sched.step()"]

    def jump_lines(self, n: str, kwargs: Mapping[str, Any]) -> list[str]:
        return [f"sched.step({n})"]

    def save_text(self) -> str:
        return "sched.state_dict()"

    def load_lines(self, target: str, state: str) -> list[str]:
        return [f"{target}.load_state_dict({state})"]


class Torch(Driver):
    """torch's LRScheduler and look-alikes: `sched.step()` after each optimizer step."""

    name = "torch"
    title = "torch's LRScheduler protocol"

    def jump(self, sched: Any, opt: Any, n: float) -> None:
        sched.step(n)


class Metric(Driver):
    """ReduceLROnPlateau and look-alikes: `sched.step(metric)`."""

    name = "metric"
    title = "the metric-driven step(metric) protocol"
    metric = True

    def step(self, sched: Any, opt: Any, n: int, metric: float | None) -> None:
        sched.step(metric)

    def step_lines(self, n: str, metric: str, kwargs: Mapping[str, Any]) -> list[str]:
        return [f"sched.step({metric})"]


class Validation(Driver):
    """mmengine's metric-driven schedulers (need_val_args): `step()` after each training
    step, then `step({monitor: metric})` after each validation."""

    name = "validation"
    title = "mmengine's validation protocol"
    metric = True

    def step(self, sched: Any, opt: Any, n: int, metric: float | None) -> None:
        sched.step()
        sched.step({sched.monitor: metric})

    def step_lines(self, n: str, metric: str, kwargs: Mapping[str, Any]) -> list[str]:
        return ["sched.step()", f"sched.step({{sched.monitor: {metric}}})"]


class Timm(Driver):
    """timm's Scheduler: the caller counts; `step(epoch)` at the end of each epoch, or
    `step_update(num_updates)` after each update when `t_in_epochs` is false."""

    name = "timm"
    title = "timm's Scheduler protocol"
    jumps = True

    def __init__(self, obj: Any, metric: bool = False) -> None:
        super().__init__(obj)
        self.metric = metric

    @staticmethod
    def method(sched: Any) -> str:
        updates = getattr(sched, "t_in_epochs", True) is False and hasattr(sched, "step_update")
        return "step_update" if updates else "step"

    def step(self, sched: Any, opt: Any, n: int, metric: float | None) -> None:
        call = getattr(sched, self.method(sched))
        if self.metric:
            call(n, metric)
        else:
            call(n)

    def jump(self, sched: Any, opt: Any, n: float) -> None:
        getattr(sched, self.method(sched))(n)

    @staticmethod
    def method_text(kwargs: Mapping[str, Any]) -> str:
        return "step_update" if kwargs.get("t_in_epochs") is False else "step"

    def step_lines(self, n: str, metric: str, kwargs: Mapping[str, Any]) -> list[str]:
        extra = f", {metric}" if self.metric else ""
        return [f"sched.{self.method_text(kwargs)}({n}{extra})"]

    def jump_lines(self, n: str, kwargs: Mapping[str, Any]) -> list[str]:
        return [f"sched.{self.method_text(kwargs)}({n})"]


class DeepSpeed(Driver):
    """DeepSpeed's schedules: `step(last_batch_iteration)`, the index of the batch just done
    (the n-th step passes n - 1; a bare step() counts the same way)."""

    name = "deepspeed"
    title = "DeepSpeed's step(last_batch_iteration) protocol"
    jumps = True

    def step(self, sched: Any, opt: Any, n: int, metric: float | None) -> None:
        sched.step(n - 1)

    def jump(self, sched: Any, opt: Any, n: float) -> None:
        sched.step(n - 1)

    def step_lines(self, n: str, metric: str, kwargs: Mapping[str, Any]) -> list[str]:
        return [f"sched.step({n} - 1)"]

    def jump_lines(self, n: str, kwargs: Mapping[str, Any]) -> list[str]:
        return [f"sched.step({n} - 1)"]


class Callable_(Driver):
    """speechbrain's schedulers: built without the optimizer, called once per update as
    `sched(opt)`, `sched(opt, num_updates)`, `sched(epoch)` or `sched(metric)`; a call that
    does not take the optimizer returns (old, new) and the new lr goes to every group."""

    name = "callable"
    title = "the callable-per-update protocol (speechbrain)"
    per_group = False
    takes_optimizer = False

    def __init__(self, obj: Any) -> None:
        super().__init__(obj)
        call = _own_call(obj) if inspect.isclass(obj) else obj
        params = _positional(call)
        if params and params[0].name == "self":
            params = params[1:]
        self.roles = [self.role(p.name) for p in params if _required(p)]
        self.metric = "metric" in self.roles

    @staticmethod
    def role(name: str) -> str:
        if name in OPTIMIZER_NAMES:
            return "optimizer"
        if name in OPTIMIZERS_NAMES:
            return "optimizers"
        if name in COUNTER_NAMES:
            return "counter"
        return "metric"

    def values(self, opt: Any, n: int, metric: float | None) -> list[Any]:
        given = {"optimizer": opt, "optimizers": [opt], "counter": n, "metric": metric}
        return [given[r] for r in self.roles]

    def step(self, sched: Any, opt: Any, n: int, metric: float | None) -> None:
        result = sched(*self.values(opt, n, metric))
        if not ({"optimizer", "optimizers"} & set(self.roles)):
            new = result[1] if isinstance(result, (tuple, list)) else result
            for group in opt.param_groups:
                group["lr"] = new

    def saves(self, kind: type) -> bool:
        # speechbrain's checkpoint hooks: save(path) and load(path) through files.
        return super().saves(kind) or (callable(getattr(kind, "save", None))
                                       and callable(getattr(kind, "load", None)))

    def save(self, sched: Any) -> Any:
        if callable(getattr(sched, "state_dict", None)):
            return sched.state_dict()
        with tempfile.TemporaryDirectory(prefix="conformance-") as folder:
            path = os.path.join(folder, "state")
            sched.save(path)
            with open(path, "rb") as file:
                return file.read()

    def load(self, sched: Any, state: Any) -> None:
        if callable(getattr(sched, "load_state_dict", None)):
            sched.load_state_dict(state)
            return
        with tempfile.TemporaryDirectory(prefix="conformance-") as folder:
            path = os.path.join(folder, "state")
            with open(path, "wb") as file:
                file.write(state)
            sched.load(path)

    def step_lines(self, n: str, metric: str, kwargs: Mapping[str, Any]) -> list[str]:
        given = {"optimizer": "opt", "optimizers": "[opt]", "counter": n, "metric": metric}
        call = f"sched({', '.join(given[r] for r in self.roles)})"
        if {"optimizer", "optimizers"} & set(self.roles):
            return [call]
        return [f"old, new = {call}", "for g in opt.param_groups:", "    g['lr'] = new"]

    @property
    def files(self) -> bool:
        """The target saves through files (speechbrain's checkpoint hooks)."""
        return not callable(getattr(self.obj, "state_dict", None))

    def prelude(self) -> list[str]:
        if not self.files:
            return []
        return ["import os, tempfile",
                "def save_state(sched):",
                "    path = os.path.join(tempfile.mkdtemp(), 'state')",
                "    sched.save(path)",
                "    return open(path, 'rb').read()",
                "def load_state(sched, data):",
                "    path = os.path.join(tempfile.mkdtemp(), 'state')",
                "    open(path, 'wb').write(data)",
                "    sched.load(path)"]

    def save_text(self) -> str:
        return "save_state(sched)" if self.files else "sched.state_dict()"

    def load_lines(self, target: str, state: str) -> list[str]:
        if self.files:
            return [f"load_state({target}, {state})"]
        return super().load_lines(target, state)


class Ignite(Driver):
    """ignite's parameter schedulers: event handlers `handler(engine)`, fired at every
    ITERATION_STARTED (before each iteration's optimizer step), so once right after building
    too. One value for all groups."""

    name = "ignite"
    title = "ignite's event-handler protocol"
    per_group = False

    @functools.cached_property
    def engine(self) -> Any:
        try:
            from ignite.engine import Engine
        except ImportError:  # an ignite-like handler of the user's own: no engine to attach
            return None
        return Engine(lambda engine, batch: None)

    def build(self, opt: Any, kwargs: dict[str, Any]) -> Any:
        if "param_name" in {p.name for p in parameters(self.obj)}:
            kwargs = {"param_name": "lr", **kwargs}
        return super().build(opt, kwargs)

    def call_text(self, name: str, args: str, takes_by_name: bool) -> str:
        if "param_name" in {p.name for p in parameters(self.obj)} and "param_name=" not in args:
            args = ", ".join(a for a in ("param_name='lr'", args) if a)
        return super().call_text(name, args, takes_by_name)

    def start(self, sched: Any, opt: Any) -> None:
        sched(self.engine)

    def step(self, sched: Any, opt: Any, n: int, metric: float | None) -> None:
        sched(self.engine)

    def prelude(self) -> list[str]:
        if self.engine is None:
            return ["engine = None  # ignite's Engine, where ignite is installed"]
        return ["from ignite.engine import Engine", "engine = Engine(lambda e, b: None)"]

    def build_lines(self, call: str) -> list[str]:
        return [f"sched = {call}", "sched(engine)  # ITERATION_STARTED of the first iteration"]

    def step_lines(self, n: str, metric: str, kwargs: Mapping[str, Any]) -> list[str]:
        return ["sched(engine)"]


class Function(Driver):
    """A pure function of the step, `f(step, **kwargs)`: an lr ("lr_function", one value for
    every group, or a list with one per group) or a factor of each group's lr at build
    ("factor_function", as LambdaLR's lr_lambda)."""

    name = "lr_function"
    title = "a pure function of the step"
    takes_optimizer = False
    per_group = False
    jumps = True
    factor: ClassVar[bool] = False

    def build(self, opt: Any, kwargs: dict[str, Any]) -> Any:
        return _Bound(self.obj, kwargs, [g["lr"] for g in opt.param_groups])

    def start(self, sched: Any, opt: Any) -> None:
        self.jump(sched, opt, 0)

    def step(self, sched: Any, opt: Any, n: int, metric: float | None) -> None:
        self.jump(sched, opt, n)

    def jump(self, sched: Any, opt: Any, n: float) -> None:
        value = sched(n)
        values = list(value) if isinstance(value, (list, tuple)) else [value] * len(sched.base)
        for group, v, b in zip(opt.param_groups, values, sched.base, strict=True):
            group["lr"] = b * v if self.factor else v

    def saves(self, kind: type) -> bool:
        return False  # no state: a function of the step

    def prelude(self) -> list[str]:
        apply = "b * v" if self.factor else "v"
        return ["import functools",
                "def apply(opt, sched, n):",
                "    value = sched(n)",
                "    values = list(value) if isinstance(value, (list, tuple)) else "
                "[value] * len(sched.base)",
                "    for g, v, b in zip(opt.param_groups, values, sched.base):",
                f"        g['lr'] = {apply}"]

    def call_text(self, name: str, args: str, takes_by_name: bool) -> str:
        return f"functools.partial({name}, {args})" if args else f"functools.partial({name})"

    def build_lines(self, call: str) -> list[str]:
        # The groups' lrs at build go with the function, as the suite keeps them.
        return [f"sched = {call}", "sched.base = [g['lr'] for g in opt.param_groups]",
                "apply(opt, sched, 0)"]

    def step_lines(self, n: str, metric: str, kwargs: Mapping[str, Any]) -> list[str]:
        return [f"apply(opt, sched, {n})"]

    def jump_lines(self, n: str, kwargs: Mapping[str, Any]) -> list[str]:
        return [f"apply(opt, sched, {n})"]


class Factor(Function):
    name = "factor_function"
    title = "a pure function of the step giving a factor of the lr"
    per_group = True
    factor = True


class _Bound:
    """A pure function with its keyword arguments bound, and the groups' lrs at build."""

    def __init__(self, func: Callable[..., Any], kwargs: Mapping[str, Any],
                 base: list[float]) -> None:
        self.func, self.kwargs, self.base = func, dict(kwargs), base

    def __call__(self, n: float) -> Any:
        return self.func(n, **self.kwargs)


class Wrapper(Driver):
    """A wrapper whose constructor takes another scheduler (accelerate's AcceleratedScheduler,
    ignite's LRScheduler): the wrapped scheduler is built with the spec's arguments, the
    wrapper around it, and the wrapper is stepped as its own shape says (`outer`: step(), or
    an event handler), else as the wrapped scheduler would be."""

    name = "wrapper"
    title = "a wrapper around another scheduler"

    def __init__(self, obj: Any, inner: Driver | None = None, outer: Driver | None = None
                 ) -> None:
        super().__init__(obj)
        self.inner: Driver = inner or Torch(None)
        self.outer = outer
        #: The wrapped scheduler's --scheduler path (for the reproducer's import).
        self.inner_path = ""

    @property
    def stepper(self) -> Driver:
        return self.outer or self.inner

    def wrap(self, opt: Any, kwargs: dict[str, Any], own: Mapping[str, Any]) -> Any:
        """The wrapped scheduler built with the spec's arguments, then the wrapper around it
        (with the optimizer where its second parameter takes one) and its own arguments."""
        inner = self.inner.build(opt, kwargs)
        self.inner.start(inner, opt)
        params = _positional(self.obj)
        args: list[Any] = [inner]
        if len(params) > 1 and params[1].name in OPTIMIZER_NAMES | OPTIMIZERS_NAMES:
            args.append(opt)
        return self.obj(*args, **own)

    @property
    def metric(self) -> bool:  # type: ignore[override]
        return self.inner.metric

    @property
    def per_group(self) -> bool:  # type: ignore[override]
        return self.stepper.per_group and self.inner.per_group

    def start(self, sched: Any, opt: Any) -> None:
        if self.outer is not None:
            self.outer.start(sched, opt)

    def step(self, sched: Any, opt: Any, n: int, metric: float | None) -> None:
        self.stepper.step(sched, opt, n, metric)

    def jump(self, sched: Any, opt: Any, n: float) -> None:
        self.stepper.jump(sched, opt, n)

    def prelude(self) -> list[str]:
        return self.stepper.prelude() if self.outer is not None else []

    def step_lines(self, n: str, metric: str, kwargs: Mapping[str, Any]) -> list[str]:
        return self.stepper.step_lines(n, metric, kwargs)

    def jump_lines(self, n: str, kwargs: Mapping[str, Any]) -> list[str]:
        return self.stepper.jump_lines(n, kwargs)


DRIVERS: dict[str, type[Driver]] = {d.name: d for d in (
    Torch, Metric, Validation, Timm, DeepSpeed, Callable_, Ignite, Function, Factor, Wrapper)}


def _own_call(kind: type) -> Any:
    """The __call__ a class defines or inherits (not object's or type's)."""
    return next((vars(b)["__call__"] for b in kind.__mro__[:-1] if "__call__" in vars(b)), None)


def _step_params(obj: Any) -> list[inspect.Parameter]:
    params = _positional(getattr(obj, "step", None))
    return params[1:] if params and params[0].name == "self" else params


def detect(obj: Any, spec_metric: bool = False) -> Driver:
    """The driver of `obj`'s protocol, where its shape says it unambiguously; NoProtocol
    (naming what it lacks) otherwise."""
    if inspect.isclass(obj):
        step = getattr(obj, "step", None)
        if callable(step) and getattr(obj, "need_val_args", False) is True:
            return Validation(obj)
        if callable(step):
            params = _step_params(obj)
            first = params[0] if params else None
            if first is not None and first.name in ("last_batch_iteration", "batch_iteration"):
                return DeepSpeed(obj)
            if first is not None and _required(first):
                if first.name in COUNTER_NAMES:
                    metric = len(params) > 1 and _required(params[1])
                    return Timm(obj, metric=spec_metric or metric)
                return Metric(obj)
            ctor = _positional(obj)
            if ctor and ctor[0].name in SCHEDULER_NAMES:
                return Wrapper(obj)
            _takes_an_optimizer(obj)
            return Torch(obj)
        call = _own_call(obj)
        if call is not None:
            params = _positional(call)[1:]
            if params and params[0].name == "engine":
                return Ignite(obj)
            return Callable_(obj)
        raise NoProtocol(f"{obj.__qualname__} has neither step() nor __call__")
    if callable(obj):
        params = _positional(obj)
        name = params[0].name if params else None
        if name in COUNTER_NAMES:
            raise NoProtocol(
                f"{getattr(obj, '__qualname__', obj)} is a function of the step ({name}): "
                "say whether it returns an lr or a factor of the lr with --scheduler-protocol "
                "lr_function or factor_function")
        if name is None and not any(p.kind is p.VAR_POSITIONAL for p in parameters(obj)):
            raise NoProtocol(f"{getattr(obj, '__qualname__', obj)} takes no argument: neither "
                             "a factory f(optimizer, ...) nor a function of the step")
        if name is not None and name not in OPTIMIZER_NAMES:
            raise NoProtocol(f"{getattr(obj, '__qualname__', obj)}'s first parameter is {name!r}, "
                             "neither an optimizer (a factory f(optimizer, ...)) nor a step (a "
                             "function f(step, ...)); name its protocol with --scheduler-protocol")
        return Torch(obj)  # a factory; its product's own protocol is read when it is bound
    raise NoProtocol(f"a {type(obj).__name__} is not callable")


def _takes_an_optimizer(kind: type) -> None:
    """A class with step() is driven as a scheduler built on an optimizer: its constructor
    must take one (an optimizer's own step() does not make it a scheduler)."""
    names = [p.name for p in parameters(kind)]
    loose = any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters(kind))
    if names and not loose and not set(names) & (OPTIMIZER_NAMES | {"schedulers"}):
        raise NoProtocol(f"{kind.__qualname__} has step(), but its constructor takes "
                         f"({', '.join(names)}), no optimizer: it is not a scheduler")


def named(name: str, obj: Any, spec_metric: bool = False) -> Driver:
    """The driver --scheduler-protocol NAME names; KeyError for an unknown name."""
    kind = DRIVERS[name]
    if kind is Timm:
        return Timm(obj, metric=spec_metric)
    return kind(obj)
