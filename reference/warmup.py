"""Two third-party warmup schedules, per SPEC-RULINGS.md: LinearAnnealingLR (seed 002) and
GradualWarmupScheduler (seed 004, ildoonet's `warmup-scheduler`).

Formulas: docs/spec.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reference.base import CLOSED_ULPS, Param, Schedule, make, register


@register
class LinearAnnealingLR(Schedule):
    """Linear from b/N up to b at t = N, down to 0 at t = T, then 0 (t = epoch + 1)."""

    name = "LinearAnnealingLR"
    schema = (
        Param("num_annealing_steps", "int", low=1, doc="N: steps to climb to the base lr."),
        Param("num_total_steps", "int", low=2, doc="T > N: the step where the lr reaches 0."),
    )
    source = "seed 002; SPEC-RULINGS.md"

    num_annealing_steps: int
    num_total_steps: int

    def validate(self) -> None:
        """num_total_steps > num_annealing_steps."""
        if self.num_total_steps <= self.num_annealing_steps:
            raise self.reject("num_total_steps", self.num_total_steps,
                              f"num_total_steps > num_annealing_steps = "
                              f"{self.num_annealing_steps}")

    def lr(self, epoch: float) -> list[float]:
        """The ruled piecewise-linear form in t = epoch + 1 (0 past T, never negative)."""
        N, T, t = self.num_annealing_steps, self.num_total_steps, epoch + 1
        if t <= N:
            return [b * t / N for b in self.base_lrs]
        if t <= T:
            return [b * (T - t) / (T - N) for b in self.base_lrs]
        return [0.0] * self.groups


#: The schedules the ruling allows after the warmup (all closed forms).
AFTER = ("StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR")


@register
class GradualWarmupScheduler(Schedule):
    """Warm up linearly to b * multiplier over total_epoch epochs, then hold, or hand over to
    an after_scheduler whose base lrs are b * multiplier."""

    name = "GradualWarmupScheduler"
    schema = (
        Param("multiplier", "float", low=1.0, doc="M: the warmup's target is b * M."),
        Param("total_epoch", "int", low=1, doc="E: epochs of warmup."),
        Param("after_scheduler", "schedule", None, nullable=True,
              doc="(name, params) of the schedule after the warmup: one of "
                  + ", ".join(AFTER) + "."),
    )
    source = "seed 004; SPEC-RULINGS.md"
    composite = True

    multiplier: float
    total_epoch: int
    after_scheduler: tuple[str, dict[str, Any]] | None

    def validate(self) -> None:
        """Build the after_scheduler on base lrs b * M."""
        self._peak = [b * self.multiplier for b in self.base_lrs]
        self._after: Schedule | None = None
        if self.after_scheduler is None:
            return
        name, params = self.after_scheduler
        if name not in AFTER:
            raise self.reject("after_scheduler", self.after_scheduler,
                              "None or a (name, params) pair with name one of " + ", ".join(AFTER))
        try:
            self._after = make(name, self._peak, **params)
        except ValueError as err:
            raise self.reject("after_scheduler", self.after_scheduler,
                              f"a valid {name}: {err}") from err

    def lr(self, epoch: float) -> list[float]:
        """Warmup for epoch <= E, then b * M or the after_scheduler at epoch - E."""
        M, E = self.multiplier, self.total_epoch
        if epoch <= E:
            if M == 1:
                return [b * epoch / E for b in self.base_lrs]
            return [b * ((M - 1) * epoch / E + 1) for b in self.base_lrs]
        if self._after is None:
            return list(self._peak)
        return self._after.lr(epoch - E)

    def closed_ulps(self, epoch: float) -> float:
        """The after_scheduler's own tolerance past the warmup."""
        if self._after is not None and epoch > self.total_epoch:
            return self._after.closed_ulps(epoch - self.total_epoch)
        return CLOSED_ULPS

    def scale(self, lrs: Sequence[float]) -> list[float]:
        """Errors scale with the warmup's target b * M."""
        return [max(p, abs(v)) for p, v in zip(self._peak, lrs, strict=True)]
