"""Cosine schedules: CosineAnnealingLR (closed form and chainable recurrence, with the
odd-period branch), CosineAnnealingWarmRestarts (SGDR) and the third-party
CosineAnnealingWarmupRestarts (seed 000).

Formulas and derivations: docs/spec.md.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence

from reference.base import CLOSED_ULPS, Param, Schedule, State, U, register


def odd_branch(epoch: int, T_max: int) -> bool:
    """Whether the recurrence step to `epoch` takes the odd-period branch (seed 003).

    That is the step right after a trough: epoch - 1 is an odd multiple of T_max, where the
    ratio's denominator 1 + cos(pi (epoch - 1) / T_max) is zero. Epoch 0 is the constructor's
    initial step, which torch handles before this test (for T_max = 1 it would match).
    """
    return epoch >= 1 and (epoch - 1 - T_max) % (2 * T_max) == 0


def _c(t: float, T: float) -> float:
    """1 + cos(pi t / T), in the documented order (the recurrence's ratio then telescopes
    against the closed form's own values)."""
    return 1 + math.cos(math.pi * t / T)


def _c_err(t: float, T: float) -> float:
    """Absolute error of `_c(t, T)` in units of U: the roundings of cos and of 1 + cos, plus
    the argument's own rounding (|x| U) carried through the slope |sin x|."""
    x = math.pi * t / T
    return 2 + abs(x * math.sin(x))


def _anneal(base_lrs: Sequence[float], eta_min: float, c: float) -> list[float]:
    """eta_min + (b - eta_min) c / 2 for each group, c = 1 + cos(...) (the documented order)."""
    return [eta_min + (b - eta_min) * c / 2 for b in base_lrs]


@register
class CosineAnnealingLR(Schedule):
    """eta_min + (b - eta_min)(1 + cos(pi e / T_max)) / 2, without restarts (SGDR's curve)."""

    name = "CosineAnnealingLR"
    schema = (
        Param("T_max", "int", low=1, doc="Half period: epochs from base lr down to eta_min."),
        Param("eta_min", "float", 0.0, low=0.0, doc="Minimum learning rate."),
    )
    source = ("https://pytorch.org/docs/stable/generated/"
              "torch.optim.lr_scheduler.CosineAnnealingLR.html; seed 003")
    chainable = True

    T_max: int
    eta_min: float

    def validate(self) -> None:
        """Precompute the odd branch's increment factor 1 - cos(pi / T_max)."""
        self._gap = 1 - math.cos(math.pi / self.T_max)

    def lr(self, epoch: float) -> list[float]:
        """The closed form at `epoch`."""
        return _anneal(self.base_lrs, self.eta_min, _c(epoch, self.T_max))

    def lr_fn(self, group: int) -> Callable[[float], float]:
        """eta_min + (b - eta_min)(1 + cos(pi e / T_max)) / 2 for one group."""
        b, m, T = self.base_lrs[group], self.eta_min, self.T_max
        cos, pi = math.cos, math.pi

        def lr(epoch: float) -> float:
            return m + (b - m) * (1 + cos(pi * epoch / T)) / 2

        return lr

    def closed_ulps(self, epoch: float) -> float:
        """Grows with the cosine's argument: its rounding is ~|pi e / T_max| U."""
        return CLOSED_ULPS + 4 * math.pi * abs(epoch) / self.T_max

    def recur(self, epoch: int, lrs: Sequence[float]) -> list[float]:
        """torch's get_lr: the ratio of consecutive closed forms, or the odd-period branch."""
        if epoch == 0:
            return list(lrs)
        eta, T = self.eta_min, self.T_max
        if odd_branch(epoch, T):
            return [lr + (b - eta) * self._gap / 2 for b, lr in zip(self.base_lrs, lrs,
                                                                  strict=True)]
        ratio = _c(epoch, T) / _c(epoch - 1, T)
        return [ratio * (lr - eta) + eta for lr in lrs]

    def kappa(self, epoch: int) -> float:
        """Relative error (units of U) the step to `epoch` adds to lr - eta_min.

        Ratio step: c_t / c_{t-1} with c = 1 + cos(x) carrying absolute error
        err(x) = 2 + |x sin x| (in U), so relative err/c each; plus 3 for the division, the
        product and lr - eta_min. Odd branch: 1 - cos(pi/T) carries ~2 U, relative
        2 / (1 - cos(pi/T)); the closed form it is compared with carries err(x_t) / c_t.
        c is floored at U: where c_t = 0 (a trough) d_t = 0, so the term has no weight.
        """
        T = self.T_max
        now = _c_err(epoch, T) / max(_c(epoch, T), U)
        if odd_branch(epoch, T):
            return 3 + 2 / max(self._gap, U) + now
        return 3 + now + _c_err(epoch - 1, T) / max(_c(epoch - 1, T), U)

    def floor(self) -> list[float]:
        """The recurrence's fixed point: eta_min."""
        return [self.eta_min] * self.groups


@register
class CosineAnnealingWarmRestarts(Schedule):
    """SGDR: cosine from b to eta_min over T_i epochs, then a restart with T_i *= T_mult."""

    name = "CosineAnnealingWarmRestarts"
    schema = (
        Param("T_0", "int", low=1, doc="Epochs until the first restart."),
        Param("T_mult", "int", 1, low=1, doc="Factor by which T_i grows after a restart."),
        Param("eta_min", "float", 0.0, low=0.0, doc="Minimum learning rate."),
    )
    source = ("https://pytorch.org/docs/stable/generated/"
              "torch.optim.lr_scheduler.CosineAnnealingWarmRestarts.html")

    T_0: int
    T_mult: int
    eta_min: float

    def cycle(self, epoch: float) -> tuple[float, int]:
        """(T_cur, T_i) at a possibly fractional `epoch`: restarts at the partial sums of
        T_0, T_0 T_mult, T_0 T_mult^2, ... (found in integers, so a restart epoch is
        always T_cur = 0 of the new cycle)."""
        if epoch < 0:
            raise ValueError(f"{self.name}: epoch={epoch!r} is invalid; valid: epoch >= 0")
        if self.T_mult == 1:
            return epoch % self.T_0, self.T_0
        start, T_i = 0, self.T_0
        while epoch >= start + T_i:
            start, T_i = start + T_i, T_i * self.T_mult
        return epoch - start, T_i

    def _lrs(self, T_cur: float, T_i: int) -> list[float]:
        return _anneal(self.base_lrs, self.eta_min, _c(T_cur, T_i))

    def lr(self, epoch: float) -> list[float]:
        """The closed form at a possibly fractional `epoch` (torch's step(epoch))."""
        return self._lrs(*self.cycle(epoch))

    def closed_ulps(self, epoch: float) -> float:
        """The argument pi T_cur / T_i rounds to ~(1 + epoch / T_i) U (T_cur = epoch - start
        rounds relative to the epoch)."""
        _, T_i = self.cycle(epoch)
        return CLOSED_ULPS + 4 * math.pi * (1 + abs(epoch) / T_i)

    def initial(self) -> State:
        """Epoch 0: T_cur = 0, T_i = T_0."""
        return State(0, tuple(self._lrs(0, self.T_0)), data={"T_cur": 0, "T_i": self.T_0})

    def state_at(self, epoch: float) -> State:
        """The state torch's step(epoch) leaves: last_epoch = floor(epoch), T_cur and T_i of
        the closed form (a later step() adds 1 to a fractional T_cur)."""
        T_cur, T_i = self.cycle(epoch)
        return State(math.floor(epoch), tuple(self._lrs(T_cur, T_i)),
                     data={"T_cur": T_cur, "T_i": T_i})

    def step(self, state: State, metric: float | None = None) -> State:
        """T_cur += 1; at T_cur >= T_i restart: T_cur %= T_i, T_i *= T_mult."""
        T_cur, T_i = state.data["T_cur"] + 1, state.data["T_i"]
        if T_cur >= T_i:
            T_cur, T_i = T_cur % T_i, T_i * self.T_mult
        return State(state.epoch + 1, tuple(self._lrs(T_cur, T_i)),
                     data={"T_cur": T_cur, "T_i": T_i})


@register
class CosineAnnealingWarmupRestarts(Schedule):
    """katsura-jp's schedule per SPEC-RULINGS.md: in each cycle a linear warmup from min_lr to
    the cycle's peak max_lr gamma^c, then a cosine down to min_lr; the same lr in every
    group."""

    name = "CosineAnnealingWarmupRestarts"
    schema = (
        Param("first_cycle_steps", "int", low=1, doc="T0: length of the first cycle."),
        Param("cycle_mult", "float", 1.0, low=1.0,
              doc="m: the post-warmup part of each cycle grows by m (truncated)."),
        Param("max_lr", "float", 0.1, low=0.0, doc="Peak of the first cycle."),
        Param("min_lr", "float", 0.001, low=0.0, doc="Floor of every cycle (<= max_lr)."),
        Param("warmup_steps", "int", 0, low=0, doc="W: warmup steps, W < first_cycle_steps."),
        Param("gamma", "float", 1.0, low=0.0, high=1.0, low_open=True,
              doc="Peak decay per cycle."),
    )
    source = "seed 000; SPEC-RULINGS.md"

    first_cycle_steps: int
    cycle_mult: float
    max_lr: float
    min_lr: float
    warmup_steps: int
    gamma: float

    def validate(self) -> None:
        """min_lr <= max_lr and warmup_steps < first_cycle_steps; start the cycle table."""
        if self.min_lr > self.max_lr:
            raise self.reject("min_lr", self.min_lr, f"min_lr <= max_lr = {self.max_lr!r}")
        if self.warmup_steps >= self.first_cycle_steps:
            raise self.reject("warmup_steps", self.warmup_steps,
                              f"warmup_steps < first_cycle_steps = {self.first_cycle_steps}")
        # Cycle starts and lengths, extended on demand. T_{c+1} is a function of T_c alone,
        # so once a length repeats it repeats forever ("steady"); until then lengths grow
        # by at least 1, so the table holds O(sqrt(epoch)) cycles.
        self._starts = [0]
        self._lengths = [self.first_cycle_steps]
        self._steady = False

    def _next_length(self, T: int) -> int:
        W = self.warmup_steps
        return W + int((T - W) * self.cycle_mult)

    def cycle(self, epoch: float) -> tuple[int, float, int]:
        """(c, s, T_c): cycle index, step in cycle and cycle length at `epoch`, by walking
        the cycle lengths T_0 = first_cycle_steps, T_{c+1} = W + int((T_c - W) m)."""
        if epoch < 0:
            raise ValueError(f"{self.name}: epoch={epoch!r} is invalid; valid: epoch >= 0")
        starts, lengths = self._starts, self._lengths
        while not self._steady and starts[-1] + lengths[-1] <= epoch:
            nxt = self._next_length(lengths[-1])
            if nxt == lengths[-1]:
                self._steady = True
            else:
                starts.append(starts[-1] + lengths[-1])
                lengths.append(nxt)
        i = bisect_right(starts, epoch) - 1
        s = epoch - starts[i]
        T = lengths[i]
        if s < T:
            return i, s, T
        k = int(s // T)  # steady: the last length repeats
        return i + k, s - k * T, T

    def lr(self, epoch: float) -> list[float]:
        """The ruled formula, the same for every group."""
        c, s, T = self.cycle(epoch)
        W, low = self.warmup_steps, self.min_lr
        peak = self.max_lr * self.gamma**c
        if s < W:
            value = low + (peak - low) * s / W
        else:
            value = low + (peak - low) * (1 + math.cos(math.pi * (s - W) / (T - W))) / 2
        return [value] * self.groups

    def closed_ulps(self, epoch: float) -> float:
        """The cosine's argument is at most pi within a cycle."""
        return CLOSED_ULPS + 4 * math.pi

    def scale(self, lrs: Sequence[float]) -> list[float]:
        """Errors scale with max_lr: base_lrs play no part here."""
        return [max(self.max_lr, abs(v)) for v in lrs]
