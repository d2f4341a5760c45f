"""speechbrain look-alikes (`speechbrain.nnet.schedulers`' protocol: built without an
optimizer; called once per update as `sched(opt)`, `sched(opt, num_updates)` or
`sched(metric_value)`; checkpointed through `save(path)` and `load(path)`), written here to
the spec's rulings (docs/spec/speechbrain.md), each with one formula defect."""

from __future__ import annotations

import math
from typing import Any

import torch


def _set(opt: Any, lr: float) -> float:
    """Give every group `lr`; the first group's lr before."""
    current = opt.param_groups[0]["lr"]
    for group in opt.param_groups:
        group["lr"] = lr
    return float(current)


class _Saved:
    """speechbrain's checkpoint hooks: the fields in `SAVED`, through torch.save."""

    SAVED: tuple[str, ...] = ()

    def save(self, path: str) -> None:
        torch.save({key: getattr(self, key) for key in self.SAVED}, path)

    def load(self, path: str, end_of_epoch: bool = False) -> None:
        del end_of_epoch
        for key, value in torch.load(path).items():
            setattr(self, key, value)


class SBNoamInverted(_Saved):
    """Normalises by n_warmup_steps ** -0.5 instead of ** 0.5: the peak is lr_initial / W,
    not lr_initial."""

    SPEC, FAMILY = "speechbrain.NoamScheduler", "oracle"
    SAVED = ("losses", "n_steps")

    def __init__(self, lr_initial: float, n_warmup_steps: int,
                 model_size: int | None = None) -> None:
        self.lr_initial, self.n_warmup_steps = lr_initial, n_warmup_steps
        self.current_lr = lr_initial
        self.losses: list[float] = []
        self.n_steps = 0
        self.normalize = n_warmup_steps**-0.5
        if model_size is not None:
            self.normalize = model_size**-0.5

    def __call__(self, opt: Any) -> tuple[float, float]:
        self.n_steps += 1
        s, W = self.n_steps, self.n_warmup_steps
        lr = self.lr_initial * self.normalize * min(s**-0.5, s * W**-1.5)
        self.current_lr = _set(opt, lr)
        return self.current_lr, lr


class SBNewBobAgainstBest(_Saved):
    """Measures the improvement against the best metric so far instead of the previous one."""

    SPEC, FAMILY = "speechbrain.NewBobScheduler", "oracle"
    SAVED = ("hyperparam_value", "metric_values", "current_patient")

    def __init__(self, initial_value: float, annealing_factor: float = 0.5,
                 improvement_threshold: float = 0.0025, patient: int = 0) -> None:
        self.hyperparam_value = initial_value
        self.annealing_factor = annealing_factor
        self.improvement_threshold = improvement_threshold
        self.patient = patient
        self.metric_values: list[float] = []
        self.current_patient = patient

    def __call__(self, metric_value: float) -> tuple[float, float]:
        old = new = self.hyperparam_value
        if self.metric_values:
            best = min(self.metric_values)
            gain = 0.0 if best == 0 else (best - metric_value) / best
            if gain < self.improvement_threshold:
                if self.current_patient == 0:
                    new *= self.annealing_factor
                    self.current_patient = self.patient
                else:
                    self.current_patient -= 1
        self.metric_values.append(metric_value)
        self.hyperparam_value = new
        return old, new


class _TriStage(_Saved):
    """TriStageLRSchedule's constructor, which the members below keep: each breaks the step."""

    SAVED = ("peak_lr", "warmup_steps", "hold_steps", "decay_steps", "total_steps",
             "init_lr_scale", "final_lr_scale", "init_lr", "warmup_rate", "decay_factor")

    def __init__(self, lr: float, warmup_steps: int, hold_steps: int, decay_steps: int,
                 total_steps: int, init_lr_scale: float = 0.01,
                 final_lr_scale: float = 0.05) -> None:
        self.peak_lr, self.warmup_steps, self.hold_steps = lr, warmup_steps, hold_steps
        self.decay_steps, self.total_steps = decay_steps, total_steps
        self.init_lr_scale, self.final_lr_scale = init_lr_scale, final_lr_scale
        self.init_lr = init_lr_scale * lr
        self.warmup_rate = (lr - self.init_lr) / warmup_steps
        self.decay_factor = -math.log(final_lr_scale) / decay_steps


class SBTriStageEarlyPeak(_TriStage):
    """Warms up on num_updates + 1: the peak is reached one update early and every warmup lr
    is one step ahead."""

    SPEC, FAMILY = "speechbrain.TriStageLRSchedule", "oracle"

    def __call__(self, opt: Any, num_updates: int) -> None:
        W, H, D = self.warmup_steps, self.hold_steps, self.decay_steps
        if num_updates < W:
            lr = min(self.init_lr + self.warmup_rate * (num_updates + 1), self.peak_lr)
        elif num_updates < W + H:
            lr = self.peak_lr
        else:
            lr = self.peak_lr * math.exp(-self.decay_factor * min(num_updates - W - H, D))
        _set(opt, lr)


class SBLinearWarmupWholeSpan(_Saved):
    """Decays over num_training_steps instead of num_training_steps - num_warmup_steps: the
    lr drops at the end of the warmup and falls too slowly."""

    SPEC, FAMILY = "speechbrain.LinearWarmupScheduler", "oracle"
    SAVED = ("lr0", "num_warmup_steps", "num_training_steps", "current_step")

    def __init__(self, initial_value: float, num_warmup_steps: int,
                 num_training_steps: int) -> None:
        self.lr0, self.num_warmup_steps = initial_value, num_warmup_steps
        self.num_training_steps = num_training_steps
        self.current_step = 0
        self.current_lr = initial_value

    def calculate_lr(self, current_step: int) -> float:
        W, T = self.num_warmup_steps, self.num_training_steps
        if current_step < W:
            return current_step / max(1, W) * self.lr0
        return self.lr0 * max(0.0, (T - current_step) / max(1, T))

    def __call__(self, opt: Any) -> tuple[float, float]:
        self.current_step += 1
        lr = self.calculate_lr(self.current_step)
        self.current_lr = _set(opt, lr)
        return self.current_lr, lr


class SBCyclicCosineNoWarmup(_Saved):
    """Measures the cosine's phase from step 0, not from n_warmup_steps: the peak is at the
    start and the warmup is lost."""

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
        if self.current_lr is None:
            self.current_lr = float(opt.param_groups[0]["lr"])
        lr = self.current_lr * 0.5 * (math.cos(math.pi * self.n_steps / self.total) + 1)
        _set(opt, lr)
        return self.current_lr, lr
