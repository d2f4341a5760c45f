"""Defects that the ecosystem run (ecosystem/*.json) found in published schedulers
(docs/findings-ecosystem.md), re-created in our own code on each package's protocol, one kind
each, where no other zoo member re-creates that kind already. Nothing here imports timm,
speechbrain, NeMo, DeepSpeed or diffusers; apart from its defect each member follows its
spec's rulings (docs/spec/<package>.md)."""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import Any, ClassVar

from torch.optim import Optimizer
from torch.optim import lr_scheduler as L

from zoo.eco_deepspeed import _Batched, _OneCycle, _per_group, _Warm
from zoo.eco_nemo import _HoldPolicy
from zoo.eco_speechbrain import _Saved, _set, _TriStage
from zoo.eco_timm import _Cosine, _TimmLike

# -- timm ---------------------------------------------------------------------------------


class TimmCosineRestartByLog(_Cosine):
    """Finds the cycle as floor(log_m(1 + s (m - 1) / t_initial)) in floats: where the log of
    an exact power of m rounds down (math.log(243, 3) < 5) the restart comes a step late,
    and the lr sits at the previous cycle's end instead of the peak."""

    SPEC, FAMILY = "timm.CosineLRScheduler", "oracle"
    # The late restarts fall on a few steps of a few multipliers: the first is at s = 121
    # for t_initial 1 and cycle_mul 3 (then 10 at s = 111), which drawn arguments rarely hit.
    CONFIG: ClassVar[dict[str, Any]] = {"kwargs": {"t_initial": 1, "cycle_mul": 3.0}}

    def where(self, s: float) -> tuple[int, float]:
        m, T0 = self.cycle_mul, self.t_initial
        if m == 1:
            i = math.floor(s / T0)
            return i, (s - i * T0) / T0
        i = math.floor(math.log(1 - s / T0 * (1 - m), m))
        start = (1 - m**i) / (1 - m) * T0
        return i, (s - start) / (m**i * T0)


class TimmMultiStepKeepsBase(_TimmLike):
    """Without a warmup the constructor leaves each group at its lr: a milestone <= 1, which
    applies from t = 0, is missing until the first step(), though step(0) applies it."""

    SPEC, FAMILY = "timm.MultiStepLRScheduler", "oracle"

    def __init__(self, optimizer: Optimizer, decay_t: list[int], decay_rate: float = 1.0,
                 warmup_t: int = 0, warmup_lr_init: float = 0.0, warmup_prefix: bool = True,
                 t_in_epochs: bool = True, noise_range_t: Any = None, noise_pct: float = 0.67,
                 noise_std: float = 1.0, noise_seed: int = 42, initialize: bool = True) -> None:
        super().__init__(optimizer, warmup_t, warmup_lr_init, t_in_epochs)
        self.decay_t, self.decay_rate, self.prefix = decay_t, decay_rate, warmup_prefix
        self._start()

    def _start(self) -> None:
        if self.warmup_t:
            self._set(0)

    def main(self, b: float, s: float) -> float:
        return b * self.decay_rate ** bisect_right(self.decay_t, s + 1)


# -- speechbrain ----------------------------------------------------------------------------


class SBTriStageDecaysOn(_TriStage):
    """The exponential decay is not stopped after decay_steps: the lr falls below
    final_lr_scale * lr, towards 0, instead of holding it."""

    SPEC, FAMILY = "speechbrain.TriStageLRSchedule", "oracle"

    def __call__(self, opt: Any, num_updates: int) -> None:
        W, H = self.warmup_steps, self.hold_steps
        if num_updates < W:
            lr = self.init_lr + self.warmup_rate * num_updates
        elif num_updates < W + H:
            lr = self.peak_lr
        else:
            lr = self.peak_lr * math.exp(-self.decay_factor * (num_updates - W - H))
        _set(opt, lr)


class SBTriStageZeroWarmup(_Saved):
    """Computes the warmup's slope, (lr - init_lr) / warmup_steps, before checking its
    arguments: warmup_steps=0 raises ZeroDivisionError at construction, a crash that names
    no argument, instead of ValueError (speechbrain's TriStageLRSchedule and
    CyclicCosineScheduler, GradualWarmupScheduler's total_epoch=0)."""

    SPEC, FAMILY = "speechbrain.TriStageLRSchedule", "construct"
    SAVED = ("peak_lr", "warmup_steps", "hold_steps", "decay_steps", "total_steps",
             "init_lr_scale", "final_lr_scale", "init_lr", "warmup_rate")

    def __init__(self, lr: float, warmup_steps: int, hold_steps: int, decay_steps: int,
                 total_steps: int, init_lr_scale: float = 0.01,
                 final_lr_scale: float = 0.05) -> None:
        self.peak_lr, self.warmup_steps, self.hold_steps = lr, warmup_steps, hold_steps
        self.decay_steps, self.total_steps = decay_steps, total_steps
        self.init_lr_scale, self.final_lr_scale = init_lr_scale, final_lr_scale
        self.init_lr = init_lr_scale * lr
        # The defect: the slope is computed before the checks below could refuse W = 0.
        self.warmup_rate = (lr - self.init_lr) / warmup_steps
        if warmup_steps < 1 or decay_steps < 1 or hold_steps < 0:
            raise ValueError(f"warmup_steps and decay_steps must be >= 1 and hold_steps >= 0, "
                             f"got {warmup_steps}, {decay_steps}, {hold_steps}")
        if not 0.0 <= init_lr_scale <= 1.0 or not 0.0 < final_lr_scale <= 1.0:
            raise ValueError(f"init_lr_scale must be in [0, 1] and final_lr_scale in (0, 1], "
                             f"got {init_lr_scale}, {final_lr_scale}")

    def __call__(self, opt: Any, num_updates: int) -> None:
        W, H, D = self.warmup_steps, self.hold_steps, self.decay_steps
        if num_updates < W:
            lr = self.init_lr + self.warmup_rate * num_updates
        elif num_updates < W + H:
            lr = self.peak_lr
        else:
            done = min(num_updates - W - H, D)
            lr = self.peak_lr * self.final_lr_scale ** (done / D)
        _set(opt, lr)


class SBCyclicCosineCompounds(_Saved):
    """Without lr_initial each call scales the optimizer's current lr, not the lr of epoch
    0: the cosine factors multiply up, and once one is 0 the lr stays 0."""

    SPEC, FAMILY = "speechbrain.CyclicCosineScheduler", "oracle"
    SAVED = ("losses", "n_steps")

    def __init__(self, n_warmup_steps: int, lr_initial: float | None = None,
                 total_steps: int = 100000) -> None:
        self.n_warmup_steps, self.initial_lr, self.total = n_warmup_steps, lr_initial, total_steps
        self.current_lr = lr_initial
        self.losses: list[float] = []
        self.n_steps = 0

    def __call__(self, opt: Any) -> tuple[float, float]:
        self.n_steps += 1
        # The defect: None reads the lr the previous call left, not the lr of epoch 0.
        current = float(opt.param_groups[0]["lr"]) if self.initial_lr is None else self.initial_lr
        phase = math.pi * (self.n_steps - self.n_warmup_steps) / self.total
        lr = current * 0.5 * (math.cos(phase) + 1)
        _set(opt, lr)
        self.current_lr = current
        return current, lr


class SBLinearTableOverrun:
    """Looks the values up in a table of epochs 0..num_training_steps as (current_epoch - 1,
    current_epoch), clamping the second index only: a call past num_training_steps + 1
    raises IndexError instead of holding the last value (speechbrain's LinearScheduler)."""

    SPEC, FAMILY = "speechbrain.LinearWarmupScheduler", "groups"

    def __init__(self, initial_value: float, num_warmup_steps: int,
                 num_training_steps: int) -> None:
        W, T, lr = num_warmup_steps, num_training_steps, initial_value
        self.value_at_epoch = [lr * e / W if e < W else lr * max(0.0, (T - e) / (T - W))
                               for e in range(T + 1)]

    def __call__(self, current_epoch: int) -> tuple[float, float]:
        old_index = max(0, current_epoch - 1)
        index = min(current_epoch, len(self.value_at_epoch) - 1)
        return self.value_at_epoch[old_index], self.value_at_epoch[index]


# -- NeMo ------------------------------------------------------------------------------------


class NeMoHoldPolicyNoEnd(_HoldPolicy):
    """Compares the step with max_steps even when it is None ("infinite training", as
    documented): past the hold every step raises TypeError."""

    SPEC, FAMILY = "nemo.WarmupHoldPolicy", "oracle"

    def at(self, b: float, s: int) -> float:
        W = self.warmup_steps
        if W > 0 and s <= W:
            return self.warm(b, s)
        if s < self.hold_end:
            return b
        end: Any = self.max_steps  # None for infinite training: int > None raises
        if s > end:
            return self.min_lr
        return b


class NeMoT5RatioTypeError(L.LRScheduler):
    """Computes the constant lr from the constant_steps argument, not from the steps the
    ratio gave: constant_ratio (with constant_steps None) raises TypeError at construction."""

    SPEC, FAMILY = "nemo.T5InverseSquareRootAnnealing", "oracle"

    def __init__(self, optimizer: Optimizer, *, max_steps: int, last_epoch: int = -1,
                 min_lr: float = 0.0, constant_steps: int | None = None,
                 constant_ratio: float | None = None) -> None:
        self.max_steps, self.min_lr = max_steps, min_lr
        if constant_steps is not None:
            self.constant_steps = constant_steps
        elif constant_ratio is not None:
            self.constant_steps = int(constant_ratio * max_steps)
        else:
            self.constant_steps = 0
        given: Any = constant_steps  # None when the ratio gave the steps
        self.constant_lr = 1 / given**0.5
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:  # type: ignore[override]
        s = self.last_epoch
        if s <= self.constant_steps:
            return [self.constant_lr for _ in self.base_lrs]
        if s > self.max_steps:
            return [self.min_lr for _ in self.base_lrs]
        return [1 / s**0.5 for _ in self.base_lrs]


# -- DeepSpeed -------------------------------------------------------------------------------


class DSWarmupAtLeastTwo(_Warm):
    """Warms up over max(2, warmup_num_steps) steps: a one-step warmup, which the
    documentation allows ("number of steps to warm up"), silently takes two, so the first
    batch after construction still trains at warmup_min_lr (DeepSpeed's WarmupLR,
    WarmupDecayLR and WarmupCosineLR)."""

    SPEC, FAMILY = "deepspeed.WarmupLR", "oracle"

    def __init__(self, optimizer: Any, warmup_min_lr: Any = 0.0, warmup_max_lr: Any = None,
                 warmup_num_steps: int = 1000, warmup_type: str = "log",
                 last_batch_iteration: int = -1) -> None:
        if warmup_num_steps < 1:
            raise ValueError(f"warmup_num_steps must be a positive integer, got "
                             f"{warmup_num_steps}")
        if warmup_type not in ("log", "linear"):
            raise ValueError(f"warmup_type must be 'log' or 'linear', got {warmup_type!r}")
        # The defect: the log warmup divides by ln W, so W = 1 is taken for 2 instead of
        # being the warmup that is complete after its one step.
        super().__init__(optimizer, warmup_min_lr, warmup_max_lr, max(2, warmup_num_steps),
                         warmup_type, last_batch_iteration)
        if any(lo > hi for lo, hi in zip(self.min_lrs, self.max_lrs, strict=True)):
            raise ValueError(f"warmup_min_lr {self.min_lrs} exceeds warmup_max_lr "
                             f"{self.max_lrs}")


class DSWarmupCosineRatioList(_Batched):
    """Computes one warmup ratio for every group from warmup_min_ratio as given: the
    documented per-group list raises TypeError (1.0 - list) at the first step."""

    SPEC, FAMILY = "deepspeed.WarmupCosineLR", "groups"

    def __init__(self, optimizer: Any, total_num_steps: int, warmup_min_ratio: Any = 0.0,
                 warmup_num_steps: int = 1000, cos_min_ratio: float = 0.0001,
                 warmup_type: str = "log", last_batch_iteration: int = -1) -> None:
        self.total_num_steps = total_num_steps
        self.warmup_min_ratio = warmup_min_ratio
        self.starts = _per_group(optimizer, warmup_min_ratio)
        self.warmup_num_steps = warmup_num_steps
        self.cos_min_ratio = cos_min_ratio
        self.warmup_type = warmup_type
        self.org_lrs = [g["lr"] for g in optimizer.param_groups]
        super().__init__(optimizer, last_batch_iteration)

    def ratio(self, n: int) -> float:
        W, T, c = self.warmup_num_steps, self.total_num_steps, self.cos_min_ratio
        if n < W:
            f = n / W if self.warmup_type == "linear" else math.log(n) / math.log(W)
            # The defect: a per-group list makes 1.0 - list here.
            return self.warmup_min_ratio + (1.0 - self.warmup_min_ratio) * f
        p = min(1.0, (n - W) / max(1, T - W))
        return c + (1.0 - c) * (1.0 + math.cos(math.pi * p)) / 2

    def get_lr(self) -> list[float]:
        n = self.last_batch_iteration + 1
        if n == 0:
            return [b * r for b, r in zip(self.org_lrs, self.starts, strict=True)]
        ratio = self.ratio(n)
        return [b * ratio for b in self.org_lrs]


class DSOneCycleMomentumStartsLow(_OneCycle):
    """The constructor sets cycle_min_mom next to cycle_min_lr: momentum starts in phase
    with the lr, not inversely, and jumps to about cycle_max_mom at the first step."""

    SPEC, FAMILY = "deepspeed.OneCycle", "oracle"

    def get_mom(self) -> list[float]:
        if self.last_batch_iteration + 1 == 0:
            return list(self.min_moms)
        return super().get_mom()


# -- diffusers -------------------------------------------------------------------------------


class DiffusersPiecewiseBoundaries(L.LambdaLR):
    """Reads each rule's count as an absolute step boundary in a dict, not as a duration:
    from the second rule on every multiple ends early, and equal counts keep the last."""

    SPEC, FAMILY = "diffusers.get_piecewise_constant_schedule", "oracle"

    def __init__(self, optimizer: Optimizer, step_rules: str, last_epoch: int = -1) -> None:
        *rules, last = step_rules.split(",")
        multiples: dict[int, float] = {}
        for rule in rules:
            value, steps = rule.split(":")
            multiples[int(steps)] = float(value)
        final = float(last)

        def multiple(s: int) -> float:
            for end in sorted(multiples):
                if s < end:
                    return multiples[end]
            return final

        super().__init__(optimizer, multiple, last_epoch)
