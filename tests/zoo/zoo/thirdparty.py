"""Defects that `nox -s thirdparty` found in published schedulers (docs/findings.md),
re-created in our own code, one kind each, so that the suite keeps catching them."""

from __future__ import annotations

import math
from typing import Any

import numpy
from torch.optim import Optimizer
from torch.optim import lr_scheduler as L

from zoo import correct


def _warm(s: int, W: int) -> float | None:
    """s / W during a linear warmup from 0, None after it."""
    return s / W if s < W else None


class CosineWarmupClimbsBack(L.LambdaLR):
    """Past num_training_steps the cosine keeps turning: the lr climbs back up to the peak."""

    SPEC, FAMILY = "get_cosine_schedule_with_warmup", "oracle"

    def __init__(self, optimizer: Optimizer, num_warmup_steps: int, num_training_steps: int,
                 num_cycles: float = 0.5, last_epoch: int = -1) -> None:
        W, T, c = num_warmup_steps, num_training_steps, num_cycles

        def factor(s: int) -> float:
            warm = _warm(s, W)
            if warm is not None:
                return warm
            return 0.5 * (1.0 + math.cos(2.0 * math.pi * c * (s - W) / (T - W)))

        super().__init__(optimizer, factor, last_epoch)


class PolynomialEndFromDefaults(L.LambdaLR):
    """lr_end is converted to a ratio of optimizer.defaults['lr']: a group with another lr
    ends at lr_end * its lr / that default, not at lr_end."""

    SPEC, FAMILY = "get_polynomial_decay_schedule_with_warmup", "groups"

    def __init__(self, optimizer: Optimizer, num_warmup_steps: int, num_training_steps: int,
                 lr_end: float = 1e-7, power: float = 1.0, last_epoch: int = -1) -> None:
        W, T, ref = num_warmup_steps, num_training_steps, optimizer.defaults["lr"]

        def factor(s: int) -> float:
            warm = _warm(s, W)
            if warm is not None:
                return warm
            left = max(T - s, 0) / (T - W)
            return ((ref - lr_end) * left**power + lr_end) / ref

        super().__init__(optimizer, factor, last_epoch)


class CosineMinLrFromDefaults(L.LambdaLR):
    """min_lr is converted to a ratio of optimizer.defaults['lr']: each group's floor is
    min_lr scaled by its lr over that default, not min_lr."""

    SPEC, FAMILY = "get_cosine_with_min_lr_schedule_with_warmup", "groups"

    def __init__(self, optimizer: Optimizer, num_warmup_steps: int, num_training_steps: int,
                 num_cycles: float = 0.5, last_epoch: int = -1, min_lr: float | None = None,
                 min_lr_rate: float | None = None) -> None:
        W, T, c = num_warmup_steps, num_training_steps, num_cycles
        rate = min_lr / optimizer.defaults["lr"] if min_lr is not None else min_lr_rate or 0.0

        def factor(s: int) -> float:
            warm = _warm(s, W)
            if warm is not None:
                return warm
            p = min((s - W) / (T - W), 1.0)
            return rate + (1 - rate) * 0.5 * (1.0 + math.cos(2.0 * math.pi * c * p))

        super().__init__(optimizer, factor, last_epoch)


class ConstantWarmupNumpyLr(L.LambdaLR):
    """Its multiplier is a numpy float: the group lrs and the state_dict's _last_lr become
    numpy scalars, which torch.load(weights_only=True) refuses."""

    SPEC, FAMILY = "get_constant_schedule_with_warmup", "state_dict"

    def __init__(self, optimizer: Optimizer, num_warmup_steps: int, last_epoch: int = -1) -> None:
        W = numpy.float64(max(num_warmup_steps, 1))

        def factor(s: int) -> Any:
            return numpy.minimum(numpy.float64(s) / W, numpy.float64(1.0)) if num_warmup_steps \
                else numpy.float64(1.0)

        super().__init__(optimizer, factor, last_epoch)


class WarmupRestartsStartsAtMin(correct.CosineAnnealingWarmupRestarts):
    """Right after construction the lr is min_lr, not lr(0): the first optimizer step runs
    off the schedule (max_lr when there is no warmup)."""

    SPEC, FAMILY = "CosineAnnealingWarmupRestarts", "oracle"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        if self.last_epoch == 0:
            return [self.min_lr] * len(self.optimizer.param_groups)
        return super().get_lr()


class StepLRAssignsFloats(L.StepLR):
    """Writes each step's lr into the group as a float: a Tensor lr is replaced instead of
    being updated in place (torch 2.4+ updates it in place)."""

    SPEC, FAMILY = "StepLR", "versions"

    def step(self, epoch: Any = None) -> None:
        super().step(epoch)
        for group in self.optimizer.param_groups:
            group["lr"] = float(group["lr"])


class GradualWarmupStaleLastLr(correct.GradualWarmupScheduler):
    """After the hand-off it leaves its own record alone: get_last_lr() is stuck at the
    warmup's last lr while the after_scheduler moves the groups on."""

    SPEC, FAMILY = "GradualWarmupScheduler", "api"

    def step(self, epoch: Any = None) -> None:
        handed_off = (self.after_scheduler is not None and epoch is None
                      and self.last_epoch >= self.total_epoch)
        kept = list(self._last_lr) if handed_off else None
        super().step(epoch)
        if kept is not None:
            self._last_lr = kept


class GradualWarmupAsksAfterGetLr(correct.GradualWarmupScheduler):
    """Takes the after_scheduler's lrs from its get_lr() outside that scheduler's step():
    torch warns "please use get_last_lr()" in correct use."""

    SPEC, FAMILY = "GradualWarmupScheduler", "warnings"

    def _lr_at(self, epoch: int) -> list[float]:
        after = self.after_scheduler
        if after is None or epoch <= self.total_epoch:
            return super()._lr_at(epoch)
        after.last_epoch = epoch - self.total_epoch
        after.get_lr()  # the call torch warns about; the values come from the closed form
        return [float(v) for v in after._get_closed_form_lr()]  # type: ignore[attr-defined]
