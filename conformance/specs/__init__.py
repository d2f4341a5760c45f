"""Specs: the public API for binding a reference schedule to the suite.

A spec is a reference schedule (a `reference.Schedule` subclass: the documented formula) plus
how to draw its arguments (their domains), how far to step an example (its horizon) and what
the formula documents (its capabilities). The built-in specs (torch's classes, transformers'
factories, the seed schedules, the ecosystem's schedules) are written with this same API; a
user writes one for a schedule of their own in a module of theirs and passes
`--spec mypkg.specs:MY_SPEC`, and a package can ship specs through the entry point group
`lr_conformance.specs` so that its classes bind without `--spec`.

Arguments that need the optimizer (sub-schedulers) are drawn as `Sub` descriptions; the driver
builds them on the optimizer and the oracle reads them as (name, params) pairs.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

import reference
from reference.base import REQUIRED, Param, Schedule

#: Most steps any example takes: enough to cross three periods of the small and medium
#: periods, while a huge period is still stepped well into its first half.
STEP_CAP = 400

#: The entry point group through which a package ships specs (a Spec, a list of them, or a
#: module whose Spec objects are taken).
ENTRY_POINTS = "lr_conformance.specs"

Args = dict[str, Any]
ArgsFor = Callable[[int], st.SearchStrategy[Args]]


@dataclass(frozen=True)
class Sub:
    """A scheduler argument built on the same optimizer (a torch class and its arguments)."""

    name: str
    args: Args

    def oracle(self) -> tuple[str, Args]:
        return (self.name, to_oracle(self.args))


def on_subs(value: Any, fn: Callable[[Sub], Any]) -> Any:
    """`fn` applied to a sub-scheduler argument (a Sub, or each of a list of them); any other
    argument unchanged."""
    if isinstance(value, Sub):
        return fn(value)
    if isinstance(value, list) and value and all(isinstance(v, Sub) for v in value):
        return [fn(v) for v in value]
    return value


@dataclass(frozen=True)
class Derived:
    """An invalid override's value computed from the valid case it overrides: `fn(args, lrs)`
    (the drawn arguments, the groups' lrs); `text` says what it is, in words."""

    text: str
    fn: Callable[[Args, list[float]], Any]

    def __repr__(self) -> str:
        return f"<{self.text}>"


def longer(name: str) -> Derived:
    """A per-group argument as a list one longer than the param groups (its drawn values,
    and the last once more)."""
    def value(args: Args, lrs: list[float]) -> list[Any]:
        drawn = args[name]
        values = list(drawn) if isinstance(drawn, (list, tuple)) else [drawn] * len(lrs)
        return [*values, values[-1]]
    return Derived(f"{name} as a list one longer than the param groups", value)


def overridden(override: Mapping[str, Any], args: Args, lrs: list[float]) -> Args:
    """An invalid override's values for the case (args, lrs): its Derived values computed."""
    return {key: value.fn(args, list(lrs)) if isinstance(value, Derived) else value
            for key, value in override.items()}


def to_oracle(args: Args) -> Args:
    """Constructor arguments -> oracle parameters (Sub descriptions become pairs)."""
    return {key: on_subs(value, Sub.oracle) for key, value in args.items()}


@dataclass(frozen=True, eq=False)  # compared and hashed by identity (a cache key)
class Spec:
    """A reference schedule and how the suite exercises it.

    `schedule` is the formula (a `reference.Schedule` subclass); `args(groups)` a Hypothesis
    strategy of argument dicts under the schedule's names (default: drawn from the schema's
    ranges); `horizon(args)` how many steps an example runs (capped at STEP_CAP); `binds` the
    targets this spec binds to without --spec, as "module:qualname" paths.
    """

    schedule: type[Schedule]
    args: ArgsFor | None = None
    horizon: Callable[[Args], int] | int = 100
    #: Jumping to an epoch (step(epoch), or a counter protocol's call) sets the closed form
    #: there. None: the schedule's closed form says so, unless it is metric-driven or built
    #: from other schedulers.
    epoch_arg: bool | None = None
    #: Optimizers to draw: "sgd" (momentum) and "adam" (betas).
    optimizers: tuple[str, ...] = ("sgd",)
    #: More capabilities of the formula: "has_end" (the schedule ends, as OneCycleLR's
    #: total_steps), "fractional" (fractional epochs are documented).
    extra: frozenset[str] = field(default_factory=frozenset)
    binds: tuple[str, ...] = ()
    #: The spec's name; default: the schedule's.
    label: str = ""
    #: Arguments every bound target takes that the formula does not (e.g. ignite's
    #: param_name="lr"): passed to the target only, never to the oracle.
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    #: How the targets this spec binds name or compute its arguments, in --scheduler-map's
    #: grammar (README, "Binding"); a user's map adds to it and wins on the same key.
    map: Mapping[str, Any] = field(default_factory=dict)
    #: Arguments the formula refuses (each an override of a valid drawn case), that a target
    #: must refuse at construction too (ValueError or TypeError). A value that depends on the
    #: case it overrides (a per-group list one longer than the groups) is a `Derived`.
    invalid: tuple[Mapping[str, Any], ...] = ()

    def __post_init__(self) -> None:
        # Always callable, so that `spec.args(groups)` and `spec.horizon(args)` read alike.
        if self.args is None:
            object.__setattr__(self, "args", lambda groups: from_schema(self, groups))
        if not callable(self.horizon):
            steps = int(self.horizon)
            object.__setattr__(self, "horizon", lambda args: steps)

    @property
    def name(self) -> str:
        return self.label or self.schedule.name

    @property
    def arg_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.schedule.schema)

    @property
    def params(self) -> dict[str, Param]:
        return {p.name: p for p in self.schedule.schema}

    def steps(self, args: Args) -> int:
        """How far an example with `args` runs (at least one step, at most STEP_CAP)."""
        assert callable(self.horizon)
        return cap(self.horizon(args))

    def draw_args(self, groups: int) -> st.SearchStrategy[Args]:
        assert self.args is not None
        return self.args(groups)

    @property
    def flags(self) -> frozenset[str]:
        """What the formula documents (capability flags; the target's own are its claims)."""
        s = self.schedule
        names = {"spec"}
        for flag in ("chainable", "closed", "composite"):
            if getattr(s, flag):
                names.add(flag)
        if s.needs_metric:
            names.add("metrics")
        if s.cycles_momentum:
            names.add("momentum")
        epoch_arg = self.epoch_arg
        if epoch_arg is None:
            epoch_arg = s.closed and not s.needs_metric and not s.composite
        if epoch_arg:
            names.add("epoch_arg")
        if any(p.per_group for p in s.schema):
            names.add("per_group_args")
        if any(p.kind == "callable" for p in s.schema):
            names.add("callable_args")
        if not s.composite:
            names.add("atomic")
        if self.invalid:
            names.add("invalid")
        return frozenset(names | self.extra)

    def oracle(self, base_lrs: list[float], args: Args) -> Schedule:
        return self.schedule(base_lrs, **to_oracle(args))


# -- the registry ---------------------------------------------------------------------------
SPECS: dict[str, Spec] = {}


def register(spec: Spec) -> Spec:
    """Add a built-in spec (by its name); returns it."""
    if spec.name in SPECS and SPECS[spec.name] is not spec:
        raise ValueError(f"duplicate spec name {spec.name!r}")
    SPECS[spec.name] = spec
    return spec


def as_spec(obj: Any) -> Spec | None:
    """A Spec, or a Schedule subclass wrapped in a default Spec; None for anything else."""
    if isinstance(obj, Spec):
        return obj
    if inspect.isclass(obj) and issubclass(obj, Schedule) and obj.name:
        return Spec(obj)
    return None


def user_spec(path: str) -> Spec:
    """`module:ATTR` -> the Spec it names (a Spec, or a Schedule subclass). ValueError names
    what is wrong."""
    module, _, attr = path.partition(":")
    if not module or not attr:
        raise ValueError(f"expected MODULE:ATTR, got {path!r}")
    try:
        obj: Any = importlib.import_module(module)
    except Exception as exc:
        raise ValueError(f"cannot import module {module!r} ({type(exc).__name__}: {exc})"
                         ) from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"module {module!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    spec = as_spec(obj)
    if spec is None:
        raise ValueError(f"{path} is a {type(obj).__name__}, not a conformance.specs.Spec or a "
                         "reference.Schedule subclass")
    return spec


@functools.cache
def shipped() -> tuple[Spec, ...]:
    """Specs that installed packages ship through the entry point group ENTRY_POINTS."""
    from importlib import metadata

    out: list[Spec] = []
    for point in metadata.entry_points(group=ENTRY_POINTS):
        try:
            loaded = point.load()
        except Exception:  # a broken plugin must not break every run; its targets stay unbound
            continue
        out += list(_specs_in(loaded))
    return tuple(out)


def _specs_in(obj: Any) -> Iterable[Spec]:
    spec = as_spec(obj)
    if spec is not None:
        return [spec]
    if inspect.ismodule(obj):
        return [s for s in vars(obj).values() if isinstance(s, Spec)]
    if isinstance(obj, (list, tuple)):
        return [s for s in map(as_spec, obj) if s is not None]
    return []


def path_of(obj: Any) -> str:
    """'module:qualname' of a class or function (what `binds` lists)."""
    return f"{getattr(obj, '__module__', '')}:{getattr(obj, '__qualname__', '')}"


#: Modules that copy a family of factories under the family's names (the spec name is the
#: factory's name): transformers' schedule factories, copied by diffusers and torchtune.
FAMILY_MODULES: dict[str, frozenset[str]] = {}


def bound_spec(obj: Any) -> Spec | None:
    """The spec a target binds without --spec: one whose `binds` names it (shipped specs
    first), or a family copy's, or a torch class's own."""
    path = path_of(obj)
    for spec in (*shipped(), *SPECS.values()):
        if path in spec.binds:
            return spec
    module = getattr(obj, "__module__", "") or ""
    name = getattr(obj, "__name__", "")
    family = FAMILY_MODULES.get(module)
    if family is not None and name in family and name in SPECS:
        return SPECS[name]
    return None


# -- building blocks for argument strategies ------------------------------------------------
def period() -> st.SearchStrategy[int]:
    """Tiny, medium and huge periods."""
    return st.one_of(st.integers(1, 6), st.integers(7, 60), st.integers(61, 5000))


def gamma() -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from([0.1, 0.5, 0.9, 0.99]), st.floats(0.05, 0.999))


def lr_value() -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from([0.1, 1.0, 0.05, 3e-4]), st.floats(1e-4, 10.0))


def per_group(groups: int, value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A scalar, or a list with one value per param group."""
    return st.one_of(value, st.lists(value, min_size=groups, max_size=groups))


def fixed(**parts: st.SearchStrategy[Any]) -> ArgsFor:
    """Arguments drawn independently of the number of groups."""
    return lambda groups: st.fixed_dictionaries(parts)


def total_iters() -> st.SearchStrategy[int]:
    return st.one_of(st.integers(1, 10), st.integers(11, 300))


def cap(n: int) -> int:
    return max(1, min(n, STEP_CAP))


#: One draw in four: `draw(QUARTER) == 3` (Hypothesis shrinks towards 0, the usual branch).
QUARTER = st.integers(0, 3)


def param_strategy(param: Param, groups: int = 1) -> st.SearchStrategy[Any] | None:
    """A strategy for one schema parameter from its kind and range (None where the schema
    cannot say: callables, sub-schedules)."""
    kind = param.kind
    value: st.SearchStrategy[Any]
    if kind == "bool":
        value = st.booleans()
    elif kind == "choice":
        value = st.sampled_from(param.choices)
    elif kind == "int":
        first = int(param.low) + param.low_open if param.low is not None else 0
        last = int(param.high) - param.high_open if param.high is not None else None
        small = st.integers(first, min(first + 10, last) if last is not None else first + 10)
        value = small if last is not None and last <= first + 10 else st.one_of(
            small, st.integers(first, last if last is not None else first + 300))
    elif kind == "float":
        lo = param.low if param.low is not None else -10.0
        hi = param.high if param.high is not None else lo + 10.0
        value = st.floats(lo, hi, exclude_min=param.low_open, exclude_max=param.high_open,
                          allow_nan=False, allow_infinity=False)
        if param.default is not REQUIRED and isinstance(param.default, float) and \
                math.isfinite(param.default):
            value = st.one_of(st.just(param.default), value)
    elif kind == "int_list":
        least = int(param.low) if param.low is not None else 0
        value = st.lists(st.integers(least, least + 100), min_size=1, max_size=4).map(sorted)
    else:
        return None
    if param.per_group:
        value = per_group(groups, value)
    if param.nullable:
        value = st.one_of(st.none(), value)
    return value


def from_schema(spec: Spec, groups: int) -> st.SearchStrategy[Args]:
    """Arguments drawn from the schema: every parameter the schema can draw (the others keep
    their defaults, or must be fixed with --scheduler-kwargs)."""
    parts = {}
    for param in spec.schedule.schema:
        strategy = param_strategy(param, groups)
        if strategy is not None:
            parts[param.name] = strategy
    return st.fixed_dictionaries(parts)


# Strategies are built once per (spec, groups): Hypothesis caches its analysis of a strategy
# on the object, and rebuilding them on every draw made data generation half the run time.
@functools.cache
def _args_of(spec: Spec, groups: int) -> st.SearchStrategy[Args]:
    return spec.draw_args(groups)


def args_of(spec: Spec | str, groups: int) -> st.SearchStrategy[Args]:
    """The spec's argument strategy for `groups` param groups."""
    return _args_of(SPECS[spec] if isinstance(spec, str) else spec, groups)


@functools.cache
def sub(name: str, groups: int) -> st.SearchStrategy[Sub]:
    return args_of(name, groups).map(lambda a: Sub(name, a))


@functools.cache
def _sub_list(names: tuple[str, ...], groups: int) -> st.SearchStrategy[list[Sub]]:
    return st.tuples(*(sub(n, groups) for n in names)).map(list)


def subs(names: list[str], groups: int, most: int) -> st.SearchStrategy[list[Sub]]:
    return st.lists(st.sampled_from(names), min_size=1, max_size=most).flatmap(
        lambda chosen: _sub_list(tuple(chosen), groups)
    )


def sub_horizon(s: Sub) -> int:
    horizon = SPECS[s.name].horizon
    assert callable(horizon)
    return horizon(s.args)


def schedules() -> dict[str, type[Schedule]]:
    return dict(reference.SCHEDULES)


# The built-in specs register themselves on import.
from conformance.specs import (  # noqa: E402
    deepspeed,
    diffusers,
    ignite,
    mmengine,
    nemo,
    seeds,
    speechbrain,
    timm,
    torch_optim,
    transformers,
)

__all__ = [
    "ENTRY_POINTS", "QUARTER", "SPECS", "STEP_CAP", "Args", "ArgsFor", "Derived", "Spec", "Sub",
    "args_of", "as_spec", "bound_spec", "cap", "deepspeed", "diffusers", "fixed", "from_schema",
    "gamma", "ignite", "longer", "lr_value", "mmengine", "nemo", "overridden", "per_group",
    "period", "register", "seeds", "speechbrain", "sub", "sub_horizon", "subs", "timm",
    "to_oracle", "torch_optim", "total_iters", "transformers", "user_spec",
]
