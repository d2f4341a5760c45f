"""The specs of NeMo's lr policies (reference/nemo.py): the classes of
`nemo.core.optim.lr_scheduler`, built `Cls(optimizer, **args)` with keyword-only arguments and
stepped as torch LRSchedulers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import strategies as st

from conformance.specs import Args, ArgsFor, Derived, Spec, register
from reference import nemo as policies
from reference.base import Schedule

MODULE = "nemo.core.optim.lr_scheduler"

Names = tuple[str, str]
WARMUP: Names = ("warmup_steps", "warmup_ratio")
HOLD: Names = ("hold_steps", "hold_ratio")
CONSTANT: Names = ("constant_steps", "constant_ratio")

#: Ratios whose product with max_steps rounds below an integer (int(0.29 * 100) == 28).
RAW_RATIOS = (None, 0.1, 0.29, 0.5, 0.7)


def _total() -> st.SearchStrategy[int]:
    """max_steps: tiny, medium, or past the step cap (the end is then never reached)."""
    return st.one_of(st.integers(1, 10), st.integers(11, 300), st.integers(301, 100_000))


def _min_lr() -> st.SearchStrategy[float]:
    """0, SquareAnnealing's default, or an lr below the suite's group lrs (>= 1e-4)."""
    return st.one_of(st.just(0.0), st.just(1e-5), st.floats(0.0, 1e-4))


@st.composite
def _length(draw: st.DrawFn, names: Names, low: int, room: int,
            total: int | None) -> tuple[Args, int]:
    """A phase of `low` to `room` steps, given as steps, as a ratio of max_steps, or (when it
    may be 0) left out: its arguments and its length."""
    steps, ratio = names
    ways = ["steps", *(["ratio"] if total else []), *([] if low else ["absent"])]
    way = draw(st.sampled_from(ways))
    if way == "absent":
        return {}, 0
    n = draw(st.one_of(st.integers(low, min(low + 3, room)), st.integers(low, min(room, 60)),
                       st.integers(low, room)))
    if way == "steps" or total is None:
        return {steps: n}, n
    # (n + 1/2) / M lands safely on n; the raw ratios test the floor of a rounded product.
    r = 1.0 if n == total else (n + 0.5) / total
    raw = draw(st.sampled_from(RAW_RATIOS))
    if raw is not None and low <= int(raw * total) <= room:
        r = raw
    return {ratio: r}, int(r * total)


def plan(phases: tuple[Names, ...], *, required: bool = True, strict: bool = True,
         first: int = 0, more: Mapping[str, st.SearchStrategy[Any]] | None = None) -> ArgsFor:
    """Arguments whose phases (in order) fit before max_steps (strictly before it where the
    annealing divides by the steps left), the first at least `first` long; max_steps may be
    None unless `required`; min_lr and `more` drawn as given."""

    @st.composite
    def draw_args(draw: st.DrawFn) -> Args:
        total = draw(_total() if required else st.one_of(st.none(), _total()))
        args: Args = {} if total is None else {"max_steps": total}
        room = 60 if total is None else total - strict
        for i, names in enumerate(phases):
            part, n = draw(_length(names, first if i == 0 else 0, room, total))
            args.update(part)
            room -= n
        args["min_lr"] = draw(_min_lr())
        args.update({key: draw(value) for key, value in (more or {}).items()})
        return args

    return lambda groups: draw_args()


def _horizon(a: Args) -> int:
    """Past max_steps (every phase ends by it); 65 steps without one."""
    return (a.get("max_steps") or 60) + 5


def _noam_horizon(a: Args) -> int:
    """Well past the warmup's peak, whatever max_steps (Noam has no end)."""
    return int(a.get("warmup_steps") or 0) + 100 if "warmup_ratio" not in a else 200


_POWER: dict[str, st.SearchStrategy[Any]] = {
    "power": st.one_of(st.sampled_from([1.0, 2.0, 0.5]), st.floats(0.1, 4.0)),
    "cycle": st.booleans()}
_D_MODEL = st.one_of(st.sampled_from([1, 64, 512, 1024]), st.integers(1, 8192))
_DECAY_RATE = st.one_of(st.sampled_from([0.5, 1.0]), st.floats(0.05, 3.0))


def _both(names: Names) -> dict[str, Any]:
    """A phase given both as steps and as a ratio (NeMo: "Either use particular number of step
    or ratio")."""
    steps, ratio = names
    return {steps: 2, ratio: 0.1}


#: A warmup one step longer than max_steps (the ratio left out).
_PAST_END = {"warmup_steps": Derived("warmup_steps one more than max_steps",
                                     lambda a, lrs: a["max_steps"] + 1), "warmup_ratio": None}


def invalid(phases: tuple[Names, ...], *, required: bool = True,
            more: tuple[dict[str, Any], ...] = ()) -> tuple[dict[str, Any], ...]:
    """What the schemas refuse (docs/spec.md, "Invalid arguments"): each phase given both ways,
    a ratio above 1 (its steps left out), a warmup past max_steps (where max_steps is
    required), and `more`."""
    out = [_both(names) for names in phases]
    out += [{ratio: 1.5, steps: None} for steps, ratio in phases]
    if required and WARMUP in phases:
        out.append(_PAST_END)
    return (*out, *more)


def _add(schedule: type[Schedule], args: ArgsFor,
         horizon: Callable[[Args], int] = _horizon,
         refused: tuple[dict[str, Any], ...] = ()) -> None:
    # LRScheduler subclasses whose get_lr is a closed form of last_epoch: step(epoch) lands on
    # it.
    cls = schedule.name.removeprefix("nemo.")
    register(Spec(schedule, args, horizon, epoch_arg=True,
                  binds=(f"{MODULE}:{cls}",), invalid=refused))


_add(policies.WarmupPolicy, plan((WARMUP,), required=False, strict=False),
     refused=invalid((WARMUP,), required=False))
_add(policies.WarmupHoldPolicy, plan((WARMUP, HOLD), required=False, strict=False),
     refused=invalid((WARMUP, HOLD), required=False))
_add(policies.SquareAnnealing, plan((WARMUP,)), refused=invalid((WARMUP,)))
_add(policies.SquareRootAnnealing, plan((WARMUP,)), refused=invalid((WARMUP,)))
_add(policies.CosineAnnealing, plan((WARMUP, CONSTANT)), refused=invalid((WARMUP, CONSTANT)))
_add(policies.NoamAnnealing, plan((WARMUP,), required=False, strict=False,
                                  more={"d_model": _D_MODEL}), _noam_horizon,
     refused=invalid((WARMUP,), required=False, more=({"d_model": 0},)))
_add(policies.WarmupAnnealing, plan((WARMUP,)), refused=invalid((WARMUP,)))
_add(policies.InverseSquareRootAnnealing, plan((WARMUP,), strict=False),
     refused=invalid((WARMUP,)))
_add(policies.PolynomialDecayAnnealing, plan((WARMUP,), more=_POWER), refused=invalid((WARMUP,)))
_add(policies.PolynomialHoldDecayAnnealing, plan((WARMUP, HOLD), more=_POWER),
     refused=invalid((WARMUP, HOLD)))
_add(policies.NoamHoldAnnealing, plan((WARMUP, HOLD), strict=False, first=1,
                                      more={"decay_rate": _DECAY_RATE}),
     refused=invalid((WARMUP, HOLD)))
_add(policies.WarmupHoldAnnealLinear, plan((WARMUP, HOLD)), refused=invalid((WARMUP, HOLD)))
_add(policies.WarmupHoldAnnealOneMinusSquareRoot, plan((WARMUP, HOLD)),
     refused=invalid((WARMUP, HOLD)))
# T5's constant lr is 1 / sqrt(constant_steps): none is no schedule.
_add(policies.T5InverseSquareRootAnnealing, plan((CONSTANT,), strict=False, first=1),
     refused=invalid((CONSTANT,), more=({"constant_steps": 0, "constant_ratio": None},)))
