"""NeMo's lr policies (`nemo.core.optim.lr_scheduler`, nemo-toolkit 3.0.0), as documented.

NeMo documents these policies by name, by their parameters (the `*Params` dataclasses, the
class docstrings) and by the phases its base classes describe: a warmup, a hold, an annealing
down to `min_lr` by `max_steps`, and `min_lr` after it. docs/spec/nemo.md gives each formula,
where it comes from, and the rulings where the documentation is silent.

Notation: s = the scheduler's step count (`last_epoch`, 0 right after construction), b = a
group's lr at construction, W = warmup steps, H = W + hold steps, M = `max_steps`,
m = `min_lr`. Every warmup is NeMo's b (s + 1) / (W + 1) for s <= W (b at s = W, never 0).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ClassVar

from reference.base import CLOSED_ULPS, REQUIRED, Param, Schedule, register

SOURCE = ("https://docs.nvidia.com/nemo-framework/user-guide/latest/nemotoolkit/core/"
          "core.html#learning-rate-schedulers")


def _steps(name: str, doc: str) -> Param:
    return Param(name, "int", None, low=0, nullable=True, doc=doc)


def _ratio(name: str, doc: str) -> Param:
    return Param(name, "float", None, low=0.0, high=1.0, nullable=True, doc=doc)


def _max_steps(required: bool = True) -> Param:
    return Param("max_steps", "int", REQUIRED if required else None, low=0,
                 nullable=not required, doc="M: the step where the annealing ends; min_lr after.")


def _min_lr(default: float = 0.0) -> Param:
    return Param("min_lr", "float", default, low=0.0,
                 doc="m: the lr after max_steps (and the floor of some annealings).")


WARMUP = (_steps("warmup_steps", "W: steps of warmup."),
          _ratio("warmup_ratio", "W = int(warmup_ratio * max_steps) instead."))
HOLD = (_steps("hold_steps", "Steps at b after the warmup (H = W + hold_steps)."),
        _ratio("hold_ratio", "hold_steps = int(hold_ratio * max_steps) instead."))
POWER = (Param("power", "float", 1.0, low=0.0, low_open=True, doc="k: the polynomial's power."),
         Param("cycle", "bool", False, doc="TF's cycling; inert, as the lr is min_lr past M."))


class _Policy(Schedule):
    """A NeMo policy: per-group closed forms of s, in absolute lrs (min_lr is an lr)."""

    source = SOURCE
    #: The lr is relative to each group's b, so min_lr may not exceed any b (T5's is absolute).
    relative: ClassVar[bool] = True
    max_steps: int | None
    min_lr: float

    def validate(self) -> None:
        """At most one of each steps/ratio pair; min_lr <= every group's lr; the phases fit."""
        self._W = self.count("warmup_steps", "warmup_ratio")
        if self.relative and any(self.min_lr > b for b in self.base_lrs):
            raise self.reject("min_lr", self.min_lr,
                              f"min_lr <= every group's lr ({min(self.base_lrs)!r})")
        self.check()

    def count(self, steps: str, ratio: str) -> int:
        """A phase's length from `steps`, or int(`ratio` * max_steps), or 0."""
        n, r = self.params[steps], self.params[ratio]
        if n is not None and r is not None:
            raise self.reject(ratio, r, f"None when {steps} is given ({steps}={n!r})")
        if r is None:
            return int(n or 0)
        if self.max_steps is None:
            raise self.reject(ratio, r, "None unless max_steps is given")
        return int(r * self.max_steps)

    def check(self) -> None:
        """Constraints between the phases (per policy)."""

    def ends_after(self, start: int, what: str, strict: bool = True) -> None:
        """max_steps must not come before `start` (nor at it where a decay divides by
        M - start)."""
        end = self.max_steps
        if end is not None and (end < start or (strict and end == start)):
            raise self.reject("max_steps", end, f"max_steps {'>' if strict else '>='} {what} "
                                                f"= {start}")

    def warming(self, s: float) -> bool:
        """s is in the warmup: 0 < W and s <= W."""
        return self._W > 0 and s <= self._W

    def warm(self, b: float, s: float) -> float:
        """b (s + 1) / (W + 1): NeMo's warmup, for s <= W."""
        return b * ((s + 1) / (self._W + 1))

    def at(self, b: float, s: float) -> float:
        """The lr at step s of a group whose lr at construction is b."""
        raise NotImplementedError

    def lr(self, epoch: float) -> list[float]:
        return [self.at(b, epoch) for b in self.base_lrs]

    def lr_fn(self, group: int) -> Callable[[float], float]:
        b, at = self.base_lrs[group], self.at
        return lambda epoch: at(b, epoch)

    def floor(self) -> list[float]:
        return [self.min_lr] * self.groups


class _Warmup(_Policy):
    """Warmup to b over W steps, decay(b, s) up to M, then min_lr."""

    def check(self) -> None:
        self.ends_after(self._W, "the warmup's end", strict=False)

    def at(self, b: float, s: float) -> float:
        if self.warming(s):
            return self.warm(b, s)
        if self.max_steps is not None and s > self.max_steps:
            return self.min_lr
        return self.decay(b, s)

    def decay(self, b: float, s: float) -> float:
        """The lr after the warmup, up to M."""
        return b

    def progress(self, s: float) -> float:
        """(s - W) / (M - W): the annealing's progress, 0 at the warmup's end, 1 at M."""
        W, M = self._W, self.max_steps
        assert M is not None
        return (s - W) / (M - W)


class _Decay(_Warmup):
    """A warmup policy whose annealing divides by M - W: M > W."""

    max_steps: int

    def check(self) -> None:
        self.ends_after(self._W, "the warmup's end")

    def remaining(self, s: float) -> float:
        """(M - s) / (M - W): 1 at the warmup's end, 0 at M (exact integers, one rounding)."""
        return (self.max_steps - s) / (self.max_steps - self._W)


class _Hold(_Warmup):
    """Warmup over W steps, b until H = W + hold, decay(b, s) up to M, then min_lr."""

    #: The annealing divides by M - H, so M > H (M >= H where it does not).
    strict: ClassVar[bool] = True

    def check(self) -> None:
        self._H = self._W + self.count("hold_steps", "hold_ratio")
        self.ends_after(self._H, "the hold's end", strict=self.strict)

    def at(self, b: float, s: float) -> float:
        if self.warming(s):
            return self.warm(b, s)
        if s < self._H:
            return b
        if self.max_steps is not None and s > self.max_steps:
            return self.min_lr
        return self.decay(b, s)

    def progress(self, s: float) -> float:
        """(s - H) / (M - H): 0 at the hold's end, 1 at M."""
        H, M = self._H, self.max_steps
        assert M is not None
        return (s - H) / (M - H)


def _poly_ulps(k: float, r: float) -> float:
    """r ** k: r = 1 - p rounds (relative to 1), which the power scales by k r ** (k - 1),
    large near r = 0 for k < 1 (as PolynomialLR)."""
    return CLOSED_ULPS + (2 * k * r ** (k - 1) if r > 0 else 0.0)


@register
class WarmupPolicy(_Warmup):
    """Warmup to b, then b up to max_steps (None: for ever), then min_lr."""

    name = "nemo.WarmupPolicy"
    schema = (*WARMUP, _max_steps(False), _min_lr())


@register
class WarmupHoldPolicy(_Hold):
    """Warmup to b, a hold at b, b up to max_steps (None: for ever), then min_lr."""

    name = "nemo.WarmupHoldPolicy"
    schema = (*WARMUP, *HOLD, _max_steps(False), _min_lr())
    strict = False


@register
class SquareAnnealing(_Decay):
    """Warmup, then max(b ((M - s) / (M - W)) ** 2, m): from b at W down to the floor m."""

    name = "nemo.SquareAnnealing"
    schema = (*WARMUP, _max_steps(), _min_lr(1e-5))

    def decay(self, b: float, s: float) -> float:
        return max(b * self.remaining(s) ** 2, self.min_lr)


@register
class SquareRootAnnealing(_Decay):
    """Warmup, then max(b sqrt((M - s) / (M - W)), m): from b at W down to the floor m."""

    name = "nemo.SquareRootAnnealing"
    schema = (*WARMUP, _max_steps(), _min_lr())

    def decay(self, b: float, s: float) -> float:
        return max(b * math.sqrt(self.remaining(s)), self.min_lr)


@register
class CosineAnnealing(_Policy):
    """Warmup, then m + (b - m) (1 + cos(pi min(s - W, D) / D)) / 2 with D = M - W - C:
    from b at W down to m at W + D, m for the C constant steps up to M, then m."""

    name = "nemo.CosineAnnealing"
    schema = (*WARMUP,
              _steps("constant_steps", "C: steps at min_lr at the end, up to max_steps."),
              _ratio("constant_ratio", "C = int(constant_ratio * max_steps) instead."),
              _max_steps(), _min_lr())
    max_steps: int

    def check(self) -> None:
        self._C = self.count("constant_steps", "constant_ratio")
        self.ends_after(self._W + self._C, "warmup + constant steps")
        self._D = self.max_steps - self._W - self._C

    def phase(self, s: float) -> float:
        """min(s - W, D) / D: the cosine's progress, 0 at the warmup's end, 1 from W + D."""
        return min(s - self._W, self._D) / self._D

    def at(self, b: float, s: float) -> float:
        if self.warming(s):
            return self.warm(b, s)
        if s > self.max_steps:
            return self.min_lr
        m = self.min_lr
        return (b - m) * (0.5 * (1.0 + math.cos(math.pi * self.phase(s)))) + m

    def closed_ulps(self, epoch: float) -> float:
        """The cosine's argument pi p rounds to ~pi p U, which its slope carries."""
        if epoch <= self._W or epoch > self.max_steps:
            return CLOSED_ULPS
        return CLOSED_ULPS + 4 * math.pi * self.phase(epoch)


@register
class NoamAnnealing(_Policy):
    """Noam: b d ** -0.5 min(n ** -0.5, n W ** -1.5) with n = max(1, s) (n ** -0.5 when
    W = 0), floored at m after the warmup; no end (max_steps only sizes warmup_ratio)."""

    name = "nemo.NoamAnnealing"
    schema = (Param("d_model", "int", low=1, doc="d: the model dimension (scale d ** -0.5)."),
              *WARMUP, _max_steps(False), _min_lr())
    d_model: int

    def at(self, b: float, s: float) -> float:
        n, W = max(1, s), self._W
        if W > 0:
            mult = self.d_model ** -0.5 * min(n ** -0.5, n * W ** -1.5)
        else:
            mult = self.d_model ** -0.5 * n ** -0.5
        lr = b * mult
        return max(lr, self.min_lr) if n > W else lr


@register
class NoamHoldAnnealing(_Hold):
    """Warmup, a hold at b, then max(b (W / (s - h)) ** r, m) with h = H - W the hold's
    length (b at H), r = decay_rate; min_lr after max_steps. Needs W >= 1."""

    name = "nemo.NoamHoldAnnealing"
    schema = (*WARMUP, *HOLD, _max_steps(),
              Param("decay_rate", "float", 0.5, low=0.0, low_open=True,
                    doc="r: the decay's power (0.5: Noam's; 1.0: Squeezeformer's)."),
              _min_lr())
    strict = False
    decay_rate: float

    def check(self) -> None:
        if self._W < 1:
            raise self.reject("warmup_steps", self.params["warmup_steps"],
                              "warmup_steps (or int(warmup_ratio * max_steps)) >= 1: the "
                              "documented 'cannot be used without warmup steps'")
        super().check()

    def decay(self, b: float, s: float) -> float:
        r, W, h = self.decay_rate, self._W, self._H - self._W
        return max((b * W ** r) / (s - h) ** r, self.min_lr)


@register
class WarmupAnnealing(_Decay):
    """Warmup, then linear from b at W to m at M: m + (1 - p) (b - m), p = (s - W)/(M - W)."""

    name = "nemo.WarmupAnnealing"
    schema = (*WARMUP, _max_steps(), _min_lr())

    def decay(self, b: float, s: float) -> float:
        m = self.min_lr
        return m + (1 - self.progress(s)) * (b - m)


@register
class InverseSquareRootAnnealing(_Warmup):
    """Warmup, then b / sqrt((s + 1) / (W + 1)) up to M (b at W), then min_lr."""

    name = "nemo.InverseSquareRootAnnealing"
    schema = (*WARMUP, _max_steps(), _min_lr())
    max_steps: int

    def decay(self, b: float, s: float) -> float:
        return b / math.sqrt((s + 1) / (self._W + 1))


@register
class PolynomialDecayAnnealing(_Decay):
    """Warmup, then (b - m) (1 - p) ** k + m, p = (s - W) / (M - W); min_lr after M."""

    name = "nemo.PolynomialDecayAnnealing"
    schema = (*WARMUP, _max_steps(), _min_lr(), *POWER)
    power: float

    def decay(self, b: float, s: float) -> float:
        m = self.min_lr
        return (b - m) * (1.0 - self.progress(s)) ** self.power + m

    def closed_ulps(self, epoch: float) -> float:
        if epoch <= self._W or epoch >= self.max_steps:
            return CLOSED_ULPS
        return _poly_ulps(self.power, 1.0 - self.progress(epoch))


@register
class PolynomialHoldDecayAnnealing(_Hold):
    """Warmup, a hold at b, then (b - m) (1 - p) ** k + m, p = (s - H) / (M - H)."""

    name = "nemo.PolynomialHoldDecayAnnealing"
    schema = (*WARMUP, *HOLD, _max_steps(), _min_lr(), *POWER)
    max_steps: int
    power: float

    def decay(self, b: float, s: float) -> float:
        m = self.min_lr
        return (b - m) * (1.0 - self.progress(s)) ** self.power + m

    def closed_ulps(self, epoch: float) -> float:
        if epoch < self._H or epoch >= self.max_steps:
            return CLOSED_ULPS
        return _poly_ulps(self.power, 1.0 - self.progress(epoch))


@register
class WarmupHoldAnnealLinear(_Hold):
    """Warmup, a hold at b, then linear from b at H to m at M: b - (b - m) p."""

    name = "nemo.WarmupHoldAnnealLinear"
    schema = (*WARMUP, *HOLD, _max_steps(), _min_lr())
    max_steps: int

    def decay(self, b: float, s: float) -> float:
        return b - (b - self.min_lr) * self.progress(s)


@register
class WarmupHoldAnnealOneMinusSquareRoot(_Hold):
    """Warmup, a hold at b, then the documented max(m, b (1 - sqrt(p))), p = (s - H)/(M - H)."""

    name = "nemo.WarmupHoldAnnealOneMinusSquareRoot"
    schema = (*WARMUP, *HOLD, _max_steps(), _min_lr())
    max_steps: int

    def decay(self, b: float, s: float) -> float:
        return max(self.min_lr, b * (1 - math.sqrt(self.progress(s))))


@register
class T5InverseSquareRootAnnealing(_Policy):
    """T5's absolute lr 1 / sqrt(max(s, C)) (the groups' lrs play no part) up to M, then
    min_lr; C = constant_steps >= 1."""

    name = "nemo.T5InverseSquareRootAnnealing"
    schema = (_steps("constant_steps", "C: steps at 1 / sqrt(C) first."),
              _ratio("constant_ratio", "C = int(constant_ratio * max_steps) instead."),
              _max_steps(), _min_lr())
    relative = False
    max_steps: int

    def validate(self) -> None:
        """One of constant_steps and constant_ratio, giving 1 <= C <= max_steps."""
        self._C = self.count("constant_steps", "constant_ratio")
        if self._C < 1:
            given = self.params["constant_ratio"]
            key = "constant_steps" if given is None else "constant_ratio"
            raise self.reject(key, self.params[key], "constant_steps (or "
                              "int(constant_ratio * max_steps)) >= 1: the constant lr is "
                              "1 / sqrt(constant_steps)")
        self.ends_after(self._C, "constant_steps", strict=False)

    def at(self, b: float, s: float) -> float:
        if s <= self._C:
            return 1 / self._C ** 0.5
        if s > self.max_steps:
            return self.min_lr
        return 1 / s ** 0.5


#: The family's spec names, in the order NeMo's documentation lists them (then the rest).
FAMILY = tuple(cls.name for cls in (
    WarmupPolicy, WarmupHoldPolicy, SquareAnnealing, CosineAnnealing, NoamAnnealing,
    WarmupAnnealing, InverseSquareRootAnnealing, SquareRootAnnealing,
    PolynomialDecayAnnealing, PolynomialHoldDecayAnnealing, NoamHoldAnnealing,
    WarmupHoldAnnealLinear, WarmupHoldAnnealOneMinusSquareRoot, T5InverseSquareRootAnnealing))

