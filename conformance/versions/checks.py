"""Family 10, torch versions: the behaviour the running torch version documents, from the
catalogue of version differences (conformance/versions/probes.py, where each entry is declared
next to its probe).

Every check does two things. It first confirms the catalogue on the running torch: each entry
of the check has a probe, run on torch's own classes, and torch must show the entry's
behaviour inside its range and not outside it (a wrong range fails on that version, naming
the entry). It then holds the target to what that torch documents: a subclass must not break
what its base does on this version (a verbose it forwards to a base that lost it, a step
wrapper it hides, an _is_initial it skips), and a spec'd schedule must start and resume as
this version's torch does. A target is held only to the entries that concern it (their
`concerns`: its capability flags, its spec), and outside an entry's range the target part asks
nothing: an old torch's behaviour is no contract for a scheduler that already does better.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import types
import warnings
import weakref
from typing import Any

from conformance import versions
from conformance.catalogue import check
from conformance.harness import (
    Case,
    Mismatch,
    Run,
    group_lrs,
    number,
    quiet,
    script,
    start,
    stepping,
)
from conformance.targets import Target, accepts
from conformance.versions import probes
from reference.base import ulp


# -- the catalogue part --------------------------------------------------------------------
def confirm(check_id: str) -> None:
    """Raise Mismatch when the running torch does not behave as the catalogue says, for any
    entry of `check_id`."""
    running = versions.running()
    for entry in versions.entries().values():
        if entry.check != check_id:
            continue
        want = entry.holds(running)
        try:
            got = probes.observed(entry.id)
        except Exception as exc:
            raise Mismatch(f"catalogue entry {entry.id} ({entry.span}): its probe raised "
                           f"{type(exc).__name__}: {exc} on torch {running}",
                           script=probes.script(entry.id)) from None
        if got != want:
            raise Mismatch(
                f"catalogue entry {entry.id} ({entry.span}): torch {running} "
                f"{'lacks' if want else 'shows'} '{entry.title}'; the catalogue's range is "
                "wrong for this version (conformance/versions/probes.py)",
                expected=want, actual=got, script=probes.script(entry.id))


def concerns(behaviour: probes.Behaviour, target: Target) -> bool:
    """Whether `behaviour`'s entry concerns `target`: one of its capability flags or its
    spec."""
    kinds = (target.flags | {target.spec.name}) if target.spec else target.flags
    return behaviour.entry.concerns_one_of(kinds)


def applies(behaviour: probes.Behaviour, target: Target) -> bool:
    """Whether the running torch has `behaviour` and it concerns `target`."""
    return behaviour.holds() and concerns(behaviour, target)


def _entry_fail(behaviour: probes.Behaviour, message: str, target: Target, case: Case,
                body: list[str], **kw: Any) -> Mismatch:
    entry = behaviour.entry
    return Mismatch(f"catalogue entry {entry.id} ({entry.span}, torch {versions.running()}): "
                    f"{message}", script=script(target, case, body), **kw)


# -- the checks --------------------------------------------------------------------------
@check("versions.constructor", "torch_class")
def constructor(target: Target, case: Case) -> None:
    """A target that takes verbose handles it as the running torch does: deprecated with torch's
    warning in 2.2-2.6, never passed on to torch's base from 2.7."""
    confirm("versions.constructor")
    if not accepts(target.obj, "verbose"):  # what the contract is about, not a choice of entries
        return
    body = ["import warnings", "warnings.simplefilter('always')", "build(verbose=True)"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            Run(target, case, verbose=True)
        except TypeError as exc:
            removed = probes.verbose_removed.holds()
            why = ", which has none since 2.7" if removed else ""
            raise _entry_fail(probes.verbose_removed if removed else probes.verbose_prints,
                              f"the target takes verbose, yet verbose=True raised "
                              f"TypeError: {exc} (it passes verbose on to torch's LRScheduler"
                              f"{why}; handle it in the target)", target, case, body,
                              actual=str(exc)) from None
    texts = [str(w.message) for w in caught]
    if applies(probes.verbose_deprecated, target):
        want = probes.verbose_warning()
        if want not in texts:
            raise _entry_fail(probes.verbose_deprecated, "verbose=True did not warn torch's "
                              f"deprecation '{want}'; seen: {texts or 'no warning'}", target, case,
                              body, expected=want, actual=texts)
        if out.getvalue():
            raise _entry_fail(probes.verbose_deprecated, "verbose=True printed "
                              f"{out.getvalue()[:80]!r}: torch prints nothing from 2.2",
                              target, case, body, actual=out.getvalue())
    elif applies(probes.verbose_prints, target):
        dep = [t for t in texts if "verbose parameter is deprecated" in t]
        if dep:
            raise _entry_fail(probes.verbose_prints, f"verbose=True warned {dep[0]!r}, a "
                              "deprecation torch has only from 2.2", target, case, body,
                              actual=dep)


@check("versions.step_tracking", "torch_warnings")
def step_tracking(target: Target, case: Case) -> None:
    """After construction optimizer.step carries the running torch's marker and records a call
    as that version does (_with_counter/_step_count to 2.3, _wrapped_by_lr_sched/_opt_called)."""
    confirm("versions.step_tracking")
    new = probes.opt_called_flag.holds()
    entry = probes.opt_called_flag if new else probes.step_counter_wrapper
    marker = "_wrapped_by_lr_sched" if new else "_with_counter"
    with quiet():
        opt = Run(target, case).opt
    body = [f"print(hasattr(opt.step, {marker!r}), sorted(vars(opt.step)) if hasattr("
            "opt.step, '__dict__') else None)"]
    if not hasattr(opt.step, marker):
        raise _entry_fail(entry, f"after construction optimizer.step lacks {marker}: the target "
                          "replaced or re-wrapped it, so torch's step-order check sees an "
                          "overridden optimizer.step", target, case, body,
                          expected=marker, actual=sorted(vars(opt.step)) if hasattr(
                              opt.step, "__dict__") else None)
    opt.step()
    seen = (getattr(opt, "_opt_called", False) is True if new
            else getattr(opt, "_step_count", 0) >= 1)
    if not seen:
        where = "optimizer._opt_called" if new else "optimizer._step_count"
        raise _entry_fail(entry, f"optimizer.step() ran but {where} does not record it",
                          target, case,
                          ["opt.step()", f"print(getattr(opt, {where[10:]!r}, None))"])


def _show_path(target: Target, found: str) -> list[str]:
    from conformance.checks.state import show_path

    return show_path(target, found)


@check("versions.plateau", "metrics", "torch_class")
def plateau(target: Target, case: Case) -> None:
    """A metric-driven target's get_last_lr() gives the groups' lrs from construction on (2.3+),
    and a param group added later gets a scalar min_lr (2.6+)."""
    confirm("versions.plateau")
    metrics = case.metrics or [1.0] * case.steps
    if applies(probes.plateau_last_lr_at_init, target) and hasattr(target.obj, "get_last_lr"):
        with quiet():
            run = start(target, case)
            for t in range(case.steps + 1):
                if t:
                    run.step()
                try:
                    got = run.sched.get_last_lr()
                except AttributeError as exc:
                    raise _entry_fail(probes.plateau_last_lr_at_init, "get_last_lr() "
                                      f"raised AttributeError at step {t}: {exc}", target, case,
                                      [*stepping(target, case, t),
                                       "print(sched.get_last_lr())"], step=t) from None
                if list(got) != run.lrs():
                    raise _entry_fail(probes.plateau_last_lr_at_init, f"get_last_lr() at step "
                                      f"{t} is {got!r}, the groups' lrs are {run.lrs()!r}",
                                      target, case, [*stepping(target, case, t),
                                                     "print(sched.get_last_lr())"],
                                      step=t, expected=run.lrs(), actual=got)
    min_lr = case.args.get("min_lr", 0.0)
    if applies(probes.plateau_new_group_min_lr, target) and isinstance(min_lr, (int, float)):
        _new_group(target, case, metrics, float(min_lr))


def _new_group(target: Target, case: Case, metrics: list[float], min_lr: float) -> None:
    import torch

    worse = 1e9 if case.args.get("mode", "min") == "min" else -1e9
    run = [*metrics, *[worse] * (int(case.args.get("patience", 10)) + 2)]
    body = ['opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))], '
            f'"lr": {case.lrs[0]!r}}})', f"for m in {run!r}:", "    opt.step()",
            "    sched.step(m)", "print([g['lr'] for g in opt.param_groups])"]
    with quiet():
        started = start(target, case)
        opt, sched = started.opt, started.sched
        opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))], "lr": case.lrs[0]})
        try:
            for m in run:
                opt.step()
                sched.step(m)
        except Exception as exc:
            raise _entry_fail(probes.plateau_new_group_min_lr, "after add_param_group, step() "
                              f"raised {type(exc).__name__}: {exc} (torch gives the new group "
                              "the scalar min_lr)", target, case, body) from None
    # A reduction never goes below min_lr, and an lr that starts below it stays where it is.
    new = group_lrs(opt)[-1]
    if new < min(case.lrs[0], min_lr):
        raise _entry_fail(probes.plateau_new_group_min_lr, "the added group's lr fell to "
                          f"{new!r}, below min_lr={min_lr!r}", target, case, body, actual=new,
                          expected=min_lr)


@check("versions.torch_load", "state_dict")
def torch_load(target: Target, case: Case) -> None:
    """The state_dict loads with torch.load's default on the running torch (weights_only=True
    from 2.6)."""
    import torch

    confirm("versions.torch_load")
    with quiet():
        started = start(target, case)
        half = case.steps // 2
        for _ in range(half):
            started.step()
        state = started.save()
    body = [*stepping(target, case, half), "import io", "buf = io.BytesIO()",
            "torch.save(sched.state_dict(), buf)", "buf.seek(0)", "torch.load(buf)"]
    entry = probes.load_weights_only_default
    try:
        buf = io.BytesIO()
        torch.save(state, buf)
        buf.seek(0)
    except Exception as exc:
        raise _entry_fail(entry, f"torch.save refuses the state_dict: {type(exc).__name__}: "
                          f"{exc}", target, case, body) from None
    try:
        with quiet():  # 2.4-2.5 warn FutureWarning here; the probe checks it
            torch.load(buf)
    except Exception as exc:
        default = "weights_only=True" if entry.holds() else "weights_only=False"
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _entry_fail(entry, f"torch.load(f) with this torch's default ({default}) refuses "
                          f"the state_dict: {first}", target, case, body) from None


@check("versions.initial_step", "lr_scheduler", "last_epoch", "atomic")
def initial_step(target: Target, case: Case) -> None:
    """From 2.8 the constructor's step runs in torch's _initial_mode: _is_initial is False
    after it (get_lr() tells the initial step by it)."""
    # Resuming by last_epoch alone is no contract the suite holds a target to (see resume.py):
    # the entries resume_without_extra_step and warm_restarts_modulo are confirmed on torch only.
    confirm("versions.initial_step")
    if not applies(probes.is_initial, target):
        return
    with quiet():
        sched = start(target, case).sched
    if vars(sched).get("_is_initial") is not False:
        raise _entry_fail(probes.is_initial, "after construction the instance has no "
                          f"_is_initial (saw {vars(sched).get('_is_initial', 'none')!r}): the "
                          "constructor's step did not run in torch's _initial_mode, so get_lr() "
                          "cannot tell the initial step", target, case,
                          ["print(vars(sched).get('_is_initial', 'none'))"])


def _number(value: Any, step: int, group: int) -> float:
    return number(value, f"step {step}: get_last_lr()[{group}]", step=step, group=group)


#: The entries that say a step updates a Tensor lr in place, each from its version on.
IN_PLACE = (probes.tensor_lr_in_place, probes.warm_restarts_tensor_lr_in_place,
            probes.plateau_tensor_lr_in_place)


@check("versions.tensor_lr", "lr_scheduler")
def tensor_lr(target: Target, case: Case) -> None:
    """On Tensor lrs, steps update each group's tensor in place (2.4+) and get_last_lr() holds
    copies, never the live tensors (2.10+)."""
    import torch

    confirm("versions.tensor_lr")
    # In place where every in-place entry that concerns the target holds: LRScheduler's, and
    # the later ones of the schedules that step on their own (warm restarts, plateau).
    in_place = all(b.holds() for b in IN_PLACE if concerns(b, target))
    copies = applies(probes.last_lr_copies, target)
    if not (in_place or copies):
        return
    tensors = [torch.tensor(lr, dtype=torch.float64) for lr in case.lrs]
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": t} for t in tensors]
    opt = (torch.optim.Adam(groups, foreach=False) if case.optim == "adam"
           else torch.optim.SGD(groups, lr=case.lrs[0], momentum=0.9))
    setup = ["import torch", "tensors = [torch.tensor(g['lr'], dtype=torch.float64) "
             "for g in make_opt().param_groups]",
             "opt = make_opt()", "for g, t in zip(opt.param_groups, tensors): g['lr'] = t",
             "opt, sched = build(opt)"]
    earlier: list[tuple[int, list[Any], list[float]]] = []
    with quiet():
        run = Run(target, case, opt)
        sched = run.sched
        opt.step()
        for t in range(case.steps + 1):
            if t:
                run.step()
            live = [g["lr"] for g in opt.param_groups]
            if in_place and any(a is not b for a, b in zip(live, tensors, strict=True)):
                g = next(i for i, (a, b) in enumerate(zip(live, tensors, strict=True))
                         if a is not b)
                raise _entry_fail(probes.tensor_lr_in_place, f"step {t}: param group {g}'s "
                                  f"Tensor lr was replaced by a {type(live[g]).__name__} instead "
                                  "of being updated in place", target, case,
                                  [*setup[1:], *stepping(target, case, t),
                                   f"print(opt.param_groups[{g}]['lr'] is tensors[{g}])"],
                                  step=t, group=g)
            if copies:
                try:
                    last = list(sched.get_last_lr())
                except Exception as exc:
                    raise _entry_fail(probes.last_lr_copies, f"step {t}: get_last_lr() raised "
                                      f"{type(exc).__name__}: {exc}", target, case,
                                      [*setup[1:], *stepping(target, case, t),
                                       "print(sched.get_last_lr())"], step=t,
                                      actual=type(exc).__name__) from None
                shared = [i for i, v in enumerate(last) if any(v is x for x in live)]
                if shared:
                    raise _entry_fail(probes.last_lr_copies, f"step {t}: get_last_lr()"
                                      f"[{shared[0]}] is a param group's live lr tensor, which "
                                      "later steps change; torch returns clones", target, case,
                                      [*setup[1:], *stepping(target, case, t),
                                       "print(sched.get_last_lr()[0] is opt.param_groups[0]"
                                       "['lr'])"], step=t, group=shared[0])
                earlier.append((t, last, [_number(v, t, g) for g, v in enumerate(last)]))
    for t, values, floats in earlier:
        now = [_number(v, t, g) for g, v in enumerate(values)]
        if now != floats:
            raise _entry_fail(probes.last_lr_copies, f"a get_last_lr() result of step {t} "
                              f"changed from {floats!r} to {now!r} with later steps", target, case,
                              [*setup[1:], *stepping(target, case, t),
                               "print(sched.get_last_lr())"],
                              step=t, expected=floats, actual=now)


@check("versions.sequential", "composite", "torch_class")
def sequential(target: Target, case: Case) -> None:
    """A milestone 0 starts the scheduler active at step 0 (2.13+), and crossing a milestone
    warns no epoch deprecation (2.9+)."""
    confirm("versions.sequential")
    spec, milestones = target.spec, case.args.get("milestones")
    if not (spec and milestones):
        return
    if applies(probes.sequential_milestone_zero, target):
        zero = Case(case.lrs, {**case.args, "milestones": [0, *milestones[1:]]}, 0,
                    None, case.optim)
        want = spec.oracle(zero.lrs, zero.args).trajectory(0)[0]
        with quiet():
            got = Run(target, zero).lrs()
        for g, (a, b) in enumerate(zip(got, want, strict=True)):
            if abs(a - b) > 4 * ulp(max(abs(b), zero.lrs[g])):
                raise _entry_fail(probes.sequential_milestone_zero, f"with milestones "
                                  f"{zero.args['milestones']}, param group {g} starts at {a!r}, "
                                  f"expected {b!r} (the scheduler active at step 0)", target,
                                  zero, [f"print(opt.param_groups[{g}]['lr'])"],
                                  group=g, expected=b, actual=a)
    if applies(probes.sequential_switch_without_step, target):
        with quiet():
            run = Run(target, case)
        steps = max(case.steps, max(milestones) + 1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(steps):
                run.opt.step()
                run.step()
        epoch = [str(w.message) for w in caught if "epoch parameter" in str(w.message)]
        if epoch:
            raise _entry_fail(probes.sequential_switch_without_step, "crossing a milestone "
                              f"warned the epoch deprecation ({epoch[0][:60]}...): the next "
                              "scheduler is set with step(0), not _update_lr(0)", target, case,
                              ["import warnings", "warnings.simplefilter('always')",
                               f"for i in range({steps}):", "    opt.step()", "    sched.step()"],
                              actual=epoch)


def _callables(obj: Any, path: str = "state_dict") -> str | None:
    """The path of the first function, method or weak reference inside a state_dict."""
    kinds = (types.FunctionType, types.MethodType, types.BuiltinFunctionType,
             functools.partial, weakref.ref)
    if isinstance(obj, kinds):
        return f"{path} ({type(obj).__name__})"
    items = (obj.items() if isinstance(obj, dict)
             else enumerate(obj) if isinstance(obj, (list, tuple)) else ())
    for key, value in items:
        found = _callables(value, f"{path}[{key!r}]")
        if found:
            return found
    return None


#: The entries that say a schedule's state_dict holds no function, each from its version on.
STATE = (probes.cyclic_scale_fn_state, probes.onecycle_anneal_string)


@check("versions.cyclic", "momentum", "torch_class")
def cyclic(target: Target, case: Case) -> None:
    """A momentum-cycling target can be deep-copied (2.1+), builds on Adam (2.3+), and saves no
    function in its state_dict where torch's saves none (CyclicLR 2.2+, OneCycleLR 2.4+)."""
    confirm("versions.cyclic")
    try:
        with quiet():
            sched = start(target, case).sched
    except ValueError as exc:
        if case.optim == "adam" and applies(probes.cyclic_beta1, target):
            raise _entry_fail(probes.cyclic_beta1, f"building on Adam raised ValueError: {exc}; "
                              "torch cycles betas[0] instead of momentum", target, case,
                              []) from None
        raise
    if applies(probes.cyclic_deepcopy, target):
        try:
            copy.deepcopy(sched)
        except Exception as exc:
            raise _entry_fail(probes.cyclic_deepcopy, f"copy.deepcopy(scheduler) raised "
                              f"{type(exc).__name__}: {exc}", target, case,
                              ["import copy", "copy.deepcopy(sched)"]) from None
    # The state entry of the schedule the target is; another momentum-cycling schedule is held
    # to the later of the two (OneCycleLR's).
    entry = next((b for b in STATE if concerns(b, target)), probes.onecycle_anneal_string)
    if entry.holds():
        found = _callables(sched.state_dict())
        if found:
            raise _entry_fail(entry, f"state_dict() holds {found}; torch's saves plain data "
                              "(weights_only loading refuses functions)", target, case,
                              _show_path(target, found), actual=found)
