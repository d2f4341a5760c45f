"""Param-group mix-ups: one group's values leak into the others; per-group lists ignored."""

from __future__ import annotations

import math
from typing import Any

from torch.optim import lr_scheduler as L


class CosineAnnealingLROddBranchGroup0(L.CosineAnnealingLR):
    """The odd-period branch adds base_lrs[0]'s increment to every group."""

    SPEC, FAMILY = "CosineAnnealingLR", "groups"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        e, T = self.last_epoch, self.T_max
        if not self._is_initial and self._step_count > 1 and (e - 1 - T) % (2 * T) == 0:
            rise = (self.base_lrs[0] - self.eta_min) * (1 - math.cos(math.pi / T)) / 2
            return [g["lr"] + rise for g in self.optimizer.param_groups]
        return super().get_lr()


class ExponentialLRGroup0(L.ExponentialLR):
    """Decays group 0's lr and writes the result into every group."""

    SPEC, FAMILY = "ExponentialLR", "groups"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        lrs = [g["lr"] for g in self.optimizer.param_groups]
        if self._is_initial:
            return lrs
        return [lrs[0] * self.gamma] * len(lrs)


class LambdaLRFirstLambdaOnly(L.LambdaLR):
    """Given one lr_lambda per group, applies the first one to every group."""

    SPEC, FAMILY = "LambdaLR", "groups"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        f = self.lr_lambdas[0]
        return [b * f(self.last_epoch) for b in self.base_lrs]


class ReduceLROnPlateauMinLrListIgnored(L.ReduceLROnPlateau):
    """A per-group min_lr list is ignored (treated as min_lr=0)."""

    SPEC, FAMILY = "ReduceLROnPlateau", "groups"

    def __init__(self, optimizer: Any, mode: Any = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: Any = "rel",
                 cooldown: int = 0, min_lr: Any = 0.0, eps: float = 1e-8) -> None:
        if isinstance(min_lr, (list, tuple)):
            min_lr = 0.0
        super().__init__(optimizer, mode, factor, patience, threshold, threshold_mode,
                         cooldown, min_lr, eps)


class CyclicLRBaseLrListIgnored(L.CyclicLR):
    """A per-group base_lr list is ignored: the optimizer's current lrs are the lower bounds."""

    SPEC, FAMILY = "CyclicLR", "groups"

    def __init__(self, optimizer: Any, base_lr: Any, max_lr: Any, *args: Any,
                 **kwargs: Any) -> None:
        if isinstance(base_lr, (list, tuple)):
            base_lr = [g["lr"] for g in optimizer.param_groups]
        super().__init__(optimizer, base_lr, max_lr, *args, **kwargs)
