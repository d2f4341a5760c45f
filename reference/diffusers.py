"""diffusers' piecewise constant schedule (`diffusers.optimization`, diffusers 0.42.1), as
its docstring documents it.

The rest of `diffusers.optimization` copies transformers' factories under their names
(reference/transformers.py); this is the one schedule of its own.
"""

from __future__ import annotations

import math

from reference.base import Factored, Param, register

SOURCE = ("https://github.com/huggingface/diffusers/blob/v0.42.1/src/diffusers/"
          "optimization.py#L80")

#: The grammar, for error messages.
GRAMMAR = ("'v:n,v:n,...,v': multiples v (floats >= 0) each held for the next n steps "
           "(ints >= 1), then the last v for good")

Rules = tuple[tuple[tuple[float, int], ...], float]


def _multiple(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise ValueError(text)
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def parse(step_rules: object) -> Rules:
    """`step_rules` -> ((multiple, steps), ...), last multiple; ValueError if it breaks
    GRAMMAR."""
    if not isinstance(step_rules, str):
        raise ValueError(f"step_rules={step_rules!r} is not a string")
    *head, last = step_rules.split(",")
    try:
        rules = []
        for rule in head:
            value, steps = rule.split(":")
            rules.append((_multiple(value), _count(steps)))
        return tuple(rules), _multiple(last)
    except ValueError:
        raise ValueError(f"step_rules={step_rules!r} breaks the grammar {GRAMMAR}") from None


@register
class PiecewiseConstant(Factored):
    """b v_i for the n_i steps of rule i, counted one rule after another from step 0, then
    b times the last multiple."""

    name = "diffusers.get_piecewise_constant_schedule"
    source = SOURCE
    schema = (Param("step_rules", "any", doc=GRAMMAR),)
    step_rules: str

    def validate(self) -> None:
        """step_rules follows GRAMMAR."""
        try:
            rules, self._last = parse(self.step_rules)
        except ValueError:
            raise self.reject("step_rules", self.step_rules, GRAMMAR) from None
        # Each rule ends where the next begins: the counts are durations, summed.
        ends, total = [], 0
        for value, steps in rules:
            total += steps
            ends.append((total, value))
        self._ends = tuple(ends)

    @property
    def total(self) -> int:
        """The step from which the last multiple holds."""
        return self._ends[-1][0] if self._ends else 0

    def factor(self, s: float) -> float:
        for end, value in self._ends:
            if s < end:
                return value
        return self._last


#: The family's spec names.
FAMILY = (PiecewiseConstant.name,)
