"""NeMo-like and diffusers-like broken members: our own re-implementations of the policies of
nemo.core.optim.lr_scheduler (keyword-only LRScheduler subclasses whose get_lr is a closed form
of last_epoch) and of diffusers' get_piecewise_constant_schedule (a LambdaLR), each with one
formula defect against its spec (docs/spec/nemo.md, docs/spec/diffusers.md). Nothing here
imports NeMo or diffusers."""

from __future__ import annotations

import math
import warnings
from typing import Any

from torch.optim import Optimizer
from torch.optim import lr_scheduler as L


def _length(steps: int | None, ratio: float | None, max_steps: int | None) -> int:
    """A phase's length: its steps, or int(ratio * max_steps), or 0."""
    if steps is not None:
        return int(steps)
    if ratio is not None and max_steps is not None:
        return int(ratio * max_steps)
    return 0


class _Policy(L.LRScheduler):
    """NeMo's protocol: the arguments are read before torch's initial step, and get_lr is the
    closed form at last_epoch: warmup b (s + 1) / (W + 1), decay() up to max_steps, then
    min_lr."""

    def __init__(self, optimizer: Optimizer, *, warmup_steps: int | None = None,
                 warmup_ratio: float | None = None, max_steps: int | None = None,
                 min_lr: float = 0.0, last_epoch: int = -1) -> None:
        self.max_steps, self.min_lr = max_steps, min_lr
        self.warmup_steps = _length(warmup_steps, warmup_ratio, max_steps)
        self.hold_end = getattr(self, "hold_end", self.warmup_steps)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:  # type: ignore[override]
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use "
                          "`get_last_lr()`.", UserWarning, stacklevel=2)
        return [self.at(float(b), self.last_epoch) for b in self.base_lrs]

    def warm(self, b: float, s: int) -> float:
        return b * ((s + 1) / (self.warmup_steps + 1))

    def at(self, b: float, s: int) -> float:
        W, M = self.warmup_steps, self.max_steps
        if W > 0 and s <= W:
            return self.warm(b, s)
        if s < self.hold_end:
            return b
        if M is not None and s > M:
            return self.min_lr
        return self.decay(b, s)

    def decay(self, b: float, s: int) -> float:
        return b

    def progress(self, s: int) -> float:
        """(s - start) / (M - start), start the end of the warmup and hold."""
        assert self.max_steps is not None
        return (s - self.hold_end) / (self.max_steps - self.hold_end)


class _Annealing:
    """NeMo's annealing classes take max_steps as a required keyword, where the policies they
    extend default it to None: mixed in before the policy."""

    def __init__(self, optimizer: Optimizer, *, max_steps: int, last_epoch: int = -1,
                 min_lr: float = 0.0, **kwargs: Any) -> None:
        super().__init__(optimizer, max_steps=max_steps, min_lr=min_lr,  # type: ignore[call-arg]
                         last_epoch=last_epoch, **kwargs)


class _HoldPolicy(_Policy):
    """WarmupHoldPolicy's arguments: the hold ends at H = W + hold_steps."""

    def __init__(self, optimizer: Optimizer, *, warmup_steps: int | None = None,
                 warmup_ratio: float | None = None, hold_steps: int | None = None,
                 hold_ratio: float | None = None, max_steps: int | None = None,
                 min_lr: float = 0.0, last_epoch: int = -1) -> None:
        self.hold_end = (self.hold_from(_length(warmup_steps, warmup_ratio, max_steps))
                         + _length(hold_steps, hold_ratio, max_steps))
        super().__init__(optimizer, warmup_steps=warmup_steps, warmup_ratio=warmup_ratio,
                         max_steps=max_steps, min_lr=min_lr, last_epoch=last_epoch)

    def hold_from(self, warmup: int) -> int:
        """Where the hold starts: at the warmup's end."""
        return warmup


class WarmupPolicyFromZero(_Policy):
    """Warms up as transformers does, b s / W: 0 right after construction, a step behind
    NeMo's b (s + 1) / (W + 1)."""

    SPEC, FAMILY = "nemo.WarmupPolicy", "oracle"

    def warm(self, b: float, s: int) -> float:
        return b * s / self.warmup_steps


class WarmupHoldPolicyEndsEarly(_HoldPolicy):
    """Drops to min_lr at max_steps itself (s >= max_steps), one step early."""

    SPEC, FAMILY = "nemo.WarmupHoldPolicy", "oracle"

    def at(self, b: float, s: int) -> float:
        if self.max_steps is not None and s == self.max_steps and s > self.hold_end:
            return self.min_lr
        return super().at(b, s)


class SquareAnnealingNoFloor(_Policy):
    """Leaves out the min_lr floor: b ((M - s) / (M - W)) ** 2 reaches 0 at max_steps."""

    SPEC, FAMILY = "nemo.SquareAnnealing", "oracle"

    def __init__(self, optimizer: Optimizer, *, max_steps: int, min_lr: float = 1e-5,
                 last_epoch: int = -1, **kwargs: Any) -> None:
        super().__init__(optimizer, max_steps=max_steps, min_lr=min_lr, last_epoch=last_epoch,
                         **kwargs)

    def decay(self, b: float, s: int) -> float:
        return b * (1.0 - self.progress(s)) ** 2


class SquareRootAnnealingFromZero(_Policy):
    """Anneals over max_steps from step 0, not over the steps after the warmup: the lr drops
    right after the warmup."""

    SPEC, FAMILY = "nemo.SquareRootAnnealing", "oracle"

    def __init__(self, optimizer: Optimizer, *, max_steps: int, min_lr: float = 0.0,
                 last_epoch: int = -1, **kwargs: Any) -> None:
        super().__init__(optimizer, max_steps=max_steps, min_lr=min_lr, last_epoch=last_epoch,
                         **kwargs)

    def decay(self, b: float, s: int) -> float:
        assert self.max_steps is not None
        return max(b * math.sqrt((self.max_steps - s) / self.max_steps), self.min_lr)


class CosineAnnealingNoConstant(_Policy):
    """Ignores constant_steps: the cosine reaches min_lr at max_steps, not C steps before."""

    SPEC, FAMILY = "nemo.CosineAnnealing", "oracle"

    def __init__(self, optimizer: Optimizer, *, max_steps: int, min_lr: float = 0.0,
                 last_epoch: int = -1, constant_steps: int | None = None,
                 constant_ratio: float | None = None, **kwargs: Any) -> None:
        self.constant_steps = _length(constant_steps, constant_ratio, max_steps)
        super().__init__(optimizer, max_steps=max_steps, min_lr=min_lr, last_epoch=last_epoch,
                         **kwargs)

    def decay(self, b: float, s: int) -> float:
        m = self.min_lr
        return (b - m) * 0.5 * (1 + math.cos(math.pi * self.progress(s))) + m


class NoamAnnealingStepAhead(L.LRScheduler):
    """Counts Noam's step from s + 1 (the paper's step_num) instead of max(1, s): every lr is
    one step ahead and the peak comes at s = W - 1."""

    SPEC, FAMILY = "nemo.NoamAnnealing", "oracle"

    def __init__(self, optimizer: Optimizer, *, d_model: int, warmup_steps: int | None = None,
                 warmup_ratio: float | None = None, max_steps: int | None = None,
                 min_lr: float = 0.0, last_epoch: int = -1) -> None:
        self.normalize = d_model ** -0.5
        self.warmup_steps = _length(warmup_steps, warmup_ratio, max_steps)
        self.max_steps, self.min_lr = max_steps, min_lr
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:  # type: ignore[override]
        n, W = self.last_epoch + 1, self.warmup_steps
        mult = self.normalize * (min(n ** -0.5, n * W ** -1.5) if W > 0 else n ** -0.5)
        return [max(b * mult, self.min_lr) if n > W else b * mult for b in self.base_lrs]


class WarmupAnnealingToZero(_Annealing, _Policy):
    """Anneals linearly to 0, not to min_lr, then jumps to min_lr after max_steps."""

    SPEC, FAMILY = "nemo.WarmupAnnealing", "oracle"

    def decay(self, b: float, s: int) -> float:
        return (1 - self.progress(s)) * b


class InverseSquareRootNoEnd(_Annealing, _Policy):
    """Forgets max_steps: keeps decaying as b / sqrt((s + 1) / (W + 1)) instead of min_lr."""

    SPEC, FAMILY = "nemo.InverseSquareRootAnnealing", "oracle"

    def at(self, b: float, s: int) -> float:
        if s <= self.warmup_steps:
            return super().at(b, s)
        return b / math.sqrt((s + 1) / (self.warmup_steps + 1))


class PolynomialDecayPowerOnProgress(_Policy):
    """Raises the progress to the power, (b - m) (1 - p ** k) + m, not the remaining
    fraction: the same as documented for power 1 only."""

    SPEC, FAMILY = "nemo.PolynomialDecayAnnealing", "oracle"

    def __init__(self, optimizer: Optimizer, *, max_steps: int, min_lr: float = 0.0,
                 power: float = 1.0, cycle: bool = False, last_epoch: int = -1,
                 **kwargs: Any) -> None:
        self.power, self.cycle = power, cycle
        super().__init__(optimizer, max_steps=max_steps, min_lr=min_lr, last_epoch=last_epoch,
                         **kwargs)

    def decay(self, b: float, s: int) -> float:
        m = self.min_lr
        return (b - m) * (1.0 - self.progress(s) ** self.power) + m


class PolynomialHoldDecayEarly(_HoldPolicy):
    """Starts the decay one step early: p = (s - H + 1) / (M - H), below b at the hold's
    end."""

    SPEC, FAMILY = "nemo.PolynomialHoldDecayAnnealing", "oracle"

    def __init__(self, optimizer: Optimizer, *, max_steps: int, min_lr: float = 0.0,
                 power: float = 1.0, cycle: bool = False, last_epoch: int = -1,
                 **kwargs: Any) -> None:
        self.power, self.cycle = power, cycle
        super().__init__(optimizer, max_steps=max_steps, min_lr=min_lr, last_epoch=last_epoch,
                         **kwargs)

    def decay(self, b: float, s: int) -> float:
        m = self.min_lr
        return (b - m) * (1.0 - min(self.progress(s + 1), 1.0)) ** self.power + m


class NoamHoldCountsWarmup(_HoldPolicy):
    """Decays as b (W / (s - H)) ** r, from the end of warmup and hold, where the docstring
    counts from s - hold_steps: the lr jumps above b right after the hold."""

    SPEC, FAMILY = "nemo.NoamHoldAnnealing", "oracle"

    def __init__(self, optimizer: Optimizer, *, max_steps: int, decay_rate: float = 0.5,
                 min_lr: float = 0.0, last_epoch: int = -1, **kwargs: Any) -> None:
        self.decay_rate = decay_rate
        super().__init__(optimizer, max_steps=max_steps, min_lr=min_lr, last_epoch=last_epoch,
                         **kwargs)

    def decay(self, b: float, s: int) -> float:
        r, W = self.decay_rate, self.warmup_steps
        return max(b * W ** r / max(1, s - self.hold_end) ** r, self.min_lr)


class WarmupHoldAnnealLinearHoldFromZero(_Annealing, _HoldPolicy):
    """Counts the hold from step 0 (H = hold_steps), not from the warmup's end: the decay
    starts early by the warmup's length."""

    SPEC, FAMILY = "nemo.WarmupHoldAnnealLinear", "oracle"

    def hold_from(self, warmup: int) -> int:
        return 0

    def decay(self, b: float, s: int) -> float:
        return b - (b - self.min_lr) * self.progress(s)


class OneMinusSqrtNoFloor(_Annealing, _HoldPolicy):
    """Leaves out the documented min_lr floor: b (1 - sqrt(p)) reaches 0 at max_steps."""

    SPEC, FAMILY = "nemo.WarmupHoldAnnealOneMinusSquareRoot", "oracle"

    def decay(self, b: float, s: int) -> float:
        return b * (1 - math.sqrt(self.progress(s)))


class T5ScaledByLr(_Policy):
    """Multiplies T5's absolute 1 / sqrt(max(s, C)) by each group's lr."""

    SPEC, FAMILY = "nemo.T5InverseSquareRootAnnealing", "oracle"

    def __init__(self, optimizer: Optimizer, *, max_steps: int, last_epoch: int = -1,
                 min_lr: float = 0.0, constant_steps: int | None = None,
                 constant_ratio: float | None = None) -> None:
        self.constant_steps = _length(constant_steps, constant_ratio, max_steps)
        super().__init__(optimizer, max_steps=max_steps, min_lr=min_lr, last_epoch=last_epoch)

    def at(self, b: float, s: int) -> float:
        assert self.max_steps is not None
        if s > self.max_steps:
            return self.min_lr
        return b / math.sqrt(max(s, self.constant_steps))


class PiecewiseConstantLate(L.LambdaLR):
    """Holds each rule one step longer than its count (s <= end instead of s < end)."""

    SPEC, FAMILY = "diffusers.get_piecewise_constant_schedule", "oracle"

    def __init__(self, optimizer: Optimizer, step_rules: str, last_epoch: int = -1) -> None:
        *rules, last = step_rules.split(",")
        ends, total = [], 0
        for rule in rules:
            value, steps = rule.split(":")
            total += int(steps)
            ends.append((total, float(value)))
        final = float(last)

        def multiple(s: int) -> float:
            for end, value in ends:
                if s <= end:
                    return value
            return final

        super().__init__(optimizer, multiple, last_epoch)
