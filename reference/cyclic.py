"""Cycling schedules that also cycle momentum: CyclicLR (CLR) and OneCycleLR (1cycle).

Both are closed forms in last_epoch (one step per batch) and ignore the groups' lrs at
construction: CyclicLR starts at base_lr, OneCycleLR at max_lr / div_factor.
Formulas and derivations: docs/spec.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import NamedTuple

from reference.base import CLOSED_ULPS, Param, Schedule, register


def _flat(x: float) -> float:
    return 1.0


def _halving(x: float) -> float:
    return 1 / (2.0 ** (x - 1))


def _power(gamma: float, x: float) -> float:
    return gamma**x


def _momentum_params(low: float, high: float) -> tuple[Param, Param]:
    return (
        Param("base_momentum", "float", low, low=0.0, high=1.0, per_group=True,
              doc="Momentum (or beta1) at the lr's peak."),
        Param("max_momentum", "float", high, low=0.0, high=1.0, per_group=True,
              doc="Momentum (or beta1) where the lr is lowest; at least base_momentum."),
    )


def _momentum_scale(base: list[float], top: list[float], momenta: Sequence[float]) -> list[float]:
    return [max(b, m, abs(v)) for b, m, v in zip(base, top, momenta, strict=True)]


def _check_momenta(sched: Schedule, base: list[float], top: list[float]) -> None:
    for b, m in zip(base, top, strict=True):
        if b > m:
            raise sched.reject("base_momentum", base, f"base_momentum <= max_momentum = {top!r}")


@register
class CyclicLR(Schedule):
    """CLR: the lr climbs linearly from base_lr to max_lr in step_size_up steps, falls back in
    step_size_down, the amplitude scaled by a policy of the cycle or of the step."""

    name = "CyclicLR"
    schema = (
        Param("base_lr", "float", low=0.0, per_group=True, doc="Lower boundary of the cycle."),
        Param("max_lr", "float", low=0.0, per_group=True,
              doc="Upper boundary (at least base_lr); reached only if the scale is 1."),
        Param("step_size_up", "int", 2000, low=1, doc="Steps in the rising half."),
        Param("step_size_down", "int", None, low=1, nullable=True,
              doc="Steps in the falling half; None means step_size_up."),
        Param("mode", "choice", "triangular", choices=("triangular", "triangular2", "exp_range"),
              doc="Built-in scale policy; ignored when scale_fn is given."),
        Param("gamma", "float", 1.0, low=0.0, high=1.0, low_open=True,
              doc="exp_range's scale gamma^step."),
        Param("scale_fn", "callable", None, nullable=True,
              doc="Custom scale policy x -> [0, 1]; overrides mode."),
        Param("scale_mode", "choice", "cycle", choices=("cycle", "iterations"),
              doc="scale_fn's argument: the cycle number or the step; used with scale_fn only."),
        Param("cycle_momentum", "bool", True, doc="Cycle momentum inversely to the lr."),
        *_momentum_params(0.8, 0.9),
    )
    source = "https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.CyclicLR.html"
    cycles_momentum = True

    base_lr: list[float]
    max_lr: list[float]
    step_size_up: int
    step_size_down: int | None
    mode: str
    gamma: float
    scale_fn: Callable[[float], float] | None
    scale_mode: str
    cycle_momentum: bool
    base_momentum: list[float]
    max_momentum: list[float]

    def validate(self) -> None:
        """base_lr <= max_lr and base_momentum <= max_momentum per group; pick the policy."""
        for b, m in zip(self.base_lr, self.max_lr, strict=True):
            if b > m:
                raise self.reject("base_lr", self.base_lr, f"base_lr <= max_lr = {self.max_lr!r}")
        if self.cycle_momentum:
            _check_momenta(self, self.base_momentum, self.max_momentum)
        self._up = self.step_size_up
        self._down = self.step_size_up if self.step_size_down is None else self.step_size_down
        self._total = self._up + self._down
        # The built-in modes fix what their policy reads (torch overrides scale_mode).
        self._policy: Callable[[float], float]
        if self.scale_fn is not None:
            self._policy, self._by_cycle = self.scale_fn, self.scale_mode == "cycle"
        elif self.mode == "triangular":
            self._policy, self._by_cycle = _flat, True
        elif self.mode == "triangular2":
            self._policy, self._by_cycle = _halving, True
        else:
            self._policy, self._by_cycle = partial(_power, self.gamma), False

    def height(self, epoch: float) -> float:
        """The fraction of the amplitude at `epoch`: the triangle times the scale policy."""
        done, pos = divmod(epoch, self._total)
        cycle = int(done) + 1
        # The position in the cycle is exact in integers (torch rounds 1 + e/L - cycle).
        tri = pos / self._up if pos <= self._up else (self._total - pos) / self._down
        return tri * self._policy(cycle if self._by_cycle else epoch)

    def lr(self, epoch: float) -> list[float]:
        """base_lr + (max_lr - base_lr) * height."""
        h = self.height(epoch)
        return [b + (m - b) * h for b, m in zip(self.base_lr, self.max_lr, strict=True)]

    def momenta(self, epoch: float) -> list[float] | None:
        """max_momentum - (max_momentum - base_momentum) * height, if cycle_momentum."""
        if not self.cycle_momentum:
            return None
        h = self.height(epoch)
        return [m - (m - b) * h for b, m in zip(self.base_momentum, self.max_momentum,
                                               strict=True)]

    def closed_ulps(self, epoch: float) -> float:
        """The in-cycle position 1 + e/L - cycle rounds to ~2 (1 + e/L) U absolute, and the
        triangle divides it by step_size/L: 4 (L + e) / min(step sizes) ulps of the scale."""
        return CLOSED_ULPS + 4 * (self._total + abs(epoch)) / min(self._up, self._down)

    def momentum_ulps(self, epoch: float) -> float:
        """As closed_ulps: the momentum is the same triangle, times its own amplitude
        max_momentum - base_momentum, in ulps of its own bounds."""
        return self.closed_ulps(epoch)

    def scale(self, lrs: Sequence[float]) -> list[float]:
        """Errors scale with the cycle's bounds: base_lrs play no part."""
        return [max(b, m, abs(v)) for b, m, v in zip(self.base_lr, self.max_lr, lrs,
                                                     strict=True)]

    def momentum_scale(self, momenta: Sequence[float]) -> list[float]:
        """Momentum errors scale with the momentum's bounds."""
        return _momentum_scale(self.base_momentum, self.max_momentum, momenta)


class Phase(NamedTuple):
    """One phase of 1cycle: it ends at step `end` (and starts where the previous one ended,
    the first at 0); the lr and momentum anneal between the named per-group values."""

    end: float
    lr_from: str
    lr_to: str
    momentum_from: str
    momentum_to: str


@register
class OneCycleLR(Schedule):
    """1cycle: anneal from max_lr/div_factor up to max_lr, then down to a far lower min_lr
    (two phases, or three with a symmetric climb back first); momentum inversely."""

    name = "OneCycleLR"
    schema = (
        Param("max_lr", "float", low=0.0, per_group=True, doc="Peak lr."),
        Param("total_steps", "int", None, low=1, nullable=True,
              doc="Steps in the cycle; else epochs * steps_per_epoch."),
        Param("epochs", "int", None, low=1, nullable=True, doc="With steps_per_epoch."),
        Param("steps_per_epoch", "int", None, low=1, nullable=True, doc="With epochs."),
        Param("pct_start", "float", 0.3, low=0.0, high=1.0,
              doc="Fraction of the steps spent rising."),
        Param("anneal_strategy", "choice", "cos", choices=("cos", "linear"),
              doc="Shape of every phase."),
        Param("cycle_momentum", "bool", True, doc="Cycle momentum inversely to the lr."),
        *_momentum_params(0.85, 0.95),
        Param("div_factor", "float", 25.0, low=0.0, low_open=True,
              doc="initial_lr = max_lr / div_factor."),
        Param("final_div_factor", "float", 1e4, low=0.0, low_open=True,
              doc="min_lr = initial_lr / final_div_factor."),
        Param("three_phase", "bool", False,
              doc="Climb, symmetric descent to initial_lr, then annihilate to min_lr."),
    )
    source = "https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.OneCycleLR.html"
    cycles_momentum = True

    max_lr: list[float]
    total_steps: int | None
    epochs: int | None
    steps_per_epoch: int | None
    pct_start: float
    anneal_strategy: str
    cycle_momentum: bool
    base_momentum: list[float]
    max_momentum: list[float]
    div_factor: float
    final_div_factor: float
    three_phase: bool

    def validate(self) -> None:
        """Resolve the step count; build the phases; reject a zero-length phase that a step
        would land in (torch divides by zero there)."""
        if self.total_steps is not None:
            self._steps = self.total_steps
        elif self.epochs is not None and self.steps_per_epoch is not None:
            self._steps = self.epochs * self.steps_per_epoch
        else:
            raise self.reject("total_steps", None,
                              "an int >= 1, or both epochs and steps_per_epoch")
        if self.cycle_momentum:
            _check_momenta(self, self.base_momentum, self.max_momentum)
        initial = [m / self.div_factor for m in self.max_lr]
        self._values = {
            "initial": initial,
            "max": self.max_lr,
            "min": [i / self.final_div_factor for i in initial],
            "base_m": self.base_momentum,
            "max_m": self.max_momentum,
        }
        n = self._steps
        self._phases = [Phase(float(self.pct_start * n) - 1, "initial", "max", "max_m",
                              "base_m")]
        if self.three_phase:
            self._phases += [Phase(float(2 * self.pct_start * n) - 2, "max", "initial",
                                   "base_m", "max_m"),
                             Phase(n - 1, "initial", "min", "max_m", "max_m")]
        else:
            self._phases.append(Phase(n - 1, "max", "min", "base_m", "max_m"))
        # Only two zero-length phases are ever landed in: the first (at step 0) and the
        # last (at step total_steps); a middle one is skipped by its own condition.
        if self._phases[0].end == 0 or self._phases[-1].end == self._phases[-2].end:
            raise self.reject("pct_start", self.pct_start,
                              f"no phase of zero length: pct_start * total_steps != 1 and "
                              f"the last phase non-empty (total_steps = {n})")

    def _where(self, epoch: float) -> tuple[int, float]:
        """The phase `epoch` falls in and the fraction of it done."""
        if epoch > self._steps:
            raise ValueError(f"{self.name}: epoch={epoch!r} is invalid; valid: epoch <= "
                             f"total_steps = {self._steps} (torch raises past the cycle)")
        start, last = 0.0, len(self._phases) - 1
        for i, phase in enumerate(self._phases):
            if epoch <= phase.end or i == last:
                return i, (epoch - start) / (phase.end - start)
            start = phase.end
        raise AssertionError("unreachable: the last phase takes every step")

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _path(self, epoch: float, momentum: bool) -> list[float]:
        i, pct = self._where(epoch)
        phase = self._phases[i]
        a, b = ((phase.momentum_from, phase.momentum_to) if momentum
                else (phase.lr_from, phase.lr_to))
        return [self._anneal(x, y, pct)
                for x, y in zip(self._values[a], self._values[b], strict=True)]

    def lr(self, epoch: float) -> list[float]:
        """The phase's anneal between its two lrs."""
        return self._path(epoch, momentum=False)

    def momenta(self, epoch: float) -> list[float] | None:
        """The phase's anneal between its two momenta, if cycle_momentum."""
        return self._path(epoch, momentum=True) if self.cycle_momentum else None

    def closed_ulps(self, epoch: float) -> float:
        """The phase fraction rounds to ~2 (total_steps + 1) U / phase length, moved through
        the anneal's slope (at most pi/2 per unit fraction)."""
        i, _ = self._where(epoch)
        start = self._phases[i - 1].end if i else 0.0
        return CLOSED_ULPS + 2 * math.pi * (self._steps + 1) / abs(self._phases[i].end - start)

    def momentum_ulps(self, epoch: float) -> float:
        """As closed_ulps: the momentum anneals with the same fraction, between its own
        bounds, in ulps of those."""
        return self.closed_ulps(epoch)

    def scale(self, lrs: Sequence[float]) -> list[float]:
        """Errors scale with max_lr: base_lrs play no part."""
        return [max(m, abs(v)) for m, v in zip(self.max_lr, lrs, strict=True)]

    def momentum_scale(self, momenta: Sequence[float]) -> list[float]:
        """Momentum errors scale with the momentum's bounds."""
        return _momentum_scale(self.base_momentum, self.max_momentum, momenta)
