"""Swallowed, doubled, reworded and spurious warnings."""

from __future__ import annotations

import functools
import logging
import warnings
from typing import Any

import torch
from torch.optim import lr_scheduler as L

log = logging.getLogger(__name__)


@functools.cache
def order_text() -> str:
    """torch's scheduler-before-optimizer warning, provoked on its own StepLR."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        L.StepLR(opt, step_size=1).step()
    return str(caught[0].message)


class StepLRNoOrderCheck(L.StepLR):
    """step() re-implemented without the ordering checks or the epoch deprecation warning."""

    SPEC, FAMILY = "StepLR", "warnings"

    def step(self, epoch: Any = None) -> None:
        self._step_count += 1
        self._update_lr(epoch)


class ConstantLROrderCheckOnly(L.ConstantLR):
    """step() checks the order but not whether optimizer.step was overridden."""

    SPEC, FAMILY = "ConstantLR", "warnings"

    def step(self, epoch: Any = None) -> None:
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", False):
            warnings.warn(order_text(), UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(L.EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)


class LinearLROwnOrderText(L.LinearLR):
    """Warns about the step order in its own words instead of torch's text."""

    SPEC, FAMILY = "LinearLR", "warnings"

    def step(self, epoch: Any = None) -> None:
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", False):
            warnings.warn("call optimizer.step() before scheduler.step()", UserWarning,
                          stacklevel=2)
            self._step_count += 1
            self._update_lr(epoch)
            return
        super().step(epoch)


class MultiStepLRSeedOrderCheck(L.MultiStepLR):
    """Order check from seed 002's old torch (optimizer._step_count): warns in correct use."""

    SPEC, FAMILY = "MultiStepLR", "warnings"

    def step(self, epoch: Any = None) -> None:
        if self._step_count == 1 and getattr(self.optimizer, "_step_count", 0) < 1:
            warnings.warn(order_text(), UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(L.EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)


class ExponentialLRLogsGetLr(L.ExponentialLR):
    """step() logs self.get_lr(), so torch warns 'use get_last_lr()' in correct use."""

    SPEC, FAMILY = "ExponentialLR", "warnings"

    def step(self, epoch: Any = None) -> None:
        super().step(epoch)
        log.debug("lr now %s", self.get_lr())


class PolynomialLRWarnsAtEnd(L.PolynomialLR):
    """Warns UserWarning when the schedule reaches total_iters, in correct use."""

    SPEC, FAMILY = "PolynomialLR", "warnings"

    def step(self, epoch: Any = None) -> None:
        super().step(epoch)
        if self.last_epoch == self.total_iters:
            warnings.warn("PolynomialLR: lr reached 0 at total_iters", UserWarning, stacklevel=2)


class CosineAnnealingLREpochWarnsTwice(L.CosineAnnealingLR):
    """step(epoch) warns the deprecation itself, then again through LRScheduler.step."""

    SPEC, FAMILY = "CosineAnnealingLR", "warnings"

    def step(self, epoch: Any = None) -> None:
        if epoch is not None:
            warnings.warn(L.EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        super().step(epoch)
