"""timm-like schedulers with one formula defect each: our own code on timm's protocol (the
value at t = 0 after construction, `step(epoch, metric=None)` sets the value at t = epoch,
`step_update(num_updates, metric=None)` when `t_in_epochs` is false), never importing timm.
Apart from its defect each follows the timm.* specs (docs/spec/timm.md), not timm's code."""

from __future__ import annotations

import math
from bisect import bisect_right
from fractions import Fraction
from typing import Any, Literal

from torch.optim import Optimizer
from torch.optim import lr_scheduler as L


class _TimmLike:
    """timm's Scheduler protocol: the caller counts; the warmup from warmup_lr_init to each
    group's lr over warmup_t steps, then `main(b, s)` at s = t - warmup_t (a prefix) or t."""

    prefix = True

    def __init__(self, optimizer: Optimizer, warmup_t: int = 0, warmup_lr_init: float = 0.0,
                 t_in_epochs: bool = True) -> None:
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_values = [float(g["initial_lr"]) for g in optimizer.param_groups]
        self.warmup_t, self.warmup_lr_init = warmup_t, warmup_lr_init
        self.t_in_epochs = t_in_epochs

    def _start(self) -> None:
        """What the constructor leaves: the value at t = 0 (subclasses call it last)."""
        self._set(0)

    def main(self, b: float, s: float) -> float:
        raise NotImplementedError

    def value(self, b: float, t: float) -> float:
        W, init = self.warmup_t, self.warmup_lr_init
        if t < W:
            return init + (b - init) * t / W
        return self.main(b, t - W if self.prefix else t)

    def _set(self, t: float) -> None:
        for group, b in zip(self.optimizer.param_groups, self.base_values, strict=True):
            group["lr"] = self.value(b, t)

    def step(self, epoch: int, metric: float | None = None) -> None:
        if self.t_in_epochs:
            self._set(epoch)

    def step_update(self, num_updates: int, metric: float | None = None) -> None:
        if not self.t_in_epochs:
            self._set(num_updates)

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


#: Exact cycle starts and lengths per (t_initial, cycle_mul), kept out of the schedulers'
#: state (a state_dict holds plain numbers).
_STARTS: dict[tuple[int, float], tuple[list[Fraction], list[Fraction]]] = {}


def _cycle_starts(T0: int, m: float, upto: Fraction,
                  most: int) -> tuple[list[Fraction], list[Fraction]]:
    """Cycle starts T0 (m^i - 1)/(m - 1) and lengths T0 m^i, past `upto` or `most` cycles."""
    starts, lengths = _STARTS.setdefault((T0, m), ([Fraction(0)], [Fraction(T0)]))
    while starts[-1] <= upto and len(starts) <= most:
        starts.append(starts[-1] + lengths[-1])
        lengths.append(lengths[-1] * Fraction(m))
    return starts, lengths


class _Cycles(_TimmLike):
    """Cycles of lengths t_initial m^i, found exactly; lr_min + max(b d^i - lr_min, 0) f(r)
    in cycle i at r in [0, 1); lr_min after cycle_limit cycles."""

    #: A defect: cycle_limit counts restarts, so one more cycle runs.
    extra_cycles = 0

    def __init__(self, optimizer: Optimizer, t_initial: int, lr_min: float = 0.0,
                 cycle_mul: float = 1.0, cycle_decay: float = 1.0, cycle_limit: int = 1,
                 warmup_t: int = 0, warmup_lr_init: float = 0.0, warmup_prefix: bool = False,
                 t_in_epochs: bool = True, noise_range_t: Any = None, noise_pct: float = 0.67,
                 noise_std: float = 1.0, noise_seed: int = 42, initialize: bool = True) -> None:
        super().__init__(optimizer, warmup_t, warmup_lr_init, t_in_epochs)
        self.t_initial, self.lr_min = t_initial, lr_min
        self.cycle_mul, self.cycle_decay, self.cycle_limit = cycle_mul, cycle_decay, cycle_limit
        self.prefix = warmup_prefix

    def shape(self, r: float) -> float:
        raise NotImplementedError

    def where(self, s: float) -> tuple[int, float]:
        """(cycle, fraction into it) of schedule time s, from the exact cycle starts."""
        x, T0 = Fraction(s), self.t_initial
        if self.cycle_mul == 1:
            i = math.floor(x / T0)
            return i, float((x - i * T0) / T0)
        starts, lengths = _cycle_starts(T0, self.cycle_mul, x,
                                        self.cycle_limit + self.extra_cycles)
        i = bisect_right(starts, x) - 1
        return i, float((x - starts[i]) / lengths[i])

    def main(self, b: float, s: float) -> float:
        i, r = self.where(s)
        if i >= self.cycle_limit + self.extra_cycles:
            return self.lr_min
        return self.lr_min + max(b * self.cycle_decay**i - self.lr_min, 0.0) * self.shape(r)


class _Cosine(_Cycles):
    """CosineLRScheduler's constructor and cosine (with k_decay), which the members below
    keep: each breaks where the cycles fall."""

    def __init__(self, optimizer: Optimizer, t_initial: int, lr_min: float = 0.0,
                 cycle_mul: float = 1.0, cycle_decay: float = 1.0, cycle_limit: int = 1,
                 warmup_t: int = 0, warmup_lr_init: float = 0.0, warmup_prefix: bool = False,
                 t_in_epochs: bool = True, noise_range_t: Any = None, noise_pct: float = 0.67,
                 noise_std: float = 1.0, noise_seed: int = 42, k_decay: float = 1.0,
                 initialize: bool = True) -> None:
        super().__init__(optimizer, t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit,
                         warmup_t, warmup_lr_init, warmup_prefix, t_in_epochs)
        self.k_decay = k_decay
        self._start()

    def shape(self, r: float) -> float:
        return 0.5 * (1.0 + math.cos(math.pi * r**self.k_decay))


class CosineCycleLimitCountsRestarts(_Cosine):
    """cycle_limit read as the number of restarts: one cosine cycle more than documented
    before lr_min."""

    SPEC, FAMILY = "timm.CosineLRScheduler", "oracle"
    extra_cycles = 1


class TanhPrefixOneShort(_Cycles):
    """The warmup prefix shifts the tanh cycles by warmup_t - 1 steps, not warmup_t: every
    cycle runs a step ahead."""

    SPEC, FAMILY = "timm.TanhLRScheduler", "oracle"

    def __init__(self, optimizer: Optimizer, t_initial: int, lb: float = -7.0,
                 ub: float = 3.0, lr_min: float = 0.0, cycle_mul: float = 1.0,
                 cycle_decay: float = 1.0, cycle_limit: int = 1, warmup_t: int = 0,
                 warmup_lr_init: float = 0.0, warmup_prefix: bool = False,
                 t_in_epochs: bool = True, noise_range_t: Any = None, noise_pct: float = 0.67,
                 noise_std: float = 1.0, noise_seed: int = 42, initialize: bool = True) -> None:
        super().__init__(optimizer, t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit,
                         warmup_t, warmup_lr_init, warmup_prefix, t_in_epochs)
        self.lb, self.ub = lb, ub
        self._start()

    def value(self, b: float, t: float) -> float:
        W = self.warmup_t
        if t < W or not self.prefix or not W:
            return super().value(b, t)
        return self.main(b, t - (W - 1))

    def shape(self, r: float) -> float:
        return 0.5 * (1.0 - math.tanh(self.lb + (self.ub - self.lb) * r))


class PolyIgnoresKDecay(_Cycles):
    """k_decay is ignored: the polynomial runs over r, not r^k."""

    SPEC, FAMILY = "timm.PolyLRScheduler", "oracle"

    def __init__(self, optimizer: Optimizer, t_initial: int, power: float = 0.5,
                 lr_min: float = 0.0, cycle_mul: float = 1.0, cycle_decay: float = 1.0,
                 cycle_limit: int = 1, warmup_t: int = 0, warmup_lr_init: float = 0.0,
                 warmup_prefix: bool = False, t_in_epochs: bool = True,
                 noise_range_t: Any = None, noise_pct: float = 0.67, noise_std: float = 1.0,
                 noise_seed: int = 42, k_decay: float = 1.0, initialize: bool = True) -> None:
        super().__init__(optimizer, t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit,
                         warmup_t, warmup_lr_init, warmup_prefix, t_in_epochs)
        self.power, self.k_decay = power, k_decay
        self._start()

    def shape(self, r: float) -> float:
        return (1.0 - r) ** self.power


class StepDecaysEarly(_TimmLike):
    """Counts decays at s + 1 (MultiStep's convention carried over): each decay lands one
    step before every decay_t steps."""

    SPEC, FAMILY = "timm.StepLRScheduler", "oracle"

    def __init__(self, optimizer: Optimizer, decay_t: float, decay_rate: float = 1.0,
                 warmup_t: int = 0, warmup_lr_init: float = 0.0, warmup_prefix: bool = True,
                 t_in_epochs: bool = True, noise_range_t: Any = None, noise_pct: float = 0.67,
                 noise_std: float = 1.0, noise_seed: int = 42, initialize: bool = True) -> None:
        super().__init__(optimizer, warmup_t, warmup_lr_init, t_in_epochs)
        self.decay_t, self.decay_rate, self.prefix = decay_t, decay_rate, warmup_prefix
        self._start()

    def main(self, b: float, s: float) -> float:
        return b * self.decay_rate ** math.floor(Fraction(s + 1) / Fraction(self.decay_t))


class MultiStepTorchMilestones(_TimmLike):
    """Compares the milestones with t, as torch's MultiStepLR does, not with t + 1 as timm
    documents: every decay a step late."""

    SPEC, FAMILY = "timm.MultiStepLRScheduler", "oracle"

    def __init__(self, optimizer: Optimizer, decay_t: list[int], decay_rate: float = 1.0,
                 warmup_t: int = 0, warmup_lr_init: float = 0.0, warmup_prefix: bool = True,
                 t_in_epochs: bool = True, noise_range_t: Any = None, noise_pct: float = 0.67,
                 noise_std: float = 1.0, noise_seed: int = 42, initialize: bool = True) -> None:
        super().__init__(optimizer, warmup_t, warmup_lr_init, t_in_epochs)
        self.decay_t, self.decay_rate, self.prefix = decay_t, decay_rate, warmup_prefix
        self._start()

    def main(self, b: float, s: float) -> float:
        return b * self.decay_rate ** bisect_right(self.decay_t, s)


class WSDDecayStartsLate(_TimmLike):
    """The decay phase starts one step late, so lr_min comes a step after warmup_t +
    t_initial."""

    SPEC, FAMILY = "timm.WSDLRScheduler", "oracle"

    def __init__(self, optimizer: Optimizer, t_initial: int, decay_t: int, lr_min: float = 0.0,
                 stable_fn: str = "constant", stable_timescale: float | None = None,
                 stable_power: float = 0.5, decay_fn: str = "1-sqrt", decay_power: float = 0.5,
                 decay_ratio: float = 0.1, warmup_t: int = 0, warmup_lr_init: float = 0.0,
                 t_in_epochs: bool = True, noise_range_t: Any = None, noise_pct: float = 0.67,
                 noise_std: float = 1.0, noise_seed: int = 42, initialize: bool = True) -> None:
        super().__init__(optimizer, warmup_t, warmup_lr_init, t_in_epochs)
        self.t_initial, self.decay_t, self.lr_min = t_initial, decay_t, lr_min
        self.stable_fn, self.stable_power = stable_fn, stable_power
        self.tau = stable_timescale if stable_timescale is not None else warmup_t
        self.decay_fn, self.decay_power, self.decay_ratio = decay_fn, decay_power, decay_ratio
        self._start()

    def decay(self, f: float) -> float:
        if self.decay_fn == "linear":
            return 1.0 - f
        if self.decay_fn == "1-sqrt":
            return 1.0 - math.sqrt(f)
        if self.decay_fn == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * f))
        if self.decay_fn == "power":
            return 1.0 - f**self.decay_power
        r = self.decay_ratio
        return (r**f - r) / (1.0 - r)

    def main(self, b: float, s: float) -> float:
        p = 0.0 if self.stable_fn == "constant" else (
            0.5 if self.stable_fn == "rsqrt" else self.stable_power)
        steady = max(b * (1.0 + s / self.tau) ** -p if p else b, self.lr_min)
        into = s - (self.t_initial - self.decay_t) - 1
        if into <= 0:
            return steady
        return self.lr_min + (steady - self.lr_min) * self.decay(min(into / self.decay_t, 1.0))


class PlateauWarmupStopsShort(_TimmLike):
    """The warmup stops a step short (epoch < warmup_t): the plateau starts from the lr of
    step warmup_t - 1, not from the group's lr."""

    SPEC, FAMILY = "timm.PlateauLRScheduler", "oracle"

    def __init__(self, optimizer: Optimizer, decay_rate: float = 0.1, patience_t: int = 10,
                 threshold: float = 1e-4, cooldown_t: int = 0, warmup_t: int = 0,
                 warmup_lr_init: float = 0.0, lr_min: float = 0.0,
                 mode: Literal["min", "max"] = "max",
                 noise_range_t: Any = None, noise_type: str = "normal", noise_pct: float = 0.67,
                 noise_std: float = 1.0, noise_seed: int | None = None,
                 initialize: bool = True) -> None:
        super().__init__(optimizer, warmup_t, warmup_lr_init)
        self.plateau = L.ReduceLROnPlateau(optimizer, mode=mode, factor=decay_rate,
                                           patience=patience_t, threshold=threshold,
                                           cooldown=cooldown_t, min_lr=lr_min)
        if warmup_t:
            self._set(0)

    def main(self, b: float, s: float) -> float:
        return b

    def step(self, epoch: int, metric: float | None = None) -> None:
        if epoch < self.warmup_t:
            self._set(epoch)
        elif metric is not None:
            self.plateau.step(metric)

    def step_update(self, num_updates: int, metric: float | None = None) -> None:
        return None

    def state_dict(self) -> dict[str, Any]:
        return {"plateau": self.plateau.state_dict(), "warmup_t": self.warmup_t,
                "warmup_lr_init": self.warmup_lr_init, "base_values": self.base_values}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.plateau.load_state_dict(state["plateau"])
        self.warmup_t, self.warmup_lr_init = state["warmup_t"], state["warmup_lr_init"]
        self.base_values = state["base_values"]
