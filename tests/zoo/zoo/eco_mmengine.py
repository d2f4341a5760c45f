"""mmengine look-alikes (`mmengine.optim.scheduler`'s protocol: built on an optimizer, which
the constructor's first step() sets; `step()` only, acting on the steps begin <= e < end;
`last_step`, `get_last_value()`, `state_dict()`), written here to the spec's rulings
(docs/spec/mmengine.md), each with one formula defect."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

INF = 10**9


class _Window:
    """mmengine's window for the lr: each step() counts one step and, in [begin, end), sets
    the groups' lrs from `_get_value()` (chainable, from the groups' current lrs)."""

    def __init__(self, optimizer: Any, begin: int = 0, end: int = INF, last_step: int = -1,
                 by_epoch: bool = True, verbose: bool = False) -> None:
        if end <= begin:
            raise ValueError(f"end should be larger than begin, but got begin={begin}, "
                             f"end={end}")
        self.optimizer = optimizer
        self.begin, self.end, self.by_epoch, self.verbose = begin, end, by_epoch, verbose
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_values = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_step = last_step
        self._global_step = -1
        self.step()

    def lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def _get_value(self) -> list[float]:
        raise NotImplementedError

    def active(self) -> bool:
        return self.begin <= self._global_step < self.end

    def step(self) -> None:
        self._global_step += 1
        if self.active():
            self.last_step += 1
            for group, value in zip(self.optimizer.param_groups, self._get_value(),
                                    strict=True):
                group["lr"] = value
        self._last_value = self.lrs()

    def get_last_value(self) -> list[float]:
        return self._last_value

    def state_dict(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


class MMStepLRFromZero(_Window):
    """Counts step_size from step 0, not from begin: a late window decays on the wrong steps."""

    SPEC, FAMILY = "mmengine.StepLR", "oracle"

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, begin, end, last_step, by_epoch, verbose)

    def _get_value(self) -> list[float]:
        if self._global_step == 0 or self._global_step % self.step_size:
            return self.lrs()
        return [lr * self.gamma for lr in self.lrs()]


class MMMultiStepLRLate(_Window):
    """Decays one step after each milestone (tests last_step - 1 against the milestones)."""

    SPEC, FAMILY = "mmengine.MultiStepLR", "oracle"

    def __init__(self, optimizer: Any, milestones: list[int], gamma: float = 0.1,
                 last_step: int = -1, begin: int = 0, end: int = INF, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        self.milestones, self.gamma = Counter(milestones), gamma
        super().__init__(optimizer, begin, end, last_step, by_epoch, verbose)

    def _get_value(self) -> list[float]:
        k = self.last_step - 1
        if k not in self.milestones:
            return self.lrs()
        return [lr * self.gamma ** self.milestones[k] for lr in self.lrs()]


class MMExponentialLRPastEnd(_Window):
    """Ignores end: keeps decaying after the window instead of holding its last value."""

    SPEC, FAMILY = "mmengine.ExponentialLR", "oracle"

    def __init__(self, optimizer: Any, gamma: float, begin: int = 0, end: int = INF,
                 last_step: int = -1, by_epoch: bool = True, verbose: bool = False) -> None:
        self.gamma = gamma
        super().__init__(optimizer, begin, end, last_step, by_epoch, verbose)

    def active(self) -> bool:
        return self.begin <= self._global_step

    def _get_value(self) -> list[float]:
        if self.last_step == 0:
            return self.lrs()
        return [lr * self.gamma for lr in self.lrs()]


class MMConstantLRNeverUndone(_Window):
    """Counts torch's inclusive total_iters = end - begin: the undo falls on end, outside
    the window, so the factor is never undone."""

    SPEC, FAMILY = "mmengine.ConstantLR", "oracle"

    def __init__(self, optimizer: Any, factor: float = 1.0 / 3, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        if not 0 <= factor <= 1:
            raise ValueError("Constant multiplicative factor should between 0 and 1.")
        self.factor = factor
        self.total_iters = end - begin
        super().__init__(optimizer, begin, end, last_step, by_epoch, verbose)

    def _get_value(self) -> list[float]:
        if self.last_step == 0:
            return [lr * self.factor for lr in self.lrs()]
        if self.last_step != self.total_iters:
            return self.lrs()
        return [lr * (1.0 / self.factor) for lr in self.lrs()]


class MMLinearLRSlope(_Window):
    """The ratio's denominator uses last_step for last_step - 1: every step after the first
    takes the wrong slope."""

    SPEC, FAMILY = "mmengine.LinearLR", "oracle"

    def __init__(self, optimizer: Any, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 begin: int = 0, end: int = INF, last_step: int = -1,
                 by_epoch: bool = True, verbose: bool = False) -> None:
        if not (0 <= start_factor <= 1 and 0 <= end_factor <= 1):
            raise ValueError("multiplicative factors should be between 0 and 1.")
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = end - begin - 1
        super().__init__(optimizer, begin, end, last_step, by_epoch, verbose)

    def _get_value(self) -> list[float]:
        s, f, T, k = self.start_factor, self.end_factor, self.total_iters, self.last_step
        if k == 0:
            return [lr * s for lr in self.lrs()]
        if k > T:
            return self.lrs()
        return [lr * (1.0 + (f - s) / (T * s + k * (f - s))) for lr in self.lrs()]


class MMPolyLRFloorAdded(_Window):
    """Scales the whole lr instead of its distance to eta_min, then adds eta_min: the lr
    gains eta_min at every step."""

    SPEC, FAMILY = "mmengine.PolyLR", "oracle"

    def __init__(self, optimizer: Any, eta_min: float = 0, power: float = 1.0,
                 begin: int = 0, end: int = INF, last_step: int = -1,
                 by_epoch: bool = True, verbose: bool = False) -> None:
        self.eta_min, self.power = eta_min, power
        self.total_iters = end - begin - 1
        super().__init__(optimizer, begin, end, last_step, by_epoch, verbose)

    def _get_value(self) -> list[float]:
        if self.last_step == 0:
            return self.lrs()
        ratio = (1 - 1 / (self.total_iters - self.last_step + 1)) ** self.power
        return [lr * ratio + self.eta_min for lr in self.lrs()]


class MMCosineAnnealingLRShortPeriod(_Window):
    """Defaults T_max to end - begin - 1: the cosine reaches eta_min on the window's last
    step, one step early."""

    SPEC, FAMILY = "mmengine.CosineAnnealingLR", "oracle"

    def __init__(self, optimizer: Any, T_max: int | None = None, eta_min: float | None = None,
                 begin: int = 0, end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False, eta_min_ratio: float | None = None) -> None:
        if eta_min is None and eta_min_ratio is None:
            eta_min = 0.0
        if (eta_min is None) == (eta_min_ratio is None):
            raise ValueError("Either `eta_min` or `eta_min_ratio should be specified")
        self.T_max = T_max or end - begin - 1
        self.eta_min, self.eta_min_ratio = eta_min, eta_min_ratio
        super().__init__(optimizer, begin, end, last_step, by_epoch, verbose)

    def floor(self, base: float) -> float:
        return base * self.eta_min_ratio if self.eta_min_ratio is not None else \
            float(self.eta_min or 0.0)

    def _get_value(self) -> list[float]:
        k, T = self.last_step, self.T_max
        if k == 0:
            return self.lrs()
        pairs = zip(self.base_values, self.lrs(), strict=True)
        if (k - 1 - T) % (2 * T) == 0:
            return [lr + (b - self.floor(b)) * (1 - math.cos(math.pi / T)) / 2 for b, lr in pairs]
        ratio = (1 + math.cos(math.pi * k / T)) / (1 + math.cos(math.pi * (k - 1) / T))
        return [ratio * (lr - self.floor(b)) + self.floor(b) for b, lr in pairs]


class MMOneCycleLRLatePeak(_Window):
    """Ends the rising phase at pct_start * total_steps instead of that minus 1: the peak
    comes one step late."""

    SPEC, FAMILY = "mmengine.OneCycleLR", "oracle"

    def __init__(self, optimizer: Any, eta_max: Any = 0, total_steps: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos", div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False, begin: int = 0,
                 end: int = INF, last_step: int = -1, by_epoch: bool = True,
                 verbose: bool = False) -> None:
        T = total_steps if total_steps is not None else end - begin
        self.total_steps, self.cos = T, anneal_strategy == "cos"
        n = len(optimizer.param_groups)
        tops = list(eta_max) if isinstance(eta_max, (list, tuple)) else [eta_max] * n
        starts = [top / div_factor for top in tops]
        self.values = {"initial": starts, "max": tops,
                       "min": [s / final_div_factor for s in starts]}
        if three_phase:
            self.phases = [(float(pct_start * T), "initial", "max"),
                           (float(2 * pct_start * T) - 2, "max", "initial"),
                           (T - 1, "initial", "min")]
        else:
            self.phases = [(float(pct_start * T), "initial", "max"), (T - 1, "max", "min")]
        super().__init__(optimizer, begin, end, last_step, by_epoch, verbose)

    def anneal(self, a: float, b: float, pct: float) -> float:
        if self.cos:
            return b + (a - b) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (b - a) * pct + a

    def _get_value(self) -> list[float]:
        k = self.last_step
        if k > self.total_steps:
            raise ValueError(f"Tried to step {k + 1} times. The specified number of total "
                             f"steps is {self.total_steps}")
        start = 0.0
        for i, (stop, a, b) in enumerate(self.phases):
            if k <= stop or i == len(self.phases) - 1:
                pct = (k - start) / (stop - start)
                return [self.anneal(x, y, pct)
                        for x, y in zip(self.values[a], self.values[b], strict=True)]
            start = stop
        raise AssertionError("unreachable")


class MMCosineRestartLRAmplitude(_Window):
    """Restarts at eta_min + weight * (b - eta_min), MMCV's formula, instead of weight * b."""

    SPEC, FAMILY = "mmengine.CosineRestartLR", "oracle"

    def __init__(self, optimizer: Any, periods: list[int], restart_weights: Any = (1,),
                 eta_min: float | None = None, eta_min_ratio: float | None = None,
                 begin: int = 0, end: int = INF, last_step: int = -1,
                 by_epoch: bool = True, verbose: bool = False) -> None:
        if (eta_min is None) == (eta_min_ratio is None) or len(periods) != len(restart_weights):
            raise ValueError("one of eta_min and eta_min_ratio, one weight per period")
        self.periods, self.restart_weights = list(periods), list(restart_weights)
        self.eta_min, self.eta_min_ratio = eta_min, eta_min_ratio
        self.cumulative = [sum(self.periods[: i + 1]) for i in range(len(self.periods))]
        super().__init__(optimizer, begin, end, last_step, by_epoch, verbose)

    def floor(self, base: float) -> float:
        return base * self.eta_min_ratio if self.eta_min_ratio is not None else \
            float(self.eta_min or 0.0)

    def _get_value(self) -> list[float]:
        k = self.last_step
        where = [i for i, c in enumerate(self.cumulative) if k < c]
        if not where:
            return self.lrs()
        i = where[0]
        t, L, w = k - (self.cumulative[i - 1] if i else 0), self.periods[i], \
            self.restart_weights[i]
        out = []
        for b, lr in zip(self.base_values, self.lrs(), strict=True):
            m = self.floor(b)
            if t == 0:
                out.append(m + w * (b - m))
            else:
                ratio = (1 + math.cos(math.pi * t / L)) / (1 + math.cos(math.pi * (t - 1) / L))
                out.append(ratio * (lr - m) + m)
        return out


class MMReduceOnPlateauLRCooldown:
    """Keeps counting bad epochs during the cooldown: the next drop comes too early."""

    SPEC, FAMILY = "mmengine.ReduceOnPlateauLR", "oracle"

    def __init__(self, optimizer: Any, monitor: str = "loss", rule: str = "less",
                 factor: float = 0.1, patience: int = 10, threshold: float = 1e-4,
                 threshold_rule: str = "rel", cooldown: int = 0, min_value: Any = 0.0,
                 eps: float = 1e-8, begin: int = 0, end: int = INF, last_step: int = -1,
                 by_epoch: bool = True, verbose: bool = False) -> None:
        if end <= begin or factor >= 1.0 or threshold < 0 or not by_epoch:
            raise ValueError("invalid ReduceOnPlateauLR arguments")
        self.optimizer, self.monitor, self.rule, self.factor = optimizer, monitor, rule, factor
        self.patience, self.threshold, self.threshold_rule = patience, threshold, threshold_rule
        self.cooldown, self.eps, self.begin, self.end = cooldown, eps, begin, end
        self.by_epoch, self.verbose, self.last_step = by_epoch, verbose, last_step
        n = len(optimizer.param_groups)
        self.min_values = list(min_value) if isinstance(min_value, (list, tuple)) else \
            [min_value] * n
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.best = math.inf if rule == "less" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = 0
        self._global_step = 0
        self._last_value = self.lrs()

    def lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def get_last_value(self) -> list[float]:
        return self._last_value

    def state_dict(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def better(self, a: float) -> bool:
        t, best = self.threshold, self.best
        if self.rule == "less":
            return a < (best * (1 - t) if self.threshold_rule == "rel" else best - t)
        return a > (best * (1 + t) if self.threshold_rule == "rel" else best + t)

    def step(self, metrics: dict[str, float] | None = None) -> None:
        if metrics is None:
            self._global_step += 1
            return
        if not isinstance(metrics, dict):
            raise TypeError(f"metrics type should be dict, but got type {type(metrics)}")
        if self.begin <= self._global_step < self.end:
            self.last_step += 1
            metric = metrics[self.monitor]
            if self.better(metric):
                self.best, self.num_bad_epochs = metric, 0
            else:
                self.num_bad_epochs += 1
            if self.cooldown_counter > 0:
                self.cooldown_counter -= 1
            if self.num_bad_epochs > self.patience:
                for group, low in zip(self.optimizer.param_groups, self.min_values,
                                      strict=True):
                    new = max(float(group["lr"]) * self.factor, low)
                    if group["lr"] - new > self.eps:
                        group["lr"] = new
                self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_value = self.lrs()
