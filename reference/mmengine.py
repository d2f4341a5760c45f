"""The mmengine schedule family (`mmengine.optim.scheduler`): torch's schedules, each run on
its own step count inside a window [begin, end) of the scheduler's steps.

Every class takes `begin`, `end` and `by_epoch`. Before `begin` the lr is the group's lr at
construction; in the window the schedule runs on the local step k = e - begin; from `end` on
the lr keeps the last value the window set. Where torch counts to an inclusive `total_iters`,
mmengine's exclusive `end` puts the schedule's end state on the window's last step
(total_iters = end - begin - 1). The spec names are "mmengine.<Class>". Formulas, the
documentation they come from, and the rulings: docs/spec/mmengine.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, ClassVar

from reference import cosine, cyclic, linear, plateau, steps
from reference.base import CLOSED_ULPS, REQUIRED, Param, Schedule, State, U, register

#: The API page of each class.
DOCS = "https://mmengine.readthedocs.io/en/latest/api/generated/mmengine.optim.{}.html"

#: mmengine's `INF`, the default `end`.
INF = 10**9


def _window() -> tuple[Param, ...]:
    return (
        Param("begin", "int", 0, low=0, doc="First step the schedule acts on."),
        Param("end", "int", INF, low=1, doc="First step it no longer acts on (> begin)."),
        Param("by_epoch", "bool", True,
              doc="Whether a step is an epoch or an iteration: the unit, not the values."),
    )


def _gamma(default: Any) -> Param:
    return Param("gamma", "float", default, low=0.0, doc="Multiplicative decay factor.")


def _floors() -> tuple[Param, Param]:
    return (
        Param("eta_min", "float", None, low=0.0, nullable=True, doc="The floor, as an lr."),
        Param("eta_min_ratio", "float", None, low=0.0, high=1.0, nullable=True,
              doc="The floor as a fraction of each group's lr."),
    )


class _Window(Schedule):
    """A schedule that acts only on the steps begin <= e < end (the valid interval)."""

    source = "https://mmengine.readthedocs.io/en/latest/tutorials/param_scheduler.html"
    #: Steps the window must hold: 2 where the end state needs a step of its own after the
    #: first (ConstantLR's undo, LinearLR's end factor, PolyLR's floor).
    span: ClassVar[int] = 1

    begin: int
    end: int

    def validate(self) -> None:
        """end - begin >= span."""
        if self.end - self.begin < self.span:
            raise self.reject("end", self.end, f"end >= begin + {self.span} = "
                                               f"{self.begin + self.span}")

    def local(self, epoch: float) -> float | None:
        """The local step at `epoch` (held at the window's last step); None before begin."""
        if epoch < self.begin:
            return None
        return min(epoch, self.end - 1) - self.begin

    def active(self, epoch: float) -> bool:
        """Whether the step to `epoch` is in the window (the schedule acts)."""
        return self.begin <= epoch < self.end


class _Windowed(_Window):
    """A torch-like schedule (one per group, on that group's lr) run on the local step
    k = e - begin while begin <= e < end; the group's lr before, the value at end - 1 after.

    Subclasses build the per-group schedule in `build`; its closed form and recurrence become
    the windowed schedule's, the recurrence unchanged outside the window.
    """

    chainable = True

    def validate(self) -> None:
        """The window's span; then build the per-group schedules."""
        super().validate()
        self._inner = [self.build(b) for b in self.base_lrs]

    def build(self, base: float) -> Schedule:
        """The schedule one group with lr `base` follows on its local step."""
        raise NotImplementedError

    def lr(self, epoch: float) -> list[float]:
        k = self.local(epoch)
        if k is None:
            return list(self.base_lrs)
        return [inner.lr(k)[0] for inner in self._inner]

    def lr_fn(self, group: int) -> Callable[[float], float]:
        b, fn, local = self.base_lrs[group], self._inner[group].lr_fn(0), self.local

        def lr(epoch: float) -> float:
            k = local(epoch)
            return b if k is None else fn(k)

        return lr

    def closed_ulps(self, epoch: float) -> float:
        k = self.local(epoch)
        if k is None:
            return CLOSED_ULPS
        return max(inner.closed_ulps(k) for inner in self._inner)

    def recur(self, epoch: int, lrs: Sequence[float]) -> list[float]:
        """The per-group recurrence at the local step in the window; unchanged outside."""
        if not self.active(epoch):
            return list(lrs)
        k = epoch - self.begin
        return [inner.recur(k, [lr])[0] for inner, lr in zip(self._inner, lrs, strict=True)]

    def kappa(self, epoch: int) -> float:
        if not self.active(epoch):
            return 0.0
        return max(inner.kappa(epoch - self.begin) for inner in self._inner)

    def floor(self) -> list[float]:
        return [inner.floor()[0] for inner in self._inner]


@register
class StepLR(_Windowed):
    """b gamma^floor(k / step_size) on the local step k."""

    name = "mmengine.StepLR"
    source = DOCS.format("scheduler.StepLR")
    schema = (Param("step_size", "int", low=1, doc="Period of the decay, in steps."),
              _gamma(0.1), *_window())
    step_size: int
    gamma: float

    def build(self, base: float) -> Schedule:
        return steps.StepLR([base], step_size=self.step_size, gamma=self.gamma)


@register
class MultiStepLR(_Windowed):
    """b gamma^(number of milestones <= k) on the local step k."""

    name = "mmengine.MultiStepLR"
    source = DOCS.format("scheduler.MultiStepLR")
    schema = (Param("milestones", "int_list", low=0,
                    doc="Non-decreasing local steps of the decays; a repeat decays again."),
              _gamma(0.1), *_window())
    milestones: tuple[int, ...]
    gamma: float

    def build(self, base: float) -> Schedule:
        return steps.MultiStepLR([base], milestones=list(self.milestones), gamma=self.gamma)


@register
class ExponentialLR(_Windowed):
    """b gamma^k on the local step k."""

    name = "mmengine.ExponentialLR"
    source = DOCS.format("scheduler.ExponentialLR")
    schema = (_gamma(REQUIRED), *_window())
    gamma: float

    def build(self, base: float) -> Schedule:
        return steps.ExponentialLR([base], gamma=self.gamma)


@register
class ConstantLR(_Windowed):
    """b factor for k < end - begin - 1, b on the window's last step and after."""

    name = "mmengine.ConstantLR"
    source = DOCS.format("scheduler.ConstantLR")
    # factor = 0 is excluded: the recurrence undoes the factor by multiplying by 1 / factor.
    schema = (Param("factor", "float", 1.0 / 3, low=0.0, high=1.0, low_open=True,
                    doc="Multiplier of the lr until the window's last step."),
              *_window())
    span = 2
    factor: float

    def build(self, base: float) -> Schedule:
        return linear.ConstantLR([base], factor=self.factor,
                                 total_iters=self.end - self.begin - 1)


@register
class LinearLR(_Windowed):
    """b (s + (f - s) k / T), T = end - begin - 1: start_factor on the window's first step,
    end_factor on its last."""

    name = "mmengine.LinearLR"
    source = DOCS.format("scheduler.LinearLR")
    schema = (Param("start_factor", "float", 1.0 / 3, low=0.0, high=1.0, low_open=True,
                    doc="Multiplier of the lr on the window's first step."),
              Param("end_factor", "float", 1.0, low=0.0, high=1.0,
                    doc="Multiplier of the lr on the window's last step and after."),
              *_window())
    span = 2
    start_factor: float
    end_factor: float

    def build(self, base: float) -> Schedule:
        return linear.LinearLR([base], start_factor=self.start_factor,
                               end_factor=self.end_factor, total_iters=self.end - self.begin - 1)


class _PolyDecay(Schedule):
    """eta_min + (b - eta_min)(1 - min(k, T) / T)^power: PolyLR's decay on its local step."""

    name = "mmengine.PolyLR"
    schema = (Param("total_iters", "int", low=1, doc="T: the local step of eta_min."),
              Param("eta_min", "float", 0.0, low=0.0, doc="The lr at T."),
              Param("power", "float", 1.0, low=0.0, doc="Power of the polynomial."))
    chainable = True
    total_iters: int
    eta_min: float
    power: float

    def lr(self, epoch: float) -> list[float]:
        return [self.lr_fn(g)(epoch) for g in range(self.groups)]

    def lr_fn(self, group: int) -> Callable[[float], float]:
        b, m, T, p = self.base_lrs[group], self.eta_min, self.total_iters, self.power

        def lr(k: float) -> float:
            return m + (b - m) * (1.0 - min(k, T) / T) ** p

        return lr

    def closed_ulps(self, epoch: float) -> float:
        """As PolynomialLR: 1 - k/T rounds relative to 1, and the power multiplies that by
        p r^(p - 1), r = (T - k) / T (large near T for p < 1)."""
        T, p = self.total_iters, self.power
        if epoch >= T:
            return CLOSED_ULPS
        return CLOSED_ULPS + 2 * p * float(((T - epoch) / T) ** (p - 1))

    def recur(self, epoch: int, lrs: Sequence[float]) -> list[float]:
        """(lr - eta_min)(1 - 1 / (T - k + 1))^power + eta_min up to T; unchanged at 0 and
        after T. (1 - k/T) / (1 - (k-1)/T) = 1 - 1/(T - k + 1): the ratio of closed forms."""
        T, m = self.total_iters, self.eta_min
        if epoch == 0 or epoch > T:
            return list(lrs)
        ratio = (1.0 - 1.0 / (T - epoch + 1)) ** self.power
        return [(lr - m) * ratio + m for lr in lrs]

    def kappa(self, epoch: int) -> float:
        """1/(T - k + 1) rounds once; 1 minus it has relative error (1/(T - k) + 1) U, which
        the power multiplies by p before rounding once more; the subtraction of eta_min and
        the product round once each. At T the ratio is exactly 0."""
        T = self.total_iters
        if epoch == 0 or epoch >= T:
            return 0.0
        return self.power * (1.0 / (T - epoch) + 1.0) + 3.0

    def floor(self) -> list[float]:
        return [self.eta_min] * self.groups


@register
class PolyLR(_Windowed):
    """eta_min + (b - eta_min)(1 - k / T)^power, T = end - begin - 1: eta_min on the window's
    last step and after."""

    name = "mmengine.PolyLR"
    source = DOCS.format("scheduler.PolyLR")
    schema = (Param("eta_min", "float", 0.0, low=0.0, doc="The lr at the end of scheduling."),
              Param("power", "float", 1.0, low=0.0,
                    doc="Power of the polynomial (a negative one divides by zero at the end)."),
              *_window())
    span = 2
    eta_min: float
    power: float

    def build(self, base: float) -> Schedule:
        return _PolyDecay([base], total_iters=self.end - self.begin - 1, eta_min=self.eta_min,
                          power=self.power)


@register
class CosineAnnealingLR(_Windowed):
    """eta_min + (b - eta_min)(1 + cos(pi k / T_max)) / 2, T_max = end - begin by default;
    the floor is eta_min, or eta_min_ratio times the group's lr."""

    name = "mmengine.CosineAnnealingLR"
    source = DOCS.format("scheduler.CosineAnnealingLR")
    schema = (Param("T_max", "int", None, low=1, nullable=True,
                    doc="Half period; None: end - begin."),
              *_floors(), *_window())
    T_max: int | None
    eta_min: float | None
    eta_min_ratio: float | None

    def validate(self) -> None:
        """At most one of eta_min and eta_min_ratio (neither: eta_min = 0)."""
        if self.eta_min is not None and self.eta_min_ratio is not None:
            raise self.reject("eta_min", self.eta_min, "at most one of eta_min and "
                              f"eta_min_ratio (eta_min_ratio={self.eta_min_ratio!r})")
        super().validate()

    def build(self, base: float) -> Schedule:
        ratio = self.eta_min_ratio
        floor = base * ratio if ratio is not None else self.eta_min or 0.0
        T = self.T_max if self.T_max is not None else self.end - self.begin
        return cosine.CosineAnnealingLR([base], T_max=T, eta_min=floor)


@register
class OneCycleLR(_Window):
    """torch's 1cycle on the local step, over total_steps (default end - begin) steps, from
    eta_max / div_factor up to eta_max and down; the group's lr before begin."""

    name = "mmengine.OneCycleLR"
    source = DOCS.format("scheduler.OneCycleLR")
    schema = (
        Param("eta_max", "float", low=0.0, low_open=True, per_group=True,
              doc="Peak lr of each group (the signature's default 0 is a placeholder)."),
        Param("total_steps", "int", None, low=1, nullable=True,
              doc="Steps in the cycle; None: end - begin."),
        Param("pct_start", "float", 0.3, low=0.0, high=1.0, doc="Fraction of the cycle rising."),
        Param("anneal_strategy", "choice", "cos", choices=("cos", "linear"),
              doc="Shape of every phase."),
        Param("div_factor", "float", 25.0, low=0.0, low_open=True,
              doc="initial lr = eta_max / div_factor."),
        Param("final_div_factor", "float", 1e4, low=0.0, low_open=True,
              doc="min lr = initial lr / final_div_factor."),
        Param("three_phase", "bool", False,
              doc="Rise, fall back to the initial lr, then annihilate to the min lr."),
        *_window(),
    )
    eta_max: list[float]
    total_steps: int | None
    pct_start: float
    anneal_strategy: str
    div_factor: float
    final_div_factor: float
    three_phase: bool

    def validate(self) -> None:
        """Build the cycle once for all groups (torch's OneCycleLR, whose checks apply)."""
        super().validate()
        steps_ = self.total_steps if self.total_steps is not None else self.end - self.begin
        self._cycle = cyclic.OneCycleLR(
            self.base_lrs, max_lr=self.eta_max, total_steps=steps_, pct_start=self.pct_start,
            anneal_strategy=self.anneal_strategy, cycle_momentum=False,
            div_factor=self.div_factor, final_div_factor=self.final_div_factor,
            three_phase=self.three_phase)

    def lr(self, epoch: float) -> list[float]:
        k = self.local(epoch)
        return list(self.base_lrs) if k is None else self._cycle.lr(k)

    def lr_fn(self, group: int) -> Callable[[float], float]:
        return lambda epoch: self.lr(epoch)[group]

    def closed_ulps(self, epoch: float) -> float:
        k = self.local(epoch)
        return CLOSED_ULPS if k is None else self._cycle.closed_ulps(k)

    def scale(self, lrs: Sequence[float]) -> list[float]:
        """The cycle's peak, and the group's lr before begin."""
        return [max(abs(b), m, abs(v))
                for b, m, v in zip(self.base_lrs, self.eta_max, lrs, strict=True)]


class _Restarts(Schedule):
    """One group's cosine restarts: period i of L_i steps runs from w_i b down towards m."""

    name = "mmengine.CosineRestartLR"
    schema = (Param("periods", "int_list", low=1), Param("weights", "any"),
              Param("floor_lr", "float"))
    chainable = True
    periods: tuple[int, ...]
    weights: tuple[float, ...]
    floor_lr: float

    def validate(self) -> None:
        self._starts = [sum(self.periods[:i]) for i in range(len(self.periods))]
        self._last = sum(self.periods) - 1

    def where(self, k: float) -> tuple[int, float]:
        """(period, step in it) at local step k, held at the last period's last step."""
        k = min(k, self._last)
        i = max(i for i, s in enumerate(self._starts) if s <= k)
        return i, k - self._starts[i]

    def lr(self, epoch: float) -> list[float]:
        return [self.lr_fn(0)(epoch)]

    def lr_fn(self, group: int) -> Callable[[float], float]:
        b, m, where = self.base_lrs[0], self.floor_lr, self.where

        def lr(k: float) -> float:
            i, t = where(k)
            return m + (self.weights[i] * b - m) * (1 + math.cos(math.pi * t / self.periods[i])) / 2

        return lr

    def closed_ulps(self, epoch: float) -> float:
        i, t = self.where(epoch)
        return CLOSED_ULPS + 4 * math.pi * t / self.periods[i]

    def recur(self, epoch: int, lrs: Sequence[float]) -> list[float]:
        """w_i b at a period's start; the cosine's ratio of closed forms within it;
        unchanged past the last period."""
        if epoch > self._last:
            return list(lrs)
        i, t = self.where(epoch)
        if t == 0:
            return [self.weights[i] * self.base_lrs[0]]
        L, m = self.periods[i], self.floor_lr
        ratio = (1 + math.cos(math.pi * t / L)) / (1 + math.cos(math.pi * (t - 1) / L))
        return [ratio * (lr - m) + m for lr in lrs]

    def kappa(self, epoch: int) -> float:
        """As CosineAnnealingLR's ratio step: c = 1 + cos(x) carries 2 + |x sin x| units of
        U, relative err / c in each of c_t and c_{t-1} (c_{t-1} > 0: t - 1 < L), plus 3 for
        the division, the product and lr - m; one product at a restart."""
        if epoch > self._last:
            return 0.0
        i, t = self.where(epoch)
        if t == 0:
            return 1.0
        L = self.periods[i]

        def rel(s: float) -> float:
            x = math.pi * s / L
            return (2 + abs(x * math.sin(x))) / max(1 + math.cos(x), U)

        return 3 + rel(t) + rel(t - 1)

    def floor(self) -> list[float]:
        return [self.floor_lr]


@register
class CosineRestartLR(_Windowed):
    """Cosine annealing restarted at the start of every period: period i runs from
    restart_weights[i] * b towards the floor; after the last period the lr holds."""

    name = "mmengine.CosineRestartLR"
    source = DOCS.format("scheduler.CosineRestartLR")
    schema = (Param("periods", "int_list", low=1, doc="Length of each cosine period."),
              Param("restart_weights", "any", (1.0,),
                    doc="Peak of each period as a fraction of b; one per period."),
              *_floors(), *_window())
    periods: tuple[int, ...]
    restart_weights: Any
    eta_min: float | None
    eta_min_ratio: float | None

    def validate(self) -> None:
        """Periods non-empty, one weight >= 0 per period, exactly one floor."""
        if not self.periods:
            raise self.reject("periods", [], "a non-empty list of ints >= 1")
        weights = self.restart_weights
        if (not isinstance(weights, (list, tuple)) or len(weights) != len(self.periods)
                or not all(isinstance(w, (int, float)) and not isinstance(w, bool)
                           and math.isfinite(w) and w >= 0 for w in weights)):
            raise self.reject("restart_weights", weights,
                              f"a list of {len(self.periods)} finite floats >= 0 (one per "
                              "period)")
        self._weights = tuple(float(w) for w in weights)
        self._starts = {sum(self.periods[:i]) for i in range(len(self.periods))}
        if (self.eta_min is None) == (self.eta_min_ratio is None):
            raise self.reject("eta_min", self.eta_min, "exactly one of eta_min and "
                              f"eta_min_ratio (eta_min_ratio={self.eta_min_ratio!r})")
        super().validate()

    def build(self, base: float) -> Schedule:
        floor = base * self.eta_min_ratio if self.eta_min_ratio is not None else self.eta_min
        return _Restarts([base], periods=list(self.periods), weights=self._weights,
                         floor_lr=floor)

    def resets(self, epoch: int) -> bool:
        """Whether the step to `epoch` sets a period's peak rather than stepping the cosine."""
        return self.active(epoch) and (epoch - self.begin) in self._starts


@register
class ReduceOnPlateauLR(_Window):
    """torch's ReduceLROnPlateau under mmengine's names, acting only on the metrics of steps
    begin <= e < end (e: the training epochs done when the metric arrives)."""

    name = "mmengine.ReduceOnPlateauLR"
    source = DOCS.format("scheduler.ReduceOnPlateauLR")
    schema = (
        Param("rule", "choice", "less", choices=("less", "greater"),
              doc="Whether a lower or a higher metric is better (torch's mode)."),
        Param("factor", "float", 0.1, low=0.0, high=1.0, high_open=True,
              doc="new lr = lr * factor."),
        Param("patience", "int", 10, low=0,
              doc="Bad epochs tolerated; the lr drops at the (patience + 1)-th in a row."),
        Param("threshold", "float", 1e-4, low=0.0, doc="How much better counts as better."),
        Param("threshold_rule", "choice", "rel", choices=("rel", "abs"),
              doc="Whether threshold is relative to best or absolute."),
        Param("cooldown", "int", 0, low=0, doc="Epochs after a drop in which bad epochs do "
                                               "not count."),
        Param("min_value", "float", 0.0, low=0.0, per_group=True, doc="Lower bound on each lr."),
        Param("eps", "float", 1e-8, low=0.0, doc="A drop of eps or less is not applied."),
        Param("begin", "int", 0, low=0, doc="First epoch whose metric counts."),
        Param("end", "int", INF, low=1, doc="First epoch whose metric no longer counts."),
        Param("by_epoch", "choice", True, choices=(True,),
              doc="Only epoch-based (mmengine asserts it)."),
    )
    closed = False
    needs_metric = True

    def validate(self) -> None:
        """end > begin; build torch's plateau logic under its own names."""
        super().validate()
        p = self.params
        self._plateau = plateau.ReduceLROnPlateau(
            self.base_lrs, mode="min" if p["rule"] == "less" else "max", factor=p["factor"],
            patience=p["patience"], threshold=p["threshold"],
            threshold_mode=p["threshold_rule"], cooldown=p["cooldown"],
            min_lr=p["min_value"], eps=p["eps"])

    def initial(self) -> State:
        """The groups' lrs untouched (no initial step); best is the rule's worst value."""
        return self._plateau.initial()

    def step(self, state: State, metric: float | None = None) -> State:
        """Epoch e = state.epoch + 1: torch's plateau step if begin <= e < end, else the
        metric is ignored (best and the counters unchanged)."""
        epoch = state.epoch + 1
        if self.active(epoch):
            return self._plateau.step(state, metric)
        if metric is None:
            raise ValueError(f"{self.name}: step needs a metric")
        return replace(state, epoch=epoch)


#: The family's spec names, in the order of mmengine's API page.
FAMILY = tuple(cls.name for cls in (
    StepLR, MultiStepLR, ExponentialLR, ConstantLR, LinearLR, PolyLR, CosineAnnealingLR,
    OneCycleLR, CosineRestartLR, ReduceOnPlateauLR))
