"""How a target takes a spec's arguments: renamed, dropped, translated or computed (the
argument map), the target's own arguments that the spec lacks, and narrower domains for the
drawn ones. Everything here is validated before any example runs: a bad value is a usage
error (one line, exit 4) that names the argument, the value and what is valid.

The map's grammar (`--scheduler-map`, a config's "map", a spec's `map`), keyed by the spec's
argument names:

    "T_max": "total_steps"            the target's name for it
    "eta_min": null                   the target has no such argument
    "end": {"to": "end", "plus": 1}   a translation, in this order: "table" (a JSON object
                                      from the value to the target's), "times", "divide",
                                      "plus", "minus", then "as": "list" (one per param
                                      group) or "scalar" (a per-group list of equal values)

and, keyed by a name the spec does not have, an argument only the target takes, computed:

    "warmup_max_lr": {"from": "lr"}   "from" a spec argument, "lr" (the groups' lrs), or a
                                      number, then the same translations
    "t_initial": {"call": "mymod:fn"} fn(args, lrs) -> value, from every drawn argument

An operand ("times", "plus", ...) is a number, a spec argument's name or "lr"; arithmetic on a
per-group list acts on each group's value. No string is ever evaluated.
"""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance.specs import Spec
from reference.base import REQUIRED, Param

#: The arithmetic a translation may do, in the order it is done.
ARITHMETIC = ("times", "divide", "plus", "minus")
RULE_KEYS = frozenset({"to", "from", "table", "as", "call", *ARITHMETIC})
DOMAIN_KEYS = frozenset({"min", "max", "choices"})


class UsageFault(Exception):
    """A user mistake: reported as one line, exit code 4."""


class Unequal(Exception):
    """A per-group list the target takes as one scalar holds different values (the example
    is rejected: the target cannot be given it)."""


@dataclass(frozen=True)
class Rule:
    """How one argument of the target comes from the drawn arguments."""

    #: The target's name for the argument (None: the target has no such argument).
    to: str | None
    #: The spec argument (or "lr", or a number) the value starts from; None for "call".
    source: Any
    table: Mapping[str, Any] | None = None
    ops: tuple[tuple[str, Any], ...] = ()
    shape: str | None = None
    call: Callable[..., Any] | None = None

    @property
    def plain(self) -> bool:
        """A rename (or a drop): the value goes through unchanged."""
        return self.table is None and not self.ops and self.shape is None and self.call is None

    def value(self, args: Mapping[str, Any], lrs: Sequence[float]) -> Any:
        value = self.call(dict(args), list(lrs)) if self.call else operand(self.source, args, lrs)
        if self.table is not None:
            key = value if isinstance(value, str) else json.dumps(value)
            value = self.table.get(key, value)
        for op, raw in self.ops:
            value = arithmetic(op, value, operand(raw, args, lrs))
        if self.shape == "list" and not isinstance(value, (list, tuple)):
            value = [value] * len(lrs)
        elif self.shape == "scalar" and isinstance(value, (list, tuple)):
            if any(v != value[0] for v in value):
                raise Unequal(f"{self.to}: {value!r} as one value")
            value = value[0]
        return value


def operand(raw: Any, args: Mapping[str, Any], lrs: Sequence[float]) -> Any:
    if raw == "lr":
        return list(lrs)
    if isinstance(raw, str):
        return args[raw]
    return raw


def arithmetic(op: str, a: Any, b: Any) -> Any:
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        n = len(a) if isinstance(a, (list, tuple)) else len(b)
        xs = list(a) if isinstance(a, (list, tuple)) else [a] * n
        ys = list(b) if isinstance(b, (list, tuple)) else [b] * n
        return [arithmetic(op, x, y) for x, y in zip(xs, ys, strict=True)]
    if op == "times":
        return a * b
    if op == "divide":
        return a / b
    if op == "plus":
        return a + b
    return a - b


@dataclass(frozen=True)
class Narrowing:
    """A narrower domain for one drawn argument: bounds, or a list of choices."""

    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None

    def admits(self, value: Any) -> bool:
        if isinstance(value, (list, tuple)):
            return all(self.admits(v) for v in value)
        if self.choices is not None:
            return value in self.choices
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return ((self.low is None or value >= self.low)
                and (self.high is None or value <= self.high))


@dataclass
class Binding:
    """What a target takes: the spec's arguments through `rules`, its own fixed arguments
    (`own`), and narrower domains for the drawn ones."""

    spec: Spec | None
    #: Spec arguments fixed under the spec's names (the rest are drawn).
    fixed: dict[str, Any] = field(default_factory=dict)
    #: Arguments only the target takes, fixed: passed to it, never to the oracle.
    own: dict[str, Any] = field(default_factory=dict)
    #: Spec argument (or target-only name) -> how the target takes it.
    rules: dict[str, Rule] = field(default_factory=dict)
    domain: dict[str, Narrowing] = field(default_factory=dict)

    @property
    def renames(self) -> dict[str, str | None]:
        """The plain renames and drops (spec name -> the target's, or None)."""
        return {k: r.to for k, r in self.rules.items() if r.source == k and r.plain}

    def kwargs(self, args: Mapping[str, Any], lrs: Sequence[float]) -> dict[str, Any]:
        """The target's keyword arguments for drawn spec arguments `args` (Unequal when a
        scalar the target wants cannot be had)."""
        out: dict[str, Any] = {}
        for key, value in args.items():
            rule = self.rules.get(key)
            if rule is None:
                out[key] = value
            elif rule.to is not None and rule.source == key and rule.plain:
                out[rule.to] = value
        for key, rule in self.rules.items():
            if rule.to is not None and not (rule.source == key and rule.plain):
                if rule.source == key and key not in args:
                    continue  # a spec argument this example does not draw
                out[rule.to] = rule.value(args, lrs)
        out.update(self.own)
        return out


# -- parsing and validation -----------------------------------------------------------------
def _function(text: Any, where: str) -> Callable[..., Any]:
    if not isinstance(text, str) or text.count(":") != 1:
        raise UsageFault(f"{where}: \"call\" takes 'module:function', got {text!r}")
    module, _, name = text.partition(":")
    try:
        obj: Any = importlib.import_module(module)
    except Exception as exc:
        raise UsageFault(f"{where}: cannot import {module!r} for \"call\" "
                         f"({type(exc).__name__}: {exc})") from None
    for part in name.split("."):
        obj = getattr(obj, part, None)
    if not callable(obj):
        raise UsageFault(f"{where}: {text} is not a function f(args, lrs) -> value")
    return obj


def _operand_ok(raw: Any, names: Sequence[str], where: str, op: str) -> None:
    if isinstance(raw, bool) or not (isinstance(raw, (int, float, str))):
        raise UsageFault(f"{where}: {op!r} takes a number, a spec argument's name or \"lr\", "
                         f"got {raw!r}")
    if isinstance(raw, str) and raw != "lr" and raw not in names:
        raise UsageFault(f"{where}: {op!r}: {raw!r} is not an argument of the spec; valid: "
                         f"{', '.join(names) or 'none'}, \"lr\" or a number")


def parse_rule(key: str, value: Any, spec: Spec | None, where: str) -> Rule:
    """One map entry -> a Rule; UsageFault names what is wrong."""
    names = spec.arg_names if spec else ()
    own = key not in names
    if value is None or isinstance(value, str):
        if own:
            raise UsageFault(f"{where}: {key!r} is not an argument of the spec "
                             f"{spec.name if spec else '(none)'}; valid: {', '.join(names)}; "
                             "to compute an argument only the target takes, give an object "
                             "with \"from\" or \"call\"")
        if isinstance(value, str) and not value.isidentifier():
            raise UsageFault(f"{where}: {key!r} maps to {value!r}; give the target's argument "
                             "name, or null when it has none")
        return Rule(value, key)
    if not isinstance(value, dict):
        raise UsageFault(f"{where}: {key!r} maps to {value!r}; give a name, null, or an object "
                         "such as {\"to\": \"end\", \"plus\": 1}")
    extra = sorted(set(value) - RULE_KEYS)
    if extra:
        raise UsageFault(f"{where}: {key!r} has unknown key(s) {', '.join(extra)}; valid: "
                         f"{', '.join(sorted(RULE_KEYS))}")
    to = value.get("to", key)
    if not isinstance(to, str) or not to.isidentifier():
        raise UsageFault(f"{where}: {key!r}: \"to\" must be the target's argument name")
    call = _function(value["call"], f"{where}: {key!r}") if "call" in value else None
    if own and call is None and "from" not in value:
        raise UsageFault(f"{where}: {key!r} is not an argument of the spec; an argument only "
                         "the target takes needs \"from\" (a spec argument, \"lr\" or a "
                         "number) or \"call\"")
    if not own and "from" in value:
        raise UsageFault(f"{where}: {key!r} is the spec's argument: it is the source itself; "
                         "use \"from\" only for an argument the spec does not have")
    source = value.get("from", key)
    if own and call is None:
        _operand_ok(source, names, f"{where}: {key!r}", "from")
    table = value.get("table")
    if table is not None and not isinstance(table, dict):
        raise UsageFault(f"{where}: {key!r}: \"table\" must be a JSON object")
    ops = []
    for op in ARITHMETIC:
        if op in value:
            _operand_ok(value[op], names, f"{where}: {key!r}", op)
            ops.append((op, value[op]))
    shape = value.get("as")
    if shape not in (None, "list", "scalar"):
        raise UsageFault(f"{where}: {key!r}: \"as\" is \"list\" or \"scalar\", got {shape!r}")
    return Rule(to, None if call else source, table, tuple(ops), shape, call)


def parse_map(raw: Mapping[str, Any], spec: Spec | None, where: str) -> dict[str, Rule]:
    if raw and spec is None and any(not isinstance(v, dict) for v in raw.values()):
        raise UsageFault(f"{where}: an argument map needs a spec; bind one with --spec")
    rules = {key: parse_rule(key, value, spec, where) for key, value in raw.items()}
    given = [r.to for r in rules.values() if r.to is not None]
    clash = sorted({n for n in given if given.count(n) > 1}
                   | {n for n in given if spec and n in spec.arg_names and n not in rules})
    if clash:
        raise UsageFault(f"{where}: the target's argument(s) {', '.join(clash)} would be given "
                         "twice; map each spec argument to a different name")
    return rules


def check_value(param: Param, value: Any, where: str) -> None:
    """A fixed value must lie in the spec's domain for its parameter."""
    try:
        if param.per_group and isinstance(value, (list, tuple)):
            for item in value:
                param._scalar("", item)
        else:
            param._scalar("", value)
    except ValueError:
        raise UsageFault(f"{where}: {param.name}={json.dumps(value)} is outside the spec's "
                         f"domain; valid: {param.describe()}") from None


def parse_domain(raw: Mapping[str, Any], spec: Spec | None, where: str) -> dict[str, Narrowing]:
    if not raw:
        return {}
    if spec is None:
        raise UsageFault(f"{where}: a domain narrows a spec's arguments; bind one with --spec")
    params = spec.params
    out = {}
    for key, value in raw.items():
        if key not in params:
            raise UsageFault(f"{where}: {key!r} is not an argument of the spec {spec.name}; "
                             f"valid: {', '.join(params)}")
        if not isinstance(value, dict) or not value or set(value) - DOMAIN_KEYS:
            raise UsageFault(f"{where}: {key!r}: give {{\"min\": x, \"max\": y}} or "
                             f"{{\"choices\": [...]}}, got {json.dumps(value)}")
        param = params[key]
        if "choices" in value:
            choices = value["choices"]
            if not isinstance(choices, list) or not choices:
                raise UsageFault(f"{where}: {key!r}: \"choices\" must be a non-empty list")
            for choice in choices:
                check_value(param, choice, f"{where}: {key!r} choice")
            out[key] = Narrowing(choices=tuple(choices))
            continue
        low, high = value.get("min"), value.get("max")
        for bound in (low, high):
            if bound is not None and (isinstance(bound, bool)
                                      or not isinstance(bound, (int, float))
                                      or not math.isfinite(bound)):
                raise UsageFault(f"{where}: {key!r}: bounds are numbers, got {bound!r}")
        if param.kind not in ("int", "float"):
            raise UsageFault(f"{where}: {key!r} is a {param.kind}: narrow it with \"choices\"")
        lo = max(x for x in (low, param.low) if x is not None) if (
            low is not None or param.low is not None) else None
        hi = min(x for x in (high, param.high) if x is not None) if (
            high is not None or param.high is not None) else None
        if param.kind == "int":
            lo = math.ceil(lo) if lo is not None else None
            hi = math.floor(hi) if hi is not None else None
        if lo is not None and hi is not None and lo > hi:
            raise UsageFault(f"{where}: {key!r}: {json.dumps(value)} leaves nothing to draw "
                             f"(the spec's domain is {param.describe()})")
        out[key] = Narrowing(lo, hi)
    return out


def required_of(obj: Any) -> list[str]:
    """The keyword-able parameters `obj` requires, beyond the optimizer (empty when it has
    no signature)."""
    from conformance.drivers import OPTIMIZER_NAMES, parameters

    params = parameters(obj)
    return [p.name for p in params
            if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            and p.name not in OPTIMIZER_NAMES and p.name != "self"]


def make(spec: Spec | None, fixed: Mapping[str, Any], raw_map: Mapping[str, Any],
         domain: Mapping[str, Any], where: dict[str, str]) -> Binding:
    """A validated Binding. `fixed` mixes spec arguments and the target's own; `where` names
    the option or key of each part ("kwargs", "map", "domain") for the messages."""
    merged = {**(dict(spec.map) if spec else {}), **raw_map}
    rules = parse_map(merged, spec, where["map"])
    names = spec.arg_names if spec else ()
    spec_fixed = {k: v for k, v in fixed.items() if k in names}
    own = {**(dict(spec.kwargs) if spec else {}),
           **{k: v for k, v in fixed.items() if k not in names}}
    if spec is not None:
        params = spec.params
        for key, value in spec_fixed.items():
            check_value(params[key], value, where["kwargs"])
        defaults = {p.name: p.default for p in spec.schedule.schema}
        for key, rule in rules.items():
            if key in names and rule.to is None and key not in spec_fixed:
                if defaults[key] is REQUIRED:
                    raise UsageFault(f"{where['map']}: {key} maps to null (the target has no "
                                     "such argument), but the spec requires it; fix its value "
                                     "with --scheduler-kwargs")
                spec_fixed[key] = defaults[key]
    narrow = parse_domain(domain, spec, where["domain"])
    for key, value in spec_fixed.items():
        if key in narrow and not narrow[key].admits(value):
            raise UsageFault(f"{where['kwargs']}: {key}={json.dumps(value)} lies outside the "
                             f"domain given for it ({json.dumps(domain[key])})")
    return Binding(spec, spec_fixed, own, rules, narrow)


def target_names(binding: Binding) -> set[str]:
    """Every argument name the target may be given."""
    spec = binding.spec
    out = set(binding.own)
    for key in spec.arg_names if spec else ():
        rule = binding.rules.get(key)
        out.add(key if rule is None else rule.to or "")
    out |= {r.to for k, r in binding.rules.items() if r.to and (not spec or k not in
                                                                spec.arg_names)}
    out.discard("")
    return out
