"""Closed forms and step(epoch) that disagree with the schedule (step() itself is right)."""

from __future__ import annotations

import math
from bisect import bisect_left
from typing import Any

import torch
from torch.optim import lr_scheduler as L


class StepLRClosedFormAhead(L.StepLR):
    """_get_closed_form_lr uses (last_epoch + 1) // step_size."""

    SPEC, FAMILY = "StepLR", "recurrence"

    def _get_closed_form_lr(self) -> list[float]:
        k = (self.last_epoch + 1) // self.step_size
        return [b * self.gamma**k for b in self.base_lrs]


class MultiStepLRClosedFormBisectLeft(L.MultiStepLR):
    """_get_closed_form_lr counts milestones with bisect_left: each is reached one epoch late."""

    SPEC, FAMILY = "MultiStepLR", "recurrence"

    def _get_closed_form_lr(self) -> list[float]:
        ms = sorted(self.milestones.elements())
        return [b * self.gamma ** bisect_left(ms, self.last_epoch) for b in self.base_lrs]


class ExponentialLRClosedFormFloat32(L.ExponentialLR):
    """_get_closed_form_lr computes gamma**epoch in torch.float32."""

    SPEC, FAMILY = "ExponentialLR", "recurrence"

    def _get_closed_form_lr(self) -> list[float]:
        g = torch.tensor(self.gamma, dtype=torch.float32) ** self.last_epoch
        return [b * float(g) for b in self.base_lrs]


class CosineAnnealingLRClosedFormRestarts(L.CosineAnnealingLR):
    """_get_closed_form_lr wraps the epoch modulo T_max (restarts instead of rising again)."""

    SPEC, FAMILY = "CosineAnnealingLR", "recurrence"

    def _get_closed_form_lr(self) -> list[float]:
        e = self.last_epoch % self.T_max if self.last_epoch > self.T_max else self.last_epoch
        c = (1 + math.cos(math.pi * e / self.T_max)) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]


class LinearLRClosedFormNoClamp(L.LinearLR):
    """_get_closed_form_lr forgets min(total_iters, epoch): it extrapolates past the end."""

    SPEC, FAMILY = "LinearLR", "recurrence"

    def _get_closed_form_lr(self) -> list[float]:
        s, f, T = self.start_factor, self.end_factor, self.total_iters
        return [b * (s + (f - s) * self.last_epoch / T) for b in self.base_lrs]


class CosineAnnealingWarmRestartsEpochTmult(L.CosineAnnealingWarmRestarts):
    """step(epoch) uses the T_mult == 1 formula (epoch % T_0) whatever T_mult is."""

    SPEC, FAMILY = "CosineAnnealingWarmRestarts", "recurrence"

    def step(self, epoch: Any = None) -> None:
        if epoch is None or epoch < self.T_0:
            super().step(epoch)
            return
        self.T_i, self.T_cur = self.T_0, epoch % self.T_0
        self.last_epoch = math.floor(epoch)
        for g, b in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            g["lr"] = self.eta_min + (b - self.eta_min) * (
                1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]
