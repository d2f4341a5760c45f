"""construct.invalid_arguments: the spec's invalid overrides, their translation through a
target's binding (renamed, dropped, computed, untranslatable), and what counts as a refusal.
In-process and fast: the check function is called on hand-made cases."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from torch.optim import Optimizer
from torch.optim import lr_scheduler as L
from torch.optim.swa_utils import SWALR

import conformance.checks.invalid  # noqa: F401  (registers the check)
from conformance.catalogue import CHECKS
from conformance.checks.invalid import invalid_arguments
from conformance.execution import execute
from conformance.harness import Case, Mismatch
from conformance.specs import SPECS, Derived, Spec, args_of, longer, overridden
from conformance.targets import Request, Target, bind, torch_builtins
from reference import SCHEDULES

#: Every value the targets below were built with, per argument (what the target was given).
SEEN: list[dict[str, Any]] = []


def target(obj: Any, spec: str | Spec, mapping: dict[str, Any] | None = None) -> Target:
    """`obj` bound to `spec` (a built-in's name, or a Spec of the test's own, bound as the
    built-in of its name and then swapped in) through `mapping`."""
    name = spec if isinstance(spec, str) else spec.name
    (bound,) = bind([(f"{__name__}:{obj.__qualname__}", obj)],
                    Request(spec=name, map=dict(mapping or {})))
    if isinstance(spec, Spec):
        bound.spec = spec
        bound.__dict__.pop("flags", None)
    return bound


def linear_case(**args: Any) -> Case:
    return Case([0.1, 0.2], {"start_factor": 0.5, "end_factor": 1.0, "total_iters": 4, **args}, 6)


class Ramp(L.LinearLR):
    """LinearLR under other names, refusing what LinearLR refuses."""

    def __init__(self, optimizer: Optimizer, start: float = 1 / 3, end: float = 1.0,
                 iters: int = 5, last_epoch: int = -1) -> None:
        SEEN.append({"start": start, "end": end, "iters": iters})
        super().__init__(optimizer, start, end, iters, last_epoch)


class LaxRamp(Ramp):
    """Ramp taking a start <= 0 for 1e-8 (no refusal)."""

    def __init__(self, optimizer: Optimizer, start: float = 1 / 3, end: float = 1.0,
                 iters: int = 5, last_epoch: int = -1) -> None:
        super().__init__(optimizer, max(start, 1e-8), end, iters, last_epoch)


class NoStart(L.LinearLR):
    """LinearLR without a start_factor argument (always 1/3)."""

    def __init__(self, optimizer: Optimizer, end_factor: float = 1.0, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        super().__init__(optimizer, 1 / 3, end_factor, total_iters, last_epoch)


RAMP_MAP = {"start_factor": "start", "end_factor": "end", "total_iters": "iters"}


# -- overrides -----------------------------------------------------------------------------
def test_longer_repeats_a_scalar_and_extends_a_list() -> None:
    make = longer("swa_lr").fn
    assert make({"swa_lr": 0.5}, [0.1, 0.2]) == [0.5, 0.5, 0.5]
    assert make({"swa_lr": [0.5, 0.7]}, [0.1, 0.2]) == [0.5, 0.7, 0.7]


def test_overridden_computes_derived_values_and_keeps_the_rest() -> None:
    twice = Derived("twice T_0", lambda a, lrs: 2 * a["T_0"])
    assert overridden({"T_0": twice, "eta_min": "x"}, {"T_0": 3}, [0.1]) == {"T_0": 6,
                                                                           "eta_min": "x"}


# -- translation through the binding -------------------------------------------------------
def test_a_renamed_argument_reaches_the_target_under_its_own_name() -> None:
    SEEN.clear()
    invalid_arguments(target(Ramp, "LinearLR", RAMP_MAP), linear_case())
    assert {"start": 0.0, "end": 1.0, "iters": 4} in SEEN  # start_factor=0.0, renamed
    assert not any("start_factor" in s for s in SEEN)


def test_a_renamed_argument_is_named_both_ways_in_the_failure() -> None:
    with pytest.raises(Mismatch) as caught:
        invalid_arguments(target(LaxRamp, "LinearLR", RAMP_MAP), linear_case())
    assert "start_factor (the target's start)=0.0" in caught.value.message
    assert "accepted it at construction" in caught.value.message
    assert "LaxRamp(opt, start=0.0, end=1.0, iters=4, **extra)" in caught.value.script


class LaxerRamp(Ramp):
    """Ramp taking any start and any end (clamped into range): no refusal at all."""

    def __init__(self, optimizer: Optimizer, start: float = 1 / 3, end: float = 1.0,
                 iters: int = 5, last_epoch: int = -1) -> None:
        super().__init__(optimizer, min(max(start, 1e-8), 1.0), min(max(end, 0.0), 1.0),
                         iters, last_epoch)


def test_one_failure_names_every_value_let_through() -> None:
    with pytest.raises(Mismatch) as caught:
        invalid_arguments(target(LaxerRamp, "LinearLR", RAMP_MAP), linear_case())
    first, _, rest = caught.value.message.partition("; also not refused: ")
    assert "start_factor (the target's start)=0.0" in first
    assert rest.split("; ") == ["start_factor (the target's start)=1.5",
                                "end_factor (the target's end)=1.5",
                                "end_factor (the target's end)=-0.1"]
    assert str(caught.value) == caught.value.message


def test_an_argument_the_map_drops_is_not_given() -> None:
    # NoStart cannot be given start_factor: its overrides are skipped; end_factor's are not.
    invalid_arguments(target(NoStart, "LinearLR", {"start_factor": None}),
                      linear_case(start_factor=1 / 3))


def test_a_list_the_map_takes_as_one_value_is_not_given() -> None:
    # A target taking swa_lr as one scalar would get a valid value from a list that is too
    # long (its equal values collapse): that override cannot be given, the others can.
    class OneSwaLR(SWALR):
        def __init__(self, optimizer: Optimizer, swa_lr: float, anneal_epochs: int = 10,
                     anneal_strategy: Any = "cos", last_epoch: int = -1) -> None:
            if isinstance(swa_lr, (list, tuple)):
                raise TypeError("swa_lr is one float")
            SEEN.append({"swa_lr": swa_lr})
            super().__init__(optimizer, swa_lr, anneal_epochs, anneal_strategy, last_epoch)

    OneSwaLR.__qualname__ = "OneSwaLR"
    SEEN.clear()
    case = Case([0.1, 0.2], {"swa_lr": 0.05, "anneal_epochs": 3, "anneal_strategy": "cos"}, 5)
    invalid_arguments(target(OneSwaLR, "SWALR", {"swa_lr": {"to": "swa_lr", "as": "scalar"}}),
                      case)
    assert SEEN and all(s["swa_lr"] == 0.05 for s in SEEN)  # never a collapsed list


def test_a_computed_argument_translates_the_invalid_value() -> None:
    SEEN.clear()
    doubled = {**RAMP_MAP, "end_factor": {"to": "end", "times": 2}}
    case = linear_case(end_factor=0.4)
    invalid_arguments(target(Ramp, "LinearLR", doubled), case)
    assert {"start": 0.5, "end": 3.0, "iters": 4} in SEEN  # end_factor=1.5, doubled
    assert {"start": 0.5, "end": -0.2, "iters": 4} in SEEN  # end_factor=-0.1, doubled


def test_a_value_the_map_cannot_translate_is_skipped() -> None:
    # eta_min="1e-3" plus 0.0 has no value: the override cannot be given, so a target that
    # would take the string is not blamed for it.
    class Lax(L.CosineAnnealingWarmRestarts):
        def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1,
                     eta_min: Any = 0.0, last_epoch: int = -1) -> None:
            super().__init__(optimizer, T_0, T_mult, float(eta_min), last_epoch)

    Lax.__qualname__ = "Lax"
    case = Case([0.1], {"T_0": 3, "T_mult": 1, "eta_min": 0.0}, 5)
    with pytest.raises(Mismatch, match="eta_min='1e-3'"):
        invalid_arguments(target(Lax, "CosineAnnealingWarmRestarts"), case)
    invalid_arguments(target(Lax, "CosineAnnealingWarmRestarts",
                             {"eta_min": {"to": "eta_min", "plus": 0.0}}), case)


def test_an_override_the_reference_accepts_is_skipped() -> None:
    spec = Spec(SCHEDULES["LinearLR"], invalid=({"end_factor": 0.5},))
    invalid_arguments(target(LaxRamp, spec, RAMP_MAP), linear_case())


# -- what counts as a refusal --------------------------------------------------------------
class AssertsT0(L.CosineAnnealingWarmRestarts):
    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        assert T_0 >= 1
        super().__init__(optimizer, T_0, T_mult, eta_min, last_epoch)


class SilentT0(L.CosineAnnealingWarmRestarts):
    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        if T_0 < 1:
            raise ValueError("  ")
        super().__init__(optimizer, T_0, T_mult, eta_min, last_epoch)


class LateTMult(L.CosineAnnealingWarmRestarts):
    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        super().__init__(optimizer, T_0, 1, eta_min, last_epoch)
        self.T_mult = T_mult


RESTARTS = Case([0.1], {"T_0": 2, "T_mult": 1, "eta_min": 0.0}, 8)


@pytest.mark.parametrize(("cls", "said"), [
    (AssertsT0, "building the target raised AssertionError"),
    (SilentT0, "raised ValueError with an empty message"),
    (LateTMult, "accepted it at construction, then step 2 raised ZeroDivisionError"),
])
def test_a_refusal_is_a_value_or_type_error_with_a_message_at_construction(
        cls: type, said: str) -> None:
    with pytest.raises(Mismatch, match=said) as caught:
        invalid_arguments(target(cls, "CosineAnnealingWarmRestarts"), RESTARTS)
    assert caught.value.script.startswith("import torch")


# -- the built-in specs --------------------------------------------------------------------
WITH_INVALID = sorted(name for name, spec in SPECS.items() if spec.invalid)


@pytest.mark.parametrize("name", WITH_INVALID)
def test_every_invalid_override_is_refused_by_the_reference(name: str) -> None:
    spec = SPECS[name]
    lrs = st.lists(st.floats(1e-4, 10.0), min_size=1, max_size=3)

    @settings(max_examples=15, suppress_health_check=list(HealthCheck))
    @given(lrs.flatmap(lambda g: st.tuples(st.just(g), args_of(spec, len(g)))))
    def refused(drawn: tuple[list[float], dict[str, Any]]) -> None:
        lrs, args = drawn
        try:
            spec.oracle(lrs, args)
        except ValueError:
            reject()
        for override in spec.invalid:
            assert set(override) <= set(spec.arg_names), override
            with pytest.raises(ValueError):
                spec.oracle(lrs, {**args, **overridden(override, args, lrs)})

    refused()


@pytest.mark.parametrize("path", [p for p, _ in torch_builtins()])
def test_torch_refuses_every_invalid_override_at_construction(path: str) -> None:
    (built,) = bind([(path, dict(torch_builtins())[path])], Request())
    check = CHECKS["construct.invalid_arguments"]
    if check.needs - built.flags:
        assert built.spec is not None and not built.spec.invalid
        return
    execute(check, built, profile=settings(max_examples=8, derandomize=True, database=None))
