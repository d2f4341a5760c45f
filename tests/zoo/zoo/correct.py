"""Correct, independently written implementations: each must pass every applicable check.

The three third-party schedules follow /work/shared/SPEC-RULINGS.md; ExponentialDecay is
torch's ExponentialLR written another way (its own chainable get_lr and closed form).
"""

from __future__ import annotations

import math
from typing import Any

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler


class CosineAnnealingWarmupRestarts(LRScheduler):
    """katsura-jp's schedule per the ruling: warmup then cosine per cycle, keyed on last_epoch."""

    SPEC = "CosineAnnealingWarmupRestarts"

    def __init__(self, optimizer: Optimizer, first_cycle_steps: int, cycle_mult: float = 1.0,
                 max_lr: float = 0.1, min_lr: float = 0.001, warmup_steps: int = 0,
                 gamma: float = 1.0, last_epoch: int = -1) -> None:
        if first_cycle_steps < 1 or not 0 <= warmup_steps < first_cycle_steps:
            raise ValueError("need first_cycle_steps >= 1 and 0 <= warmup_steps < it")
        if cycle_mult < 1.0 or min_lr > max_lr or not 0.0 < gamma <= 1.0:
            raise ValueError("need cycle_mult >= 1, min_lr <= max_lr and 0 < gamma <= 1")
        self.first_cycle_steps = first_cycle_steps
        self.cycle_mult = cycle_mult
        self.max_lr = max_lr
        self.min_lr = min_lr
        self.warmup_steps = warmup_steps
        self.gamma = gamma
        self._reset_table()
        super().__init__(optimizer, last_epoch)

    def _reset_table(self) -> None:
        # The cycle of the last lookup (index, first epoch, length): a cache, not state.
        self._cursor = (0, 0, self.first_cycle_steps)

    def _next_length(self, T: int) -> int:
        """T_{c+1} = W + int((T_c - W) * cycle_mult): only the part after warmup grows."""
        return self.warmup_steps + int((T - self.warmup_steps) * self.cycle_mult)

    def _cycle(self, epoch: int) -> tuple[int, int, int]:
        """(cycle, step in cycle, cycle length) at `epoch`, walking forward from the cycle of
        the last lookup (from cycle 0 when `epoch` lies before it)."""
        c, start, T = self._cursor
        if epoch < start:
            c, start, T = 0, 0, self.first_cycle_steps
        while epoch - start >= T:
            longer = self._next_length(T)
            if longer == T:  # every later cycle has this length too: jump there
                k = (epoch - start) // T
                c, start = c + k, start + k * T
                break
            c, start, T = c + 1, start + T, longer
        self._cursor = (c, start, T)
        return c, epoch - start, T

    def _lr_at(self, epoch: int) -> list[float]:
        c, s, T = self._cycle(epoch)
        W, low = self.warmup_steps, self.min_lr
        peak = self.max_lr * self.gamma**c
        if s < W:
            value = low + (peak - low) * s / W
        else:
            value = low + (peak - low) * (1 + math.cos(math.pi * (s - W) / (T - W))) / 2
        return [value] * len(self.optimizer.param_groups)

    def get_lr(self) -> list[float]:  # type: ignore[override]
        return self._lr_at(self.last_epoch)

    def _get_closed_form_lr(self) -> list[float]:
        return self._lr_at(self.last_epoch)

    def state_dict(self) -> dict[str, Any]:
        skip = ("optimizer", "_cursor")
        return {k: v for k, v in self.__dict__.items() if k not in skip}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)
        self._reset_table()


class LinearAnnealingLR(LRScheduler):
    """Seed 002's schedule per the ruling: keyed on last_epoch, clamped at 0 past the end."""

    SPEC = "LinearAnnealingLR"

    def __init__(self, optimizer: Optimizer, num_annealing_steps: int, num_total_steps: int,
                 last_epoch: int = -1) -> None:
        if not 1 <= num_annealing_steps < num_total_steps:
            raise ValueError("need 1 <= num_annealing_steps < num_total_steps")
        self.num_annealing_steps = num_annealing_steps
        self.num_total_steps = num_total_steps
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, epoch: int) -> list[float]:
        N, T, t = self.num_annealing_steps, self.num_total_steps, epoch + 1
        if t <= N:
            return [b * t / N for b in self.base_lrs]
        if t <= T:
            return [b * (T - t) / (T - N) for b in self.base_lrs]
        return [0.0 for _ in self.base_lrs]

    def get_lr(self) -> list[float]:  # type: ignore[override]
        return self._lr_at(self.last_epoch)

    def _get_closed_form_lr(self) -> list[float]:
        return self._lr_at(self.last_epoch)


class GradualWarmupScheduler(LRScheduler):
    """Seed 004's schedule per the ruling; the state_dict holds the after_scheduler's state_dict,
    never the object (so it loads with weights_only and resumes on a fresh optimizer)."""

    SPEC = "GradualWarmupScheduler"

    def __init__(self, optimizer: Optimizer, multiplier: float, total_epoch: int,
                 after_scheduler: LRScheduler | None = None, last_epoch: int = -1) -> None:
        if multiplier < 1.0 or total_epoch < 1:
            raise ValueError("need multiplier >= 1 and total_epoch >= 1")
        if after_scheduler is not None and not hasattr(after_scheduler, "_get_closed_form_lr"):
            raise TypeError("after_scheduler needs a closed form (_get_closed_form_lr)")
        self.multiplier = multiplier
        self.total_epoch = total_epoch
        self.after_scheduler = after_scheduler
        super().__init__(optimizer, last_epoch)
        if after_scheduler is not None:
            after_scheduler.base_lrs = [b * multiplier for b in self.base_lrs]

    def _lr_at(self, epoch: int) -> list[float]:
        M, E = self.multiplier, self.total_epoch
        if epoch <= E:
            if M == 1:
                return [b * epoch / E for b in self.base_lrs]
            return [b * ((M - 1) * epoch / E + 1) for b in self.base_lrs]
        after = self.after_scheduler
        if after is None:
            return [b * M for b in self.base_lrs]
        after.last_epoch = epoch - E
        return [float(v) for v in after._get_closed_form_lr()]  # type: ignore[attr-defined]

    def get_lr(self) -> list[float]:  # type: ignore[override]
        return self._lr_at(self.last_epoch)

    def _get_closed_form_lr(self) -> list[float]:
        return self._lr_at(self.last_epoch)

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items()
                 if k not in ("optimizer", "after_scheduler")}
        after = self.after_scheduler
        state["after_scheduler"] = None if after is None else after.state_dict()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        after = state.pop("after_scheduler", None)
        self.__dict__.update(state)
        if after is not None and self.after_scheduler is not None:
            self.after_scheduler.load_state_dict(after)


class ExponentialDecay(LRScheduler):
    """torch's ExponentialLR re-derived: lr * gamma per step (chainable), b * gamma**e closed."""

    SPEC = "ExponentialLR"

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:  # type: ignore[override]
        lrs = [float(g["lr"]) for g in self.optimizer.param_groups]
        # The constructor's step leaves the lr: on resume too (torch 2.8+ says which it is).
        if getattr(self, "_is_initial", self.last_epoch == 0):
            return lrs
        return [lr * self.gamma for lr in lrs]

    def _get_closed_form_lr(self) -> list[float]:
        return [b * self.gamma**self.last_epoch for b in self.base_lrs]
