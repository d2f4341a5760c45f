"""Wrong trajectories: formulas, boundaries, dropped branches, float32 shortcuts, momentum."""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import Any

import torch
from torch.optim import lr_scheduler as L
from torch.optim.swa_utils import SWALR


def _lrs(sched: Any) -> list[float]:
    return [g["lr"] for g in sched.optimizer.param_groups]


class StepLROffByOne(L.StepLR):
    """Decays when last_epoch % step_size == 1 instead of 0."""

    SPEC, FAMILY = "StepLR", "oracle"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 1:
            return _lrs(self)
        return [lr * self.gamma for lr in _lrs(self)]


class MultiStepLRLate(L.MultiStepLR):
    """Decays one step after each milestone (tests last_epoch - 1 against the milestones)."""

    SPEC, FAMILY = "MultiStepLR", "oracle"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        e = self.last_epoch - 1
        if self._is_initial or e not in self.milestones:
            return _lrs(self)
        return [lr * self.gamma ** self.milestones[e] for lr in _lrs(self)]


class ExponentialLRDecaysAtInit(L.ExponentialLR):
    """Applies gamma in the constructor's initial step: every lr is one decay ahead."""

    SPEC, FAMILY = "ExponentialLR", "oracle"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        return [lr * self.gamma for lr in _lrs(self)]


class ExponentialLRFloat32(L.ExponentialLR):
    """Rounds every recurrence step through torch.float32 tensors."""

    SPEC, FAMILY = "ExponentialLR", "oracle"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        if self._is_initial:
            return _lrs(self)
        return [float(torch.tensor(lr, dtype=torch.float32) * self.gamma) for lr in _lrs(self)]


class CosineAnnealingLRNoOddBranch(L.CosineAnnealingLR):
    """Drops get_lr's odd-period branch: where the ratio is 0/0 it keeps the lr."""

    SPEC, FAMILY = "CosineAnnealingLR", "oracle"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        if self._is_initial:
            return _lrs(self)
        e, T = self.last_epoch, self.T_max
        den = 1 + math.cos(math.pi * (e - 1) / T)
        if abs(den) < 1e-12:
            return _lrs(self)
        ratio = (1 + math.cos(math.pi * e / T)) / den
        return [ratio * (lr - self.eta_min) + self.eta_min for lr in _lrs(self)]


class PolynomialLRNoPower(L.PolynomialLR):
    """Leaves the power out of the recurrence's ratio: decays linearly whatever `power` is."""

    SPEC, FAMILY = "PolynomialLR", "oracle"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        e, T = self.last_epoch, self.total_iters
        if self._is_initial or e > T:
            return _lrs(self)
        ratio = (1.0 - e / T) / (1.0 - (e - 1) / T)
        return [lr * ratio for lr in _lrs(self)]


class LinearLRNoClamp(L.LinearLR):
    """Keeps applying the linear ratio after total_iters (the `> total_iters` guard is gone)."""

    SPEC, FAMILY = "LinearLR", "oracle"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        if self._is_initial:
            return [lr * self.start_factor for lr in _lrs(self)]
        s, f, e = self.start_factor, self.end_factor, self.last_epoch
        den = self.total_iters * s + (e - 1) * (f - s)
        ratio = 1.0 + (f - s) / den if den else 1.0
        return [lr * ratio for lr in _lrs(self)]


class ConstantLRLateRestore(L.ConstantLR):
    """Restores the base lr at total_iters + 1 instead of total_iters."""

    SPEC, FAMILY = "ConstantLR", "oracle"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        if self._is_initial:
            return [lr * self.factor for lr in _lrs(self)]
        if self.last_epoch != self.total_iters + 1:
            return _lrs(self)
        return [lr * (1.0 / self.factor) for lr in _lrs(self)]


class LambdaLRStepCount(L.LambdaLR):
    """Evaluates lr_lambda at _step_count, one ahead of last_epoch."""

    SPEC, FAMILY = "LambdaLR", "oracle"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        return [b * f(self._step_count) for b, f in zip(self.base_lrs, self.lr_lambdas,
                                                          strict=True)]


class MultiplicativeLRAtInit(L.MultiplicativeLR):
    """Multiplies by lr_lambda(0) in the constructor's initial step too."""

    SPEC, FAMILY = "MultiplicativeLR", "oracle"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        return [lr * f(self.last_epoch) for lr, f in zip(_lrs(self), self.lr_lambdas,
                                                         strict=True)]


class CyclicLRTriangular2Early(L.CyclicLR):
    """triangular2 halves the amplitude from the first cycle on (1 / 2**cycle)."""

    SPEC, FAMILY = "CyclicLR", "oracle"

    def scale_fn(self, x: float) -> float:
        if self.mode == "triangular2":
            return 1 / (2.0**x)
        return super().scale_fn(x)


class CyclicLRMomentumInPhase(L.CyclicLR):
    """Cycles momentum in phase with the lr (high with the lr) instead of against it."""

    SPEC, FAMILY = "CyclicLR", "oracle"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        lrs = super().get_lr()
        if self.cycle_momentum:
            key = "betas" if self.use_beta1 else "momentum"
            for g, lo, hi in zip(self.optimizer.param_groups, self.base_momentums,
                                 self.max_momentums, strict=True):
                m = g[key][0] if self.use_beta1 else g[key]
                flipped = lo + hi - m
                g[key] = (flipped, *g[key][1:]) if self.use_beta1 else flipped
        return lrs


class OneCycleLRLinearIsCos(L.OneCycleLR):
    """Anneals with the cosine even when anneal_strategy='linear'."""

    SPEC, FAMILY = "OneCycleLR", "oracle"

    def _anneal_func(self, *args: Any, **kwargs: Any) -> float:
        return self._annealing_cos(*args, **kwargs)


class OneCycleLRMomentumFrozen(L.OneCycleLR):
    """Sets momentum at construction only: it never cycles afterwards."""

    SPEC, FAMILY = "OneCycleLR", "oracle"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        if self._is_initial:
            return super().get_lr()
        saved = [(g.get("momentum"), g.get("betas")) for g in self.optimizer.param_groups]
        lrs = super().get_lr()
        for g, (m, b) in zip(self.optimizer.param_groups, saved, strict=True):
            if b is not None:
                g["betas"] = b
            if m is not None:
                g["momentum"] = m
        return lrs


class ReduceLROnPlateauEarly(L.ReduceLROnPlateau):
    """Reduces once num_bad_epochs reaches patience (>=), one bad epoch early."""

    SPEC, FAMILY = "ReduceLROnPlateau", "oracle"

    def step(self, metrics: Any, epoch: Any = None) -> None:  # type: ignore[override]
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs >= self.patience:
            self._reduce_lr(self.last_epoch)
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]


class CosineAnnealingWarmRestartsTmultAdds(L.CosineAnnealingWarmRestarts):
    """After a restart the period grows by T_mult (T_i + T_mult) instead of T_i * T_mult."""

    SPEC, FAMILY = "CosineAnnealingWarmRestarts", "oracle"

    def step(self, epoch: Any = None) -> None:
        if epoch is not None or self.last_epoch < 0:
            super().step(epoch)
            return
        self.T_cur += 1
        if self.T_cur >= self.T_i:
            self.T_cur -= self.T_i
            self.T_i += self.T_mult
        self.last_epoch += 1
        for g, lr in zip(self.optimizer.param_groups, self._lrs_now(), strict=True):
            g["lr"] = lr
        self._last_lr = _lrs(self)

    def _lrs_now(self) -> list[float]:
        return [self.eta_min + (b - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i))
                / 2 for b in self.base_lrs]


class SWALRStepAhead(SWALR):
    """Anneals from _step_count instead of _step_count - 1: one epoch ahead."""

    SPEC, FAMILY = "SWALR", "oracle"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        step = self._step_count
        A = max(1, self.anneal_epochs)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / A)))
        alpha = self.anneal_func(max(0, min(1, step / A)))
        out = []
        for g in self.optimizer.param_groups:
            start = self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha)
            out.append(g["swa_lr"] * alpha + start * (1 - alpha))
        return out


class SequentialLRLateSwitch(L.SequentialLR):
    """Switches to the next scheduler one step after its milestone."""

    SPEC, FAMILY = "SequentialLR", "oracle"

    def step(self) -> None:  # type: ignore[override]
        self.last_epoch += 1
        e = self.last_epoch - 1
        idx = bisect_right(self._milestones, e)
        sched = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == e:
            sched._update_lr(0)
        else:
            sched.step()
        self._last_lr = sched.get_last_lr()


class ChainedSchedulerSkipsLast(L.ChainedScheduler):
    """step() steps every chained scheduler but the last."""

    SPEC, FAMILY = "ChainedScheduler", "oracle"

    def step(self) -> None:  # type: ignore[override]
        for sched in self._schedulers[:-1]:
            sched.step()
        self._last_lr = _lrs(self)
