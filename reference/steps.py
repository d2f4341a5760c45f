"""Multiplicative step schedules: LambdaLR, MultiplicativeLR, StepLR, MultiStepLR and
ExponentialLR.

Every one scales the group's lr by a product of factors, so its recurrence's fixed point is 0
and each step's error is relative to the lr itself. Formulas and derivations:
docs/spec.md.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from reference.base import CLOSED_ULPS, REQUIRED, Param, Schedule, register

#: Where torch documents each class.
DOCS = "https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.{}.html"

Fn = Callable[[int], float]


def _lambda_param(doc: str) -> Param:
    return Param("lr_lambda", "callable", per_group=True, doc=doc)


def _gamma(default: Any) -> Param:
    return Param("gamma", "float", default, low=0.0, doc="Multiplicative decay factor.")


@register
class LambdaLR(Schedule):
    """lr = base_lr * lr_lambda(epoch); the lambda's value is the whole schedule."""

    name = "LambdaLR"
    source = DOCS.format(name)
    schema = (_lambda_param("Multiplier of the base lr at each epoch (one per group or one "
                            "for all)."),)
    # torch's get_lr already is the closed form (it reads base_lrs, not the group's lr).
    chainable = False

    lr_lambda: list[Fn]

    def lr(self, epoch: float) -> list[float]:
        """base_lr * lr_lambda(epoch) for every group."""
        e = int(epoch)
        return [b * f(e) for b, f in zip(self.base_lrs, self.lr_lambda, strict=True)]


@register
class MultiplicativeLR(Schedule):
    """lr_e = lr_{e-1} * lr_lambda(e) for e >= 1; the constructor leaves the lr unchanged.

    The closed form base_lr * prod_{k=1..e} lr_lambda(k) is the definition itself. It costs
    O(e) lambda calls the first time, then it is memoised per group, so the lambdas must be
    pure functions of the epoch (torch calls each once per step anyway).
    """

    name = "MultiplicativeLR"
    source = DOCS.format(name)
    schema = (_lambda_param("Factor applied to the group's lr at each step e >= 1 (one per "
                            "group or one for all); never called at epoch 0."),)
    chainable = True

    lr_lambda: list[Fn]

    def validate(self) -> None:
        """Start the memo of running products (prefix[g][e] = prod of lambda_g(1..e))."""
        self._prefix: list[list[float]] = [[1.0] for _ in self.base_lrs]

    def _product(self, group: int, epoch: int) -> float:
        prefix = self._prefix[group]
        fn = self.lr_lambda[group]
        while len(prefix) <= epoch:
            prefix.append(prefix[-1] * fn(len(prefix)))
        return prefix[epoch]

    def lr(self, epoch: float) -> list[float]:
        """base_lr * prod_{k=1..epoch} lr_lambda(k)."""
        e = int(epoch)
        return [b * self._product(g, e) for g, b in enumerate(self.base_lrs)]

    def closed_ulps(self, epoch: float) -> float:
        """The product rounds once per factor: relative error e U, at most e ulps."""
        return CLOSED_ULPS + max(0, int(epoch))

    def recur(self, epoch: int, lrs: Sequence[float]) -> list[float]:
        """lr * lr_lambda(epoch); epoch 0 leaves the lrs unchanged."""
        if epoch == 0:
            return list(lrs)
        return [lr * f(epoch) for lr, f in zip(lrs, self.lr_lambda, strict=True)]

    def kappa(self, epoch: int) -> float:
        """One rounded product per step (the lambda's value is taken as exact)."""
        return 0.0 if epoch == 0 else 1.0


@register
class StepLR(Schedule):
    """lr = base_lr * gamma ** (epoch // step_size)."""

    name = "StepLR"
    source = DOCS.format(name)
    schema = (
        Param("step_size", "int", low=1, doc="Period of the decay, in epochs."),
        _gamma(0.1),
    )
    chainable = True

    step_size: int
    gamma: float

    def lr(self, epoch: float) -> list[float]:
        """base_lr * gamma ** (epoch // step_size)."""
        factor = self.gamma ** (int(epoch) // self.step_size)
        return [b * factor for b in self.base_lrs]

    def lr_fn(self, group: int) -> Callable[[float], float]:
        """base_lr * gamma ** (epoch // step_size) for one group."""
        b, gamma, size = self.base_lrs[group], self.gamma, self.step_size

        def lr(epoch: float) -> float:
            # Floor division floors a fractional epoch as int() would.
            return b * gamma ** (epoch // size)

        return lr

    def recur(self, epoch: int, lrs: Sequence[float]) -> list[float]:
        """lr * gamma at every non-zero multiple of step_size, else unchanged."""
        if epoch == 0 or epoch % self.step_size:
            return list(lrs)
        return [lr * self.gamma for lr in lrs]

    def kappa(self, epoch: int) -> float:
        """One rounded product at a decay, none elsewhere."""
        return 0.0 if epoch == 0 or epoch % self.step_size else 1.0


@register
class MultiStepLR(Schedule):
    """lr = base_lr * gamma ** (number of milestones <= epoch), repeats counted."""

    name = "MultiStepLR"
    source = DOCS.format(name)
    schema = (
        Param("milestones", "int_list", low=0,
              doc="Non-decreasing epochs of the decays; a repeated one decays once per "
                  "repeat."),
        _gamma(0.1),
    )
    chainable = True

    milestones: tuple[int, ...]
    gamma: float

    def validate(self) -> None:
        """Milestones must be non-decreasing (torch documents them as increasing)."""
        if list(self.milestones) != sorted(self.milestones):
            raise self.reject("milestones", list(self.milestones),
                              "a non-decreasing list of ints >= 0")
        self._counts = Counter(self.milestones)

    def lr(self, epoch: float) -> list[float]:
        """base_lr * gamma ** bisect_right(milestones, epoch)."""
        factor = self.gamma ** bisect_right(self.milestones, int(epoch))
        return [b * factor for b in self.base_lrs]

    def lr_fn(self, group: int) -> Callable[[float], float]:
        """base_lr * gamma ** bisect_right(milestones, epoch) for one group."""
        b, gamma, marks = self.base_lrs[group], self.gamma, self.milestones

        def lr(epoch: float) -> float:
            return b * gamma ** bisect_right(marks, int(epoch))

        return lr

    def recur(self, epoch: int, lrs: Sequence[float]) -> list[float]:
        """lr * gamma ** count at a milestone (epoch 0 included), else unchanged."""
        count = self._counts.get(epoch, 0)
        if not count:
            return list(lrs)
        factor = self.gamma**count
        return [lr * factor for lr in lrs]

    def kappa(self, epoch: int) -> float:
        """At a milestone: the rounding of gamma ** count and of the product."""
        return 2.0 if epoch in self._counts else 0.0


@register
class ExponentialLR(Schedule):
    """lr = base_lr * gamma ** epoch."""

    name = "ExponentialLR"
    source = DOCS.format(name)
    schema = (_gamma(REQUIRED),)
    chainable = True

    gamma: float

    def lr(self, epoch: float) -> list[float]:
        """base_lr * gamma ** epoch."""
        factor = self.gamma ** int(epoch)
        return [b * factor for b in self.base_lrs]

    def lr_fn(self, group: int) -> Callable[[float], float]:
        """base_lr * gamma ** epoch for one group."""
        b, gamma = self.base_lrs[group], self.gamma

        def lr(epoch: float) -> float:
            return b * gamma ** int(epoch)

        return lr

    def recur(self, epoch: int, lrs: Sequence[float]) -> list[float]:
        """lr * gamma for epoch >= 1; epoch 0 leaves the lrs unchanged."""
        if epoch == 0:
            return list(lrs)
        return [lr * self.gamma for lr in lrs]

    def kappa(self, epoch: int) -> float:
        """One rounded product per step."""
        return 0.0 if epoch == 0 else 1.0
