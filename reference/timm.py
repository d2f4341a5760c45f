"""timm's schedulers (`timm.scheduler`, timm 1.0.31): cosine, tanh and polynomial cycles with
restarts, step, multi-step, warmup-stable-decay and the plateau schedule.

timm's protocol differs from torch's: the caller counts. After construction the groups hold
the value at t = 0, and `step(t)` (`step_update(t)` when `t_in_epochs` is false) sets the
value at t, so each schedule is a function of t (the plateau schedule excepted, which also
reads a metric). Every schedule starts with the same linear warmup from `warmup_lr_init`
to each group's lr over `warmup_t` steps.

The spec names are "timm." plus the class name. Formulas and rulings: docs/spec/timm.md.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import replace
from fractions import Fraction

from reference.base import CLOSED_ULPS, Param, Schedule, State, register
from reference.plateau import ReduceLROnPlateau

#: timm's API reference (the classes' docstrings) and the timmdocs tutorials, which document
#: the arguments one by one.
DOCS = "https://huggingface.co/docs/timm/reference/schedulers"
TUTORIALS = "https://timm.fast.ai"

#: Extra ulps for the warmup: timm adds t steps of (b - init) / W to init, the reference
#: evaluates init + (b - init) t / W; each rounds three or four times.
WARMUP_ULPS = 8.0

#: WSD's stable and decay functions, as its docstring lists them.
STABLE_FNS = ("constant", "rsqrt", "power")
DECAY_FNS = ("linear", "1-sqrt", "cosine", "power", "exp")


def _warmup(prefix: bool | None) -> tuple[Param, ...]:
    """warmup_t, warmup_lr_init and (unless `prefix` is None: always a prefix) warmup_prefix."""
    params = (
        Param("warmup_t", "int", 0, low=0, doc="W: steps of linear warmup (0: none)."),
        Param("warmup_lr_init", "float", 0.0, low=0.0,
              doc="The lr at t = 0 of the warmup, the same for every group."),
    )
    if prefix is None:
        return params
    return (*params, Param("warmup_prefix", "bool", prefix,
                           doc="The schedule starts after the warmup (t - W), not at t = 0."))


def _t_in_epochs() -> Param:
    return Param("t_in_epochs", "bool", True,
                 doc="Which call sets t: step(t) if true, step_update(t) if false; the "
                     "values are the same.")


class _Timm(Schedule):
    """A warmup from warmup_lr_init up to each group's lr b over W steps, then the schedule
    proper, `main(b, s)`, at s = t - W (a warmup prefix) or s = t."""

    source = DOCS
    warmup_t: int
    warmup_lr_init: float

    def prefixed(self) -> bool:
        """Whether the schedule proper starts after the warmup (s = t - W)."""
        return bool(self.params.get("warmup_prefix", True))

    def start(self, t: float) -> float:
        """s, the schedule's own time at step t >= W."""
        return t - self.warmup_t if self.prefixed() else t

    def warm(self, b: float, t: float) -> float:
        """init + (b - init) t / W: from warmup_lr_init at t = 0 towards b at t = W."""
        init = self.warmup_lr_init
        return init + (b - init) * t / self.warmup_t

    def main(self, b: float, s: float) -> float:
        raise NotImplementedError

    def main_ulps(self, s: float) -> float:
        return CLOSED_ULPS

    def lr_fn(self, group: int) -> Callable[[float], float]:
        b, W, warm, main, start = (self.base_lrs[group], self.warmup_t, self.warm, self.main,
                                   self.start)
        return lambda t: warm(b, t) if t < W else main(b, start(t))

    def lr(self, epoch: float) -> list[float]:
        return [self.lr_fn(g)(epoch) for g in range(self.groups)]

    def closed_ulps(self, epoch: float) -> float:
        if epoch < self.warmup_t:
            return CLOSED_ULPS + WARMUP_ULPS
        return self.main_ulps(self.start(epoch))

    def scale(self, lrs: Sequence[float]) -> list[float]:
        """The group's magnitude, with warmup_lr_init (the warmup's rounding is relative to
        the larger of init and b)."""
        init = abs(self.warmup_lr_init) if self.warmup_t else 0.0
        return [max(s, init) for s in super().scale(lrs)]


# -- cycles: cosine, tanh, polynomial ---------------------------------------------------------
def _cycle_params() -> tuple[Param, ...]:
    return (
        Param("t_initial", "int", low=1, doc="T0: the length of the first cycle."),
        Param("lr_min", "float", 0.0, low=0.0,
              doc="The end of each cycle's anneal and a lower bound on the lr after the "
                  "warmup; the same for every group."),
        Param("cycle_mul", "float", 1.0, low=1.0,
              doc="m: each cycle is m times as long as the one before."),
        Param("cycle_decay", "float", 1.0, low=0.0, low_open=True, high=1.0,
              doc="d: cycle i starts from b d^i."),
        Param("cycle_limit", "int", 1, low=1,
              doc="The number of cycles; lr_min after the last."),
    )


class _Cycles(_Timm):
    """Cycles i = 0, 1, ... of lengths T_i = T0 m^i, starting at S_i = T0 (m^i - 1)/(m - 1)
    (i T0 for m = 1): within cycle i, at r = (s - S_i) / T_i in [0, 1),
        lr = lr_min + max(b d^i - lr_min, 0) f(r),
    with the cycle's shape f (1 at r = 0 for cosine and poly); lr_min from cycle_limit on."""

    t_initial: int
    lr_min: float
    cycle_mul: float
    cycle_decay: float
    cycle_limit: int

    def validate(self) -> None:
        # The cycle starts S_i as exact rationals, extended as far as a step asks.
        self._mul = Fraction(self.cycle_mul)
        self._starts = [Fraction(0)]
        self._lengths = [Fraction(self.t_initial)]
        self._memo: dict[float, tuple[int, float] | None] = {}

    def cycle(self, s: float) -> tuple[int, float] | None:
        """(i, r): the cycle that schedule time s falls in and how far into it, in [0, 1);
        None past the last cycle.

        Exact: a cycle starts exactly where the sum of the cycle lengths before it ends (the
        rationals S_i), so a restart is never a step early or late, whatever the rounding of
        m^i or of a logarithm; r is the correctly rounded quotient.
        """
        if s in self._memo:
            return self._memo[s]
        x, limit = Fraction(s), self.cycle_limit
        found: tuple[int, float] | None
        if self.cycle_mul == 1:
            i = math.floor(x / self.t_initial)
            found = None if i >= limit else (i, float((x - i * self.t_initial) / self.t_initial))
        else:
            starts, lengths = self._starts, self._lengths
            while starts[-1] <= x and len(starts) <= limit:
                starts.append(starts[-1] + lengths[-1])
                lengths.append(lengths[-1] * self._mul)
            i = bisect_right(starts, x) - 1
            found = None if i >= limit else (i, float((x - starts[i]) / lengths[i]))
        if len(self._memo) < 4096:
            self._memo[s] = found
        return found

    def shape(self, r: float) -> float:
        """The anneal's factor at r in [0, 1)."""
        raise NotImplementedError

    def shape_ulps(self, r: float, rho: float) -> float:
        """The factor's rounding, in ulps of the group's scale, where r is off by rho U."""
        raise NotImplementedError

    def main(self, b: float, s: float) -> float:
        found = self.cycle(s)
        if found is None:
            return self.lr_min
        i, r = found
        peak = b * self.cycle_decay**i
        return self.lr_min + max(peak - self.lr_min, 0.0) * self.shape(r)

    def rho(self, i: int) -> float:
        """How far from r an implementation's r may sit, in units of U.

        With m = 1, r = (s - i T0) / T0 rounds once. With m != 1 a cycle's start is
        T0 (1 - m^i)/(1 - m) in floats, where 1 - m^i cancels: an absolute error of about
        U T0 m^i / (m - 1) on S_i, which is 2 U / (m - 1) of the cycle's length, plus the
        roundings of the start, the length and the quotient (5 U / (m - 1) + 3 U in all).
        """
        if self.cycle_mul == 1 or i == 0:
            return 1.0
        return 5.0 / (self.cycle_mul - 1.0) + 3.0

    def main_ulps(self, s: float) -> float:
        found = self.cycle(s)
        if found is None:
            return CLOSED_ULPS
        i, r = found
        return CLOSED_ULPS + self.shape_ulps(r, self.rho(i))

    def floor(self) -> list[float]:
        return [self.lr_min] * self.groups


@register
class CosineLR(_Cycles):
    """SGDR with k-decay: f(r) = (1 + cos(pi r^k)) / 2."""

    name = "timm.CosineLRScheduler"
    schema = (*_cycle_params(), *_warmup(False), _t_in_epochs(),
              Param("k_decay", "float", 1.0, low=0.0, low_open=True,
                    doc="k: the anneal runs over r^k (k-decay); 1: SGDR's cosine."))
    source = f"{DOCS}; {TUTORIALS}/SGDR; arXiv:1608.03983; arXiv:2004.05909"
    k_decay: float

    def shape(self, r: float) -> float:
        return 0.5 * (1.0 + math.cos(math.pi * r**self.k_decay))

    def shape_ulps(self, r: float, rho: float) -> float:
        """x = pi r^k carries rho U through its slope pi k r^(k-1), and rounds itself by
        about 4 |x| U (two powers, a product); the cosine's slope is |sin x| / 2."""
        if r == 0.0:
            return 0.0
        k = self.k_decay
        x = math.pi * r**k
        return 2.0 * abs(math.sin(x)) * (math.pi * k * r ** (k - 1.0) * rho + 4.0 * x)


@register
class TanhLR(_Cycles):
    """Hyperbolic-tangent decay: f(r) = (1 - tanh(L + (U - L) r)) / 2, from L = lb to U = ub.
    Unlike the cosine, f(0) is (1 - tanh L) / 2, just under 1."""

    name = "timm.TanhLRScheduler"
    schema = (*_cycle_params(), *_warmup(False), _t_in_epochs(),
              Param("lb", "float", -7.0, doc="L: tanh's argument at the start of a cycle."),
              Param("ub", "float", 3.0, doc="U > L: tanh's argument at the end of a cycle."))
    source = f"{DOCS}; {TUTORIALS}/tanh; arXiv:1806.01593"
    lb: float
    ub: float

    def validate(self) -> None:
        """lb < ub (the interval [L, U] of tanh's argument)."""
        super().validate()
        if not self.lb < self.ub:
            raise self.reject("ub", self.ub, f"ub > lb = {self.lb!r}")

    def shape(self, r: float) -> float:
        return 0.5 * (1.0 - math.tanh(self.lb + (self.ub - self.lb) * r))

    def shape_ulps(self, r: float, rho: float) -> float:
        """tanh's argument is off by (U - L) rho U plus about 3 (|L| + |U|) U of its own
        rounding; the slope is sech^2 / 2."""
        lb, ub = self.lb, self.ub
        y = lb + (ub - lb) * r
        sech2 = 1.0 / math.cosh(y) ** 2 if abs(y) < 350 else 0.0
        return 2.0 * sech2 * ((ub - lb) * rho + 3.0 * (abs(lb) + abs(ub)))


@register
class PolyLR(_Cycles):
    """Polynomial decay with k-decay: f(r) = (1 - r^k)^power."""

    name = "timm.PolyLRScheduler"
    schema = (*_cycle_params(), *_warmup(False), _t_in_epochs(),
              Param("power", "float", 0.5, low=0.0, low_open=True,
                    doc="The polynomial's power (1: linear)."),
              Param("k_decay", "float", 1.0, low=0.0, low_open=True,
                    doc="k: the decay runs over r^k (k-decay)."))
    source = f"{DOCS}; {TUTORIALS}/PolyLR; arXiv:2004.05909"
    power: float
    k_decay: float

    def shape(self, r: float) -> float:
        return (1.0 - r**self.k_decay) ** self.power

    def shape_ulps(self, r: float, rho: float) -> float:
        """1 - r^k is off by k r^(k-1) rho U plus 4 U; the power's slope p (1 - r^k)^(p-1)
        magnifies it near the end of a cycle for p < 1 (as PolynomialLR)."""
        k, p = self.k_decay, self.power
        left = 1.0 - r**k
        if left <= 0.0:  # r^k rounded to 1: only for cycles of ~1e16 steps
            return math.inf
        slope = k * r ** (k - 1.0) * rho if r > 0.0 else 0.0
        return 4.0 * p * left ** (p - 1.0) * (slope + 4.0) + 4.0


# -- step, multi-step ----------------------------------------------------------------------------
@register
class StepLR(_Timm):
    """b decay_rate^floor(s / decay_t): decayed every decay_t steps."""

    name = "timm.StepLRScheduler"
    schema = (Param("decay_t", "float", low=0.0, low_open=True,
                    doc="Steps between decays (a float is allowed)."),
              Param("decay_rate", "float", 1.0, low=0.0, low_open=True, high=1.0,
                    doc="The factor of each decay (1: none)."),
              *_warmup(True), _t_in_epochs())
    source = f"{DOCS}; {TUTORIALS}/stepLR"
    decay_t: float
    decay_rate: float

    def main(self, b: float, s: float) -> float:
        # The floor of the exact quotient, so that a decay lands exactly on a multiple of a
        # fractional decay_t (0.1 is not a tenth in binary).
        n = math.floor(Fraction(s) / Fraction(self.decay_t))
        return b * self.decay_rate**n


@register
class MultiStepLR(_Timm):
    """b decay_rate^n, n the number of milestones m <= s + 1 (timm's documented convention:
    milestone m applies from schedule index m - 1)."""

    name = "timm.MultiStepLRScheduler"
    schema = (Param("decay_t", "int_list", low=0,
                    doc="The milestones, sorted (a repeated milestone decays twice)."),
              Param("decay_rate", "float", 1.0, low=0.0, low_open=True, high=1.0,
                    doc="The factor of each decay (1: none)."),
              *_warmup(True), _t_in_epochs())
    source = f"{DOCS}; {TUTORIALS}/multistepLR"
    decay_t: tuple[int, ...]
    decay_rate: float

    def validate(self) -> None:
        """The milestones sorted (timm bisects them)."""
        if list(self.decay_t) != sorted(self.decay_t):
            raise self.reject("decay_t", list(self.decay_t), "a sorted list of ints >= 0")

    def main(self, b: float, s: float) -> float:
        return b * self.decay_rate ** bisect_right(self.decay_t, s + 1)


# -- warmup-stable-decay -------------------------------------------------------------------------
@register
class WSDLR(_Timm):
    """Warmup, then lr_min + (S - lr_min) decay(frac) at s = t - W, where
    S = max(b stable(s), lr_min) and frac = min(max(s - (T - D), 0) / D, 1): the stable phase
    for T - D steps, the decay over the last D of the T = t_initial steps, lr_min after."""

    name = "timm.WSDLRScheduler"
    schema = (
        Param("t_initial", "int", low=1, doc="T: the stable and decay phases' length."),
        Param("decay_t", "int", low=1, doc="D <= T: the decay phase's length."),
        Param("lr_min", "float", 0.0, low=0.0, doc="The lr at the end of the decay."),
        Param("stable_fn", "choice", "constant", choices=STABLE_FNS,
              doc="The stable phase's function of s."),
        Param("stable_timescale", "float", None, low=0.0, low_open=True, nullable=True,
              doc="tau of rsqrt and power; None: warmup_t."),
        Param("stable_power", "float", 0.5, low=0.0, low_open=True,
              doc="The exponent of the power stable function."),
        Param("decay_fn", "choice", "1-sqrt", choices=DECAY_FNS,
              doc="The decay's function of frac (a callable is out of the spec's scope)."),
        Param("decay_power", "float", 0.5, low=0.0, low_open=True,
              doc="The exponent of the power decay."),
        Param("decay_ratio", "float", 0.1, low=0.0, low_open=True, high=1.0, high_open=True,
              doc="r: the exp decay's final fraction before normalisation."),
        *_warmup(None), _t_in_epochs())
    source = DOCS
    t_initial: int
    decay_t: int
    lr_min: float
    stable_fn: str
    stable_timescale: float | None
    stable_power: float
    decay_fn: str
    decay_power: float
    decay_ratio: float

    def validate(self) -> None:
        """decay_t <= t_initial; a positive timescale for a decaying stable function."""
        if self.decay_t > self.t_initial:
            raise self.reject("decay_t", self.decay_t,
                              f"an int in [1, t_initial = {self.t_initial}]")
        tau = self.stable_timescale if self.stable_timescale is not None else self.warmup_t
        if self.stable_fn != "constant" and tau <= 0:
            raise self.reject("stable_timescale", self.stable_timescale,
                              f"a float > 0 with stable_fn={self.stable_fn!r} and no warmup "
                              "(its default, warmup_t, is 0)")
        self._tau = float(tau)

    def stable(self, s: float) -> float:
        """1 for constant; (1 + s / tau)^-p for rsqrt (p = 1/2) and power."""
        if self.stable_fn == "constant":
            return 1.0
        p = 0.5 if self.stable_fn == "rsqrt" else self.stable_power
        return (1.0 + s / self._tau) ** -p

    def decay(self, frac: float) -> float:
        """From 1 at frac = 0 to 0 at frac = 1, by decay_fn."""
        fn = self.decay_fn
        if fn == "linear":
            return 1.0 - frac
        if fn == "1-sqrt":
            return 1.0 - math.sqrt(frac)
        if fn == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * frac))
        if fn == "power":
            return 1.0 - frac**self.decay_power
        r = self.decay_ratio
        return (r**frac - r) / (1.0 - r)

    def main(self, b: float, s: float) -> float:
        steady = max(b * self.stable(s), self.lr_min)
        into = s - (self.t_initial - self.decay_t)
        if into <= 0:
            return steady
        return self.lr_min + (steady - self.lr_min) * self.decay(min(into / self.decay_t, 1.0))

    def main_ulps(self, s: float) -> float:
        """The stable power's rounding (p U), and the decay's: pi frac / 2 for the cosine,
        and for exp the cancellation of r^frac - r over 1 - r."""
        ulps = CLOSED_ULPS
        if self.stable_fn != "constant":
            ulps += 4.0 * (0.5 if self.stable_fn == "rsqrt" else self.stable_power)
        if s > self.t_initial - self.decay_t:
            if self.decay_fn == "cosine":
                ulps += 2.0 * math.pi
            elif self.decay_fn == "power":
                ulps += 4.0 * self.decay_power
            elif self.decay_fn == "exp":
                r = self.decay_ratio
                ulps += 4.0 * (1.0 + abs(math.log(r))) / (1.0 - r)
        return ulps

    def floor(self) -> list[float]:
        return [self.lr_min] * self.groups


# -- plateau -------------------------------------------------------------------------------------
@register
class PlateauLR(Schedule):
    """The warmup over steps 1 ... W (metrics ignored), then torch's ReduceLROnPlateau rules
    (reference/plateau.py) on the metric of each later step, with timm's names: factor =
    decay_rate, patience = patience_t, cooldown = cooldown_t, min_lr = lr_min, and
    threshold_mode 'rel', eps 1e-8 (torch's defaults, which timm does not expose)."""

    name = "timm.PlateauLRScheduler"
    schema = (
        Param("decay_rate", "float", 0.1, low=0.0, high=1.0, high_open=True,
              doc="factor: new_lr = lr * decay_rate."),
        Param("patience_t", "int", 10, low=0,
              doc="patience: bad steps tolerated; the lr drops at the next one."),
        Param("threshold", "float", 1e-4, low=0.0, doc="How much better counts as better."),
        Param("cooldown_t", "int", 0, low=0, doc="cooldown: steps after a drop not counted."),
        *_warmup(None),
        Param("lr_min", "float", 0.0, low=0.0, doc="min_lr: the lower bound of every lr."),
        Param("mode", "choice", "max", choices=("min", "max"),
              doc="Whether a lower or a higher metric is better (timm's default: max)."),
    )
    source = f"{DOCS}; {TUTORIALS}/plateau"
    closed = False
    needs_metric = True

    decay_rate: float
    patience_t: int
    threshold: float
    cooldown_t: int
    warmup_t: int
    warmup_lr_init: float
    lr_min: float
    mode: str

    def validate(self) -> None:
        self._plateau = ReduceLROnPlateau(
            self.base_lrs, mode=self.mode, factor=self.decay_rate, patience=self.patience_t,
            threshold=self.threshold, threshold_mode="rel", cooldown=self.cooldown_t,
            min_lr=self.lr_min, eps=1e-8)

    def warm(self, e: int) -> tuple[float, ...]:
        """The warmup's lrs at step e <= W: from warmup_lr_init at 0 to b at W."""
        W, init = self.warmup_t, self.warmup_lr_init
        if e >= W:
            return self.base_lrs
        return tuple(init + (b - init) * e / W for b in self.base_lrs)

    def initial(self) -> State:
        """warmup_lr_init in every group if there is a warmup, else the groups' lrs; the
        plateau's counters as ReduceLROnPlateau starts them."""
        return State(0, self.warm(0), data=self._plateau.initial().data)

    def step(self, state: State, metric: float | None = None) -> State:
        """Step e = state.epoch + 1: the warmup's value while e <= W, whatever the metric;
        then one ReduceLROnPlateau step on the current lrs (none without a metric)."""
        e = int(state.epoch) + 1
        if e <= self.warmup_t:
            return replace(state, epoch=e, lrs=self.warm(e))
        if metric is None:
            return replace(state, epoch=e)
        return replace(self._plateau.step(state, metric), epoch=e)

    def closed_ulps(self, epoch: float) -> float:
        """The warmup's rounding, which the reductions after it carry along relatively."""
        return CLOSED_ULPS + (WARMUP_ULPS if self.warmup_t else 0.0)

    def scale(self, lrs: Sequence[float]) -> list[float]:
        init = abs(self.warmup_lr_init) if self.warmup_t else 0.0
        return [max(abs(b), abs(v), self.lr_min, init)
                for b, v in zip(self.base_lrs, lrs, strict=True)]

    def floor(self) -> list[float]:
        return [self.lr_min] * self.groups


#: The family's spec names.
FAMILY = tuple(cls.name for cls in (
    CosineLR, TanhLR, StepLR, MultiStepLR, PolyLR, WSDLR, PlateauLR))
