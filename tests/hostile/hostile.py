"""Hostile and broken targets (issue 10): the suite must report each cleanly and go on.

Each class (or function) has EXPECT: "fail" when at least one check must fail, "pass" when
none may, "any" when the outcome is free (only the suite's robustness is judged).
`Sentinel`, run last, fails if anything an earlier target did to the process leaked.
"""

from __future__ import annotations

import os
import random
import sys
import warnings
from typing import Any

import torch
from torch.optim import lr_scheduler as L

#: What the process looks like before any hostile target runs (read by Sentinel).
PRISTINE = {"dtype": torch.get_default_dtype(), "cwd": os.getcwd(),
            "seed": torch.initial_seed()}
MARKER = "left by a hostile target"


class RaisesInInit(L.StepLR):
    """__init__ raises."""

    EXPECT = "fail"

    def __init__(self, optimizer: Any, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom in __init__")


class RaisesInStep(L.StepLR):
    """step() raises from the third step on."""

    EXPECT = "fail"

    def step(self, epoch: Any = None) -> None:
        if self.last_epoch >= 2:
            raise RuntimeError("boom in step")
        super().step(epoch)


class RaisesInGetLr(L.StepLR):
    """get_lr() raises (the constructor's initial step already calls it)."""

    EXPECT = "fail"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        raise ValueError("boom in get_lr")


class RaisesInStateDict(L.StepLR):
    """state_dict() raises."""

    EXPECT = "fail"

    def state_dict(self) -> dict[str, Any]:
        raise RuntimeError("boom in state_dict")


class WrongLength(L.StepLR):
    """get_lr() returns one lr more than there are param groups."""

    EXPECT = "fail"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        return [*super().get_lr(), 0.5]


class ReturnsNone(L.StepLR):
    """get_lr() returns None for every group."""

    EXPECT = "fail"

    def get_lr(self) -> list[Any]:  # type: ignore[override]
        return [None for _ in self.optimizer.param_groups]


class ReturnsStrings(L.StepLR):
    """get_lr() returns the lrs as strings."""

    EXPECT = "fail"

    def get_lr(self) -> list[Any]:  # type: ignore[override]
        return [str(v) for v in super().get_lr()]


class ReturnsNaN(L.StepLR):
    """get_lr() returns NaN from the second step on."""

    EXPECT = "fail"

    def get_lr(self) -> list[float]:  # type: ignore[override]
        return [float("nan") if self.last_epoch > 1 else v for v in super().get_lr()]


class HangsInStep(L.StepLR):
    """step() never returns after the fourth step."""

    EXPECT = "fail"

    def step(self, epoch: Any = None) -> None:
        while self.last_epoch >= 4:
            pass
        super().step(epoch)


class PrintsMegabytes(L.StepLR):
    """Prints a megabyte at each of its first 20 calls of get_last_lr(), which returns strings,
    so that check fails with the output captured."""

    EXPECT = "fail"
    printed = 0

    def get_last_lr(self) -> list[Any]:
        if PrintsMegabytes.printed < 20:
            PrintsMegabytes.printed += 1
            print("x" * (1 << 20))
        return [str(v) for v in super().get_last_lr()]


class ReplacesOptimizerStep(L.StepLR):
    """Replaces optimizer.step with a plain function (torch's own __init__ then fails)."""

    EXPECT = "fail"

    def __init__(self, optimizer: Any, *args: Any, **kwargs: Any) -> None:
        original = optimizer.step
        optimizer.step = lambda *a, **k: original(*a, **k)
        super().__init__(optimizer, *args, **kwargs)


class SilencesWarnings(L.StepLR):
    """Turns every warning off, process-wide, when built (and leaves a marker filter)."""

    EXPECT = "fail"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        warnings.simplefilter("ignore")
        warnings.filterwarnings("ignore", message=MARKER)
        super().__init__(*args, **kwargs)


class SetsDefaultDtype(L.StepLR):
    """Sets torch's default dtype to float64 when built."""

    EXPECT = "any"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        torch.set_default_dtype(torch.float64)
        super().__init__(*args, **kwargs)


class ReseedsEverything(L.StepLR):
    """Reseeds random, numpy and torch when built."""

    EXPECT = "any"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        import numpy

        random.seed(0)
        numpy.random.seed(0)
        torch.manual_seed(0)
        super().__init__(*args, **kwargs)


class DropsModules(L.StepLR):
    """Removes torch.optim.lr_scheduler and json from sys.modules when built."""

    EXPECT = "any"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        sys.modules.pop("torch.optim.lr_scheduler", None)
        sys.modules["json"] = None  # type: ignore[assignment]
        super().__init__(*args, **kwargs)


class ChangesDirectory(L.StepLR):
    """Changes the working directory when built."""

    EXPECT = "any"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        os.chdir("/")
        super().__init__(*args, **kwargs)


class ReplacesStdout(L.StepLR):
    """Replaces sys.stdout with a sink when built."""

    EXPECT = "any"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        super().__init__(*args, **kwargs)


class ExitsInStep(L.StepLR):
    """Calls sys.exit() in step()."""

    EXPECT = "fail"

    def step(self, epoch: Any = None) -> None:
        sys.exit(3)


def returns_none(optimizer: Any, **kwargs: Any) -> None:
    """A factory that returns None instead of a scheduler."""


returns_none.EXPECT = "fail"  # type: ignore[attr-defined]


class Sentinel(L.StepLR):
    """Correct, but refuses to build if an earlier target's changes leaked into the process."""

    EXPECT = "pass"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        leaks = []
        if torch.get_default_dtype() != PRISTINE["dtype"]:
            leaks.append(f"default dtype {torch.get_default_dtype()}")
        if os.getcwd() != PRISTINE["cwd"]:
            leaks.append(f"cwd {os.getcwd()}")
        if sys.modules.get("json") is None or "torch.optim.lr_scheduler" not in sys.modules:
            leaks.append("sys.modules")
        if any(f[1] is not None and f[1].pattern == MARKER for f in warnings.filters):
            leaks.append("warnings filters")
        if getattr(sys.stdout, "name", None) == os.devnull:
            leaks.append("sys.stdout")
        if torch.initial_seed() != PRISTINE["seed"]:  # Hypothesis itself seeds random, numpy
            leaks.append("torch's seed")
        if leaks:
            raise RuntimeError(f"leaked from earlier targets: {', '.join(leaks)}")
        super().__init__(*args, **kwargs)


NAMES = ["RaisesInInit", "RaisesInStep", "RaisesInGetLr", "RaisesInStateDict", "WrongLength",
         "ReturnsNone", "ReturnsStrings", "ReturnsNaN", "HangsInStep", "PrintsMegabytes",
         "ReplacesOptimizerStep", "SilencesWarnings", "SetsDefaultDtype", "ReseedsEverything",
         "DropsModules", "ChangesDirectory", "ReplacesStdout", "ExitsInStep", "returns_none",
         "Sentinel"]
