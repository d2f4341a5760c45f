"""The Hugging Face transformers schedule family (`transformers.optimization`): warmup, then
constant, linear, cosine, cosine with hard restarts, polynomial, inverse square root, cosine
to a floor, and warmup-stable-decay. Each is a multiplier of the group's lr at construction
(`b`), a function of the step count `s` (LambdaLR's last_epoch).

The spec names are the factory names. Formulas, from the factories' documentation, and the
rulings where it is silent (past num_training_steps, per-group floors): docs/spec.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from reference.base import CLOSED_ULPS, Factored, Param, register

#: The shapes get_wsd_schedule documents for its warmup and its decay.
WSD_SHAPES = ("linear", "cosine", "1-sqrt")


def _warmup() -> Param:
    return Param("num_warmup_steps", "int", low=0, doc="W: steps of linear warmup from 0.")


def _total() -> Param:
    return Param("num_training_steps", "int", low=1, doc="T > W: the step where the decay ends.")


def _cycles(default: float) -> Param:
    return Param("num_cycles", "float", default, low=0.0, low_open=True,
                 doc="c: waves of the cosine over the decay (0.5: one half-cosine down).")


def _wave(c: float, p: float) -> float:
    """(1 + cos(2 pi c p)) / 2: the documented cosine decay at progress p."""
    return 0.5 * (1.0 + math.cos(math.pi * c * 2.0 * p))


def _wave_ulps(c: float, p: float) -> float:
    """The cosine's argument x = 2 pi c p rounds to ~|x| U, which its slope carries (4 |x|,
    as for CosineAnnealingLR)."""
    return CLOSED_ULPS + 4 * 2 * math.pi * c * abs(p)


class _Factor(Factored):
    """A transformers schedule: lr = b * factor(s), most with a linear warmup."""

    source = "https://huggingface.co/docs/transformers/main_classes/optimizer_schedules"
    num_warmup_steps: int

    def warm(self, s: float) -> float:
        """s / W: the linear warmup from 0, for s < W."""
        return s / self.num_warmup_steps


class _Decay(_Factor):
    """Warmup over W steps, then a decay over the T - W steps up to num_training_steps."""

    num_training_steps: int

    def validate(self) -> None:
        """num_training_steps > num_warmup_steps."""
        if self.num_training_steps <= self.num_warmup_steps:
            raise self.reject("num_training_steps", self.num_training_steps,
                              f"num_training_steps > num_warmup_steps = {self.num_warmup_steps}")

    def progress(self, s: float) -> float:
        """(s - W) / (T - W): 0 when the decay starts, 1 at num_training_steps."""
        W = self.num_warmup_steps
        return (s - W) / (self.num_training_steps - W)


@register
class ConstantWithWarmup(_Factor):
    """b s / W during the warmup, then b."""

    name = "get_constant_schedule_with_warmup"
    schema = (_warmup(),)

    def factor(self, s: float) -> float:
        return self.warm(s) if s < self.num_warmup_steps else 1.0


@register
class LinearWithWarmup(_Decay):
    """Warmup, then linear from b at W down to 0 at T; 0 after."""

    name = "get_linear_schedule_with_warmup"
    schema = (_warmup(), _total())

    def factor(self, s: float) -> float:
        W, T = self.num_warmup_steps, self.num_training_steps
        if s < W:
            return self.warm(s)
        return (T - s) / (T - W) if s <= T else 0.0


@register
class CosineWithWarmup(_Decay):
    """Warmup, then b (1 + cos(2 pi c p)) / 2 over the decay's progress p; past T it holds
    the value at T (the documented decay ends there)."""

    name = "get_cosine_schedule_with_warmup"
    schema = (_warmup(), _total(), _cycles(0.5))
    num_cycles: float

    def factor(self, s: float) -> float:
        if s < self.num_warmup_steps:
            return self.warm(s)
        return _wave(self.num_cycles, min(self.progress(s), 1.0))

    def closed_ulps(self, epoch: float) -> float:
        return _wave_ulps(self.num_cycles, min(self.progress(epoch), 1.0))


@register
class CosineHardRestarts(_Decay):
    """Warmup, then n half-cosines from b down to 0, each restarting at b; 0 from T on."""

    name = "get_cosine_with_hard_restarts_schedule_with_warmup"
    schema = (_warmup(), _total(),
              Param("num_cycles", "int", 1, low=1, doc="n: cosine cycles (hard restarts) "
                                                       "over the decay."))
    num_cycles: int

    def phase(self, s: int) -> float:
        """Where step s sits in its cycle, in [0, 1): exact in integers, so that a cycle
        starts exactly where n (s - W) is a multiple of T - W."""
        W, T, n = self.num_warmup_steps, self.num_training_steps, self.num_cycles
        return (n * (s - W)) % (T - W) / (T - W)

    def factor(self, s: float) -> float:
        if s < self.num_warmup_steps:
            return self.warm(s)
        if s >= self.num_training_steps:
            return 0.0
        return 0.5 * (1.0 + math.cos(math.pi * self.phase(int(s))))

    def closed_ulps(self, epoch: float) -> float:
        """n p rounds relative to n: ~n U on the phase, times the slope pi / 2."""
        return CLOSED_ULPS + 4 * math.pi * self.num_cycles


@register
class PolynomialDecay(_Decay):
    """Warmup, then (b - lr_end) ((T - s) / (T - W)) ** power + lr_end down to lr_end at T;
    lr_end after. lr_end is an lr, the same for every group, below each group's b."""

    name = "get_polynomial_decay_schedule_with_warmup"
    schema = (_warmup(), _total(),
              Param("lr_end", "float", 1e-7, low=0.0, doc="The lr at and after T."),
              Param("power", "float", 1.0, low=0.0, low_open=True, doc="The polynomial's power."))
    lr_end: float
    power: float

    def validate(self) -> None:
        """T > W, and lr_end below every group's lr (the documented ValueError)."""
        super().validate()
        if any(self.lr_end >= b for b in self.base_lrs):
            raise self.reject("lr_end", self.lr_end,
                              f"lr_end < every group's lr ({min(self.base_lrs)!r})")

    def remaining(self, s: float) -> float:
        W, T = self.num_warmup_steps, self.num_training_steps
        return (T - s) / (T - W)

    def lr(self, epoch: float) -> list[float]:
        return [self.lr_fn(g)(epoch) for g in range(self.groups)]

    def lr_fn(self, group: int) -> Callable[[float], float]:
        b, end, p = self.base_lrs[group], self.lr_end, self.power
        W, T, remaining = self.num_warmup_steps, self.num_training_steps, self.remaining

        def lr(s: float) -> float:
            if s < W:
                return b * s / W
            if s > T:
                return end
            return (b - end) * remaining(s) ** p + end

        return lr

    def closed_ulps(self, epoch: float) -> float:
        """As PolynomialLR: the remaining fraction r rounds, which the power multiplies by
        p r ** (p - 1) (large near T for p < 1)."""
        if epoch < self.num_warmup_steps or epoch >= self.num_training_steps:
            return CLOSED_ULPS
        return CLOSED_ULPS + 2 * self.power * float(self.remaining(epoch) ** (self.power - 1))


@register
class InverseSqrt(_Factor):
    """Warmup, then b / sqrt((s + tau - W) / tau): b at W, then 1 / sqrt of the time."""

    name = "get_inverse_sqrt_schedule"
    schema = (_warmup(),
              Param("timescale", "int", None, low=1, nullable=True,
                    doc="tau; None: num_warmup_steps (the documented default)."))
    timescale: int | None

    def validate(self) -> None:
        """The default timescale, num_warmup_steps, must be at least 1."""
        if self.timescale is None and self.num_warmup_steps == 0:
            raise self.reject("timescale", None, "an int >= 1 when num_warmup_steps = 0 (its "
                                                 "default, num_warmup_steps, would be 0)")
        self._tau = self.timescale if self.timescale is not None else self.num_warmup_steps

    def factor(self, s: float) -> float:
        W, tau = self.num_warmup_steps, self._tau
        if s < W:
            return self.warm(s)
        return 1.0 / math.sqrt((s + tau - W) / tau)


@register
class CosineWithMinLr(_Decay):
    """Warmup from 0 to b, then m + (b - m) (1 + cos(2 pi c p)) / 2 down to the floor m,
    which is min_lr (an lr, the same for every group) or b * min_lr_rate; past T it holds
    the value at T."""

    name = "get_cosine_with_min_lr_schedule_with_warmup"
    schema = (_warmup(), _total(), _cycles(0.5),
              Param("min_lr", "float", None, low=0.0, nullable=True,
                    doc="The floor as an lr; exactly one of min_lr and min_lr_rate."),
              Param("min_lr_rate", "float", None, low=0.0, high=1.0, nullable=True,
                    doc="The floor as a fraction of each group's lr."))
    num_cycles: float
    min_lr: float | None
    min_lr_rate: float | None

    def validate(self) -> None:
        """T > W; exactly one of min_lr and min_lr_rate; min_lr at most every group's lr."""
        super().validate()
        if (self.min_lr is None) == (self.min_lr_rate is None):
            raise self.reject("min_lr", self.min_lr, "exactly one of min_lr and min_lr_rate "
                              f"(min_lr_rate={self.min_lr_rate!r})")
        if self.min_lr is not None and any(self.min_lr > b for b in self.base_lrs):
            raise self.reject("min_lr", self.min_lr,
                              f"min_lr <= every group's lr ({min(self.base_lrs)!r})")

    def floor(self) -> list[float]:
        if self.min_lr is not None:
            return [self.min_lr] * self.groups
        return [b * (self.min_lr_rate or 0.0) for b in self.base_lrs]

    def lr(self, epoch: float) -> list[float]:
        return [self.lr_fn(g)(epoch) for g in range(self.groups)]

    def lr_fn(self, group: int) -> Callable[[float], float]:
        b, m, c = self.base_lrs[group], self.floor()[group], self.num_cycles
        W, progress = self.num_warmup_steps, self.progress

        def lr(s: float) -> float:
            if s < W:
                return b * s / W
            return m + (b - m) * _wave(c, min(progress(s), 1.0))

        return lr

    def closed_ulps(self, epoch: float) -> float:
        return _wave_ulps(self.num_cycles, min(self.progress(epoch), 1.0))


@register
class WarmupStableDecay(_Factor):
    """Warmup-stable-decay: from r b up to b over W steps (warmup_type), b for S steps,
    down to r b over D steps (decay_type), then r b; r = min_lr_ratio."""

    name = "get_wsd_schedule"
    schema = (_warmup(),
              Param("num_decay_steps", "int", low=0, doc="D: steps of the decay."),
              Param("num_training_steps", "int", None, low=0, nullable=True,
                    doc="W + S + D; gives S when num_stable_steps is None."),
              Param("num_stable_steps", "int", None, low=0, nullable=True,
                    doc="S: steps at b; takes precedence over num_training_steps."),
              Param("warmup_type", "choice", "linear", choices=WSD_SHAPES,
                    doc="The warmup's shape."),
              Param("decay_type", "choice", "cosine", choices=WSD_SHAPES,
                    doc="The decay's shape."),
              Param("min_lr_ratio", "float", 0.0, low=0.0, high=1.0,
                    doc="r: the start of the warmup and the end of the decay, times b."),
              _cycles(0.5))
    num_decay_steps: int
    num_training_steps: int | None
    num_stable_steps: int | None
    warmup_type: str
    decay_type: str
    min_lr_ratio: float
    num_cycles: float

    def validate(self) -> None:
        """One of num_training_steps and num_stable_steps; a stable phase of >= 0 steps."""
        W, D = self.num_warmup_steps, self.num_decay_steps
        if self.num_stable_steps is not None:
            self._stable = self.num_stable_steps
        elif self.num_training_steps is not None:
            self._stable = self.num_training_steps - W - D
            if self._stable < 0:
                raise self.reject("num_training_steps", self.num_training_steps,
                                  f">= num_warmup_steps + num_decay_steps = {W + D}")
        else:
            raise self.reject("num_stable_steps", None,
                              "an int >= 0, or num_training_steps given instead")

    def factor(self, s: float) -> float:
        W, S, D, r = self.num_warmup_steps, self._stable, self.num_decay_steps, self.min_lr_ratio
        if s < W:
            p = s / W
            shape = self.warmup_type
            f = (p if shape == "linear" else 0.5 * (1.0 - math.cos(math.pi * p))
                 if shape == "cosine" else 1.0 - math.sqrt((W - s) / W))
        elif s < W + S:
            return 1.0
        elif s < W + S + D:
            p = (s - W - S) / D
            shape = self.decay_type
            f = (1.0 - p if shape == "linear" else _wave(self.num_cycles, p)
                 if shape == "cosine" else 1.0 - math.sqrt(p))
        else:
            return r
        return f * (1.0 - r) + r

    def closed_ulps(self, epoch: float) -> float:
        """The cosine's argument, and 1 - sqrt(1 - p) near the warmup's end, where 1 - p
        rounds relative to 1 and sqrt's slope grows to sqrt(W) / 2."""
        W = self.num_warmup_steps
        if epoch < W and self.warmup_type == "1-sqrt":
            return CLOSED_ULPS + math.sqrt(W)
        if epoch >= W + self._stable and self.decay_type == "cosine":
            return _wave_ulps(self.num_cycles, 1.0)
        return CLOSED_ULPS + 4 * math.pi


#: The family's spec names, in the order the docs list them.
FAMILY = tuple(cls.name for cls in (
    ConstantWithWarmup, LinearWithWarmup,
    CosineWithWarmup, CosineHardRestarts,
    PolynomialDecay, InverseSqrt,
    CosineWithMinLr, WarmupStableDecay))
