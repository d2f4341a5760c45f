"""Running one check on one target safely: every example under a time limit, and the
process's global state restored afterwards, whatever the target did to it."""

from __future__ import annotations

import functools
import os
import random
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hypothesis
from hypothesis import HealthCheck, Phase, given, settings

from conformance.targets import Target

if TYPE_CHECKING:  # the harness imports torch: not at plugin start-up
    from conformance.harness import Case, Mismatch

#: Seconds one example may take before it counts as hung (--conformance-timeout).
TIMEOUT = 30.0

#: Targets that hung in this process: their later checks fail at once instead of hanging too.
HUNG: dict[str, str] = {}

_SUITE = str(Path(__file__).resolve().parent) + os.sep


class Hung(BaseException):
    """An example outlived the time limit. A BaseException, not an Exception, so that
    Hypothesis stops at once instead of shrinking, that is re-running, a hanging example."""

    def __init__(self, seconds: float, case: Case | None = None) -> None:
        super().__init__(f"an example did not return within {seconds:g} s")
        self.seconds = seconds
        self.case = case


@contextmanager
def time_limit(seconds: float | None, case: Case | None) -> Iterator[None]:
    """Raise Hung in the running code after `seconds` (main thread, where SIGALRM exists)."""
    usable = (seconds and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return
    assert seconds is not None

    def fire(signum: int, frame: Any) -> None:
        raise Hung(seconds, case)

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def isolated() -> Iterator[None]:
    """Restore what a target may change: warnings filters, torch's default dtype, grad mode
    and thread count, the random generators (random, numpy, torch), sys.modules entries,
    os.environ, the working directory, sys.stdout and sys.stderr."""
    import numpy
    import torch

    filters, show = list(warnings.filters), warnings.showwarning
    dtype, grad = torch.get_default_dtype(), torch.is_grad_enabled()
    threads = torch.get_num_threads()
    py_rng, np_rng, torch_rng = random.getstate(), numpy.random.get_state(), torch.get_rng_state()
    modules, env, cwd = dict(sys.modules), dict(os.environ), os.getcwd()
    out, err = sys.stdout, sys.stderr
    try:
        yield
    finally:
        warnings.filters[:] = filters  # type: ignore[index]
        warnings.showwarning = show
        warnings._filters_mutated()  # type: ignore[attr-defined]  # resets "once" registries
        torch.set_default_dtype(dtype)
        torch.set_grad_enabled(grad)
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        random.setstate(py_rng)
        numpy.random.set_state(np_rng)
        torch.set_rng_state(torch_rng)
        for name, module in modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
        if os.environ != env:
            os.environ.clear()
            os.environ.update(env)
        if os.getcwd() != cwd:
            os.chdir(cwd)
        sys.stdout, sys.stderr = out, err


@functools.cache
def warm_up() -> None:
    """Build and step an optimizer once: torch imports its compiler (seconds) on the first
    optimizer, and that must not count against the first example's time limit."""
    from conformance.harness import Case, optimizer

    optimizer(Case([0.1], {}, 0)).step()


def execute(check: Any, target: Target, timeout: float | None = TIMEOUT,
            seed: Any = None, profile: settings | None = None) -> float | None:
    """Run `check` on `target` (once, or under Hypothesis: `profile`, else the active one;
    `seed` for profiles that are not derandomized), isolated and under the time limit;
    return the largest error in ulps the check reported. A hung example raises a Mismatch
    with a reproducer of its case."""
    from conformance.harness import Mismatch

    warm_up()

    if target.label in HUNG:
        raise Mismatch(f"not run: the target hung in {HUNG[target.label]} (no example of a "
                       "hanging target is run twice)")
    worst: float | None = None

    def body(case: Case) -> None:
        nonlocal worst
        try:
            with time_limit(timeout, case):
                got = check.func(target, case)
        except Exception as exc:
            # The case a target's own exception came from, for its reproducer.
            if not isinstance(exc, Mismatch) and not hasattr(exc, "conformance_case"):
                exc.conformance_case = case  # type: ignore[attr-defined]
            raise
        if got is not None:
            worst = max(worst or 0.0, got)

    current = profile or settings()
    try:
        with isolated():
            drawn = drawn_cases(target, current, seed)
            try:
                # The cases every check of the target sees, drawn once: a check that passes
                # on all of them passes under Hypothesis too, which would draw the same.
                for case in drawn:
                    body(case)
                return worst
            except (Exception, Hung) as exc:
                if isinstance(exc, Hung):
                    raise
            # A failure: Hypothesis runs the same cases again, then shrinks and reports.
            worst = None
            _hypothesis(target, current, seed, body)()
    except Hung as hung:
        HUNG[target.label] = check.id
        raise hung_mismatch(target, hung) from None
    return worst


def _hypothesis(target: Target, current: settings, seed: Any,
                action: Callable[[Case], None]) -> Callable[[], None]:
    """The Hypothesis test of a check on the target's cases: every check and the drawing of
    the cases share this one `example` function, so a derandomized (or seeded) run draws the
    same cases for each of them."""
    from conformance.catalogue import cases

    def example(case: Case) -> None:
        action(case)

    test = settings(
        current, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.filter_too_much],
        phases=[p for p in current.phases if p is not Phase.explain],
    )(given(cases(target))(example))
    if seed is not None and not current.derandomize:
        test = hypothesis.seed(seed)(test)
    return test


#: The cases drawn per target, profile and seed (one process: a run, or an xdist worker).
DRAWN: dict[tuple[str, Any, Any], list[Case]] = {}


def drawn_cases(target: Target, current: settings, seed: Any) -> list[Case]:
    """The cases Hypothesis draws for the target's checks, drawn once."""
    key = (target.label, repr(current), None if current.derandomize else seed)
    if key not in DRAWN:
        found: list[Case] = []
        _hypothesis(target, current, seed, found.append)()
        DRAWN[key] = found
    return DRAWN[key]


def hung_mismatch(target: Target, exc: Hung) -> Mismatch:
    """A hung example as a failure with a reproducer of the case that hung."""
    from conformance.harness import Mismatch, script, stepping

    message = (f"{exc} (time limit: --conformance-timeout); the target's later checks "
               "are not run")
    if exc.case is None:
        return Mismatch(message)
    return Mismatch(message, script=script(target, exc.case,
                                           stepping(target, exc.case, exc.case.steps)))


@contextmanager
def quiet_drawing() -> Iterator[None]:
    """Drawing while the plugin binds its targets (pytest's configure) is deliberate: one
    probe per target, once. Hypothesis warns about draws during plugin start-up."""
    from hypothesis.errors import HypothesisSideeffectWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HypothesisSideeffectWarning)
        yield


class _Built(Exception):
    def __init__(self, built: Any) -> None:
        self.built = built


def sample(target: Target, timeout: float = TIMEOUT) -> Any:
    """What the target builds on a drawn case (the first of a few derandomized cases that
    builds), or None: isolated and under the time limit, its output discarded."""
    import contextlib
    import io

    from conformance.catalogue import cases
    from conformance.harness import Run, quiet

    warm_up()

    def body(case: Case) -> None:
        with time_limit(timeout, case), quiet():
            try:
                built = Run(target, case).sched
            except Exception:
                return
        raise _Built(built)

    test = settings(max_examples=10, derandomize=True, database=None, deadline=None,
                    suppress_health_check=list(HealthCheck), phases=[Phase.generate])(
        given(cases(target, steps_cap=1))(body))
    sink = io.StringIO()
    try:
        with isolated(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), \
                quiet_drawing():
            test()
    except _Built as found:
        return found.built
    except BaseException:  # a target that cannot be built stays unprobed
        return None
    return None


def origin(exc: BaseException) -> str:
    """'suite' when the exception was raised in the suite's own code (a bug to report),
    else 'target' (the target, or code it called, raised)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if isinstance(exc, AttributeError) and _foreign(getattr(exc, "obj", None)):
        # The suite asked the target for a scheduler method it lacks (a look-alike without
        # state_dict or get_last_lr): the target's failure, not the suite's.
        return "target"
    return "suite" if frames and frames[-1].filename.startswith(_SUITE) else "target"


def _foreign(obj: Any) -> bool:
    """An object of a type the target defines: not the suite's, torch's or Python's (an
    AttributeError on those is a bug of the suite)."""
    module = getattr(type(obj), "__module__", "") or ""
    return obj is not None and module.partition(".")[0] not in (
        "conformance", "reference", "torch", "builtins", "hypothesis")


def satisfiable(target: Target) -> str | None:
    """None when the target's fixed values and domains leave valid cases to draw; else why
    not (the spec's last refusal), for a usage error before any example runs."""
    from hypothesis.errors import NoSuchExample, Unsatisfiable

    from conformance.catalogue import REJECTED, cases

    REJECTED.pop(target.label, None)
    try:
        with quiet_drawing():
            hypothesis.find(cases(target, steps_cap=1), lambda case: True,
                            settings=settings(max_examples=200, derandomize=True, database=None,
                                              deadline=None,
                                              suppress_health_check=list(HealthCheck),
                                              phases=[Phase.generate]))
    except (NoSuchExample, Unsatisfiable):
        return REJECTED.get(target.label, "no drawn case satisfies the spec's constraints")
    return None
