"""A pure-Python oracle of the documented learning-rate schedules (no torch, no numpy).

`make(name, base_lrs, **params)` builds a schedule; `SCHEDULES` maps every name to its
class. See docs/spec.md for the formulas and their derivations.
"""

from reference import (
    composite,
    cosine,
    cyclic,
    deepspeed,
    diffusers,
    ignite,
    linear,
    mmengine,
    nemo,
    plateau,
    speechbrain,
    steps,
    swa,
    timm,
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
           "deepspeed",
           "diffusers",
           "ignite",
           "linear",
           "make",
           "mmengine",
           "nemo",
           "plateau",
           "speechbrain",
           "steps",
           "swa",
           "timm",
           "transformers",
           "ulps",
           "warmup",
]
