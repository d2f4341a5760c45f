"""DeepSpeed's schedules (`deepspeed.runtime.lr_schedules`): WarmupLR, WarmupDecayLR,
WarmupCosineLR, OneCycle and LRRangeTest, from their documentation (the class docstrings on
the API page, the 1-Cycle and LR range test tutorials) and the rulings where it is silent.

DeepSpeed steps once per batch and counts batches with `last_batch_iteration` (t), "the index
of the last batch": -1 after construction, t = e - 1 after e steps. Every closed form here is
written in e (the driver's step count, 0 right after construction) and says which index each
piece reads. Formulas, conventions and rulings: docs/spec/deepspeed.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from reference.base import CLOSED_ULPS, Param, Schedule, register

SOURCE = "https://deepspeed.readthedocs.io/en/latest/schedulers.html"

#: The documented warmup shapes.
WARMUP_TYPES = ("log", "linear")


def _warmup_steps() -> Param:
    return Param("warmup_num_steps", "int", 1000, low=1,
                 doc="W: steps of warmup (the package raises for W <= 0).")


def _warmup_type() -> Param:
    return Param("warmup_type", "choice", "log", choices=WARMUP_TYPES,
                 doc="The increasing function of the warmup.")


def _total_steps() -> Param:
    return Param("total_num_steps", "int", low=1, doc="T >= W: the step where the decay ends.")


def _log_fraction(n: float, W: int) -> float:
    """ln(n) / ln(W): the log warmup after n batches, 0 at n = 1 and 1 at n = W. A one-step
    warmup (W = 1, where ln W = 0) is already complete after one batch."""
    return math.log(n) / math.log(W) if W > 1 else 1.0


class _Warmup(Schedule):
    """WarmupLR's shape: from warmup_min_lr up to warmup_max_lr (per group), then hold.

    The fraction done reads the last batch index t = e - 1: linear t / W (max at t = W), log
    ln(t + 1) / ln W (max at t = W - 1); before the first batch (t = -1) the lr is the min.
    """

    source = SOURCE
    warmup_min_lr: list[float]
    warmup_max_lr: list[float | None]
    warmup_num_steps: int
    warmup_type: str

    def validate(self) -> None:
        """warmup_max_lr None means the groups' lrs (None inside a list means nothing); min
        <= max per group (an increase)."""
        given = self.warmup_max_lr
        if None in given and any(m is not None for m in given):
            raise self.reject("warmup_max_lr", given, "a float >= 0, a list of those with one "
                              "per param group, or None")
        top = [b if m is None else m for m, b in zip(given, self.base_lrs, strict=True)]
        for low, high in zip(self.warmup_min_lr, top, strict=True):
            if low > high:
                raise self.reject("warmup_min_lr", self.warmup_min_lr,
                                  f"warmup_min_lr <= warmup_max_lr ({top!r}) per group")
        self._top = top

    def warm(self, t: float) -> float:
        """The warmup's fraction at last batch index t (0 <= t), 1 from its end on."""
        W = self.warmup_num_steps
        if t >= W:
            return 1.0
        if self.warmup_type == "linear":
            return t / W
        return _log_fraction(t + 1, W)

    def fraction(self, t: float) -> float:
        """The fraction of (max - min) at last batch index t (t >= 0)."""
        return self.warm(t)

    def lr(self, epoch: float) -> list[float]:
        return [self.lr_fn(g)(epoch) for g in range(self.groups)]

    def lr_fn(self, group: int) -> Callable[[float], float]:
        low, high, fraction = self.warmup_min_lr[group], self._top[group], self.fraction
        delta = high - low

        def lr(epoch: float) -> float:
            t = epoch - 1
            return low if t < 0 else low + delta * fraction(t)

        return lr

    def scale(self, lrs: Sequence[float]) -> list[float]:
        """Errors scale with the warmup's bounds: base_lrs play no part once max is given."""
        return [max(abs(lo), abs(hi), abs(v))
                for lo, hi, v in zip(self.warmup_min_lr, self._top, lrs, strict=True)]


def _bounds(max_default: float | None) -> tuple[Param, Param]:
    return (
        Param("warmup_min_lr", "float", 0.0, low=0.0, per_group=True,
              doc="The lr the warmup starts from (one, or one per group)."),
        Param("warmup_max_lr", "float", max_default, low=0.0, per_group=True, nullable=True,
              doc="The lr the warmup ends at; None: each group's lr at construction."),
    )


@register
class WarmupLR(_Warmup):
    """From warmup_min_lr to warmup_max_lr over warmup_num_steps steps, then fixed there."""

    name = "deepspeed.WarmupLR"
    schema = (*_bounds(None), _warmup_steps(), _warmup_type())


@register
class WarmupDecayLR(_Warmup):
    """WarmupLR's warmup, then linear from warmup_max_lr at t = W down to warmup_min_lr at
    t = T, and warmup_min_lr after (t = e - 1 throughout)."""

    name = "deepspeed.WarmupDecayLR"
    schema = (_total_steps(), *_bounds(0.001), _warmup_steps(), _warmup_type())
    total_num_steps: int

    def validate(self) -> None:
        """As WarmupLR, and total_num_steps >= warmup_num_steps (the package warns)."""
        super().validate()
        if self.total_num_steps < self.warmup_num_steps:
            raise self.reject("total_num_steps", self.total_num_steps,
                              f"total_num_steps >= warmup_num_steps = {self.warmup_num_steps}")

    def fraction(self, t: float) -> float:
        W, T = self.warmup_num_steps, self.total_num_steps
        if t < W:
            return self.warm(t)
        # T == W leaves no decay window: the min from the warmup's end on.
        return max(0.0, (T - t) / max(1, T - W))


@register
class WarmupCosineLR(Schedule):
    """b times a ratio: from warmup_min_ratio up to 1 over W steps, then a half cosine down to
    cos_min_ratio over the remaining T - W steps, held after.

    Every piece reads n = t + 1 = e (batches done): warmup n / W (linear) or ln n / ln W (log),
    1 at n = W; cosine progress min(1, (n - W) / (T - W)). After construction: warmup_min_ratio.
    """

    name = "deepspeed.WarmupCosineLR"
    schema = (
        _total_steps(),
        Param("warmup_min_ratio", "float", 0.0, low=0.0, high=1.0, per_group=True,
              doc="The warmup's start, times each group's lr (one, or one per group)."),
        _warmup_steps(),
        Param("cos_min_ratio", "float", 0.0001, low=0.0, high=1.0,
              doc="The cosine's end, times each group's lr."),
        _warmup_type(),
    )
    source = SOURCE
    total_num_steps: int
    warmup_min_ratio: list[float]
    warmup_num_steps: int
    cos_min_ratio: float
    warmup_type: str

    def validate(self) -> None:
        """total_num_steps >= warmup_num_steps (the package warns)."""
        if self.total_num_steps < self.warmup_num_steps:
            raise self.reject("total_num_steps", self.total_num_steps,
                              f"total_num_steps >= warmup_num_steps = {self.warmup_num_steps}")

    def warm(self, n: float) -> float:
        """The warmup's fraction after n batches (0 <= n < W)."""
        W = self.warmup_num_steps
        if self.warmup_type == "linear":
            return n / W
        return _log_fraction(n, W) if n >= 1 else 0.0

    def progress(self, n: float) -> float:
        """The cosine's progress after n >= W batches: 0 at the warmup's end, 1 at T."""
        W, T = self.warmup_num_steps, self.total_num_steps
        # T == W leaves no decay window: the floor right after the warmup.
        return min(1.0, (n - W) / max(1, T - W))

    def ratio(self, n: float, start: float) -> float:
        if n < self.warmup_num_steps:
            return start + (1.0 - start) * self.warm(n)
        c = self.cos_min_ratio
        return c + (1.0 - c) * (1.0 + math.cos(math.pi * self.progress(n))) / 2

    def lr(self, epoch: float) -> list[float]:
        return [self.lr_fn(g)(epoch) for g in range(self.groups)]

    def lr_fn(self, group: int) -> Callable[[float], float]:
        b, start, ratio = self.base_lrs[group], self.warmup_min_ratio[group], self.ratio
        return lambda epoch: b * ratio(epoch, start)

    def floor(self) -> list[float]:
        return [b * self.cos_min_ratio for b in self.base_lrs]

    def closed_ulps(self, epoch: float) -> float:
        """The cosine's argument is at most pi."""
        return CLOSED_ULPS + 4 * math.pi


@register
class LRRangeTest(Schedule):
    """lr_range_test_min_lr (1 + step_rate q), q = e / step_size, or its floor with the
    staircase: the lr grows linearly, by step_rate times the initial lr every step_size steps.
    """

    name = "deepspeed.LRRangeTest"
    schema = (
        Param("lr_range_test_min_lr", "float", 1e-3, low=0.0, per_group=True,
              doc="The initial lr (one, or one per group)."),
        Param("lr_range_test_step_size", "int", 2000, low=1,
              doc="Steps per unit of increase (the package raises for <= 0)."),
        Param("lr_range_test_step_rate", "float", 1.0, low=0.0,
              doc="Increase per step_size steps, in units of the initial lr."),
        Param("lr_range_test_staircase", "bool", False,
              doc="Change the lr every step_size steps instead of every step."),
    )
    source = SOURCE
    lr_range_test_min_lr: list[float]
    lr_range_test_step_size: int
    lr_range_test_step_rate: float
    lr_range_test_staircase: bool

    def growth(self, epoch: float) -> float:
        """1 + step_rate q: e steps done (the package reads last_batch_iteration + 1)."""
        size = self.lr_range_test_step_size
        q = epoch // size if self.lr_range_test_staircase else epoch / size
        return 1.0 + self.lr_range_test_step_rate * q

    def lr(self, epoch: float) -> list[float]:
        g = self.growth(epoch)
        return [m * g for m in self.lr_range_test_min_lr]

    def lr_fn(self, group: int) -> Callable[[float], float]:
        m, growth = self.lr_range_test_min_lr[group], self.growth
        return lambda epoch: m * growth(epoch)

    def scale(self, lrs: Sequence[float]) -> list[float]:
        return [max(abs(m), abs(v)) for m, v in zip(self.lr_range_test_min_lr, lrs, strict=True)]


@register
class OneCycle(Schedule):
    """1Cycle: one cycle from cycle_min_lr up to cycle_max_lr in cycle_first_step_size steps
    and back in cycle_second_step_size (optionally in stairs), then an inverse-time decay from
    cycle_min_lr; momentum (Adam's beta1) cycles inversely, then decays.

    Reads e = t + 1 (batches done), as the package does.
    """

    name = "deepspeed.OneCycle"
    schema = (
        Param("cycle_min_lr", "float", low=0.0, per_group=True,
              doc="The cycle's lower lr, where it starts and ends (one, or one per group)."),
        Param("cycle_max_lr", "float", low=0.0, per_group=True,
              doc="The cycle's upper lr, at the end of the first half (>= cycle_min_lr)."),
        Param("decay_lr_rate", "float", 0.0, low=0.0,
              doc="r: the decay phase's rate; 0 keeps cycle_min_lr."),
        Param("cycle_first_step_size", "int", 2000, low=1, doc="u: steps of the rising half."),
        Param("cycle_second_step_size", "int", None, low=0, nullable=True,
              doc="v: steps of the falling half; None means cycle_first_step_size."),
        Param("cycle_first_stair_count", "int", 0,
              doc="Stairs of the rising half; <= 0 is continuous."),
        Param("cycle_second_stair_count", "int", None, nullable=True,
              doc="Stairs of the falling half; None means cycle_first_stair_count."),
        Param("decay_step_size", "int", 0, low=0,
              doc="s: steps per unit of decay; 0 keeps the cycle's end values."),
        Param("cycle_momentum", "bool", True, doc="Cycle momentum inversely to the lr."),
        Param("cycle_min_mom", "float", 0.8, low=0.0, high=1.0, per_group=True,
              doc="Momentum at the lr's peak."),
        Param("cycle_max_mom", "float", 0.9, low=0.0, high=1.0, per_group=True,
              doc="Momentum where the lr is lowest (>= cycle_min_mom)."),
        Param("decay_mom_rate", "float", 0.0, low=0.0,
              doc="The decay phase's rate for momentum; 0 keeps cycle_max_mom."),
    )
    source = SOURCE
    cycles_momentum = True

    cycle_min_lr: list[float]
    cycle_max_lr: list[float]
    decay_lr_rate: float
    cycle_first_step_size: int
    cycle_second_step_size: int | None
    cycle_first_stair_count: int
    cycle_second_stair_count: int | None
    decay_step_size: int
    cycle_momentum: bool
    cycle_min_mom: list[float]
    cycle_max_mom: list[float]
    decay_mom_rate: float

    def validate(self) -> None:
        """cycle_min_lr <= cycle_max_lr and cycle_min_mom <= cycle_max_mom per group."""
        for lo, hi in zip(self.cycle_min_lr, self.cycle_max_lr, strict=True):
            if lo > hi:
                raise self.reject("cycle_min_lr", self.cycle_min_lr,
                                  f"cycle_min_lr <= cycle_max_lr = {self.cycle_max_lr!r}")
        if self.cycle_momentum:
            for lo, hi in zip(self.cycle_min_mom, self.cycle_max_mom, strict=True):
                if lo > hi:
                    raise self.reject("cycle_min_mom", self.cycle_min_mom,
                                      f"cycle_min_mom <= cycle_max_mom = {self.cycle_max_mom!r}")
        u = self.cycle_first_step_size
        v = u if self.cycle_second_step_size is None else self.cycle_second_step_size
        n1 = self.cycle_first_stair_count
        n2 = n1 if self.cycle_second_stair_count is None else self.cycle_second_stair_count
        self._up, self._down, self._total, self._stairs = u, v, u + v, (n1, n2)

    def height(self, epoch: float) -> float:
        """The cycle's fraction of (max - min) after e <= u + v steps: exact in integers."""
        u, v, total = self._up, self._down, self._total
        p = epoch % total  # e = u + v closes the cycle at 0
        if p <= u:
            n, done, span = self._stairs[0], p, u
        else:
            n, done, span = self._stairs[1], total - p, v
        return (done * n // span) / n if n > 0 else done / span

    def decay(self, epoch: float, rate: float) -> float:
        """The inverse-time divisor 1 + rate k / s, k = e - (u + v) steps into the decay."""
        s = self.decay_step_size
        if s == 0 or rate == 0:
            return 1.0
        return 1.0 + rate * (epoch - self._total) / s

    def lr(self, epoch: float) -> list[float]:
        if epoch <= self._total:
            h = self.height(epoch)
            return [lo + (hi - lo) * h
                    for lo, hi in zip(self.cycle_min_lr, self.cycle_max_lr, strict=True)]
        d = self.decay(epoch, self.decay_lr_rate)
        return [lo / d for lo in self.cycle_min_lr]

    def momenta(self, epoch: float) -> list[float] | None:
        """cycle_max_mom - (max - min) * height in the cycle (max_mom wherever the lr is
        cycle_min_lr, construction included); cycle_max_mom / (1 + r k / s) in the decay."""
        if not self.cycle_momentum:
            return None
        if epoch <= self._total:
            h = self.height(epoch)
            return [hi - (hi - lo) * h
                    for lo, hi in zip(self.cycle_min_mom, self.cycle_max_mom, strict=True)]
        d = self.decay(epoch, self.decay_mom_rate)
        return [hi / d for hi in self.cycle_max_mom]

    def closed_ulps(self, epoch: float) -> float:
        """The package's in-cycle position 1 + e/L - cycle rounds to ~2 (1 + e/L) U and the
        triangle divides it by u/L or v/L (as CyclicLR)."""
        if epoch > self._total:
            return CLOSED_ULPS
        half = min(h for h in (self._up, self._down) if h > 0)
        return CLOSED_ULPS + 4 * (self._total + abs(epoch)) / half

    def scale(self, lrs: Sequence[float]) -> list[float]:
        return [max(lo, hi, abs(v))
                for lo, hi, v in zip(self.cycle_min_lr, self.cycle_max_lr, lrs, strict=True)]


#: The family's spec names.
FAMILY = tuple(cls.name for cls in (WarmupLR, WarmupDecayLR, WarmupCosineLR, OneCycle,
                                     LRRangeTest))
