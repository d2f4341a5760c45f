"""The three third-party schedules of the seed posts with their published defects re-created
(our own code, seeds 000, 002 and 004), and single mutations of the correct implementations."""

from __future__ import annotations

import math
from typing import Any

from torch.optim.lr_scheduler import LRScheduler

from zoo import correct


class KatsuraWarmupRestarts(LRScheduler):
    """katsura-style step(epoch) on geometric cycle lengths T0 * m**n: disagrees with step()."""

    SPEC, FAMILY = "CosineAnnealingWarmupRestarts", "recurrence"

    def __init__(self, optimizer: Any, first_cycle_steps: int, cycle_mult: float = 1.0,
                 max_lr: float = 0.1, min_lr: float = 0.001, warmup_steps: int = 0,
                 gamma: float = 1.0, last_epoch: int = -1) -> None:
        self.first_cycle_steps = first_cycle_steps
        self.cycle_mult = cycle_mult
        self.base_max_lr = self.max_lr = max_lr
        self.min_lr = min_lr
        self.warmup_steps = warmup_steps
        self.gamma = gamma
        self.cur_cycle_steps = first_cycle_steps
        self.cycle = 0
        self.step_in_cycle = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:  # type: ignore[override]
        s, W, T = self.step_in_cycle, self.warmup_steps, self.cur_cycle_steps
        low, peak = self.min_lr, self.max_lr
        if s < W:
            value = low + (peak - low) * s / W
        else:
            value = low + (peak - low) * (1 + math.cos(math.pi * (s - W) / (T - W))) / 2
        return [value] * len(self.optimizer.param_groups)

    def step(self, epoch: Any = None) -> None:
        T0, m, W = self.first_cycle_steps, self.cycle_mult, self.warmup_steps
        if epoch is None:
            epoch = self.last_epoch + 1
            self.step_in_cycle += 1
            if self.step_in_cycle >= self.cur_cycle_steps:
                self.cycle += 1
                self.step_in_cycle -= self.cur_cycle_steps
                self.cur_cycle_steps = int((self.cur_cycle_steps - W) * m) + W
        elif epoch < T0:
            self.cycle, self.step_in_cycle, self.cur_cycle_steps = 0, epoch, T0
        elif m == 1.0:
            self.cycle, self.step_in_cycle, self.cur_cycle_steps = epoch // T0, epoch % T0, T0
        else:
            n = int(math.log(epoch / T0 * (m - 1) + 1, m))
            self.cycle = n
            self.step_in_cycle = epoch - int(T0 * (m**n - 1) / (m - 1))
            self.cur_cycle_steps = T0 * m**n
        self.max_lr = self.base_max_lr * self.gamma**self.cycle
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]


class WarmupRestartsWholeCycleMult(correct.CosineAnnealingWarmupRestarts):
    """Grows the whole cycle, warmup included: T_{c+1} = int(T_c * cycle_mult)."""

    SPEC, FAMILY = "CosineAnnealingWarmupRestarts", "oracle"

    def _next_length(self, T: int) -> int:
        return int(T * self.cycle_mult)


class WarmupRestartsFillsInitialLr(correct.CosineAnnealingWarmupRestarts):
    """Catches the resume KeyError and fills initial_lr from the groups' current lrs."""

    SPEC, FAMILY = "CosineAnnealingWarmupRestarts", "resume"

    def __init__(self, optimizer: Any, *args: Any, last_epoch: int = -1, **kwargs: Any) -> None:
        if last_epoch >= 0:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        super().__init__(optimizer, *args, last_epoch=last_epoch, **kwargs)


class LinearAnnealingLRSeed(LRScheduler):
    """Seed 002 as published: keyed on _step_count, no clamp: negative lr past the end."""

    SPEC, FAMILY = "LinearAnnealingLR", "api"

    def __init__(self, optimizer: Any, num_annealing_steps: int, num_total_steps: int) -> None:
        self.num_annealing_steps = num_annealing_steps
        self.num_total_steps = num_total_steps
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:  # type: ignore[override]
        N, T, t = self.num_annealing_steps, self.num_total_steps, self._step_count
        if t <= N:
            return [b * t / N for b in self.base_lrs]
        return [b * (T - t) / (T - N) for b in self.base_lrs]


class LinearAnnealingLRStepCount(LinearAnnealingLRSeed):
    """Seed 002 with the clamp but still keyed on _step_count: step(epoch) lands elsewhere."""

    SPEC, FAMILY = "LinearAnnealingLR", "recurrence"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        return [max(lr, 0.0) for lr in super().get_lr()]


class LinearAnnealingLRPublicState(LinearAnnealingLRStepCount):
    """Keyed on _step_count; state_dict() keeps public fields only, so a restore restarts."""

    SPEC, FAMILY = "LinearAnnealingLR", "state_dict"

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()
                if not k.startswith("_") and k != "optimizer"}


class LinearAnnealingLRIgnoresLastEpoch(correct.LinearAnnealingLR):
    """Accepts last_epoch but never passes it on: resuming starts a fresh schedule silently."""

    SPEC, FAMILY = "LinearAnnealingLR", "resume"

    def __init__(self, optimizer: Any, num_annealing_steps: int, num_total_steps: int,
                 last_epoch: int = -1) -> None:
        super().__init__(optimizer, num_annealing_steps, num_total_steps)


class GradualWarmupKeepsAfter(correct.GradualWarmupScheduler):
    """ildoonet-style state_dict(): holds the after_scheduler object (and its optimizer)."""

    SPEC, FAMILY = "GradualWarmupScheduler", "state_dict"

    def state_dict(self) -> dict[str, Any]:
        return LRScheduler.state_dict(self)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        LRScheduler.load_state_dict(self, state_dict)


class GradualWarmupLateHandoff(correct.GradualWarmupScheduler):
    """Hands over one epoch late: the after_scheduler runs at epoch e - total_epoch - 1."""

    SPEC, FAMILY = "GradualWarmupScheduler", "oracle"

    def _lr_at(self, epoch: int) -> list[float]:
        if epoch > self.total_epoch and self.after_scheduler is not None:
            return super()._lr_at(epoch - 1)
        return super()._lr_at(epoch)
