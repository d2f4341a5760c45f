"""Chainable specs implemented from base_lrs (a function of the epoch alone): right on their
own, wrong after an external lr change or inside ChainedScheduler."""

from __future__ import annotations

import math

from torch.optim import lr_scheduler as L
from torch.optim.swa_utils import SWALR


class StepLRFromBaseLrs(L.StepLR):
    """get_lr returns base_lr * gamma ** (epoch // step_size), ignoring the group's lr."""

    SPEC, FAMILY = "StepLR", "chain"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        return [b * self.gamma ** (self.last_epoch // self.step_size) for b in self.base_lrs]


class ExponentialLRFromBaseLrs(L.ExponentialLR):
    """get_lr returns base_lr * gamma ** epoch, ignoring the group's lr."""

    SPEC, FAMILY = "ExponentialLR", "chain"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        return [b * self.gamma**self.last_epoch for b in self.base_lrs]


class CosineAnnealingLRFromBaseLrs(L.CosineAnnealingLR):
    """get_lr is the closed form in base_lrs, not the documented recurrence."""

    SPEC, FAMILY = "CosineAnnealingLR", "chain"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        c = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]


class MultiplicativeLRFromBaseLrs(L.MultiplicativeLR):
    """Keeps a running product of the factors and applies it to base_lrs."""

    SPEC, FAMILY = "MultiplicativeLR", "chain"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        if self._is_initial:
            self.products = [1.0] * len(self.base_lrs)
        else:
            self.products = [p * f(self.last_epoch)
                             for p, f in zip(self.products, self.lr_lambdas, strict=True)]
        return [b * p for b, p in zip(self.base_lrs, self.products, strict=True)]


class SWALRFromBaseLrs(SWALR):
    """Anneals from base_lrs (swa_lr * alpha + base_lr * (1 - alpha)), not from the group's lr."""

    SPEC, FAMILY = "SWALR", "chain"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [g["swa_lr"] * alpha + b * (1 - alpha)
                for g, b in zip(self.optimizer.param_groups, self.base_lrs, strict=True)]
