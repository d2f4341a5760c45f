"""Schedules that reach their final factor after total_iters: ConstantLR, LinearLR and
PolynomialLR.

All three multiply the base lr by a factor of the epoch, so the recurrence's fixed point is 0.
Formulas and derivations: docs/spec.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reference.base import CLOSED_ULPS, Param, Schedule, register

#: Where torch documents each class.
DOCS = "https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.{}.html"


def _total_iters(doc: str) -> Param:
    return Param("total_iters", "int", 5, low=1, doc=doc)


@register
class ConstantLR(Schedule):
    """lr = base_lr * factor for epoch < total_iters, then base_lr."""

    name = "ConstantLR"
    source = DOCS.format(name)
    # factor = 0 is excluded: the recurrence undoes the factor by multiplying by 1 / factor.
    schema = (
        Param("factor", "float", 1.0 / 3, low=0.0, high=1.0, low_open=True,
              doc="Multiplier of the base lr before total_iters."),
        # total_iters = 0 is excluded: the closed form would never apply the factor, while
        # the recurrence's epoch-0 step applies it and never undoes it.
        _total_iters("Number of epochs the factor applies to."),
    )
    chainable = True

    factor: float
    total_iters: int

    def lr(self, epoch: float) -> list[float]:
        """base_lr * factor before total_iters, base_lr from then on."""
        f = self.factor if epoch < self.total_iters else 1.0
        return [b * f for b in self.base_lrs]

    def lr_fn(self, group: int) -> Callable[[float], float]:
        """base_lr * factor before total_iters, base_lr from then on, for one group."""
        b, factor, total = self.base_lrs[group], self.factor, self.total_iters

        def lr(epoch: float) -> float:
            return b * (factor if epoch < total else 1.0)

        return lr

    def recur(self, epoch: int, lrs: Sequence[float]) -> list[float]:
        """lr * factor at epoch 0, lr * (1 / factor) at total_iters, else unchanged."""
        if epoch == 0:
            return [lr * self.factor for lr in lrs]
        if epoch != self.total_iters:
            return list(lrs)
        return [lr * (1.0 / self.factor) for lr in lrs]

    def kappa(self, epoch: int) -> float:
        """One product at epoch 0; the reciprocal and the product at total_iters."""
        if epoch == 0:
            return 1.0
        return 2.0 if epoch == self.total_iters else 0.0


@register
class LinearLR(Schedule):
    """lr = base_lr * (s + (f - s) * min(epoch, T) / T): s to f linearly over T epochs."""

    name = "LinearLR"
    source = DOCS.format(name)
    schema = (
        Param("start_factor", "float", 1.0 / 3, low=0.0, high=1.0, low_open=True,
              doc="Multiplier of the base lr at epoch 0."),
        Param("end_factor", "float", 1.0, low=0.0, high=1.0,
              doc="Multiplier of the base lr from total_iters on."),
        _total_iters("Number of epochs from start_factor to end_factor."),
    )
    chainable = True

    start_factor: float
    end_factor: float
    total_iters: int

    def _c(self, epoch: float) -> float:
        """The closed form's factor at `epoch`."""
        s, f, T = self.start_factor, self.end_factor, self.total_iters
        return s + (f - s) * min(T, epoch) / T

    def lr(self, epoch: float) -> list[float]:
        """base_lr * (s + (f - s) * min(T, epoch) / T)."""
        c = self._c(epoch)
        return [b * c for b in self.base_lrs]

    def lr_fn(self, group: int) -> Callable[[float], float]:
        """base_lr * (s + (f - s) * min(T, epoch) / T) for one group."""
        b, s, d, T = self.base_lrs[group], self.start_factor, \
            self.end_factor - self.start_factor, self.total_iters

        def lr(epoch: float) -> float:
            return b * (s + d * min(T, epoch) / T)

        return lr

    def recur(self, epoch: int, lrs: Sequence[float]) -> list[float]:
        """lr * s at epoch 0; lr * c_e / c_{e-1} up to T; unchanged after T."""
        s, f, T = self.start_factor, self.end_factor, self.total_iters
        if epoch == 0:
            return [lr * s for lr in lrs]
        if epoch > T:
            return list(lrs)
        # c_e / c_{e-1} = 1 + (f - s) / (T s + (e - 1)(f - s)), the documented get_lr form.
        ratio = 1.0 + (f - s) / (T * s + (epoch - 1) * (f - s))
        return [lr * ratio for lr in lrs]

    def kappa(self, epoch: int) -> float:
        """Conditioning of 1 + q, q = (f - s) / D, D = T c_{e-1} (docs/spec.md).

        D's terms T s and (e - 1)(f - s) round with absolute error U (T s + 2 (e - 1)|f - s|),
        so D has relative error that over D, plus one rounding; q adds 3 (f - s, the
        division, f - s inside D). Adding 1 scales q's relative error by |q / (1 + q)| =
        |f - s| / (T c_e) and rounds; the product with the lr rounds once more. Where c_e = 0
        (end_factor 0 at total_iters) the exact result is the floor, so the term it
        multiplies is 0.
        """
        s, f, T = self.start_factor, self.end_factor, self.total_iters
        if epoch == 0:
            return 1.0
        if epoch > T:
            return 0.0
        c_now = self._c(epoch)
        if c_now == 0 or (epoch == T and f == 0):
            return 0.0  # rounding can leave c_T a hair off 0 (-2e-17): exactly 0 in theory
        den = T * self._c(epoch - 1)
        rel_den = (T * s + 2 * (epoch - 1) * abs(f - s)) / abs(den) + 1.0
        return abs(f - s) / abs(T * c_now) * (3.0 + rel_den) + 2.0


@register
class PolynomialLR(Schedule):
    """lr = base_lr * (1 - min(epoch, T) / T) ** power."""

    name = "PolynomialLR"
    source = DOCS.format(name)
    schema = (
        _total_iters("Number of epochs the lr decays over, to 0."),
        # A negative power would divide by zero at total_iters.
        Param("power", "float", 1.0, low=0.0, doc="Power of the polynomial."),
    )
    chainable = True

    total_iters: int
    power: float

    def lr(self, epoch: float) -> list[float]:
        """base_lr * (1 - min(T, epoch) / T) ** power."""
        T = self.total_iters
        c = (1.0 - min(T, epoch) / T) ** self.power
        return [b * c for b in self.base_lrs]

    def lr_fn(self, group: int) -> Callable[[float], float]:
        """base_lr * (1 - min(T, epoch) / T) ** power for one group."""
        b, T, p = self.base_lrs[group], self.total_iters, self.power

        def lr(epoch: float) -> float:
            return b * (1.0 - min(T, epoch) / T) ** p

        return lr

    def closed_ulps(self, epoch: float) -> float:
        """1 - k/T has relative error T/(T - k) U, which the power multiplies by p; against
        the base lr that is p ((T - k) / T) ** (p - 1) ulps (large near T for p < 1)."""
        T, p = self.total_iters, self.power
        k = min(T, epoch)
        if k >= T or k < 0:
            return CLOSED_ULPS
        return CLOSED_ULPS + p * float(((T - k) / T) ** (p - 1))

    def recur(self, epoch: int, lrs: Sequence[float]) -> list[float]:
        """lr * ((1 - e/T) / (1 - (e-1)/T)) ** power up to T; unchanged at 0 and after T."""
        T = self.total_iters
        if epoch == 0 or epoch > T:
            return list(lrs)
        ratio = ((1.0 - epoch / T) / (1.0 - (epoch - 1) / T)) ** self.power
        return [lr * ratio for lr in lrs]

    def kappa(self, epoch: int) -> float:
        """1 - t/T has relative error T/(T - t) (the rounding of t/T over the difference),
        the denominator T/(T - t + 1), the quotient 1; the power multiplies their sum by p
        and rounds once, the product rounds once. At T the numerator is exactly 0."""
        T, p = self.total_iters, self.power
        if epoch == 0 or epoch >= T:
            return 0.0
        return p * (T / (T - epoch) + T / (T - epoch + 1) + 1.0) + 2.0
