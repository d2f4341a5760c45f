"""Schedules built from other reference schedules: SequentialLR and ChainedScheduler.

Sub-schedules are given as (name, params) pairs and built with the composite's base_lrs,
as torch builds them on the same optimizer. Formulas and derivations: docs/spec.md.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from reference.base import SAFETY, Param, Schedule, State, U, make, register, ulp

#: Where torch documents each class.
DOCS = "https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.{}.html"

Spec = tuple[str, dict[str, Any]]


def _build(owner: Schedule, specs: Sequence[Spec]) -> list[Schedule]:
    """Build each (name, params) pair on the owner's base_lrs; reject what cannot be a sub."""
    subs = []
    for spec in specs:
        name, params = spec
        try:
            sub = make(name, owner.base_lrs, **params)
        except ValueError as err:
            raise owner.reject("schedulers", spec, f"a valid reference schedule ({err})") \
                from None
        if sub.composite:
            raise owner.reject("schedulers", spec, "a schedule that is not itself composite")
        if sub.needs_metric:
            raise owner.reject("schedulers", spec, "a schedule that needs no metric")
        if sub.momenta(0) is not None:
            raise owner.reject("schedulers", spec, "a schedule that does not set momentum")
        subs.append(sub)
    return subs


def _advance(sub: Schedule, epoch: int, lrs: Sequence[float]) -> list[float]:
    """One step of `sub` as torch's step() takes it: get_lr's recurrence if chainable, else
    the closed form (LambdaLR's get_lr reads base_lrs, not the group's lr)."""
    return sub.recur(epoch, lrs) if sub.chainable else sub.lr(epoch)


@register
class SequentialLR(Schedule):
    """lr(e) = sub_i.lr(e - m_{i-1}) with i = bisect_right(milestones, e), m_{-1} = 0."""

    name = "SequentialLR"
    source = DOCS.format(name)
    schema = (
        Param("schedulers", "schedules",
              doc="Sub-schedules, each with a closed form, as (name, params) pairs."),
        Param("milestones", "int_list", low=0,
              doc="Non-decreasing epochs at which the next sub-schedule starts "
                  "(one fewer than schedulers)."),
    )
    # torch steps the active sub-scheduler through its get_lr, restarting each one at its
    # milestone through its closed form at epoch 0: a recurrence, with resets.
    chainable = True
    composite = True

    schedulers: tuple[Spec, ...]
    milestones: tuple[int, ...]

    def validate(self) -> None:
        """Build the subs; milestones: one per hand-off, non-decreasing."""
        subs = _build(self, self.schedulers)
        for spec, sub in zip(self.schedulers, subs, strict=True):
            if not sub.closed:
                raise self.reject("schedulers", spec, "a schedule with a closed form")
        ms = list(self.milestones)
        if len(ms) != len(subs) - 1:
            raise self.reject("milestones", ms,
                              f"one milestone fewer than schedulers ({len(subs) - 1})")
        if ms != sorted(ms):
            raise self.reject("milestones", ms, "a non-decreasing list of ints >= 0")
        self.subs = subs

    def _locate(self, epoch: int) -> tuple[int, int]:
        """(index of the active sub, its own epoch) at `epoch`."""
        i = bisect_right(self.milestones, epoch)
        return i, epoch - (self.milestones[i - 1] if i else 0)

    def lr(self, epoch: float) -> list[float]:
        """The active sub's closed form at its own epoch."""
        i, local = self._locate(int(epoch))
        return self.subs[i].lr(local)

    def closed_ulps(self, epoch: float) -> float:
        """The active sub's closed-form tolerance."""
        i, local = self._locate(int(epoch))
        return self.subs[i].closed_ulps(local)

    def recur(self, epoch: int, lrs: Sequence[float]) -> list[float]:
        """The active sub's step; at a milestone (epoch > 0) the next sub restarts from its
        closed form at 0, whatever the group's lr."""
        i, local = self._locate(epoch)
        sub = self.subs[i]
        if local == 0 and epoch > 0:
            return sub.lr(0)
        return _advance(sub, local, lrs)

    def kappa(self, epoch: int) -> float:
        """The active sub's kappa at its own epoch; a restart carries no relative error."""
        i, local = self._locate(epoch)
        sub = self.subs[i]
        if (local == 0 and epoch > 0) or not sub.chainable:
            return 0.0
        return sub.kappa(local)

    def floor(self) -> list[float]:
        """The last sub's floor: where the schedule ends up."""
        return self.subs[-1].floor()

    def bound(self, steps: int, ref: list[list[float]] | None = None) -> list[list[float]]:
        """Each segment's error is its sub's own bound at the sub's epoch: a restart starts
        afresh from the closed form, and each sub's error model has its own floor."""
        where = [self._locate(t) for t in range(steps + 1)]
        spans: dict[int, int] = {}
        for i, local in where:
            spans[i] = max(spans.get(i, 0), local)
        bounds = {i: self.subs[i].bound(n) for i, n in spans.items()}
        return [list(bounds[i][local]) for i, local in where]

    def tolerance(self, steps: int, ref: list[list[float]] | None = None) -> list[list[float]]:
        """As Schedule.tolerance, with the closed-form minimum in the active sub's own scale:
        a sub's closed form rounds against its own floor (a cosine's eta_min, which may exceed
        the lr), not against the last sub's, which `floor()` gives."""
        ref = self.reference(steps) if ref is None else ref
        out = []
        for t, row in enumerate(self.bound(steps, ref)):
            i, local = self._locate(t)
            sub = self.subs[i]
            c = sub.closed_ulps(local)
            out.append([max(SAFETY * e, c * ulp(s))
                        for e, s in zip(row, sub.scale(ref[t]), strict=True)])
        return out


@register
class ChainedScheduler(Schedule):
    """Every step applies each sub-schedule's step in order to the group's lr."""

    name = "ChainedScheduler"
    source = DOCS.format(name)
    schema = (
        Param("schedulers", "schedules",
              doc="Sub-schedules, each chainable or with a closed form, as (name, params) "
                  "pairs, applied in order."),
    )
    chainable = True
    closed = False
    composite = True

    schedulers: tuple[Spec, ...]

    def validate(self) -> None:
        """Build the subs; each must have a step: a recurrence or a closed form."""
        subs = _build(self, self.schedulers)
        for spec, sub in zip(self.schedulers, subs, strict=True):
            if not (sub.chainable or sub.closed):
                raise self.reject("schedulers", spec,
                                  "a schedule with a chainable recurrence or a closed form")
        self.subs = subs

    def recur(self, epoch: int, lrs: Sequence[float]) -> list[float]:
        """Each sub's step in order (at epoch 0: each constructor's initial step in order)."""
        out = list(lrs)
        for sub in self.subs:
            out = _advance(sub, epoch, out)
        return out

    def kappa(self, epoch: int) -> float:
        """The sum of the subs' kappas (exact when they share a floor; `bound` tracks each sub
        against its own floor)."""
        return sum(sub.kappa(epoch) for sub in self.subs)

    def floor(self) -> list[float]:
        """The last sub's floor."""
        return self.subs[-1].floor()

    def initial(self) -> State:
        """The subs' initial steps applied in order to base_lrs."""
        return State(0, tuple(self.recur(0, self.base_lrs)))

    def step(self, state: State, metric: float | None = None) -> State:
        """One step of every sub, in order."""
        epoch = int(state.epoch) + 1
        return replace(state, epoch=epoch, lrs=tuple(self.recur(epoch, state.lrs)))

    def bound(self, steps: int, ref: list[list[float]] | None = None) -> list[list[float]]:
        """Carry the error through each sub's step against that sub's floor: scaled by the
        step's ratio of distances to the floor, plus U kappa times the new distance. A
        closed-form step (not chainable) replaces the error with its closed-form tolerance.
        Each full step adds the rounding of the lr itself, 2 U |lr|."""
        lrs = list(self.base_lrs)
        errs = [0.0] * self.groups
        out: list[list[float]] = []
        for t in range(steps + 1):
            for sub in self.subs:
                new = _advance(sub, t, lrs)
                if sub.chainable:
                    k = sub.kappa(t)
                    errs = [_carry(e, a, b, f, k)
                            for e, a, b, f in zip(errs, lrs, new, sub.floor(), strict=True)]
                else:
                    errs = [sub.closed_ulps(t) * ulp(max(abs(b), abs(v)))
                            for b, v in zip(self.base_lrs, new, strict=True)]
                lrs = new
            errs = [e + 2 * U * abs(v) for e, v in zip(errs, lrs, strict=True)]
            out.append(list(errs))
        return out


def _carry(err: float, old: float, new: float, floor: float, kappa: float) -> float:
    """Error after a step old -> new of a recurrence with fixed point `floor`."""
    d_old, d_new = old - floor, new - floor
    r = abs(d_new / d_old) if d_old else 1.0
    return r * err + U * kappa * abs(d_new)
