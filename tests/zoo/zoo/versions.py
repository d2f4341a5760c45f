"""Torch-version defects: schedulers written for another torch than the running one (a verbose
forwarded to a base that lost it, a re-wrapped optimizer.step, a constructor ported from an
older ReduceLROnPlateau or SequentialLR, an initial step without _initial_mode, live
Tensor lrs in get_last_lr(), functions in the state_dict)."""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from torch.optim import lr_scheduler as L


class StepLRForwardsVerbose(L.StepLR):
    """Takes verbose and passes a true one on to torch's StepLR, which has none since 2.7."""

    SPEC, FAMILY = "StepLR", "versions"

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1, verbose: bool = False) -> None:
        extra = {"verbose": verbose} if verbose else {}
        super().__init__(optimizer, step_size, gamma, last_epoch, **extra)


class ExponentialLRCountsSteps(L.ExponentialLR):
    """Wraps optimizer.step to count calls, hiding torch's _wrapped_by_lr_sched marker."""

    SPEC, FAMILY = "ExponentialLR", "versions"

    def __init__(self, optimizer: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(optimizer, *args, **kwargs)
        inner, counts = optimizer.step, [0]
        self.optimizer_steps = counts

        def counted(*a: Any, **k: Any) -> Any:
            counts[0] += 1
            return inner(*a, **k)

        optimizer.step = counted


class ReduceLROnPlateauNoLastLr(L.ReduceLROnPlateau):
    """Ported from torch 2.2: sets _last_lr only in step(), so get_last_lr() fails before it."""

    SPEC, FAMILY = "ReduceLROnPlateau", "versions"

    def __init__(self, optimizer: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(optimizer, *args, **kwargs)
        del self._last_lr


class OneCycleLRAnnealFuncInState(L.OneCycleLR):
    """Keeps its anneal function in an attribute, as torch 2.1-2.3 did: the state_dict holds it."""

    SPEC, FAMILY = "OneCycleLR", "versions"

    def __init__(self, optimizer: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(optimizer, *args, **kwargs)
        linear = kwargs.get("anneal_strategy", "cos") == "linear"
        self.anneal_func = self._annealing_linear if linear else self._annealing_cos


class ExponentialLRPortedInitialStep(L.ExponentialLR):
    """Overrides _initial_step as torch 2.3 wrote it, without _initial_mode (torch 2.8+)."""

    SPEC, FAMILY = "ExponentialLR", "versions"

    def _initial_step(self) -> None:
        self._step_count = 0
        self.step()


class StepLRLiveLastLr(L.StepLR):
    """get_last_lr() returns the groups' lr objects themselves: live Tensor lrs (torch 2.4-2.9)."""

    SPEC, FAMILY = "StepLR", "versions"

    def get_last_lr(self) -> list[Any]:
        return [group["lr"] for group in self.optimizer.param_groups]


class SequentialLRStartsFirst(L.SequentialLR):
    """Starts from schedulers[0] even when a milestone 0 makes another active (torch < 2.13)."""

    SPEC, FAMILY = "SequentialLR", "versions"

    def __init__(self, optimizer: Any, schedulers: list[Any], milestones: list[int],
                 last_epoch: int = -1) -> None:
        super().__init__(optimizer, schedulers, milestones, last_epoch)
        active = bisect_right(self._milestones, 0)
        if active:  # redo torch 2.12's start: undo the active one, initialise the first
            for group in optimizer.param_groups:
                group["lr"] = group["initial_lr"]
            self._schedulers[active].last_epoch -= 1
            self._schedulers[0]._initial_step()
            self._last_lr = self._schedulers[0].get_last_lr()


class CyclicLRScaleFnInState(L.CyclicLR):
    """Keeps its scale function in a public attribute, so the state_dict holds a function."""

    SPEC, FAMILY = "CyclicLR", "versions"

    def __init__(self, optimizer: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(optimizer, *args, **kwargs)
        self.scale = self._scale_fn_ref
