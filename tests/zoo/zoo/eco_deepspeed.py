"""DeepSpeed look-alikes (`deepspeed.runtime.lr_schedules`' protocol: built on an optimizer,
`step(last_batch_iteration=None)`, `get_lr()`, `get_last_lr()`, `state_dict()`), written here
to the spec's rulings (docs/spec/deepspeed.md), each with one formula defect."""

from __future__ import annotations

import math
from typing import Any


def _per_group(opt: Any, value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        if len(value) != len(opt.param_groups):
            raise ValueError(f"expected {len(opt.param_groups)} values, got {len(value)}")
        return list(value)
    return [value] * len(opt.param_groups)


class _Batched:
    """The protocol: the lr is a function of last_batch_iteration, -1 after construction."""

    def __init__(self, optimizer: Any, last_batch_iteration: int = -1) -> None:
        self.optimizer = optimizer
        self.last_batch_iteration = last_batch_iteration
        self._last_lr: list[float] | None = None
        if last_batch_iteration == -1:
            self._apply()

    def get_lr(self) -> list[float]:
        raise NotImplementedError

    def _apply(self) -> None:
        lrs = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            group["lr"] = lr
        self._last_lr = lrs

    def get_last_lr(self) -> list[float]:
        assert self._last_lr is not None, "need to call step() first"
        return self._last_lr

    def step(self, last_batch_iteration: int | None = None) -> None:
        if last_batch_iteration is None:
            last_batch_iteration = self.last_batch_iteration + 1
        self.last_batch_iteration = last_batch_iteration
        self._apply()

    def state_dict(self) -> dict[str, Any]:
        return {"last_batch_iteration": self.last_batch_iteration}

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        self.last_batch_iteration = sd["last_batch_iteration"]


class _Warm(_Batched):
    def __init__(self, optimizer: Any, warmup_min_lr: Any = 0.0, warmup_max_lr: Any = None,
                 warmup_num_steps: int = 1000, warmup_type: str = "log",
                 last_batch_iteration: int = -1) -> None:
        if warmup_max_lr is None:
            warmup_max_lr = [g["lr"] for g in optimizer.param_groups]
        self.min_lrs = _per_group(optimizer, warmup_min_lr)
        self.max_lrs = _per_group(optimizer, warmup_max_lr)
        self.warmup_num_steps = warmup_num_steps
        self.warmup_type = warmup_type
        super().__init__(optimizer, last_batch_iteration)

    def warm(self, t: int) -> float:
        W = self.warmup_num_steps
        if t >= W:
            return 1.0
        if self.warmup_type == "linear":
            return t / W
        return math.log(t + 1) / math.log(W) if W > 1 else 1.0

    def fraction(self, t: int) -> float:
        return self.warm(t)

    def get_lr(self) -> list[float]:
        t = self.last_batch_iteration
        if t < 0:
            return list(self.min_lrs)
        f = self.fraction(t)
        return [lo + (hi - lo) * f for lo, hi in zip(self.min_lrs, self.max_lrs, strict=True)]


class WarmupLRLogLate(_Warm):
    """The log warmup divides by ln(W + 1), not ln W: it reaches warmup_max_lr one step
    late."""

    SPEC, FAMILY = "deepspeed.WarmupLR", "oracle"

    def warm(self, t: int) -> float:
        W = self.warmup_num_steps
        if self.warmup_type == "log" and t < W:
            return math.log(t + 1) / math.log(W + 1)
        return super().warm(t)


class WarmupDecayLRBelowFloor(_Warm):
    """Past total_num_steps the linear decay is not clamped: the lr falls below
    warmup_min_lr, and below 0."""

    SPEC, FAMILY = "deepspeed.WarmupDecayLR", "oracle"

    def __init__(self, optimizer: Any, total_num_steps: int, warmup_min_lr: Any = 0.0,
                 warmup_max_lr: Any = 0.001, warmup_num_steps: int = 1000,
                 warmup_type: str = "log", last_batch_iteration: int = -1) -> None:
        self.total_num_steps = total_num_steps
        super().__init__(optimizer, warmup_min_lr, warmup_max_lr, warmup_num_steps,
                         warmup_type, last_batch_iteration)

    def fraction(self, t: int) -> float:
        W, T = self.warmup_num_steps, self.total_num_steps
        if t < W:
            return self.warm(t)
        return (T - t) / max(1, T - W)


class WarmupCosineLRClimbsBack(_Batched):
    """The cosine's progress is not capped at 1: past total_num_steps the lr climbs back up
    towards the group's lr."""

    SPEC, FAMILY = "deepspeed.WarmupCosineLR", "oracle"

    def __init__(self, optimizer: Any, total_num_steps: int, warmup_min_ratio: Any = 0.0,
                 warmup_num_steps: int = 1000, cos_min_ratio: float = 0.0001,
                 warmup_type: str = "log", last_batch_iteration: int = -1) -> None:
        self.total_num_steps = total_num_steps
        self.min_ratios = _per_group(optimizer, warmup_min_ratio)
        self.warmup_num_steps = warmup_num_steps
        self.cos_min_ratio = cos_min_ratio
        self.warmup_type = warmup_type
        self.org_lrs = [g["lr"] for g in optimizer.param_groups]
        super().__init__(optimizer, last_batch_iteration)

    def ratio(self, n: int, start: float) -> float:
        W, T, c = self.warmup_num_steps, self.total_num_steps, self.cos_min_ratio
        if n < W:
            if self.warmup_type == "linear":
                f = n / W
            else:
                f = math.log(n) / math.log(W) if n >= 1 else 0.0
            return start + (1.0 - start) * f
        p = (n - W) / max(1, T - W)
        return c + (1.0 - c) * (1.0 + math.cos(math.pi * p)) / 2

    def get_lr(self) -> list[float]:
        n = self.last_batch_iteration + 1
        return [b * self.ratio(n, m) for b, m in zip(self.org_lrs, self.min_ratios, strict=True)]


class LRRangeTestLagging(_Batched):
    """The lr reads last_batch_iteration instead of the steps done (last_batch_iteration +
    1): every value comes one step late."""

    SPEC, FAMILY = "deepspeed.LRRangeTest", "oracle"

    def __init__(self, optimizer: Any, lr_range_test_min_lr: Any = 1e-3,
                 lr_range_test_step_size: int = 2000, lr_range_test_step_rate: float = 1.0,
                 lr_range_test_staircase: bool = False, last_batch_iteration: int = -1) -> None:
        self.min_lr = _per_group(optimizer, lr_range_test_min_lr)
        self.step_size = lr_range_test_step_size
        self.step_rate = lr_range_test_step_rate
        self.staircase = lr_range_test_staircase
        super().__init__(optimizer, last_batch_iteration)

    def get_lr(self) -> list[float]:
        done = max(self.last_batch_iteration, 0)
        q = done // self.step_size if self.staircase else done / self.step_size
        return [m * (1.0 + self.step_rate * q) for m in self.min_lr]


class _OneCycle(_Batched):
    """DeepSpeed's OneCycle as documented, which the members below break one way each."""

    def __init__(self, optimizer: Any, cycle_min_lr: Any, cycle_max_lr: Any,
                 decay_lr_rate: float = 0.0, cycle_first_step_size: int = 2000,
                 cycle_second_step_size: int | None = None, cycle_first_stair_count: int = 0,
                 cycle_second_stair_count: int | None = None, decay_step_size: int = 0,
                 cycle_momentum: bool = True, cycle_min_mom: Any = 0.8,
                 cycle_max_mom: Any = 0.9, decay_mom_rate: float = 0.0,
                 last_batch_iteration: int = -1) -> None:
        self.min_lrs = _per_group(optimizer, cycle_min_lr)
        self.max_lrs = _per_group(optimizer, cycle_max_lr)
        self.decay_lr_rate = decay_lr_rate
        self.up = cycle_first_step_size
        self.down = self.up if cycle_second_step_size is None else cycle_second_step_size
        self.stairs = (cycle_first_stair_count, cycle_first_stair_count
                       if cycle_second_stair_count is None else cycle_second_stair_count)
        self.decay_step_size = decay_step_size
        # Like DeepSpeed, momentum is Adam's beta1: optimizers without betas keep theirs.
        self.cycle_momentum = cycle_momentum and "betas" in optimizer.defaults
        self.min_moms = _per_group(optimizer, cycle_min_mom)
        self.max_moms = _per_group(optimizer, cycle_max_mom)
        self.decay_mom_rate = decay_mom_rate
        super().__init__(optimizer, last_batch_iteration)

    def height(self, e: int) -> float:
        """Where the cycle is at e batches, 0 (the min lr) to 1 (the max lr)."""
        u, total = self.up, self.up + self.down
        p = e % total
        if p <= u:
            n, done, size = self.stairs[0], p, u
        else:
            n, done, size = self.stairs[1], total - p, self.down
        return (done * n // size) / n if n > 0 else done / size

    def divisor(self, e: int, rate: float) -> float:
        if self.decay_step_size == 0 or rate == 0:
            return 1.0
        return 1.0 + rate * (e - self.up - self.down) / self.decay_step_size

    def get_lr(self) -> list[float]:
        e = self.last_batch_iteration + 1
        if e <= self.up + self.down:
            h = self.height(e)
            return [lo + (hi - lo) * h for lo, hi in zip(self.min_lrs, self.max_lrs, strict=True)]
        return [lo / self.divisor(e, self.decay_lr_rate) for lo in self.min_lrs]

    def get_mom(self) -> list[float]:
        e = self.last_batch_iteration + 1
        if e <= self.up + self.down:
            h = self.height(e)
            return [hi - (hi - lo) * h
                    for lo, hi in zip(self.min_moms, self.max_moms, strict=True)]
        return [hi / self.divisor(e, self.decay_mom_rate) for hi in self.max_moms]

    def _apply(self) -> None:
        super()._apply()
        if self.cycle_momentum:
            for group, mom in zip(self.optimizer.param_groups, self.get_mom(), strict=True):
                group["betas"] = (mom, group["betas"][1])


class OneCycleFallsAtFirstRate(_OneCycle):
    """The falling half divides by cycle_first_step_size, not cycle_second_step_size: an
    asymmetric cycle falls at the rising half's rate (and jumps at its end)."""

    SPEC, FAMILY = "deepspeed.OneCycle", "oracle"

    def height(self, e: int) -> float:
        u, total = self.up, self.up + self.down
        p = e % total
        if p <= u:
            n, done = self.stairs[0], p
        else:
            n, done = self.stairs[1], total - p
        return (done * n // u) / n if n > 0 else done / u
