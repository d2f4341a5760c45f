"""Invalid-argument defects: an argument the spec refuses is accepted at construction (and
fails later, or silently gives some schedule), or refused with the wrong exception or no
message. Our own code, one defect each, through several protocols and an argument map."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from torch.optim import Optimizer
from torch.optim import lr_scheduler as L

from zoo import correct, eco_deepspeed


class WarmRestartsZeroTMult(L.CosineAnnealingWarmRestarts):
    """Checks T_0 and eta_min but not T_mult: with T_mult=0 the first restart makes the cycle
    0 steps long and the next step divides by zero."""

    SPEC, FAMILY = "CosineAnnealingWarmRestarts", "construct"

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min!r}")
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = last_epoch
        L.LRScheduler.__init__(self, optimizer, last_epoch)


class WarmRestartsAssertsT0(L.CosineAnnealingWarmRestarts):
    """Refuses T_0 < 1 with an assert: AssertionError (and nothing at all under python -O),
    not ValueError."""

    SPEC, FAMILY = "CosineAnnealingWarmRestarts", "construct"

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        assert isinstance(T_0, int) and T_0 >= 1, "T_0 must be a positive int"
        super().__init__(optimizer, T_0, T_mult, eta_min, last_epoch)


class PlateauUnknownModeIsMin(L.ReduceLROnPlateau):
    """Takes any mode other than 'max' for 'min': mode='maximum' silently minimises."""

    SPEC, FAMILY = "ReduceLROnPlateau", "construct"

    def _init_is_better(self, mode: str, threshold: float, threshold_mode: str) -> None:
        super()._init_is_better("max" if mode == "max" else "min", threshold, threshold_mode)
        self.mode = mode


class LambdaLRZipsLambdas(L.LambdaLR):
    """Zips the lambdas with the param groups: a list of the wrong length is cut (or leaves
    the last groups without a lambda) instead of refused."""

    SPEC, FAMILY = "LambdaLR", "construct"

    def __init__(self, optimizer: Optimizer, lr_lambda: Any, last_epoch: int = -1) -> None:
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            lr_lambda = [lr_lambda[min(i, len(lr_lambda) - 1)] for i in range(n)]
        super().__init__(optimizer, lr_lambda, last_epoch)


class LinearLRZeroStart(L.LinearLR):
    """Checks start_factor > 1 but not start_factor <= 0: with 0 the lr starts at 0 and the
    first step divides by zero."""

    SPEC, FAMILY = "LinearLR", "construct"

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1) -> None:
        if start_factor > 1.0:
            raise ValueError(f"start_factor must be at most 1, got {start_factor}")
        if not 0.0 <= end_factor <= 1.0:
            raise ValueError(f"end_factor must be in [0, 1], got {end_factor}")
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = total_iters
        L.LRScheduler.__init__(self, optimizer, last_epoch)


class ConstantLRBareError(L.ConstantLR):
    """Refuses a factor outside [0, 1] with a bare ValueError(): no message says which
    argument is wrong."""

    SPEC, FAMILY = "ConstantLR", "construct"

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        if not 0 <= factor <= 1:
            raise ValueError()
        super().__init__(optimizer, factor, total_iters, last_epoch)


class OneCycleLRClampsPctStart(L.OneCycleLR):
    """Clamps pct_start into [0, 1] instead of refusing it: pct_start=1.5 silently becomes a
    warmup over the whole cycle."""

    SPEC, FAMILY = "OneCycleLR", "construct"

    def __init__(self, optimizer: Optimizer, max_lr: Any, total_steps: int | None = None,
                 pct_start: float = 0.3, **kwargs: Any) -> None:
        super().__init__(optimizer, max_lr, total_steps, pct_start=min(max(pct_start, 0.0), 1.0),
                         **kwargs)


class LinearAnnealingLRNoOrder(correct.LinearAnnealingLR):
    """Checks num_annealing_steps >= 1 but not num_total_steps > num_annealing_steps: with
    them equal the decay divides by zero at step N."""

    SPEC, FAMILY = "LinearAnnealingLR", "construct"

    def __init__(self, optimizer: Optimizer, num_annealing_steps: int, num_total_steps: int,
                 last_epoch: int = -1) -> None:
        if num_annealing_steps < 1:
            raise ValueError(f"num_annealing_steps must be >= 1, got {num_annealing_steps}")
        self.num_annealing_steps = num_annealing_steps
        self.num_total_steps = num_total_steps
        L.LRScheduler.__init__(self, optimizer, last_epoch)

    def _lr_at(self, epoch: int) -> list[float]:
        N, T, t = self.num_annealing_steps, self.num_total_steps, epoch + 1
        if t <= N:
            return [float(b) * t / N for b in self.base_lrs]
        return [max(0.0, float(b) * (T - t) / (T - N)) for b in self.base_lrs]


class WarmupLRUnknownTypeIsLog(eco_deepspeed._Warm):
    """DeepSpeed's WarmupLR protocol; takes an unknown warmup_type for 'log' (as the package
    does, with a logged warning) instead of refusing it."""

    SPEC, FAMILY = "deepspeed.WarmupLR", "construct"

    def __init__(self, optimizer: Any, warmup_min_lr: Any = 0.0, warmup_max_lr: Any = None,
                 warmup_num_steps: int = 1000, warmup_type: str = "log",
                 last_batch_iteration: int = -1) -> None:
        if warmup_num_steps < 1:
            raise ValueError(f"warmup_num_steps must be >= 1, got {warmup_num_steps}")
        super().__init__(optimizer, warmup_min_lr, warmup_max_lr, warmup_num_steps,
                         "linear" if warmup_type == "linear" else "log", last_batch_iteration)
        if any(lo > hi for lo, hi in zip(self.min_lrs, self.max_lrs, strict=True)):
            raise ValueError(f"warmup_min_lr {self.min_lrs} exceeds warmup_max_lr "
                             f"{self.max_lrs}")

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        vars(self).update(state)


def warm_restarts_lr(step: int, *, base_lr: float, T_0: int, T_mult: int = 1,
                     eta_min: float = 0.0) -> float:
    """An lr function: SGDR with restarts, validating T_0 but not T_mult (T_mult=0 reaches a
    logarithm of base 0, "math domain error", at the first restart)."""
    if not isinstance(T_0, int) or T_0 < 1:
        raise ValueError(f"T_0 must be a positive int, got {T_0!r}")
    if T_mult == 1 or step < T_0:
        i, start, T = step // T_0, (step // T_0) * T_0, T_0
    else:
        i = int(math.log(step / T_0 * (T_mult - 1) + 1, T_mult))
        start, T = T_0 * (T_mult**i - 1) // (T_mult - 1), T_0 * T_mult**i
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * (step - start) / T)) / 2


class WarmRestartsFunctionZeroTMult:
    """An lr function (warm_restarts_lr) that accepts T_mult=0 and fails at the first
    restart."""

    SPEC, FAMILY = "CosineAnnealingWarmRestarts", "construct"
    TARGET = "zoo.invalid:warm_restarts_lr"
    CONFIG: ClassVar[dict[str, Any]] = {"protocol": "lr_function",
                                        "map": {"base_lr": {"from": "lr", "as": "scalar"}}}


class RampLRTinyStart(L.LinearLR):
    """LinearLR under other names (start, end, iters: a map renames them) that takes a start
    <= 0 for 1e-8: a ramp from almost 0, which the spec refuses, runs without complaint."""

    SPEC, FAMILY = "LinearLR", "construct"
    CONFIG: ClassVar[dict[str, Any]] = {
        "map": {"start_factor": "start", "end_factor": "end", "total_iters": "iters"}}

    def __init__(self, optimizer: Optimizer, start: float = 1.0 / 3, end: float = 1.0,
                 iters: int = 5, last_epoch: int = -1) -> None:
        super().__init__(optimizer, max(start, 1e-8), end, iters, last_epoch)
