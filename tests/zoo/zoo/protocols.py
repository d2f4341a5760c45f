"""One correct and one broken member per protocol the suite drives, in our own code: a torch
look-alike, a metric-driven look-alike, timm's explicit counter, DeepSpeed's counter, a
callable per update (speechbrain), an event handler (ignite), pure functions of the step (an
lr, a factor) and a wrapper around a torch scheduler (accelerate).

A member whose protocol or arguments the suite cannot read from its shape carries CONFIG: the
--scheduler-config entry (protocol, map, kwargs) the runner binds it with.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

#: Correct members (no FAMILY) sit next to the broken ones.
MIXED = True


def _groups(opt: Any) -> list[dict[str, Any]]:
    return list(opt.param_groups)


# -- torch look-alike: step() ----------------------------------------------------------------
class LookalikeStepLR:
    """A StepLR look-alike of its own (no torch base): step(), get_last_lr(), state_dict()."""

    SPEC = "StepLR"

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1) -> None:
        self.optimizer, self.step_size, self.gamma = optimizer, step_size, gamma
        self.base = [g["lr"] for g in _groups(optimizer)]
        self.count = 0
        self._set()

    def _value(self, base: float) -> float:
        return base * self.gamma ** (self.count // self.step_size)

    def _set(self) -> None:
        for g, b in zip(_groups(self.optimizer), self.base, strict=True):
            g["lr"] = self._value(b)

    def step(self) -> None:
        self.count += 1
        self._set()

    def get_last_lr(self) -> list[float]:
        return [g["lr"] for g in _groups(self.optimizer)]

    def state_dict(self) -> dict[str, Any]:
        return {"count": self.count, "base": list(self.base)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.count, self.base = state["count"], list(state["base"])


class LookalikeStepLRFirstGroupBase(LookalikeStepLR):
    """Decays every group from the first group's lr."""

    SPEC, FAMILY = "StepLR", "groups"

    def _set(self) -> None:
        for g in _groups(self.optimizer):
            g["lr"] = self._value(self.base[0])


# -- metric-driven look-alike: step(metric) ---------------------------------------------------
class LookalikePlateau:
    """A ReduceLROnPlateau look-alike (mode min, rel threshold) with step(metric)."""

    SPEC = "ReduceLROnPlateau"

    def __init__(self, optimizer: Any, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: Any = 0.0, eps: float = 1e-8) -> None:
        n = len(_groups(optimizer))
        if factor >= 1.0:
            raise ValueError(f"factor must be < 1, got {factor}")
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError(f"unknown mode {mode!r} or threshold_mode {threshold_mode!r}")
        if isinstance(min_lr, (list, tuple)) and len(min_lr) != n:
            raise ValueError(f"expected {n} min_lrs, got {len(min_lr)}")
        self.optimizer, self.mode, self.factor, self.patience = optimizer, mode, factor, patience
        self.threshold, self.threshold_mode, self.cooldown = threshold, threshold_mode, cooldown
        self.min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * n
        self.eps = eps
        self.best = math.inf if mode == "min" else -math.inf
        self.bad, self.cooling = 0, 0

    def _better(self, a: float, best: float) -> bool:
        if self.mode == "min":
            edge = best * (1 - self.threshold) if self.threshold_mode == "rel" else (
                best - self.threshold)
            return a < edge
        edge = best * (1 + self.threshold) if self.threshold_mode == "rel" else (
            best + self.threshold)
        return a > edge

    def step(self, metrics: float) -> None:
        current = float(metrics)
        if self._better(current, self.best):
            self.best, self.bad = current, 0
        else:
            self.bad += 1
        if self.cooling > 0:
            self.cooling -= 1
            self.bad = 0
        if self.bad > self.patience:
            self._reduce()
            self.cooling, self.bad = self.cooldown, 0

    def _reduce(self) -> None:
        for g, floor in zip(_groups(self.optimizer), self.min_lrs, strict=True):
            new = max(g["lr"] * self.factor, floor)
            if g["lr"] - new > self.eps:
                g["lr"] = new

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        vars(self).update(state)


class LookalikePlateauNoCooldown(LookalikePlateau):
    """Ignores cooldown: reduces again as soon as patience runs out after a reduction."""

    SPEC, FAMILY = "ReduceLROnPlateau", "oracle"

    def step(self, metrics: float) -> None:
        self.cooling = 0
        super().step(metrics)


# -- timm: step(epoch) / step_update(num_updates), the caller counts ------------------------
class CounterCosine:
    """A timm-like cosine (torch's CosineAnnealingLR formula): the caller passes the count."""

    SPEC = "CosineAnnealingLR"

    def __init__(self, optimizer: Any, T_max: int, eta_min: float = 0.0,
                 t_in_epochs: bool = True) -> None:
        self.optimizer, self.T_max, self.eta_min = optimizer, T_max, eta_min
        self.t_in_epochs = t_in_epochs
        for g in _groups(optimizer):
            g.setdefault("initial_lr", g["lr"])
        self.base_values = [g["initial_lr"] for g in _groups(optimizer)]
        self._update(0)

    def _values(self, t: int) -> list[float]:
        # Past T_max the half cosine keeps turning (torch's closed form is periodic).
        return [self.eta_min + (b - self.eta_min) * (1 + math.cos(math.pi * t / self.T_max)) / 2
                for b in self.base_values]

    def _update(self, t: int) -> None:
        for g, v in zip(_groups(self.optimizer), self._values(t), strict=True):
            g["lr"] = v

    def step(self, epoch: int, metric: float | None = None) -> None:
        if self.t_in_epochs:
            self._update(epoch)

    def step_update(self, num_updates: int, metric: float | None = None) -> None:
        if not self.t_in_epochs:
            self._update(num_updates)

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        vars(self).update(state)


class CounterCosineOneAhead(CounterCosine):
    """Evaluates the cosine at t + 1: every step is one ahead of the count it is given."""

    SPEC, FAMILY = "CosineAnnealingLR", "oracle"

    def _values(self, t: int) -> list[float]:
        return super()._values(t + 1)


# -- DeepSpeed: step(last_batch_iteration), the index of the batch just done ----------------
class BatchIndexExponential:
    """A DeepSpeed-like ExponentialLR: lr = base * gamma ** (last_batch_iteration + 1)."""

    SPEC = "ExponentialLR"

    def __init__(self, optimizer: Any, gamma: float, last_batch_iteration: int = -1) -> None:
        self.optimizer, self.gamma = optimizer, gamma
        self.base = [g["lr"] for g in _groups(optimizer)]
        self.last_batch_iteration = last_batch_iteration
        self._apply()

    def get_lr(self) -> list[float]:
        return [b * self.gamma ** (self.last_batch_iteration + 1) for b in self.base]

    def _apply(self) -> None:
        self._last_lr = self.get_lr()
        for g, v in zip(_groups(self.optimizer), self._last_lr, strict=True):
            g["lr"] = v

    def step(self, last_batch_iteration: int | None = None) -> None:
        if last_batch_iteration is None:
            last_batch_iteration = self.last_batch_iteration + 1
        self.last_batch_iteration = last_batch_iteration
        self._apply()

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        return {"last_batch_iteration": self.last_batch_iteration}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.last_batch_iteration = state["last_batch_iteration"]


class BatchIndexExponentialIgnoresIndex(BatchIndexExponential):
    """Ignores the index it is given and counts its own calls: a jump lands elsewhere."""

    SPEC, FAMILY = "ExponentialLR", "recurrence"

    def step(self, last_batch_iteration: int | None = None) -> None:
        super().step(None)


# -- speechbrain: sched(opt) per update, no optimizer at construction -----------------------
class CallExponential:
    """A speechbrain-like exponential decay: built from lr_initial, called as sched(opt)."""

    SPEC = "ExponentialLR"
    CONFIG: ClassVar[dict[str, Any]] = {"map": {"lr_initial": {"from": "lr", "as": "scalar"}}}

    def __init__(self, lr_initial: float, gamma: float) -> None:
        self.lr_initial, self.gamma, self.n_steps = lr_initial, gamma, 0

    def __call__(self, opt: Any) -> tuple[float, float]:
        self.n_steps += 1
        old = opt.param_groups[0]["lr"]
        new = self.lr_initial * self.gamma ** self.n_steps
        for g in opt.param_groups:
            g["lr"] = new
        return old, new

    def state_dict(self) -> dict[str, Any]:
        return {"n_steps": self.n_steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.n_steps = state["n_steps"]


class CallExponentialForgetsCount(CallExponential):
    """Its saved state leaves the step count out: a restored scheduler starts over."""

    SPEC, FAMILY = "ExponentialLR", "state_dict"
    CONFIG = CallExponential.CONFIG

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


# -- ignite: handler(engine) at every ITERATION_STARTED -------------------------------------
class HandlerExponential:
    """An ignite-like exponential handler: sets the lr of every group at each event."""

    SPEC = "ExponentialLR"

    def __init__(self, optimizer: Any, param_name: str, gamma: float) -> None:
        self.optimizer, self.param_name, self.gamma = optimizer, param_name, gamma
        self.start_value = optimizer.param_groups[0][param_name]
        self.event_index = 0

    def __call__(self, engine: Any, name: str | None = None) -> None:
        value = self.start_value * self.gamma ** self.event_index
        for g in self.optimizer.param_groups:
            g[self.param_name] = value
        self.event_index += 1

    def state_dict(self) -> dict[str, Any]:
        return {"event_index": self.event_index, "start_value": self.start_value}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.event_index, self.start_value = state["event_index"], state["start_value"]


class HandlerExponentialSkipsFirst(HandlerExponential):
    """Counts the event before setting the value: the first iteration already has one decay."""

    SPEC, FAMILY = "ExponentialLR", "oracle"

    def __call__(self, engine: Any, name: str | None = None) -> None:
        self.event_index += 1
        value = self.start_value * self.gamma ** self.event_index
        for g in self.optimizer.param_groups:
            g[self.param_name] = value


# -- pure functions of the step ----------------------------------------------------------------
def cosine_lr(step: int, *, base_lr: float, T_max: int, eta_min: float = 0.0) -> float:
    """An lr function: torch's CosineAnnealingLR closed form."""
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * step / T_max)) / 2


def cosine_lr_no_floor(step: int, *, base_lr: float, T_max: int, eta_min: float = 0.0) -> float:
    """Anneals to 0 and adds eta_min after: the floor is never reached, it is overshot."""
    return eta_min + base_lr * (1 + math.cos(math.pi * step / T_max)) / 2


def step_factor(step: int, *, step_size: int, gamma: float = 0.1) -> float:
    """A factor function: StepLR's multiplier, gamma ** (step // step_size)."""
    return gamma ** (step // step_size)


def step_factor_rounded(step: int, *, step_size: int, gamma: float = 0.1) -> float:
    """Rounds the step ratio instead of flooring it: decays half a period early."""
    return gamma ** round(step / step_size)


class CosineLrFunction:
    """An lr function of the step (cosine_lr)."""

    SPEC = "CosineAnnealingLR"
    TARGET = "zoo.protocols:cosine_lr"
    CONFIG: ClassVar[dict[str, Any]] = {"protocol": "lr_function",
                              "map": {"base_lr": {"from": "lr", "as": "scalar"}}}


class CosineLrFunctionNoFloor:
    """An lr function that overshoots its floor (cosine_lr_no_floor)."""

    SPEC, FAMILY = "CosineAnnealingLR", "oracle"
    TARGET = "zoo.protocols:cosine_lr_no_floor"
    CONFIG = CosineLrFunction.CONFIG


class StepFactorFunction:
    """A factor function of the step (step_factor)."""

    SPEC = "StepLR"
    TARGET = "zoo.protocols:step_factor"
    CONFIG: ClassVar[dict[str, Any]] = {"protocol": "factor_function"}


class StepFactorFunctionRounded:
    """A factor function that rounds the step ratio (step_factor_rounded)."""

    SPEC, FAMILY = "StepLR", "oracle"
    TARGET = "zoo.protocols:step_factor_rounded"
    CONFIG = StepFactorFunction.CONFIG


# -- a wrapper around a torch scheduler (accelerate's AcceleratedScheduler) -----------------
class PassThrough:
    """Wraps a scheduler and passes step(), get_last_lr() and state_dict() through."""

    SPEC = "StepLR"
    CONFIG: ClassVar[dict[str, Any]] = {"wraps": "torch.optim.lr_scheduler:StepLR"}

    def __init__(self, scheduler: Any, optimizers: Any) -> None:
        self.scheduler = scheduler
        self.optimizers = optimizers if isinstance(optimizers, (list, tuple)) else [optimizers]

    def step(self, *args: Any, **kwargs: Any) -> None:
        self.scheduler.step(*args, **kwargs)

    def get_last_lr(self) -> list[float]:
        return list(self.scheduler.get_last_lr())

    def state_dict(self) -> dict[str, Any]:
        return dict(self.scheduler.state_dict())

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.scheduler.load_state_dict(state)


class PassThroughSkipsFirst(PassThrough):
    """Drops the first step() (it waits for a step the optimizer never reports)."""

    SPEC, FAMILY = "StepLR", "oracle"
    CONFIG = PassThrough.CONFIG

    def __init__(self, scheduler: Any, optimizers: Any) -> None:
        super().__init__(scheduler, optimizers)
        self.skipped = False

    def step(self, *args: Any, **kwargs: Any) -> None:
        if not self.skipped:
            self.skipped = True
            return
        super().step(*args, **kwargs)

