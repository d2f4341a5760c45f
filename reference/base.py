"""The oracle's shared model: parameter schemas, schedules, states and the error model.

A `Schedule` is an immutable description of one documented schedule applied to a list of
param groups (their lrs at construction, `base_lrs`). It offers up to three views of the
same schedule, which the suite compares with each other and with a target:

- the closed form `lr(epoch)`;
- the chainable recurrence `recur(epoch, lrs)`, torch's `get_lr` form;
- the state machine `initial()` / `step(state, metric)`, for schedules whose next value
  depends on more than the epoch (plateau metrics, warm restarts, cycles).

Nothing here imports torch or numpy: the oracle is derived from the documented formulas.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

#: Unit roundoff of IEEE-754 binary64.
U = 2.0**-53

#: Factor between the first-order error bound and the tolerance the suite applies, to absorb
#: second-order terms and the rounding of the bound itself.
SAFETY = 4.0

#: Tolerance of a closed form, in ulps of the group's scale, before schedule-specific terms.
CLOSED_ULPS = 8.0


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


def ulp(x: float) -> float:
    """Spacing of float64 at `x` (never zero, so it can divide)."""
    return math.ulp(abs(x)) if x else math.ulp(0.0) * 2**52


def ulps(a: float, b: float, scale: float) -> float:
    """Distance between `a` and `b` in ulps of `scale` (the group's magnitude)."""
    if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
        return 0.0 if a == b or (math.isnan(a) and math.isnan(b)) else math.inf
    return abs(a - b) / ulp(max(abs(scale), abs(a), abs(b)))


@dataclass(frozen=True)
class Param:
    """One constructor parameter: name, kind, default and valid range.

    kind is one of: int, float, bool, choice, callable, int_list, schedule, schedules, any.
    A `per_group` parameter also accepts a list or tuple with one value per param group;
    it is normalised to that list.
    """

    name: str
    kind: str
    default: Any = REQUIRED
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[Any, ...] = ()
    per_group: bool = False
    nullable: bool = False
    doc: str = ""

    def describe(self) -> str:
        """The valid range in words, for error messages and docs."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind in ("int", "float"):
            lo = "-inf" if self.low is None else repr(self.low)
            hi = "inf" if self.high is None else repr(self.high)
            left = "(" if self.low_open or self.low is None else "["
            right = ")" if self.high_open or self.high is None else "]"
            text = f"{self.kind} in {left}{lo}, {hi}{right}"
        elif self.kind == "int_list":
            text = "a list of ints"
            if self.low is not None:
                text += f" >= {self.low}"
        elif self.kind == "schedule":
            text = "a (name, params) pair naming a reference schedule"
        elif self.kind == "schedules":
            text = "a non-empty list of (name, params) pairs"
        else:
            text = f"a {self.kind}"
        if self.per_group:
            text += ", or a list of those with one per param group"
        if self.nullable:
            text += ", or None"
        return text

    def _fail(self, owner: str, value: Any) -> ValueError:
        return ValueError(
            f"{owner}: parameter {self.name}={value!r} is invalid; valid: {self.describe()}"
        )

    def _scalar(self, owner: str, value: Any) -> Any:
        if value is None and self.nullable:
            return None
        kind = self.kind
        if kind == "bool":
            if not isinstance(value, bool):
                raise self._fail(owner, value)
            return value
        if kind == "choice":
            if value not in self.choices:
                raise self._fail(owner, value)
            return value
        if kind == "callable":
            if not callable(value):
                raise self._fail(owner, value)
            return value
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise self._fail(owner, value)
            self._range(owner, value)
            return value
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self._fail(owner, value)
            if not math.isfinite(value):
                raise self._fail(owner, value)
            self._range(owner, value)
            return float(value)
        if kind == "int_list":
            if not isinstance(value, (list, tuple)):
                raise self._fail(owner, value)
            items = list(value)
            for item in items:
                if isinstance(item, bool) or not isinstance(item, int):
                    raise self._fail(owner, value)
                if self.low is not None and item < self.low:
                    raise self._fail(owner, value)
            return tuple(items)
        if kind == "schedule":
            if not (isinstance(value, (list, tuple)) and len(value) == 2):
                raise self._fail(owner, value)
            name, params = value
            if not isinstance(name, str) or not isinstance(params, dict):
                raise self._fail(owner, value)
            return (name, dict(params))
        if kind == "schedules":
            if not isinstance(value, (list, tuple)) or not value:
                raise self._fail(owner, value)
            return tuple(Param(self.name, "schedule")._scalar(owner, v) for v in value)
        return value

    def _range(self, owner: str, value: float) -> None:
        lo, hi = self.low, self.high
        if lo is not None and (value < lo or (self.low_open and value == lo)):
            raise self._fail(owner, value)
        if hi is not None and (value > hi or (self.high_open and value == hi)):
            raise self._fail(owner, value)

    def check(self, owner: str, value: Any, groups: int) -> Any:
        """Validate `value`; return it normalised (a per-group list for per-group params)."""
        if self.per_group:
            if isinstance(value, (list, tuple)):
                if len(value) != groups:
                    raise ValueError(
                        f"{owner}: parameter {self.name} has {len(value)} values but there are "
                        f"{groups} param groups; valid: {self.describe()}"
                    )
                return [self._scalar(owner, v) for v in value]
            return [self._scalar(owner, value)] * groups
        return self._scalar(owner, value)


@dataclass(frozen=True)
class State:
    """Where a schedule stands after a step: treat as immutable (use `dataclasses.replace`)."""

    epoch: float
    lrs: tuple[float, ...]
    momenta: tuple[float, ...] | None = None
    data: dict[str, Any] = field(default_factory=dict)


class Schedule:
    """A documented schedule over a list of param groups.

    Subclasses set `name`, `schema`, `source` and the capability flags, and implement the
    views they have: `lr` (closed form), `recur` and `kappa` (chainable recurrence and its
    error model), or `initial`/`step` (state machine).
    """

    name: ClassVar[str] = ""
    schema: ClassVar[tuple[Param, ...]] = ()
    #: Where the formula is documented: a torch doc page or a seed file.
    source: ClassVar[str] = ""
    #: The schedule has a documented chainable recurrence (`recur`).
    chainable: ClassVar[bool] = False
    #: The schedule has a closed form in the epoch (`lr`).
    closed: ClassVar[bool] = True
    #: `step` takes a metric (ReduceLROnPlateau).
    needs_metric: ClassVar[bool] = False
    #: The schedule also sets momentum (or Adam's beta1).
    cycles_momentum: ClassVar[bool] = False
    #: The schedule is built from other schedules.
    composite: ClassVar[bool] = False

    def __init__(self, base_lrs: Sequence[float], **params: Any) -> None:
        if not base_lrs:
            raise ValueError(f"{self.name}: needs at least one param group")
        self.base_lrs: tuple[float, ...] = tuple(float(b) for b in base_lrs)
        known = {p.name for p in self.schema}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(
                f"{self.name}: unknown parameter(s) {', '.join(unknown)}; "
                f"valid: {', '.join(sorted(known)) or 'none'}"
            )
        values: dict[str, Any] = {}
        for p in self.schema:
            if p.name in params:
                raw = params[p.name]
            elif p.default is REQUIRED:
                raise ValueError(
                    f"{self.name}: parameter {p.name} is required; valid: {p.describe()}"
                )
            else:
                raw = p.default
            values[p.name] = p.check(self.name, raw, len(self.base_lrs))
        self.params: dict[str, Any] = values
        # Parameters read as attributes (self.T_max) keep formulas close to the docs.
        for key, value in values.items():
            if hasattr(type(self), key):
                raise TypeError(f"{self.name}: parameter {key} shadows a method")
            setattr(self, key, value)
        self.validate()

    def __getattr__(self, item: str) -> Any:
        # Parameters read as attributes (self.T_max), which keeps formulas close to the docs.
        params = self.__dict__.get("params")
        if params is not None and item in params:
            return params[item]
        raise AttributeError(item)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.name}(base_lrs={list(self.base_lrs)!r}, {args})"

    @property
    def groups(self) -> int:
        return len(self.base_lrs)

    # -- validation ---------------------------------------------------------------------
    def validate(self) -> None:
        """Check constraints between parameters; raise via `reject`."""

    def reject(self, name: str, value: Any, rule: str) -> ValueError:
        """The ValueError for a parameter that breaks a constraint (raise what it returns)."""
        return ValueError(f"{self.name}: parameter {name}={value!r} is invalid; valid: {rule}")

    # -- closed form ----------------------------------------------------------------------
    def lr(self, epoch: float) -> list[float]:
        """The lr of every group at `epoch` (the closed form)."""
        raise NotImplementedError(f"{self.name} has no closed form")

    def lr_fn(self, group: int) -> Callable[[float], float]:
        """Group `group`'s closed form as a plain function of the epoch: the same values as
        `lr(epoch)[group]`. Schedules with a simple closed form return a closure over local
        constants, which costs about one Python call more than the bare expression."""
        return lambda epoch: self.lr(epoch)[group]

    def momenta(self, epoch: float) -> list[float] | None:
        """The momentum (or beta1) of every group at `epoch`, for momentum-cycling schedules."""
        return None

    def closed_ulps(self, epoch: float) -> float:
        """Tolerance of the closed form at `epoch`, in ulps of the group's scale."""
        return CLOSED_ULPS

    def momentum_ulps(self, epoch: float) -> float:
        """Tolerance of `momenta(epoch)`, in ulps of `momentum_scale`; a schedule whose
        momentum formula amplifies rounding derives its own, as `closed_ulps`."""
        return CLOSED_ULPS

    def momentum_scale(self, momenta: Sequence[float]) -> list[float]:
        """Magnitude each group's momentum errors are measured against: by default 1, the
        bound of every momentum and beta1."""
        return [1.0] * self.groups

    # -- recurrence -----------------------------------------------------------------------
    def recur(self, epoch: int, lrs: Sequence[float]) -> list[float]:
        """The lrs at `epoch` from the lrs at `epoch - 1` (torch's chainable `get_lr`).

        At epoch 0 `lrs` are the groups' lrs when the scheduler is built, and the result is
        what the constructor's initial step leaves.
        """
        raise NotImplementedError(f"{self.name} has no chainable recurrence")

    def kappa(self, epoch: int) -> float:
        """Relative error, in units of U, that the recurrence step to `epoch` adds to the
        distance between the lr and `floor()` (the error model; always finite)."""
        return 4.0

    def floor(self) -> list[float]:
        """The fixed point of each group's recurrence (eta_min, swa_lr; 0 if multiplicative)."""
        return [0.0] * self.groups

    # -- state machine --------------------------------------------------------------------
    def initial(self) -> State:
        """The state right after construction."""
        return State(0, tuple(self.lr(0)), _tuple(self.momenta(0)))

    def step(self, state: State, metric: float | None = None) -> State:
        """The state after one `step()` (with `metric` for metric-driven schedules)."""
        epoch = state.epoch + 1
        return replace(state, epoch=epoch, lrs=tuple(self.lr(epoch)),
                       momenta=_tuple(self.momenta(epoch)))

    # -- derived views ----------------------------------------------------------------
    def trajectory(self, steps: int, metrics: Sequence[float] | None = None) -> list[list[float]]:
        """lrs after construction, then after each of `steps` steps (state machine)."""
        state = self.initial()
        out = [list(state.lrs)]
        for i in range(steps):
            state = self.step(state, None if metrics is None else metrics[i])
            out.append(list(state.lrs))
        return out

    def recurrence(self, steps: int) -> list[list[float]]:
        """lrs after construction, then after each step, by the recurrence alone."""
        lrs = self.recur(0, self.base_lrs)
        out = [lrs]
        for e in range(1, steps + 1):
            lrs = self.recur(e, lrs)
            out.append(lrs)
        return out

    def reference(self, steps: int) -> list[list[float]]:
        """The most accurate trajectory the oracle has: closed form, else state machine."""
        if self.closed:
            fns = [self.lr_fn(g) for g in range(self.groups)]
            return [[f(e) for f in fns] for e in range(steps + 1)]
        return self.trajectory(steps)

    def bound(self, steps: int, ref: list[list[float]] | None = None) -> list[list[float]]:
        """First-order bound on |recurrence - closed form| after each step, per group.

        With d_t = lr_t - floor, a step scales d by r_t = d_t / d_{t-1} and adds a relative
        error of kappa(t) * U to it, plus rounding of the lr itself:
            E_t = |r_t| E_{t-1} + U kappa(t) |d_t| + 2 U |lr_t|
        (r_t = 1 where d_{t-1} = 0, a branch that adds a term instead of scaling). A step that
        sets the lr afresh (`resets`) carries no error over: E_t = 3 U |lr_t|, one rounded
        product, where the ratio of distances would blow it up.
        """
        ref = self.reference(steps) if ref is None else ref
        floors, kappa = self.floor(), self.kappa
        errs = [2 * U * abs(v) for v in ref[0]]
        out = [errs]
        for t in range(1, steps + 1):
            if self.resets(t):
                errs = [3 * U * abs(v) for v in ref[t]]
            else:
                k = U * kappa(t)
                errs = [(abs((v - f) / (p - f)) if p != f else 1.0) * e + k * abs(v - f)
                        + 2 * U * abs(v)
                        for e, p, v, f in zip(errs, ref[t - 1], ref[t], floors, strict=True)]
            out.append(errs)
        return out

    def resets(self, epoch: int) -> bool:
        """Whether the recurrence's step to `epoch` sets the lr afresh instead of scaling its
        distance to the floor (a warm restart's peak). None does by default."""
        return False

    def tolerance(self, steps: int, ref: list[list[float]] | None = None) -> list[list[float]]:
        """Absolute tolerance of a recurrence after each step: SAFETY times `bound`, and never
        below the closed form's tolerance."""
        ref = self.reference(steps) if ref is None else ref
        floors, closed_ulps = self.floor(), self.closed_ulps
        out = []
        for t, row in enumerate(self.bound(steps, ref)):
            c = closed_ulps(t)
            out.append([max(SAFETY * e, c * ulp(max(abs(b), abs(f), abs(v))))
                        for e, b, f, v in zip(row, self.base_lrs, floors, ref[t], strict=True)])
        return out

    def scale(self, lrs: Sequence[float]) -> list[float]:
        """Magnitude each group's errors are measured against (for ulps)."""
        floors = self.floor()
        return [max(abs(b), abs(f), abs(v)) for b, f, v in zip(self.base_lrs, floors, lrs,
                                                               strict=True)]


def _tuple(values: Sequence[float] | None) -> tuple[float, ...] | None:
    return None if values is None else tuple(values)


#: Every reference schedule by name (the `--spec` names).
SCHEDULES: dict[str, type[Schedule]] = {}


class Factored(Schedule):
    """A schedule lr = b * factor(epoch): one factor, the same for every group."""

    def factor(self, s: float) -> float:
        raise NotImplementedError

    def lr(self, epoch: float) -> list[float]:
        f = self.factor(epoch)
        return [b * f for b in self.base_lrs]

    def lr_fn(self, group: int) -> Callable[[float], float]:
        b, factor = self.base_lrs[group], self.factor
        return lambda epoch: b * factor(epoch)


def register(cls: type[Schedule]) -> type[Schedule]:
    """Class decorator: add a schedule to `SCHEDULES` under its `name`."""
    if not cls.name:
        raise TypeError(f"{cls.__qualname__} has no name")
    SCHEDULES[cls.name] = cls
    return cls


def make(name: str, base_lrs: Sequence[float], **params: Any) -> Schedule:
    """Build the reference schedule `name` for groups whose lrs at construction are `base_lrs`."""
    try:
        cls = SCHEDULES[name]
    except KeyError:
        raise ValueError(
            f"unknown schedule {name!r}; known: {', '.join(sorted(SCHEDULES))}"
        ) from None
    return cls(base_lrs, **params)


Fn = Callable[[int], float]
