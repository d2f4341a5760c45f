"""API and number defects: get_last_lr aliasing or wrong types, last_epoch jumps, non-finite
lrs, reference cycles that keep the optimizer alive."""

from __future__ import annotations

from typing import Any

import torch
from torch.optim import lr_scheduler as L


class ExponentialLRLastLrInPlace(L.ExponentialLR):
    """Reuses one list for _last_lr, updating it in place: earlier get_last_lr() results change."""

    SPEC, FAMILY = "ExponentialLR", "api"

    def _update_lr(self, epoch: Any = None) -> None:
        keep = self.__dict__.get("_last_lr")
        super()._update_lr(epoch)
        if keep is not None:
            keep[:] = self._last_lr
            self._last_lr = keep


class LinearLRLastLrTensors(L.LinearLR):
    """get_last_lr() returns 0-d tensors for float group lrs."""

    SPEC, FAMILY = "LinearLR", "api"

    def get_last_lr(self) -> list[Any]:
        return [torch.tensor(lr) for lr in self._last_lr]


class StepLRLastLrStrings(L.StepLR):
    """get_last_lr() returns the lrs formatted for logging (strings)."""

    SPEC, FAMILY = "StepLR", "api"

    def get_last_lr(self) -> list[Any]:
        return [f"{lr:.6g}" for lr in self._last_lr]


class MultiplicativeLRDoubleEpoch(L.MultiplicativeLR):
    """step() advances last_epoch again after LRScheduler.step did: it moves by 2."""

    SPEC, FAMILY = "MultiplicativeLR", "api"

    def step(self, epoch: Any = None) -> None:
        super().step(epoch)
        if epoch is None and not self._is_initial:
            self.last_epoch += 1


class PolynomialLRNaN(L.PolynomialLR):
    """The ratio has no guard past total_iters: 0 * inf makes the lr NaN."""

    SPEC, FAMILY = "PolynomialLR", "api"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        lrs = [g["lr"] for g in self.optimizer.param_groups]
        if self._is_initial:
            return lrs
        e, T = self.last_epoch, self.total_iters
        ratio = torch.tensor(1.0 - e / T, dtype=torch.float64) / (1.0 - (e - 1) / T)
        factor = float(ratio**self.power)
        return [lr * factor for lr in lrs]


class StepLRStepHook(L.StepLR):
    """Registers a bound method as an optimizer step hook: a cycle holds the optimizer."""

    SPEC, FAMILY = "StepLR", "api"

    def __init__(self, optimizer: Any, *args: Any, **kwargs: Any) -> None:
        self.optimizer_steps = 0
        optimizer.register_step_post_hook(self._count)
        super().__init__(optimizer, *args, **kwargs)

    def _count(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        self.optimizer_steps += 1


class CosineAnnealingLRExposesLr(L.CosineAnnealingLR):
    """Stores its bound get_last_lr on the optimizer for loggers: a reference cycle."""

    SPEC, FAMILY = "CosineAnnealingLR", "api"

    def __init__(self, optimizer: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(optimizer, *args, **kwargs)
        optimizer.current_lrs = self.get_last_lr
