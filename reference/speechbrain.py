"""The speechbrain schedule family (`speechbrain.nnet.schedulers`): callables built without an
optimizer that set one lr for every param group each time they are called.

Protocol (the suite's "callable" driver): e = 0 is the groups' lrs as created (construction
does not touch the optimizer); step e is the e-th call, `sched(opt)`, `sched(opt, e)` or
`sched(metric)`, after which every group has the schedule's value at e. The lr argument
(`lr_initial`, `initial_value`, TriStageLRSchedule's `lr`) is a schema parameter. Formulas,
the docstrings they come from, and the rulings: docs/spec/speechbrain.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from reference.base import CLOSED_ULPS, Param, Schedule, State, register

#: Where the classes are documented (their docstrings, rendered).
DOCS = ("https://speechbrain.readthedocs.io/en/latest/API/"
        "speechbrain.nnet.schedulers.html#speechbrain.nnet.schedulers.{}")


def _lr(name: str, doc: str, default: float | None = None, nullable: bool = False) -> Param:
    if nullable:
        return Param(name, "float", default, low=0.0, low_open=True, nullable=True, doc=doc)
    return Param(name, "float", low=0.0, low_open=True, doc=doc)


class _Called(Schedule):
    """lr(0) = the groups' lrs as created; lr(e) = value(e) for every group after call e."""

    def value(self, s: float) -> float:
        """The documented lr after `s` calls (s >= 1)."""
        raise NotImplementedError

    def peak(self) -> float:
        """The schedule's largest lr, the scale its rounding errors are measured against."""
        raise NotImplementedError

    def lr(self, epoch: float) -> list[float]:
        if epoch == 0:
            return list(self.base_lrs)
        return [self.value(epoch)] * self.groups

    def lr_fn(self, group: int) -> Callable[[float], float]:
        b, value = self.base_lrs[group], self.value
        return lambda epoch: b if epoch == 0 else value(epoch)

    def scale(self, lrs: Sequence[float]) -> list[float]:
        """The peak as well: a value far below it (early warmup, a cosine's trough) carries
        errors of the size of the peak's ulps."""
        top = self.peak()
        return [max(abs(b), top, abs(v)) for b, v in zip(self.base_lrs, lrs, strict=True)]


@register
class NoamScheduler(_Called):
    """The Transformer's schedule: lr_initial N min(s^-1/2, s W^-3/2), N = W^1/2 (peak
    lr_initial at s = W) or model_size^-1/2."""

    name = "speechbrain.NoamScheduler"
    source = DOCS.format("NoamScheduler")
    schema = (_lr("lr_initial", "The lr the warmup reaches at W (without model_size)."),
              Param("n_warmup_steps", "int", low=1, doc="W: steps of linear warmup."),
              Param("model_size", "int", None, low=1, nullable=True,
                    doc="d: N = d^-1/2 instead of W^1/2."))
    lr_initial: float
    n_warmup_steps: int
    model_size: int | None

    def validate(self) -> None:
        W = self.n_warmup_steps
        self._norm = W**0.5 if self.model_size is None else self.model_size**-0.5

    def value(self, s: float) -> float:
        return self.lr_initial * self._norm * min(s**-0.5, s * self.n_warmup_steps**-1.5)

    def peak(self) -> float:
        return self.value(self.n_warmup_steps)


@register
class NewBobScheduler(Schedule):
    """New-bob annealing: multiply the value by annealing_factor when the relative improvement
    of the metric on the previous one falls below improvement_threshold, once `patient` such
    violations have been let through (counted since the last annealing)."""

    name = "speechbrain.NewBobScheduler"
    source = DOCS.format("NewBobScheduler")
    schema = (_lr("initial_value", "The value before any annealing."),
              Param("annealing_factor", "float", 0.5, low=0.0, high=1.0, low_open=True,
                    doc="new value = value * annealing_factor."),
              Param("improvement_threshold", "float", 0.0025, low=0.0, high=1.0,
                    doc="Least relative improvement (prev - metric) / prev that is not a "
                        "violation."),
              Param("patient", "int", 0, low=0,
                    doc="Violations let through before the one that anneals."))
    closed = False
    needs_metric = True
    initial_value: float
    annealing_factor: float
    improvement_threshold: float
    patient: int

    def initial(self) -> State:
        """The groups' lrs as created; no metric seen; `patient` violations to let through."""
        return State(0, self.base_lrs,
                     data={"value": self.initial_value, "previous": None,
                           "patience": self.patient})

    def step(self, state: State, metric: float | None = None) -> State:
        """One call with the epoch's metric: the (possibly annealed) value for every group."""
        if metric is None:
            raise ValueError(f"{self.name}: step needs a metric")
        value, previous, patience = (state.data["value"], state.data["previous"],
                                     state.data["patience"])
        if previous is not None:
            # The documented ratio has no value at a previous metric of 0: no improvement.
            gain = 0.0 if previous == 0 else (previous - metric) / previous
            if gain < self.improvement_threshold:
                if patience == 0:
                    value *= self.annealing_factor
                    patience = self.patient
                else:
                    patience -= 1
        return State(state.epoch + 1, (value,) * self.groups,
                     data={"value": value, "previous": float(metric), "patience": patience})


@register
class TriStageLRSchedule(_Called):
    """Linear warmup from init_lr_scale * peak to the peak over W updates, the peak for H,
    exponential decay to final_lr_scale * peak over D, then that final lr."""

    name = "speechbrain.TriStageLRSchedule"
    source = DOCS.format("TriStageLRSchedule")
    # The constructor's `lr` would shadow Schedule.lr: the spec maps peak_lr to it.
    schema = (_lr("peak_lr", "The max lr, reached after the warmup (the constructor's `lr`)."),
              Param("warmup_steps", "int", low=1, doc="W: updates of linear warmup."),
              Param("hold_steps", "int", low=0, doc="H: updates at the peak."),
              Param("decay_steps", "int", low=1, doc="D: updates of exponential decay."),
              Param("total_steps", "int", low=0,
                    doc="Documented as 'used to decay'; no documented effect on the lr."),
              Param("init_lr_scale", "float", 0.01, low=0.0, high=1.0,
                    doc="The warmup starts at init_lr_scale * peak."),
              Param("final_lr_scale", "float", 0.05, low=0.0, high=1.0, low_open=True,
                    doc="The decay ends at final_lr_scale * peak."))
    peak_lr: float
    warmup_steps: int
    hold_steps: int
    decay_steps: int
    total_steps: int
    init_lr_scale: float
    final_lr_scale: float

    def value(self, s: float) -> float:
        W, H, D, peak = self.warmup_steps, self.hold_steps, self.decay_steps, self.peak_lr
        if s < W:
            start = self.init_lr_scale * peak
            return start + (peak - start) * s / W
        if s < W + H:
            return peak
        return peak * self.final_lr_scale ** (min(s - W - H, D) / D)

    def peak(self) -> float:
        return self.peak_lr

    def closed_ulps(self, epoch: float) -> float:
        """The decay's exponent x = ln(final) j / D rounds to ~3 |x| U, which exp carries as a
        relative error: at most 4 |ln final| more ulps."""
        return CLOSED_ULPS + 4 * abs(math.log(self.final_lr_scale))


@register
class LinearWarmupScheduler(_Called):
    """lr0 s / W up to W, then lr0 (T - s) / (T - W) down to 0 at T, then 0."""

    name = "speechbrain.LinearWarmupScheduler"
    source = DOCS.format("LinearWarmupScheduler")
    schema = (_lr("initial_value", "lr0: the lr the warmup reaches at W."),
              Param("num_warmup_steps", "int", low=0, doc="W: steps of linear warmup from 0."),
              Param("num_training_steps", "int", low=1, doc="T > W: the step where lr is 0."))
    initial_value: float
    num_warmup_steps: int
    num_training_steps: int

    def validate(self) -> None:
        """num_training_steps > num_warmup_steps (the decay divides by T - W)."""
        if self.num_training_steps <= self.num_warmup_steps:
            raise self.reject("num_training_steps", self.num_training_steps,
                              f"num_training_steps > num_warmup_steps = {self.num_warmup_steps}")

    def value(self, s: float) -> float:
        W, T, lr0 = self.num_warmup_steps, self.num_training_steps, self.initial_value
        if s < W:
            return s / W * lr0
        return lr0 * max(0.0, (T - s) / (T - W))

    def peak(self) -> float:
        return self.initial_value


@register
class CyclicCosineScheduler(_Called):
    """lr0 (1 + cos(pi (s - W) / T)) / 2: the cosine rises to lr0 at s = W, falls to 0 at
    W + T and rises again (period 2T); lr0 = lr_initial, or the first group's lr at 0."""

    name = "speechbrain.CyclicCosineScheduler"
    source = DOCS.format("CyclicCosineScheduler")
    schema = (Param("n_warmup_steps", "int", low=1, doc="W: the step of the peak."),
              _lr("lr_initial", "lr0, the peak; None: the first group's lr at epoch 0.",
                  None, nullable=True),
              Param("total_steps", "int", 100000, low=1, doc="T: steps from the peak to 0."))
    n_warmup_steps: int
    lr_initial: float | None
    total_steps: int

    def validate(self) -> None:
        self._lr0 = self.lr_initial if self.lr_initial is not None else self.base_lrs[0]

    def value(self, s: float) -> float:
        x = math.pi * (s - self.n_warmup_steps) / self.total_steps
        return self._lr0 * 0.5 * (math.cos(x) + 1)

    def peak(self) -> float:
        return self._lr0

    def closed_ulps(self, epoch: float) -> float:
        """The cosine's argument rounds to ~|x| U, which its slope carries (as
        CosineAnnealingLR)."""
        return CLOSED_ULPS + 4 * math.pi * abs(epoch - self.n_warmup_steps) / self.total_steps


#: The family's spec names.
FAMILY = tuple(cls.name for cls in (
    NoamScheduler, NewBobScheduler, TriStageLRSchedule, LinearWarmupScheduler,
    CyclicCosineScheduler))
