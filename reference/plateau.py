"""ReduceLROnPlateau: a state machine driven by a metric, with no closed form.

Formulas and the state's fields: docs/spec.md.
"""

from __future__ import annotations

import math

from reference.base import Param, Schedule, State, register


@register
class ReduceLROnPlateau(Schedule):
    """Multiply every lr by `factor` (floored at min_lr) once the metric has not improved on
    its best by the threshold for more than `patience` steps; then rest `cooldown` steps."""

    name = "ReduceLROnPlateau"
    schema = (
        Param("mode", "choice", "min", choices=("min", "max"),
              doc="Whether a lower or a higher metric is better."),
        Param("factor", "float", 0.1, low=0.0, high=1.0, high_open=True,
              doc="new_lr = lr * factor."),
        Param("patience", "int", 10, low=0,
              doc="Bad steps tolerated; the lr drops at the (patience + 1)-th in a row."),
        Param("threshold", "float", 1e-4, low=0.0, doc="How much better counts as better."),
        Param("threshold_mode", "choice", "rel", choices=("rel", "abs"),
              doc="Whether threshold is relative to best or absolute."),
        Param("cooldown", "int", 0, low=0, doc="Steps after a drop in which bad steps are not "
                                               "counted."),
        Param("min_lr", "float", 0.0, low=0.0, per_group=True, doc="Lower bound on each lr."),
        Param("eps", "float", 1e-8, low=0.0, doc="A drop of eps or less is not applied."),
    )
    source = ("https://pytorch.org/docs/stable/generated/"
              "torch.optim.lr_scheduler.ReduceLROnPlateau.html")
    closed = False
    needs_metric = True

    mode: str
    factor: float
    patience: int
    threshold: float
    threshold_mode: str
    cooldown: int
    min_lr: list[float]
    eps: float

    def is_better(self, metric: float, best: float) -> bool:
        """The documented dynamic threshold: best (1 -/+ threshold) or best -/+ threshold.

        With best = +-inf (no metric seen yet) the first finite metric is always better,
        except in rel mode with threshold >= 1 where inf * (1 - threshold) is nan or -inf.
        """
        if self.mode == "min":
            bar = best * (1.0 - self.threshold) if self.threshold_mode == "rel" \
                else best - self.threshold
            return metric < bar
        bar = best * (self.threshold + 1.0) if self.threshold_mode == "rel" \
            else best + self.threshold
        return metric > bar

    def initial(self) -> State:
        """The groups' lrs untouched (no initial step); best is the worst value for the mode."""
        worst = math.inf if self.mode == "min" else -math.inf
        return State(0, self.base_lrs,
                     data={"best": worst, "num_bad_epochs": 0, "cooldown_counter": 0})

    def step(self, state: State, metric: float | None = None) -> State:
        """One epoch's metric: update best and the counters, maybe drop the lrs."""
        if metric is None:
            raise ValueError(f"{self.name}: step needs a metric")
        current = float(metric)
        best = state.data["best"]
        bad = state.data["num_bad_epochs"]
        cool = state.data["cooldown_counter"]
        if self.is_better(current, best):
            best, bad = current, 0
        else:
            bad += 1
        if cool > 0:
            cool -= 1
            bad = 0  # bad epochs in cooldown do not count
        lrs = state.lrs
        if bad > self.patience:
            lrs = tuple(self._drop(lr, low) for lr, low in zip(lrs, self.min_lr, strict=True))
            cool, bad = self.cooldown, 0
        return State(state.epoch + 1, lrs,
                     data={"best": best, "num_bad_epochs": bad, "cooldown_counter": cool})

    def _drop(self, lr: float, low: float) -> float:
        new = max(lr * self.factor, low)
        # A drop of at most eps is ignored (so an lr at min_lr stays put).
        return new if lr - new > self.eps else lr
