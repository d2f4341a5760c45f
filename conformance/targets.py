"""Resolve `--scheduler` strings into targets: a class or a factory, its spec, and the
mapping from the spec's argument names to the target's (`--scheduler-map`,
`--scheduler-config`)."""

from __future__ import annotations

import importlib
import inspect
import json
from dataclasses import dataclass, field
from typing import Any

from conformance.specs import SPECS, Spec
from reference import transformers
from reference.base import REQUIRED


class UsageFault(Exception):
    """A user mistake on the command line: reported as one line, exit code 4."""


@dataclass
class Target:
    """One scheduler under test."""

    label: str
    path: str
    obj: Any
    spec: Spec | None
    fixed: dict[str, Any] = field(default_factory=dict)
    #: Spec argument name -> the target's name for it; None: the target has no such argument
    #: (the spec's default is used, or the fixed value).
    arg_map: dict[str, str | None] = field(default_factory=dict)

    @property
    def is_class(self) -> bool:
        return inspect.isclass(self.obj)

    def translate(self, args: dict[str, Any]) -> dict[str, Any]:
        """Arguments under the spec's names -> the target's keyword arguments."""
        if not self.arg_map:
            return args
        out: dict[str, Any] = {}
        for key, value in args.items():
            name = self.arg_map.get(key, key)
            if name is not None:
                out[name] = value
        return out


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


def _import(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise UsageFault(
            f"--scheduler: cannot import module {module!r} ({exc}); check the spelling, "
            "install the package that provides it, or run pytest from the directory that has it"
        ) from None
    except Exception as exc:  # the user's module may raise anything while importing
        raise UsageFault(
            f"--scheduler: importing {module!r} raised {type(exc).__name__}: {exc}; "
            "fix the module so that it imports cleanly"
        ) from None


def looks_like_scheduler(obj: Any) -> bool:
    """A class with step() (a scheduler, or a look-alike), or a factory function."""
    if inspect.isclass(obj):
        return callable(getattr(obj, "step", None))
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
        # Classes, and factories that have a spec of their own (transformers' get_*_schedule*).
        if looks_like_scheduler(obj) and spec_for(obj, None) is not None:
            found.append((f"{text}:{name}", obj))
    if not found:
        raise UsageFault(
            f"--scheduler {text!r}: the module has no scheduler class with a spec; "
            f"name one as {text}:NAME (and bind a spec with --spec)"
        )
    return found


def spec_for(obj: Any, name: str | None) -> Spec | None:
    """The spec named by --spec, else the one of a torch class, else None."""
    if name is not None:
        if name not in SPECS:
            raise UsageFault(
                f"--spec {name!r}: unknown spec; known: {', '.join(sorted(SPECS))}"
            )
        return SPECS[name]
    module = getattr(obj, "__module__", "") or ""
    if inspect.isclass(obj) and module.startswith("torch.optim"):
        return SPECS.get(obj.__name__)
    if inspect.isfunction(obj) and module.split(".")[0] == "transformers":
        # transformers' factories: the family's spec names are the factory names.
        name = obj.__name__
        return SPECS[name] if name in transformers.FAMILY else None
    return None


def parse_kwargs(text: str | None, option: str = "--scheduler-kwargs",
                 example: str = '{"T_max": 10}') -> dict[str, Any]:
    """A JSON object option (--scheduler-kwargs, --scheduler-map) -> a dict."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageFault(
            f"{option}: invalid JSON ({exc.msg} at column {exc.colno}); "
            f"give an object such as '{example}'"
        ) from None
    if not isinstance(value, dict):
        raise UsageFault(
            f"{option}: expected a JSON object, got {type(value).__name__}; "
            f"give an object such as '{example}'"
        )
    return value


MAP_EXAMPLE = '{"T_max": "total_steps"}'


def check_map(arg_map: dict[str, Any], spec: Spec | None, where: str,
              fixed: dict[str, Any]) -> dict[str, Any]:
    """Validate an argument map against the spec; return the fixed arguments completed with
    the spec's defaults for the arguments the target lacks (mapped to null)."""
    if not arg_map:
        return fixed
    if spec is None:
        raise UsageFault(f"{where}: an argument map needs a spec; bind one with --spec")
    unknown = sorted(set(arg_map) - set(spec.arg_names))
    if unknown:
        raise UsageFault(f"{where}: unknown key(s) {', '.join(unknown)} for spec {spec.name}; "
                         f"valid: {', '.join(spec.arg_names)}")
    for key, name in arg_map.items():
        if name is not None and not (isinstance(name, str) and name.isidentifier()):
            raise UsageFault(f"{where}: {key!r} maps to {name!r}; give the target's argument "
                             f"name as a string, or null when it has none, as in {MAP_EXAMPLE}")
    names = [n for n in arg_map.values() if n is not None]
    clash = sorted({n for n in names if names.count(n) > 1}
                   | {n for n in names if n in spec.arg_names and n not in arg_map})
    if clash:
        raise UsageFault(f"{where}: the target's argument(s) {', '.join(clash)} would be given "
                         "twice; map each spec argument to a different name")
    out = dict(fixed)
    defaults = {p.name: p.default for p in spec.schedule.schema}
    for key, name in arg_map.items():
        if name is None and key not in out:
            if defaults[key] is REQUIRED:
                raise UsageFault(f"{where}: {key} maps to null (the target has no such "
                                 "argument), but the spec requires it; fix its value with "
                                 "--scheduler-kwargs")
            out[key] = defaults[key]
    return out


def check_fixed(fixed: dict[str, Any], spec: Spec | None, where: str) -> None:
    if spec is not None and fixed:
        unknown = sorted(set(fixed) - set(spec.arg_names))
        if unknown:
            raise UsageFault(
                f"{where}: unknown key(s) {', '.join(unknown)} for spec "
                f"{spec.name}; valid: {', '.join(spec.arg_names)}"
            )


CONFIG_KEYS = {"scheduler", "spec", "map", "kwargs", "label"}


def read_config(path: str) -> list[dict[str, Any]]:
    """--scheduler-config FILE: a JSON list of {"scheduler", "spec"?, "map"?, "kwargs"?,
    "label"?} objects."""
    from pathlib import Path

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
        for key in ("map", "kwargs"):
            if not isinstance(entry.get(key, {}), dict):
                raise UsageFault(f"{where}: entry {i}: {key!r} must be a JSON object")
        for key in ("spec", "label"):
            if not isinstance(entry.get(key, ""), str):
                raise UsageFault(f"{where}: entry {i}: {key!r} must be a string")
    return entries


def _paired(values: list[str], schedulers: list[str], option: str) -> None:
    if values and len(values) not in (1, len(schedulers)):
        raise UsageFault(
            f"{option} given {len(values)} times for {len(schedulers)} --scheduler values; "
            f"give one {option} for all, or one per --scheduler in the same order"
        )


def bind(resolved: list[tuple[str, Any]], spec_name: str | None, fixed: dict[str, Any],
         arg_map: dict[str, Any], label: str | None, kwargs_where: str,
         map_where: str) -> list[Target]:
    """Targets for resolved (path, object) pairs, with their spec, fixed arguments and
    argument map validated (UsageFault names `kwargs_where` or `map_where`)."""
    out = []
    for path, obj in resolved:
        spec = spec_for(obj, spec_name)
        check_fixed(fixed, spec, kwargs_where)
        full = check_map(arg_map, spec, map_where, fixed)
        name = label or str(getattr(obj, "__name__", path.rpartition(":")[2]))
        out.append(Target(name, path, obj, spec, dict(full), dict(arg_map)))
    return out


def build_targets(
    schedulers: list[str], specs: list[str], kwargs_text: str | None,
    maps: list[str] | None = None, config: str | None = None,
) -> list[Target]:
    """All targets of the run: --scheduler values, then the --scheduler-config file's.
    --spec and --scheduler-map pair with --scheduler in order (one binds all)."""
    maps = maps or []
    _paired(specs, schedulers, "--spec")
    _paired(maps, schedulers, "--scheduler-map")
    fixed = parse_kwargs(kwargs_text)
    parsed = [parse_kwargs(m, "--scheduler-map", MAP_EXAMPLE) for m in maps]
    targets: list[Target] = []
    for i, text in enumerate(schedulers):
        spec_name = (specs[0] if len(specs) == 1 else specs[i]) if specs else None
        arg_map = (parsed[0] if len(parsed) == 1 else parsed[i]) if parsed else {}
        targets += bind(resolve(text), spec_name, fixed, arg_map, None, "--scheduler-kwargs",
                        "--scheduler-map")
    for i, entry in enumerate(read_config(config) if config else []):
        where = f"--scheduler-config {config}: entry {i}"
        targets += bind(resolve(entry["scheduler"]), entry.get("spec"),
                        dict(entry.get("kwargs", {})), dict(entry.get("map", {})),
                        entry.get("label"), f"{where} kwargs", f"{where} map")
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
