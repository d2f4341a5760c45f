"""Step-cost defects: right values at the wrong price, O(t) work per step (cost.step_cost)."""

from __future__ import annotations

import math
from typing import Any

from torch.optim import lr_scheduler as L


class CosineAnnealingWarmRestartsReplay(L.CosineAnnealingWarmRestarts):
    """step() replays the whole history from epoch 0 to find T_cur and T_i: O(t) per step."""

    SPEC, FAMILY = "CosineAnnealingWarmRestarts", "cost"

    def step(self, epoch: Any = None) -> None:
        if epoch is not None or self.last_epoch < 0:
            super().step(epoch)
            return
        target = self.last_epoch + 1
        T_cur, T_i = 0, self.T_0
        for _ in range(target):
            T_cur += 1
            if T_cur >= T_i:
                T_cur %= T_i
                T_i *= self.T_mult
        self.T_cur, self.T_i, self.last_epoch = T_cur, T_i, target
        for group, b in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            group["lr"] = self.eta_min + (b - self.eta_min) * (
                1 + math.cos(math.pi * T_cur / T_i)) / 2
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]


class ExponentialLRPowerLoop(L.ExponentialLR):
    """get_lr() rebuilds gamma**t by t multiplications in a loop: O(t) per step."""

    SPEC, FAMILY = "ExponentialLR", "cost"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        factor = 1.0
        for _ in range(self.last_epoch):
            factor *= self.gamma
        return [base * factor for base in self.base_lrs]
