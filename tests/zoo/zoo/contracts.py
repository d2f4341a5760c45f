"""Contracts beyond the formula (issue 18): resuming through the constructor, loading a state
into a scheduler built otherwise, function-valued arguments in the state, the state's size,
construction on a used optimizer and inside another composite, last_epoch's type, garbage
cycles, copies, and the cost of a whole training iteration. One realistic defect per broken
member; the correct members exercise the same contracts in code of their own.
"""

from __future__ import annotations

import collections
import functools
import math
import threading
import types
import weakref
from typing import Any

from torch.optim import Optimizer
from torch.optim import lr_scheduler as L

#: Correct members (no FAMILY) sit next to the broken ones.
MIXED = True


# -- correct members -------------------------------------------------------------------------
class ResumableStepLR:
    """A StepLR of its own (no torch base) in closed form from initial_lr: it resumes through
    last_epoch at any step, a decay boundary included (where torch's StepLR does not)."""

    SPEC = "StepLR"

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.optimizer, self.step_size, self.gamma = optimizer, step_size, gamma
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                               "when resuming with last_epoch >= 0")
        self.base_lrs = [float(g["initial_lr"]) for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def step(self, epoch: int | None = None) -> None:
        self.last_epoch = self.last_epoch + 1 if epoch is None else int(epoch)
        factor = self.gamma ** (self.last_epoch // self.step_size)
        for group, base in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            group["lr"] = base * factor
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs),
                "step_size": self.step_size, "gamma": self.gamma,
                "_last_lr": list(self._last_lr)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.last_epoch, self.step_size = state["last_epoch"], state["step_size"]
        self.gamma, self.base_lrs = state["gamma"], list(state["base_lrs"])
        self._last_lr = list(state["_last_lr"])


class RecentLambdaLR(L.LambdaLR):
    """Keeps the last five lrs for a smoothed log, bounded, in its state as plain lists; loads
    without touching the dict it is given."""

    SPEC = "LambdaLR"

    def __init__(self, optimizer: Optimizer, lr_lambda: Any, last_epoch: int = -1) -> None:
        self.recent: collections.deque[list[float]] = collections.deque(maxlen=5)
        super().__init__(optimizer, lr_lambda, last_epoch)

    def get_lr(self) -> list[float]:  # type: ignore[override]
        lrs = [float(v) for v in super().get_lr()]
        self.recent.append(list(lrs))
        return lrs

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["recent"] = [list(v) for v in self.recent]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        recent = state.pop("recent", [])
        super().load_state_dict(state)
        self.recent = collections.deque((list(v) for v in recent), maxlen=5)


class CountingCosineAnnealingLR(L.CosineAnnealingLR):
    """Counts the optimizer's steps with one step hook, registered once and holding the
    scheduler weakly: no wrapper per step, no reference cycle."""

    SPEC = "CosineAnnealingLR"

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        self.optimizer_steps = 0
        ref = weakref.ref(self)

        def count(opt: Any, args: Any, kwargs: Any) -> None:
            sched = ref()
            if sched is not None:
                sched.optimizer_steps += 1

        optimizer.register_step_post_hook(count)
        super().__init__(optimizer, T_max, eta_min, last_epoch)


class ProductChain:
    """A ChainedScheduler of its own (no torch base): steps every scheduler it holds in order,
    whatever they are (a SequentialLR among them), and saves their states."""

    SPEC = "ChainedScheduler"

    def __init__(self, schedulers: list[Any], optimizer: Optimizer | None = None) -> None:
        if not schedulers or any(isinstance(s, L.ReduceLROnPlateau) for s in schedulers):
            raise ValueError("ProductChain needs schedulers that step without a metric")
        self._schedulers = list(schedulers)
        self.optimizer = optimizer or self._schedulers[0].optimizer
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def step(self) -> None:
        for sched in self._schedulers:
            sched.step()
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        return {"_schedulers": [s.state_dict() for s in self._schedulers],
                "_last_lr": list(self._last_lr)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for sched, saved in zip(self._schedulers, state["_schedulers"], strict=True):
            sched.load_state_dict(saved)
        self._last_lr = list(state["_last_lr"])


# -- resume ----------------------------------------------------------------------------------
class ExponentialLRLastEpochGuard(L.ExponentialLR):
    """Tells its initial step by last_epoch == 0, as torch before 2.8 did: built with
    last_epoch=n-1 to resume, its constructor multiplies by gamma once more."""

    SPEC, FAMILY = "ExponentialLR", "resume"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        lrs = [float(g["lr"]) for g in self.optimizer.param_groups]
        if self.last_epoch == 0:
            return lrs
        return [lr * self.gamma for lr in lrs]


class CyclicLROwnCounter(L.CyclicLR):
    """Places the cycle by a private step counter that starts at 0 in every constructor:
    resumed through last_epoch, it starts the cycle over."""

    SPEC, FAMILY = "CyclicLR", "resume"

    def __init__(self, optimizer: Optimizer, *args: Any, **kwargs: Any) -> None:
        self.steps_taken = -1
        super().__init__(optimizer, *args, **kwargs)

    def get_lr(self) -> list[float]:  # type: ignore[override]
        self.steps_taken += 1
        kept, self.last_epoch = self.last_epoch, self.steps_taken
        try:
            return [float(v) for v in super().get_lr()]
        finally:
            self.last_epoch = kept


# -- state_dict ------------------------------------------------------------------------------
class LambdaLRRebasesOnLoad(L.LambdaLR):
    """load_state_dict() keeps the base_lrs it was built with, taken as this run's config:
    loaded into one built with other lrs, it continues from those."""

    SPEC, FAMILY = "LambdaLR", "state_dict"

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        own = list(self.base_lrs)
        super().load_state_dict(state_dict)
        self.base_lrs = own


class StepLRLoadPopsLastLr(L.StepLR):
    """load_state_dict() pops '_last_lr' from the dict it is given (to recompute it): the
    checkpoint is damaged, and a second load raises KeyError."""

    SPEC, FAMILY = "StepLR", "state_dict"

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        last = state_dict.pop("_last_lr")
        super().load_state_dict(state_dict)
        self._last_lr = list(last)


class CosineAnnealingLRKeepsOwnArguments(L.CosineAnnealingLR):
    """load_state_dict() keeps the T_max and eta_min it was built with, so that a resumed run
    can change them: loaded into one built otherwise, it leaves the saved schedule."""

    SPEC, FAMILY = "CosineAnnealingLR", "state_dict"

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        own = self.T_max, self.eta_min
        super().load_state_dict(state_dict)
        self.T_max, self.eta_min = own


class LambdaLRSavesFunctions(L.LambdaLR):
    """state_dict() keeps lr_lambdas as they are: functions and lambdas end up in the state."""

    SPEC, FAMILY = "LambdaLR", "state_dict"

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)


class MultiplicativeLRDropsObjectState(L.MultiplicativeLR):
    """state_dict() saves None for every lr_lambda, callable objects too: their state is not
    restored on load."""

    SPEC, FAMILY = "MultiplicativeLR", "state_dict"

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["lr_lambdas"] = [None] * len(self.lr_lambdas)
        return state


class MultiStepLRKeepsHistory(L.MultiStepLR):
    """Keeps every lr it set in a history that state_dict() carries (a copy): the state grows
    with the step count."""

    SPEC, FAMILY = "MultiStepLR", "state_dict"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        lrs = [float(v) for v in super().get_lr()]
        self.__dict__.setdefault("history", []).append(lrs)
        return lrs

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["history"] = [list(v) for v in self.__dict__.get("history", [])]
        return state


# -- construct -------------------------------------------------------------------------------
class LinearLRTakesInitialLrAsResume(L.LinearLR):
    """Takes groups that already carry initial_lr for a resumed run and skips its start factor:
    after another scheduler's warmup, it starts at the full lr."""

    SPEC, FAMILY = "LinearLR", "construct"

    def __init__(self, optimizer: Optimizer, *args: Any, **kwargs: Any) -> None:
        resumed = all("initial_lr" in g for g in optimizer.param_groups)
        super().__init__(optimizer, *args, **kwargs)
        if resumed:
            for group in optimizer.param_groups:
                group["lr"] = group["initial_lr"]
            self._last_lr = [g["lr"] for g in optimizer.param_groups]


class StepLRCountsThroughFunc(L.StepLR):
    """Counts the optimizer's steps by rebinding optimizer.step.__func__: on an optimizer that
    another scheduler has wrapped (a plain function), building raises AttributeError."""

    SPEC, FAMILY = "StepLR", "construct"

    def __init__(self, optimizer: Optimizer, *args: Any, **kwargs: Any) -> None:
        self.optimizer_steps = 0
        func, ref = optimizer.step.__func__, weakref.ref(self)  # type: ignore[attr-defined]

        def counted(opt: Any, *a: Any, **k: Any) -> Any:
            sched = ref()
            if sched is not None:
                sched.optimizer_steps += 1
            return func(opt, *a, **k)

        optimizer.step = types.MethodType(counted, optimizer)  # type: ignore[method-assign]
        super().__init__(optimizer, *args, **kwargs)


class SequentialLRFlatUndo(L.SequentialLR):
    """Undoes its schedulers' initial steps one level deep (torch before 2.6, with a guard):
    the schedulers inside a ChainedScheduler it holds start one step ahead."""

    SPEC, FAMILY = "SequentialLR", "construct"

    def recursive_undo(self, sched: Any = None) -> None:
        for child in self._schedulers:
            if hasattr(child, "last_epoch"):
                child.last_epoch -= 1


# -- api -------------------------------------------------------------------------------------
class CosineAnnealingLRFloatEpoch(L.CosineAnnealingLR):
    """step(epoch) keeps last_epoch as a float, to allow fractional epochs: an int epoch
    becomes 4.0, and every step after it counts in floats."""

    SPEC, FAMILY = "CosineAnnealingLR", "api"

    def step(self, epoch: Any = None) -> None:
        super().step(epoch)
        if epoch is not None:
            self.last_epoch = float(epoch)  # type: ignore[assignment]


class CosineAnnealingWarmRestartsRecursiveCycle(L.CosineAnnealingWarmRestarts):
    """step() finds the cycle with a recursive local helper: every step leaves a function and
    its closure cell in a cycle for the garbage collector."""

    SPEC, FAMILY = "CosineAnnealingWarmRestarts", "api"

    def step(self, epoch: Any = None) -> None:
        if epoch is not None or self.last_epoch < 0:
            super().step(epoch)
            return

        def locate(t: int, length: int) -> tuple[int, int]:
            return (t, length) if t < length else locate(t - length, length * self.T_mult)

        self.last_epoch += 1
        self.T_cur, self.T_i = locate(self.last_epoch, self.T_0)
        for group, base in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            group["lr"] = self.eta_min + (base - self.eta_min) * (
                1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]


class StepLRLocked(L.StepLR):
    """Guards step() with a threading.Lock for multi-threaded loops: the scheduler can no longer
    be deep-copied or pickled."""

    SPEC, FAMILY = "StepLR", "api"

    def __init__(self, optimizer: Optimizer, *args: Any, **kwargs: Any) -> None:
        self.lock = threading.Lock()
        super().__init__(optimizer, *args, **kwargs)

    def step(self, epoch: Any = None) -> None:
        with self.lock:
            super().step(epoch)

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in super().state_dict().items() if k != "lock"}


# -- cost ------------------------------------------------------------------------------------
class ExponentialLRRewrapsStep(L.ExponentialLR):
    """Wraps optimizer.step again on every step, to count the optimizer's steps: each
    iteration runs one wrapper more."""

    SPEC, FAMILY = "ExponentialLR", "cost"

    def step(self, epoch: Any = None) -> None:
        super().step(epoch)
        inner, ref = self.optimizer.step, weakref.ref(self)

        @functools.wraps(inner)
        def counted(*args: Any, **kwargs: Any) -> Any:
            sched = ref()
            if sched is not None:
                sched.__dict__["optimizer_steps"] = sched.__dict__.get("optimizer_steps", 0) + 1
            return inner(*args, **kwargs)

        self.optimizer.step = counted  # type: ignore[method-assign]


def _log_lr(optimizer: Any, args: Any, kwargs: Any) -> None:
    optimizer.logged_lr = optimizer.param_groups[0]["lr"]


class PolynomialLRHookPerStep(L.PolynomialLR):
    """Registers an optimizer step hook on every step, to log the lr after each update: the
    hooks pile up."""

    SPEC, FAMILY = "PolynomialLR", "cost"

    def step(self, epoch: Any = None) -> None:
        super().step(epoch)
        self.optimizer.register_step_post_hook(_log_lr)
