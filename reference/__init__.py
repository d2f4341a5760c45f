"""A pure-Python oracle of the documented learning-rate schedules (no torch, no numpy).

`make(name, base_lrs, **params)` builds a schedule; `SCHEDULES` maps every name to its
class. See docs/spec.md for the formulas and their derivations.
"""

from reference import (
    composite,
    cosine,
    cyclic,
    linear,
    plateau,
    steps,
    swa,
    transformers,
    warmup,
)
from reference.base import SCHEDULES, Param, Schedule, State, make, ulps

__all__ = [
           "SCHEDULES",
           "Param",
           "Schedule",
           "State",
           "composite",
           "cosine",
           "cyclic",
           "linear",
           "make",
           "plateau",
           "steps",
           "swa",
           "transformers",
           "ulps",
           "warmup",
]
