"""Build an optimizer and a target from a drawn case, drive it through its protocol's driver,
and write a reproducer script for what was seen."""

from __future__ import annotations

import contextlib
import inspect
import json
import math
import traceback
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from conformance import drivers
from conformance.lambdas import Lam
from conformance.specs import Sub, on_subs
from conformance.targets import Target

_DRIVERS = drivers.__file__.removesuffix("c") if drivers.__file__ else "drivers.py"


class Mismatch(AssertionError):
    """A check's failure: what was expected, what was seen, where, and how to reproduce it."""

    def __init__(self, message: str, *, step: int | None = None, group: int | None = None,
                 expected: Any = None, actual: Any = None, ulps: float | None = None,
                 script: str = "", series: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.step = step
        self.group = group
        self.expected = expected
        self.actual = actual
        self.ulps = ulps
        self.script = script
        #: For trajectory checks: {"seen", "expected", "first"} lrs per step and group.
        self.series = series


@dataclass
class Case:
    """One drawn example: group lrs, constructor arguments, step count, metrics, optimizer."""

    lrs: list[float]
    args: dict[str, Any]
    steps: int
    metrics: list[float] | None = None
    optim: str = "sgd"

    def __repr__(self) -> str:
        return (f"Case(lrs={self.lrs!r}, args={self.args!r}, steps={self.steps}, "
                f"optim={self.optim!r}" + (f", metrics={self.metrics!r}" if self.metrics else "")
                + ")")

    def metric(self, n: int) -> float | None:
        """The metric of step n (1, 2, ...); runs longer than the case repeat its metrics."""
        if not self.metrics:
            return None if self.metrics is None else 1.0
        return self.metrics[(n - 1) % len(self.metrics)]


def optimizer(case: Case) -> torch.optim.Optimizer:
    """An optimizer with one param group per drawn lr (a float lr each)."""
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in case.lrs]
    if case.optim == "adam":
        return torch.optim.Adam(groups, lr=case.lrs[0])
    return torch.optim.SGD(groups, lr=case.lrs[0], momentum=0.9)


def optimizer_text(case: Case) -> str:
    """optimizer(case) as code, over a list `groups`: the defaults' lr is the first group's
    there too (a target may read it)."""
    if case.optim == "adam":
        return f"torch.optim.Adam(groups, lr={case.lrs[0]!r})"
    return f"torch.optim.SGD(groups, lr={case.lrs[0]!r}, momentum=0.9)"


def materialize(value: Any, opt: torch.optim.Optimizer) -> Any:
    """Sub descriptions -> torch schedulers built on `opt` (in order, as a user would)."""
    return on_subs(value, lambda s: getattr(torch.optim.lr_scheduler, s.name)(opt, **s.args))


def arguments(target: Target, case: Case) -> dict[str, Any]:
    """The target's keyword arguments for the case (sub-schedulers still as descriptions)."""
    return target.kwargs(case.args, case.lrs)


def _remember(exc: BaseException, case: Case) -> None:
    """The case a target's own exception came from (the run's, which a check may have
    changed from the drawn one), for its reproducer."""
    if not isinstance(exc, Mismatch) and not hasattr(exc, "conformance_case"):
        exc.conformance_case = case  # type: ignore[attr-defined]


class Run:
    """A target built on the case's optimizer and driven through its protocol's driver: the
    one way checks build, step, read, save and restore a target."""

    def __init__(self, target: Target, case: Case, opt: torch.optim.Optimizer | None = None,
                 **extra: Any) -> None:
        self.target, self.case = target, case
        self.driver = target.driver or drivers.Torch(target.obj)
        self.opt = optimizer(case) if opt is None else opt
        kwargs = {k: materialize(v, self.opt) for k, v in arguments(target, case).items()}
        kwargs.update(extra)
        try:
            if isinstance(self.driver, drivers.Wrapper):
                own = {k: kwargs.pop(k) for k in target.binding.own if k in kwargs}
                self.sched = self.driver.wrap(self.opt, kwargs, own)
            else:
                self.sched = self.driver.build(self.opt, kwargs)
        except TypeError as exc:
            refused = _refused(target, case, self.driver, kwargs)
            if refused is None:
                _remember(exc, case)
                raise
            raise refused from exc
        except Exception as exc:
            _remember(exc, case)
            raise
        if not _drivable(self.driver, self.sched):
            raise Mismatch(f"the target returned {type(self.sched).__name__} "
                           f"{self.sched!r:.80}, which {self.driver.title} cannot step",
                           actual=repr(self.sched)[:80],
                           script=script(target, case, ["print(sched)"]))
        self.n = 0
        self._call(self.driver.start, "the call after building", self.sched, self.opt)

    def _call(self, op: Any, what: str, *args: Any) -> Any:
        """A driver operation; a call the target's signature refuses (the TypeError or
        AttributeError is raised by the call itself, in the driver) is the target not
        following the protocol: its failure, not the suite's."""
        try:
            return op(*args)
        except (TypeError, AttributeError) as exc:
            frames = traceback.extract_tb(exc.__traceback__)
            if not frames or not frames[-1].filename.startswith(_DRIVERS):
                _remember(exc, self.case)
                raise
            raise Mismatch(
                f"the target does not follow {self.driver.title}: {what} raised "
                f"{type(exc).__name__}: {exc} (name its protocol with --scheduler-protocol, "
                "or drop a claim with \"claims\" in --scheduler-config)",
                step=self.n, actual=f"{type(exc).__name__}: {exc}",
                script=script(self.target, self.case, stepping(self.target, self.case,
                                                               max(self.n, 1)))) from None
        except Exception as exc:
            _remember(exc, self.case)
            raise

    def step(self) -> None:
        """The protocol's next step (a target's exception remembers this run's case)."""
        self.n += 1
        self._call(self.driver.step, f"step {self.n}", self.sched, self.opt, self.n,
                   self.case.metric(self.n))

    def jump(self, n: float) -> None:
        """Set the schedule to step n directly (step(epoch), or a counter protocol's call)."""
        self._call(self.driver.jump, f"jumping to step {n}", self.sched, self.opt, n)

    def lrs(self) -> list[float]:
        return group_lrs(self.opt)

    def save(self) -> Any:
        return self._call(self.driver.save, "saving its state", self.sched)

    def load(self, state: Any) -> None:
        self._call(self.driver.load, "restoring its state", self.sched, state)


def _drivable(driver: drivers.Driver, sched: Any) -> bool:
    if isinstance(driver, drivers.Wrapper):
        driver = driver.stepper
    if isinstance(driver, (drivers.Function, drivers.Factor)):
        return True
    if isinstance(driver, (drivers.Ignite, drivers.Callable_)):
        return callable(sched)
    return callable(getattr(sched, "step", None))


def _refused(target: Target, case: Case, driver: drivers.Driver,
             kwargs: dict[str, Any]) -> Mismatch | None:
    """A Mismatch when the target's signature does not take the case's arguments: the
    TypeError comes from the call itself, so its traceback ends in the suite, and it would
    read as the suite's internal error."""
    if isinstance(driver, drivers.Wrapper):
        return None
    positional, named = driver.arguments(None, kwargs)
    try:
        inspect.signature(target.obj).bind(*positional, **named)
        return None
    except ValueError:  # no signature to compare with
        return None
    except TypeError as why:
        hint = ""
        if target.spec is not None and case.args:
            example = json.dumps({next(iter(case.args)): "its_name"})
            hint = (f"; if it names them differently, map the {target.spec.name} spec's names "
                    f"to its own with --scheduler-map '{example}' (check_scheduler: arg_map=)")
        return Mismatch(f"{target.label} does not take the arguments it was given ({why})"
                        f"{hint}", actual=str(why), script=script(target, case, []))


def number(value: Any, what: str, **where: Any) -> float:
    """`value` as a float; a Mismatch naming `what` when it is no number (None, a string)."""
    try:
        return float(value)
    except (TypeError, ValueError, RuntimeError):
        raise Mismatch(f"{what} is {value!r:.80} ({type(value).__name__}), not a number",
                       actual=repr(value)[:80], **where) from None


def group_lrs(opt: torch.optim.Optimizer) -> list[float]:
    """The groups' lrs as floats; a Mismatch if one is not a real number (None, a string)."""
    try:  # every step of every check comes here: the named conversion only when this fails
        return [float(group["lr"]) for group in opt.param_groups]
    except (TypeError, ValueError, RuntimeError, KeyError):
        return [number(group.get("lr"), f"param group {g}'s lr", group=g)
                for g, group in enumerate(opt.param_groups)]


def start(target: Target, case: Case, **extra: Any) -> Run:
    """The target built on the case's optimizer, after one optimizer.step() (the order of
    correct use)."""
    run = Run(target, case, **extra)
    run.opt.step()
    return run


def trajectory(target: Target, case: Case) -> tuple[Run, list[list[float]]]:
    """Build, then step `case.steps` times; the group lrs after building and each step."""
    run = Run(target, case)
    seen = [run.lrs()]
    run.opt.step()
    for _ in range(case.steps):
        run.step()
        seen.append(run.lrs())
    return run, seen


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Warnings ignored: a check about anything else must neither fail on one nor print it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def quiet_trajectory(target: Target, case: Case) -> tuple[Run, list[list[float]]]:
    """`trajectory` with warnings silenced (for checks that are not about warnings)."""
    with quiet():
        return trajectory(target, case)


# -- reproducers ------------------------------------------------------------------------
def _code(value: Any) -> str:
    if isinstance(value, Sub):
        args = ", ".join(f"{k}={_code(v)}" for k, v in value.args.items())
        return f"lr_scheduler.{value.name}(opt, {args})"
    if isinstance(value, Lam):
        return f"Lam({value.kind!r}, {value.a!r})"
    if isinstance(value, list):
        return "[" + ", ".join(_code(v) for v in value) + "]"
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    return repr(value)


def _import_line(path: str) -> str:
    module, _, attr = path.partition(":")
    return f"from {module} import {attr.split('.')[0]}"


def replable(lines: Sequence[str]) -> str:
    """Lines that paste into the interactive interpreter as well as run from a file: no blank
    line inside a block (it would end the block there), and one after each block (the REPL
    needs it before a line that is not indented)."""
    out: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        top = not line.startswith((" ", "\t"))
        ends_block = bool(out) and (out[-1].startswith((" ", "\t")) or _compound(out[-1]))
        if top and out and (ends_block or line.startswith(("def ", "class "))):
            out.append("")
        out.append(line)
    if out and (out[-1].startswith((" ", "\t")) or _compound(out[-1])):
        out.append("")
    return "\n".join(out) + "\n"


def _compound(line: str) -> bool:
    """A compound statement on one line (`for x in y: f(x)`): the REPL ends it only at a
    blank line, as it does a block."""
    words = line.split(maxsplit=1)
    return bool(words) and words[0].rstrip(":") in (
        "for", "while", "if", "with", "try", "def", "class", "async")


def script(target: Target, case: Case, body: Sequence[str]) -> str:
    """A copy-paste script: `build()` makes the case's optimizer and target, then `body`."""
    driver = target.driver or drivers.Torch(target.obj)
    attr = target.path.partition(":")[2]
    groups = ", ".join(
        f'{{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": {lr!r}}}' for lr in case.lrs
    )
    optim = optimizer_text(case)
    named = arguments(target, case)  # under the target's own names, with computed values
    # build(**extra) passes more arguments (last_epoch=k to resume, verbose=True, ...).
    args = ", ".join([*(f"{k}={_code(v)}" for k, v in named.items()), "**extra"])
    first = next(iter(drivers._positional(target.obj)), None)
    by_name = (first is not None and first.name not in drivers.OPTIMIZER_NAMES
               and "optimizer" in {p.name for p in drivers.parameters(target.obj)})
    inner = driver.inner_path if isinstance(driver, drivers.Wrapper) else ""
    if isinstance(driver, drivers.Wrapper):
        own = ", ".join(f"{k}={_code(v)}" for k, v in named.items() if k in target.binding.own)
        args = ", ".join([*(f"{k}={_code(v)}" for k, v in named.items()
                            if k not in target.binding.own), "**extra"])
        call = driver.inner.call_text(inner.partition(":")[2], args, False)
        second = drivers._positional(target.obj)[1:2]
        takes_opt = bool(second) and second[0].name in (drivers.OPTIMIZER_NAMES
                                                        | drivers.OPTIMIZERS_NAMES)
        wrapper = ", ".join(p for p in ("inner", "opt" if takes_opt else "", own) if p)
        build = [f"inner = {call}", f"sched = {attr}({wrapper})"]
        if driver.outer is not None:
            build += driver.outer.build_lines("sched")[1:]
    elif first is not None and first.name in named and driver.takes_optimizer:
        build = driver.build_lines(f"{attr}({args})")  # torch < 2.4: ChainedScheduler(list)
    else:
        build = driver.build_lines(driver.call_text(attr, args, by_name))
    imports = ["import torch", "from torch.optim import lr_scheduler  # noqa: F401",
               _import_line(target.path)]
    if inner:
        imports.append(_import_line(inner))
    if "Lam(" in repr(case.args):
        imports.append("from conformance.lambdas import Lam")
    lines = [
        *imports,
        *driver.prelude(),
        "def make_opt():",
        f"    groups = [{groups}]",
        f"    return {optim}",
        "def build(opt=None, **extra):",
        "    opt = make_opt() if opt is None else opt",
        *(f"    {line}" for line in build),
        "    return opt, sched",
        "opt, sched = build()",
    ]
    if case.metrics is not None:
        # As Case.metric: no metrics means 1.0, and longer runs repeat them.
        lines.append(f"metrics = {case.metrics or [1.0]!r}")
    lines += list(body)
    return replable(lines)


def step_lines(target: Target, case: Case, n: str = "i + 1") -> list[str]:
    """The protocol's step `n` as script lines (Case.metric(n) where it takes a metric)."""
    driver = target.driver or drivers.Torch(target.obj)
    metric = ("metrics[i % len(metrics)]" if n == "i + 1"
              else f"metrics[({n} - 1) % len(metrics)]")
    return driver.step_lines(n, metric, arguments(target, case))


def jump_lines(target: Target, case: Case, n: str) -> list[str]:
    """The protocol's way to set the schedule to step `n`, as script lines."""
    driver = target.driver or drivers.Torch(target.obj)
    return driver.jump_lines(n, arguments(target, case))


def stepping(target: Target, case: Case, steps: int) -> list[str]:
    """Script lines that step the target as `trajectory` does, `steps` times."""
    return ["opt.step()", f"for i in range({steps}):",
            *(f"    {line}" for line in step_lines(target, case))]


def trajectory_script(target: Target, case: Case, step: int, group: int,
                      expected: float) -> str:
    """Reproducer of a wrong lr at `step` in `group`."""
    return script(target, case, [
        *stepping(target, case, step),
        f'print("step {step}, group {group}: expected", {expected!r}, '
        f'"got", opt.param_groups[{group}]["lr"])',
    ])
