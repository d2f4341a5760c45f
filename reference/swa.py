"""SWALR (torch.optim.swa_utils): anneal each group's lr to its swa_lr over anneal_epochs.

Closed form lr_e = swa_lr * alpha_e + base_lr * (1 - alpha_e); the recurrence recovers the
lr it anneals from out of the group's current lr, so its fixed point is swa_lr. Formulas and
derivations: docs/spec.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from reference.base import CLOSED_ULPS, Param, Schedule, U, register


def _cos(t: float) -> float:
    return (1 - math.cos(math.pi * t)) / 2


def _linear(t: float) -> float:
    return t


ANNEAL: dict[str, Callable[[float], float]] = {"cos": _cos, "linear": _linear}


@register
class SWALR(Schedule):
    """lr_e = swa_lr * alpha(t_e) + base_lr * (1 - alpha(t_e)), t_e = min(1, e / anneal_epochs)
    (t = 1 from epoch 0 when anneal_epochs is 0); alpha is (1 - cos(pi t)) / 2 or t."""

    name = "SWALR"
    source = "https://pytorch.org/docs/stable/generated/torch.optim.swa_utils.SWALR.html"
    schema = (
        Param("swa_lr", "float", low=0.0, per_group=True,
              doc="The lr each group anneals to and then keeps."),
        Param("anneal_epochs", "int", 10, low=0,
              doc="Epochs of the annealing phase (0: swa_lr at once)."),
        Param("anneal_strategy", "choice", "cos", choices=("cos", "linear"),
              doc="Shape of alpha: cosine or linear in t."),
    )
    chainable = True

    swa_lr: list[float]
    anneal_epochs: int
    anneal_strategy: str

    def validate(self) -> None:
        """Pick the anneal function; precompute each group's kappa weights."""
        self._anneal = ANNEAL[self.anneal_strategy]
        # |swa| / |b - swa| and |b| / |b - swa| for groups that anneal at all.
        self._weights = [(abs(s) / abs(b - s), abs(b) / abs(b - s))
                         for b, s in zip(self.base_lrs, self.swa_lr, strict=True) if b != s]

    def _alpha(self, epoch: float) -> float:
        A = self.anneal_epochs
        return self._anneal(1.0 if A == 0 else min(1.0, epoch / A))

    def lr(self, epoch: float) -> list[float]:
        """swa_lr * alpha + base_lr * (1 - alpha)."""
        a = self._alpha(epoch)
        return [s * a + b * (1 - a) for b, s in zip(self.base_lrs, self.swa_lr, strict=True)]

    def closed_ulps(self, epoch: float) -> float:
        """alpha's own error (about 3 U) scales |b - swa| <= 2 max(|b|, |swa|): 6 more ulps."""
        return CLOSED_ULPS + 6.0

    def _alphas(self, epoch: int) -> tuple[float, float]:
        """(alpha of the previous step, alpha of this step) as the recurrence evaluates them."""
        A = self.anneal_epochs
        # With no annealing phase the constructor's step is already the end of annealing.
        step = max(1, epoch) if A == 0 else epoch
        span = max(1, A)
        prev = self._anneal(max(0.0, min(1.0, (step - 1) / span)))
        now = self._anneal(max(0.0, min(1.0, step / span)))
        return prev, now

    def recur(self, epoch: int, lrs: Sequence[float]) -> list[float]:
        """Recover the start lr b = (lr - alpha' swa) / (1 - alpha') from the group's lr, then
        return swa * alpha + b * (1 - alpha)."""
        prev, now = self._alphas(epoch)
        out = []
        for lr, s in zip(lrs, self.swa_lr, strict=True):
            start = s if prev == 1 else (lr - prev * s) / (1 - prev)
            out.append(s * now + start * (1 - now))
        return out

    def _step_error(self, epoch: int) -> tuple[float, list[float]]:
        """(ratio r of distances to swa_lr, absolute error in units of U per group) of the
        recurrence step to `epoch` (docs/spec.md).

        A step maps lr - swa to (lr - swa)(1 - alpha)/(1 - alpha'), so incoming errors scale by
        r = (1 - a)/(1 - a'). Recovering b rounds alpha' swa and lr - alpha' swa (U (|alpha'
        swa| + |b|(1 - alpha')), carried by r), divides and forms 1 - alpha' (2 U |b|); the
        step rounds 1 - alpha, the product and swa alpha (U (|b|(1 - a) + |swa| a)).
        alpha's own rounding (<= 4 U absolute, cos included) moves the lr by 4 U |b - swa|,
        and alpha' moves the recovered b by 4 U |b - swa| / (1 - a'), carried by 1 - a. Once
        alpha = 1 the result is swa_lr exactly.
        """
        prev, now = self._alphas(epoch)
        if now == 1:
            return 0.0, [0.0] * self.groups
        r = (1 - now) / (1 - prev)
        errs = [abs(s) * (prev * r + now) + 5 * abs(b) * (1 - now) + 4 * abs(b - s) * (1 + r)
                for b, s in zip(self.base_lrs, self.swa_lr, strict=True)]
        return r, errs

    def kappa(self, epoch: int) -> float:
        """`_step_error` relative to d = (b - swa)(1 - alpha), worst group:
        (|swa| (a'/(1 - a') + a/(1 - a)) + 5 |b|) / |b - swa| + 4/(1 - a) + 4/(1 - a').
        Groups with b = swa have d = 0 and no relative term (`bound` keeps their absolute
        error); 0 once alpha = 1 (the result is exact)."""
        prev, now = self._alphas(epoch)
        if now == 1:
            return 0.0
        spread = prev / (1 - prev) + now / (1 - now)
        worst = max((ws * spread + 5 * wb for ws, wb in self._weights), default=0.0)
        return worst + 4 / (1 - now) + 4 / (1 - prev)

    def bound(self, steps: int, ref: list[list[float]] | None = None) -> list[list[float]]:
        """Schedule.bound with the step's exact ratio r and absolute error from `_step_error`:
        the distance to swa_lr is often a rounding error (b = swa_lr, or the end of
        annealing), where ratios of computed distances are noise."""
        ref = self.reference(steps)
        errs = [2 * U * abs(v) for v in ref[0]]
        out = [list(errs)]
        for t in range(1, steps + 1):
            r, step = self._step_error(t)
            errs = [r * e + U * a + 2 * U * abs(v)
                    for e, a, v in zip(errs, step, ref[t], strict=True)]
            out.append(list(errs))
        return out

    def floor(self) -> list[float]:
        """The recurrence's fixed point: swa_lr."""
        return list(self.swa_lr)
