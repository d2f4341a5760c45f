"""Resolve `--scheduler` strings into targets: a class or a factory, and its spec."""

from __future__ import annotations

import importlib
import inspect
import json
from dataclasses import dataclass, field
from typing import Any

from conformance.specs import SPECS, Spec


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

    @property
    def is_class(self) -> bool:
        return inspect.isclass(self.obj)


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
        if name.startswith("_") or not inspect.isclass(obj):
            continue
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
    return None


def parse_kwargs(text: str | None) -> dict[str, Any]:
    """--scheduler-kwargs JSON -> a dict of constructor arguments."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageFault(
            f"--scheduler-kwargs: invalid JSON ({exc.msg} at column {exc.colno}); "
            "give an object such as '{\"T_max\": 10}'"
        ) from None
    if not isinstance(value, dict):
        raise UsageFault(
            f"--scheduler-kwargs: expected a JSON object, got {type(value).__name__}; "
            "give an object such as '{\"T_max\": 10}'"
        )
    return value


def build_targets(
    schedulers: list[str], specs: list[str], kwargs_text: str | None
) -> list[Target]:
    """All targets of the run; --spec pairs with --scheduler in order (one spec binds all)."""
    if specs and len(specs) not in (1, len(schedulers)):
        raise UsageFault(
            f"--spec given {len(specs)} times for {len(schedulers)} --scheduler values; "
            "give one --spec for all, or one per --scheduler in the same order"
        )
    fixed = parse_kwargs(kwargs_text)
    targets: list[Target] = []
    for i, text in enumerate(schedulers):
        spec_name = (specs[0] if len(specs) == 1 else specs[i]) if specs else None
        for path, obj in resolve(text):
            spec = spec_for(obj, spec_name)
            label = getattr(obj, "__name__", path.rpartition(":")[2])
            if spec is not None and fixed:
                unknown = sorted(set(fixed) - set(spec.arg_names))
                if unknown:
                    raise UsageFault(
                        f"--scheduler-kwargs: unknown key(s) {', '.join(unknown)} for spec "
                        f"{spec.name}; valid: {', '.join(spec.arg_names)}"
                    )
            targets.append(Target(label, path, obj, spec, dict(fixed)))
    labels = [t.label for t in targets]
    for t in targets:
        if labels.count(t.label) > 1:
            t.label = t.path
    return targets
