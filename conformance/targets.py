"""Resolve `--scheduler` strings into targets: the object, its spec, how it takes the spec's
arguments (conformance.binding), the driver of its protocol (conformance.drivers) and what it
claims. Everything a check needs to know about a target is computed here, once, when it is
bound."""

from __future__ import annotations

import difflib
import importlib
import inspect
import json
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from conformance import drivers
from conformance.binding import Binding, UsageFault, make, required_of, target_names
from conformance.drivers import Driver, NoProtocol
from conformance.specs import SPECS, Spec, bound_spec, user_spec

__all__ = ["CLAIMS", "Target", "UsageFault", "bind", "build_targets", "resolve"]

#: What a target can claim beyond its spec, in words (a config's "claims" adds or drops them).
CLAIMS = {
    "class": "the target is a class",
    "torch_class": "the target is one of torch's scheduler classes or a subclass of one",
    "lr_scheduler": "the target is a torch LRScheduler (it composes with torch's schedulers)",
    "torch_warnings": "the target inherits torch's LRScheduler.step: its warning texts, "
                      "step-order tracking and step(epoch) deprecation",
    "last_epoch": "the target takes last_epoch to resume, and counts its steps in it",
    "get_last_lr": "the target has get_last_lr()",
    "state_dict": "the target saves and restores its state",
    "jump": "the target can be set to any step directly (step(epoch), or a counter)",
    "own_closed_form": "the target has _get_closed_form_lr()",
    "per_group_lrs": "the target gives each param group its own lr",
    "no_metrics": "the target's steps take no metric",
}


@dataclass
class Target:
    """One scheduler under test, bound to its spec and driver."""

    label: str
    path: str
    obj: Any
    spec: Spec | None
    binding: Binding = field(default_factory=lambda: Binding(None))
    driver: Driver | None = None
    #: What the target claims (keys of CLAIMS).
    claims: frozenset[str] = frozenset()
    #: The class of what the target builds, where known (a factory's product).
    kind: Any = None
    #: The checks to run (ids or families; None: every applicable one).
    selected: frozenset[str] | None = None

    def selects(self, check: Any) -> bool:
        return self.selected is None or bool({check.id, check.family} & self.selected)

    @property
    def is_class(self) -> bool:
        return inspect.isclass(self.obj)

    @property
    def fixed(self) -> dict[str, Any]:
        """Spec arguments fixed by the user, under the spec's names."""
        return self.binding.fixed

    @cached_property
    def flags(self) -> frozenset[str]:
        """The spec's capabilities (what the formula documents) and the target's claims."""
        spec = self.spec.flags if self.spec else frozenset({"atomic"})
        return spec | self.claims

    def kwargs(self, args: dict[str, Any], lrs: list[float]) -> dict[str, Any]:
        """The target's keyword arguments for drawn spec arguments `args`."""
        return self.binding.kwargs(args, lrs)


def torch_builtins() -> list[tuple[str, Any]]:
    """Every torch built-in scheduler: torch.optim.lr_scheduler's public classes and SWALR."""
    from torch.optim import lr_scheduler, swa_utils

    out = []
    for name in lr_scheduler.__all__:
        obj = getattr(lr_scheduler, name)
        if inspect.isclass(obj) and name != "LRScheduler":
            out.append((f"torch.optim.lr_scheduler:{name}", obj))
    out.append(("torch.optim.swa_utils:SWALR", swa_utils.SWALR))
    return out


def importable_cwd() -> None:
    """Make the current directory importable, as `python -m pytest` has it: a user's package
    is found where they stand (the `pytest` script puts its own bin folder first instead)."""
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))


def _import(module: str, option: str = "--scheduler") -> Any:
    importable_cwd()
    try:
        imported = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        parent, _, leaf = module.rpartition(".")
        if parent and hasattr(_quiet_import(parent), leaf):
            raise UsageFault(
                f"{option}: {module!r} is not a module; {leaf} is an attribute of {parent}: "
                f"write {parent}:{leaf}") from None
        raise UsageFault(
            f"{option}: cannot import module {module!r} ({exc}); check the spelling, install "
            f"the package that provides it, or run pytest from the directory that has it "
            f"(now {Path.cwd()})"
        ) from None
    except Exception as exc:  # the user's module may raise anything while importing
        raise UsageFault(
            f"{option}: importing {module!r} raised {type(exc).__name__}: {exc}; "
            "fix the module so that it imports cleanly"
        ) from None
    _drop_placeholders()
    return imported


def _quiet_import(module: str) -> Any:
    """The module, or None where it does not import."""
    try:
        return importlib.import_module(module)
    except Exception:
        return None


def _drop_placeholders() -> None:
    """Forget lazy placeholder modules that raise when read (speechbrain registers some for
    optional dependencies): Hypothesis reads `__file__` of every module it finds, and would
    fail on them. The package itself keeps its references."""
    for name, module in list(sys.modules.items()):
        try:
            getattr(module, "__file__", None)
        except Exception:
            del sys.modules[name]


def looks_like_scheduler(obj: Any) -> bool:
    """A class with step() or __call__ (a scheduler, a look-alike, a handler), or a
    function (a factory, or a function of the step)."""
    if inspect.isclass(obj):
        return callable(getattr(obj, "step", None)) or "__call__" in {
            k for b in obj.__mro__[:-1] for k in vars(b)}
    return inspect.isfunction(obj) or inspect.ismethod(obj) or (
        callable(obj) and not isinstance(obj, (type(json), str, bytes, int, float, list, dict))
    )


def resolve(text: str) -> list[tuple[str, Any]]:
    """`MODULE:ATTR`, `MODULE` or `torch` -> [(path, obj)]."""
    text = text.strip()
    if not text:
        raise UsageFault("--scheduler: empty value; give MODULE:ATTR, MODULE, or torch")
    if text == "torch":
        return torch_builtins()
    if ":" in text:
        module, _, attr = text.partition(":")
        if not module or not attr:
            raise UsageFault(
                f"--scheduler {text!r}: expected MODULE:ATTR, for example "
                "torch.optim.lr_scheduler:StepLR"
            )
        obj: Any = _import(module)
        for part in attr.split("."):
            if not hasattr(obj, part):
                raise UsageFault(
                    f"--scheduler {text!r}: module {module!r} has no attribute {attr!r}; "
                    "check the name (it is case-sensitive)"
                )
            obj = getattr(obj, part)
        if not looks_like_scheduler(obj):
            raise UsageFault(
                f"--scheduler {text!r}: {attr} is a {type(obj).__name__}, not a scheduler class "
                "or a factory f(optimizer, **kwargs) -> scheduler; name a class or a function"
            )
        return [(text, obj)]
    mod = _import(text)
    found = []
    for name, obj in sorted(vars(mod).items()):
        if name.startswith("_"):
            continue
        if looks_like_scheduler(obj) and bound_spec(obj) is not None:
            found.append((f"{text}:{name}", obj))
    if not found:
        raise UsageFault(
            f"--scheduler {text!r}: the module has no scheduler class with a spec; "
            f"name one as {text}:NAME (and bind a spec with --spec)"
        )
    return found


def spec_for(obj: Any, name: str | None, option: str = "--spec") -> Spec | None:
    """The spec named by --spec (a built-in name, or MODULE:ATTR of a user's spec), else the
    one the target binds by itself, else None."""
    if name is None:
        return bound_spec(obj)
    if ":" in name:
        try:
            return user_spec(name)
        except ValueError as exc:
            raise UsageFault(f"{option} {name!r}: {exc}") from None
    if name not in SPECS:
        close = difflib.get_close_matches(name, SPECS, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UsageFault(f"{option} {name!r}: unknown spec; {hint}known: "
                         f"{', '.join(sorted(SPECS))}; or MODULE:ATTR of a spec of your own")
    return SPECS[name]


def parse_json(text: str | None, option: str, example: str, kind: type = dict) -> Any:
    """A JSON option (--scheduler-kwargs, --scheduler-map, --scheduler-domain)."""
    if not text:
        return kind()
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageFault(
            f"{option}: invalid JSON ({exc.msg} at column {exc.colno}); "
            f"give an object such as '{example}'"
        ) from None
    if not isinstance(value, kind):
        raise UsageFault(
            f"{option}: expected a JSON object, got {type(value).__name__}; "
            f"give an object such as '{example}'"
        )
    return value


MAP_EXAMPLE = '{"T_max": "total_steps"}'
DOMAIN_EXAMPLE = '{"num_warmup_steps": {"min": 1}}'
CONFIG_KEYS = {"scheduler", "spec", "map", "kwargs", "label", "protocol", "claims", "domain",
               "wraps", "checks"}


def read_config(path: str) -> list[dict[str, Any]]:
    """--scheduler-config FILE: a JSON list of target objects (CONFIG_KEYS)."""
    where = f"--scheduler-config {path}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageFault(f"--scheduler-config: cannot read {path!r} ({exc.strerror})") from None
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageFault(f"{where}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(entries, list):
        raise UsageFault(f"{where}: expected a JSON list of targets, got "
                         f"{type(entries).__name__}")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("scheduler"), str):
            raise UsageFault(f"{where}: entry {i} is not an object with a \"scheduler\" string")
        extra = sorted(set(entry) - CONFIG_KEYS)
        if extra:
            raise UsageFault(f"{where}: entry {i} has unknown key(s) {', '.join(extra)}; "
                             f"valid: {', '.join(sorted(CONFIG_KEYS))}")
        for key in ("map", "kwargs", "claims", "domain"):
            if not isinstance(entry.get(key, {}), dict):
                raise UsageFault(f"{where}: entry {i}: {key!r} must be a JSON object")
        for key in ("spec", "label", "protocol", "wraps"):
            if not isinstance(entry.get(key, ""), str):
                raise UsageFault(f"{where}: entry {i}: {key!r} must be a string")
        checks = entry.get("checks", [])
        if not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
            raise UsageFault(f"{where}: entry {i}: \"checks\" must be a list of check ids or "
                             "families")
    return entries


def _paired(values: list[str], schedulers: list[str], option: str) -> None:
    if values and len(values) not in (1, len(schedulers)):
        raise UsageFault(
            f"{option} given {len(values)} times for {len(schedulers)} --scheduler values; "
            f"give one {option} for all, or one per --scheduler in the same order"
        )


def _pick(values: list[Any], i: int, default: Any) -> Any:
    return (values[0] if len(values) == 1 else values[i]) if values else default


@dataclass
class Request:
    """What the user asked for one --scheduler value or config entry."""

    spec: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    map: dict[str, Any] = field(default_factory=dict)
    domain: dict[str, Any] = field(default_factory=dict)
    protocol: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)
    wraps: str | None = None
    label: str | None = None
    checks: list[str] | None = None
    #: The option or key each part came from, for messages.
    where: dict[str, str] = field(default_factory=lambda: {
        "kwargs": "--scheduler-kwargs", "map": "--scheduler-map",
        "domain": "--scheduler-domain", "protocol": "--scheduler-protocol",
        "claims": "--scheduler-config claims", "spec": "--spec", "wraps": "wraps",
        "checks": "checks"})


def _driver(obj: Any, req: Request, spec: Spec | None) -> Driver:
    metric = bool(spec and spec.schedule.needs_metric)
    if req.protocol is not None:
        if req.protocol not in drivers.DRIVERS:
            raise UsageFault(f"{req.where['protocol']}: unknown protocol {req.protocol!r}; "
                             f"known: {', '.join(drivers.DRIVERS)}")
        return drivers.named(req.protocol, obj, metric)
    try:
        return drivers.detect(obj, metric)
    except NoProtocol as exc:
        raise UsageFault(f"--scheduler: {exc}; the suite drives: "
                         f"{', '.join(drivers.DRIVERS)} (README, Protocols)") from None


def _claims(target: Target, req: Request) -> frozenset[str]:
    """What the target claims: from its driver and the class of what it builds, then the
    config's additions and removals."""
    from torch.optim.lr_scheduler import LRScheduler

    driver, kind, obj = target.driver, target.kind, target.obj
    assert driver is not None
    out = set()
    if inspect.isclass(obj):
        out.add("class")
    if driver.per_group:
        out.add("per_group_lrs")
    if not driver.metric:
        out.add("no_metrics")
    if driver.jumps:
        out.add("jump")
    torch_like = isinstance(driver, (drivers.Torch, drivers.Metric, drivers.Validation))
    if kind is not None and torch_like:
        if any(b.__module__.startswith("torch.") for b in kind.__mro__[:-1]):
            out.add("torch_class")
        if issubclass(kind, LRScheduler):
            out.add("lr_scheduler")
            base = next(b for b in kind.__mro__ if b.__module__.startswith("torch."))
            # A subclass of one of torch's schedulers inherits its step() contract even where
            # it overrides step(); a class built on the abstract base that writes its own
            # step() has not inherited it.
            abstract = base.__name__ in ("LRScheduler", "_LRScheduler")
            if base.step is LRScheduler.step and (not abstract or kind.step is LRScheduler.step):
                out.add("torch_warnings")
            if len(drivers._step_params(kind)) >= 1 + driver.metric:
                out.add("jump")
        if callable(getattr(kind, "get_last_lr", None)):
            out.add("get_last_lr")
        if hasattr(kind, "_get_closed_form_lr"):
            out.add("own_closed_form")
    if kind is not None and driver.saves(kind):
        out.add("state_dict")
    if kind is None and torch_like:  # a factory whose product is not known: assume torch's
        out |= {"get_last_lr", "state_dict"}
    if torch_like and accepts(obj, "last_epoch"):
        out.add("last_epoch")
    for name, value in req.claims.items():
        if name not in CLAIMS:
            raise UsageFault(f"{req.where['claims']}: unknown claim {name!r}; known: "
                             f"{', '.join(CLAIMS)}")
        if not isinstance(value, bool):
            raise UsageFault(f"{req.where['claims']}: {name!r} takes true or false")
        (out.add if value else out.discard)(name)
    return frozenset(out)


def accepts(obj: Any, name: str) -> bool:
    """Whether a callable takes a parameter `name`: named in its signature, or, for a class
    whose constructor takes **kwargs, named by a base class's constructor it forwards to."""
    params = {p.name: p for p in drivers.parameters(obj)}
    if name in params:
        return True
    if not inspect.isclass(obj) or not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return False
    return any(name in {p.name for p in drivers.parameters(vars(base)["__init__"])}
               for base in obj.__mro__[1:] if "__init__" in vars(base))


def _check_signature(target: Target, req: Request) -> None:
    """The target's signature must take every argument it will be given and get every one
    it requires (checked before any example runs). A wrapper's own arguments go to it, the
    spec's to the scheduler it wraps."""
    driver = target.driver
    if isinstance(driver, drivers.Function):
        return
    names = target_names(target.binding)
    own = set(target.binding.own)
    if isinstance(driver, drivers.Wrapper):
        _signature_takes(target, driver.obj, own, set(), req)
        _signature_takes(target, driver.inner.obj, names - own, set(), req)
    else:
        _signature_takes(target, target.obj, names, own, req)


def _signature_takes(target: Target, builder: Any, names: set[str], own: set[str],
                     req: Request) -> None:
    params = drivers.parameters(builder)
    if not params:
        return
    wildcard = any(p.kind is p.VAR_KEYWORD for p in params)
    refused = sorted(n for n in names if not accepts(builder, n)) if not wildcard else []
    if refused:
        mine = [n for n in refused if n in own]
        part = "kwargs" if mine or not target.spec else "map"
        hint = ""
        if not mine and target.spec is not None:
            example = json.dumps({refused[0]: "its_name"})
            hint = (f"; map the {target.spec.name} spec's names to its own with "
                    f"--scheduler-map '{example}'")
        raise UsageFault(f"{req.where[part]}: {getattr(builder, '__name__', target.label)} "
                         f"takes no argument(s) {', '.join(refused)}; its parameters: "
                         f"{', '.join(p.name for p in params)}{hint}")
    missing = [n for n in required_of(builder) if n not in names]
    if isinstance(target.driver, drivers.Ignite):
        missing = [n for n in missing if n != "param_name"]
    if isinstance(target.driver, drivers.Wrapper) and builder is target.driver.obj:
        missing = [n for n in missing if n not in drivers.SCHEDULER_NAMES
                   and n not in drivers.OPTIMIZERS_NAMES | drivers.OPTIMIZER_NAMES]
    if missing:
        spec = f"the {target.spec.name} spec" if target.spec else "no spec"
        raise UsageFault(f"{target.label} requires {', '.join(missing)}, which {spec} does not "
                         f"give; fix {'it' if len(missing) == 1 else 'them'} with "
                         f"--scheduler-kwargs '{json.dumps({missing[0]: '...'})}' or compute "
                         "it with --scheduler-map (README, Binding)")


def bind(resolved: list[tuple[str, Any]], req: Request) -> list[Target]:
    """Targets for resolved (path, object) pairs, validated against what `req` asks."""
    out = []
    for path, obj in resolved:
        inner = None
        if req.wraps:
            inner_path, inner = resolve(req.wraps)[0]
            spec = spec_for(inner, req.spec, req.where["spec"])
        else:
            spec = spec_for(obj, req.spec, req.where["spec"])
        binding = make(spec, req.kwargs, req.map, req.domain, req.where)
        name = req.label or str(getattr(obj, "__name__", path.rpartition(":")[2]))
        target = Target(name, path, obj, spec, binding)
        target.driver = _driver(obj, req, spec)
        if inner is not None:
            # Stepped as its own shape says: step() (as the wrapped one), or a handler.
            outer = None if isinstance(target.driver, drivers.Wrapper) else target.driver
            target.driver = drivers.Wrapper(obj, _driver(inner, Request(), spec), outer)
            target.driver.inner_path = inner_path
        elif isinstance(target.driver, drivers.Wrapper):
            raise UsageFault(f"--scheduler {path}: {name} wraps another scheduler; name the "
                             "wrapped one with \"wraps\" in --scheduler-config")
        target.kind = obj if inspect.isclass(obj) else None
        if target.kind is None and isinstance(target.driver, drivers.Torch) and not req.protocol:
            _probe(target)
        if isinstance(target.driver, drivers.Wrapper) and target.driver.inner is not None:
            target.kind = obj
        target.claims = _claims(target, req)
        target.selected = _selection(req)
        target.__dict__.pop("flags", None)  # the probe read them before the claims were known
        _check_signature(target, req)
        if spec is not None and (binding.fixed or binding.domain):
            _check_satisfiable(target, req)
        out.append(target)
    return out


def _check_satisfiable(target: Target, req: Request) -> None:
    """Fixed values and domains must leave valid cases: else one line says why, instead of
    every check failing later with Hypothesis's "Unsatisfiable"."""
    from conformance.execution import satisfiable

    why = satisfiable(target)
    if why is not None:
        given = {**target.binding.fixed}
        parts = [f"{req.where['kwargs']} {json.dumps(given)}" if given else "",
                 f"{req.where['domain']} {json.dumps(req.domain)}" if req.domain else ""]
        raise UsageFault(f"{' and '.join(p for p in parts if p)}: no valid case of the "
                         f"{target.spec.name if target.spec else ''} spec is left to draw "
                         f"({why})")


def _selection(req: Request) -> frozenset[str] | None:
    """The checks a config entry's "checks" selects (ids or families), validated."""
    if req.checks is None:
        return None
    from conformance.catalogue import CHECKS

    known = set(CHECKS) | {c.family for c in CHECKS.values()}
    unknown = sorted(set(req.checks) - known)
    if unknown:
        raise UsageFault(f"{req.where['checks']}: unknown check(s) {', '.join(unknown)}; see "
                         "pytest --conformance-list-checks")
    return frozenset(req.checks)


def _probe(target: Target) -> None:
    """Build a factory once, on a drawn case, to learn its product's class and protocol (the
    checks that apply follow from them). A factory that cannot be built keeps the torch
    protocol, and its checks report why."""
    from conformance.execution import sample

    built = sample(target)
    if built is None:
        return
    kind = type(built)
    try:
        driver = drivers.detect(kind, bool(target.spec and target.spec.schedule.needs_metric))
    except NoProtocol:
        return
    driver.obj = target.obj  # built by the factory, stepped as its product
    target.driver, target.kind = driver, kind


def build_targets(
    schedulers: list[str], specs: list[str], kwargs_text: str | None,
    maps: list[str] | None = None, config: str | None = None,
    domains: list[str] | None = None, protocols: list[str] | None = None,
) -> list[Target]:
    """All targets of the run: --scheduler values, then the --scheduler-config file's.
    --spec, --scheduler-map, --scheduler-domain and --scheduler-protocol pair with
    --scheduler in order (one binds all)."""
    maps, domains, protocols = maps or [], domains or [], protocols or []
    for values, option in ((specs, "--spec"), (maps, "--scheduler-map"),
                           (domains, "--scheduler-domain"),
                           (protocols, "--scheduler-protocol")):
        _paired(values, schedulers, option)
    fixed = parse_json(kwargs_text, "--scheduler-kwargs", '{"T_max": 10}')
    parsed = [parse_json(m, "--scheduler-map", MAP_EXAMPLE) for m in maps]
    narrowed = [parse_json(d, "--scheduler-domain", DOMAIN_EXAMPLE) for d in domains]
    targets: list[Target] = []
    for i, text in enumerate(schedulers):
        req = Request(spec=_pick(specs, i, None), kwargs=dict(fixed),
                      map=dict(_pick(parsed, i, {})), domain=dict(_pick(narrowed, i, {})),
                      protocol=_pick(protocols, i, None))
        targets += bind(resolve(text), req)
    for i, entry in enumerate(read_config(config) if config else []):
        where = f"--scheduler-config {config}: entry {i}"
        req = Request(spec=entry.get("spec"), kwargs=dict(entry.get("kwargs", {})),
                      map=dict(entry.get("map", {})), domain=dict(entry.get("domain", {})),
                      protocol=entry.get("protocol"), claims=dict(entry.get("claims", {})),
                      wraps=entry.get("wraps"), label=entry.get("label"),
                      checks=entry.get("checks"),
                      where={k: f"{where} {k}" for k in ("kwargs", "map", "domain", "protocol",
                                                         "claims", "spec", "wraps", "checks")})
        targets += bind(resolve(entry["scheduler"]), req)
    labels = [t.label for t in targets]
    for t in targets:
        if labels.count(t.label) > 1:
            t.label = t.path
    labels = [t.label for t in targets]
    twice = sorted({x for x in labels if labels.count(x) > 1})
    if twice:
        # Labels name the tests, the report's rows and the xfails' entries.
        raise UsageFault(f"the target(s) {', '.join(twice)} are named twice; give each a "
                         "distinct \"label\" in --scheduler-config")
    return targets
