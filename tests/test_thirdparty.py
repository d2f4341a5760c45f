"""Third-party target kinds (issue 7): factories, look-alikes that are no LRScheduler, classes
that skip the base __init__, ReduceLROnPlateau-like targets taking step(metrics), and
constructors whose argument names differ from the spec's (--scheduler-map,
--scheduler-config). Local stand-ins, so that no third-party package is needed; the real
packages run in `nox -s thirdparty`."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from conformance.binding import make
from conformance.specs import SPECS
from conformance.targets import UsageFault, build_targets, resolve, spec_for
from tests.support import Runner, report

MODULE = textwrap.dedent('''
    import math
    from torch.optim import lr_scheduler as L


    def linear_warmup(optimizer, num_warmup_steps, num_training_steps, last_epoch=-1):
        """A factory returning LambdaLR, as transformers' are."""
        W, T = num_warmup_steps, num_training_steps
        if W < 0 or T <= W:
            raise ValueError(f"need 0 <= num_warmup_steps < num_training_steps, got {W}, {T}")

        def factor(s):
            if s < W:
                return s / W
            return (T - s) / (T - W) if s <= T else 0.0

        return L.LambdaLR(optimizer, factor, last_epoch)


    def plateau(optimizer, **kwargs):
        """A factory returning ReduceLROnPlateau, stepped with step(metrics)."""
        return L.ReduceLROnPlateau(optimizer, **kwargs)


    class Cosine(L.LRScheduler):
        """CosineAnnealingLR under other names: total_steps and floor."""

        def __init__(self, optimizer, total_steps, floor=0.0, last_epoch=-1):
            self.total_steps, self.floor = total_steps, floor
            super().__init__(optimizer, last_epoch)

        def get_lr(self):
            return self._get_closed_form_lr()

        def _get_closed_form_lr(self):
            c = 1 + math.cos(math.pi * self.last_epoch / self.total_steps)
            return [self.floor + (b - self.floor) * c / 2 for b in self.base_lrs]


    class CosineNoFloor(Cosine):
        """No eta_min argument at all: the floor is always 0."""

        def __init__(self, optimizer, total_steps, last_epoch=-1):
            super().__init__(optimizer, total_steps, 0.0, last_epoch)


    class CosineOffByOne(Cosine):
        """A defect under renamed arguments: one step late."""

        def _get_closed_form_lr(self):
            self.last_epoch -= 1
            try:
                return super()._get_closed_form_lr()
            finally:
                self.last_epoch += 1


    class StepNoBaseInit(L.LRScheduler):
        """StepLR that skips LRScheduler.__init__: it sets what it uses by hand."""

        def __init__(self, optimizer, step_size, gamma=0.1):
            self.optimizer = optimizer
            self.step_size, self.gamma = step_size, gamma
            self.base_lrs = [g["lr"] for g in optimizer.param_groups]
            self.last_epoch = 0
            self._last_lr = list(self.base_lrs)

        def step(self, epoch=None):
            self.last_epoch += 1
            k = self.last_epoch // self.step_size
            for g, b in zip(self.optimizer.param_groups, self.base_lrs):
                g["lr"] = b * self.gamma ** k
            self._last_lr = [g["lr"] for g in self.optimizer.param_groups]


    class Halver:
        """A plateau look-alike, no LRScheduler: halves the lrs after a step without a new
        best metric."""

        def __init__(self, optimizer):
            self.optimizer, self.best = optimizer, math.inf
            self._last_lr = [g["lr"] for g in optimizer.param_groups]

        def step(self, metrics):
            if metrics < self.best:
                self.best = metrics
            else:
                for g in self.optimizer.param_groups:
                    g["lr"] = g["lr"] / 2
            self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

        def get_last_lr(self):
            return list(self._last_lr)

        def state_dict(self):
            return {"best": self.best, "_last_lr": list(self._last_lr)}

        def load_state_dict(self, state):
            self.best, self._last_lr = state["best"], list(state["_last_lr"])


    class NoStateDict:
        """A look-alike with step() only."""

        def __init__(self, optimizer):
            self.optimizer = optimizer

        def step(self):
            pass
''')

FAST = ("--hypothesis-profile", "dev", "-q")


@pytest.fixture
def here(tmp_path: Path) -> Path:
    (tmp_path / "thirdmod.py").write_text(MODULE)
    return tmp_path


def outcomes(path: Path, label: str | None = None) -> dict[str, str]:
    targets = report(path)["targets"]
    (target,) = [t for t in targets if label is None or t["label"] == label]
    return {c["check"]: c["outcome"] for c in target["checks"]}


def no_internal_error(text: str) -> None:
    assert "INTERNAL ERROR" not in text, text[-3000:]


@pytest.mark.slow
def test_factory_bound_to_a_spec(inproc: Runner, here: Path) -> None:
    done = inproc("--scheduler", "thirdmod:linear_warmup", "--spec",
                 "get_linear_schedule_with_warmup", *FAST,
                 "--conformance-report", str(here / "r.json"))
    assert done.returncode == 0, done.stdout[-3000:]
    seen = outcomes(here / "r.json")
    assert seen["oracle.agreement"] == "passed"
    assert seen["warnings.step_before_optimizer"] == "passed"  # LambdaLR's own contract
    # A factory is held to what it builds: a LambdaLR that resumes through last_epoch.
    assert seen["resume.missing_initial_lr"] == "passed"


@pytest.mark.slow
def test_renamed_arguments_through_the_map(inproc: Runner, here: Path) -> None:
    done = inproc("--scheduler", "thirdmod:Cosine", "--scheduler", "thirdmod:CosineNoFloor",
                 "--scheduler", "thirdmod:CosineOffByOne", "--spec", "CosineAnnealingLR",
                 "--scheduler-map", '{"T_max": "total_steps", "eta_min": "floor"}',
                 "--scheduler-map", '{"T_max": "total_steps", "eta_min": null}',
                 "--scheduler-map", '{"T_max": "total_steps", "eta_min": "floor"}',
                 *FAST, "-k", "oracle or recurrence",
                 "--conformance-report", str(here / "r.json"))
    no_internal_error(done.stdout)
    assert outcomes(here / "r.json", "Cosine")["oracle.agreement"] == "passed"
    # eta_min mapped to null: the spec's default (0.0) is what the target does.
    assert outcomes(here / "r.json", "CosineNoFloor")["oracle.agreement"] == "passed"
    assert outcomes(here / "r.json", "CosineOffByOne")["oracle.agreement"] == "failed"
    # The reproducer calls the target by its own argument names.
    assert "CosineOffByOne(opt, total_steps=" in done.stdout
    assert "T_max=" not in done.stdout.split("Reproducer")[1].split("\n\n")[2]


@pytest.mark.slow
def test_config_file_plateau_likes_and_skipped_init(inproc: Runner, here: Path) -> None:
    config = here / "targets.json"
    config.write_text(json.dumps([
        {"scheduler": "thirdmod:plateau", "spec": "ReduceLROnPlateau"},
        {"scheduler": "thirdmod:Halver"},
        {"scheduler": "thirdmod:StepNoBaseInit", "spec": "StepLR"},
        {"scheduler": "thirdmod:NoStateDict"},
        {"scheduler": "thirdmod:Cosine", "spec": "CosineAnnealingLR", "label": "renamed",
         "map": {"T_max": "total_steps", "eta_min": "floor"}, "kwargs": {"T_max": 7}},
    ]))
    done = inproc("--scheduler-config", str(config), *FAST,
                 "--conformance-report", str(here / "r.json"))
    no_internal_error(done.stdout)
    r = here / "r.json"
    assert {t["label"] for t in report(r)["targets"]} == {
        "plateau", "Halver", "StepNoBaseInit", "NoStateDict", "renamed"}
    plateau = outcomes(r, "plateau")
    assert plateau["oracle.agreement"] == "passed"
    assert all(v in ("passed", "skipped") for v in plateau.values()), plateau
    halver = outcomes(r, "Halver")
    assert all(v in ("passed", "skipped") for v in halver.values()), halver
    assert halver["state_dict.roundtrip"] == "passed"  # stepped with step(metrics)
    # With its own step() on the abstract base, it does not claim torch's step-order
    # bookkeeping (which skipping the base __init__ loses): not applicable. Its step(epoch)
    # ignores the epoch it takes, which is its own defect.
    no_init = outcomes(r, "StepNoBaseInit")
    assert no_init["oracle.agreement"] == "passed"
    assert no_init["warnings.step_before_optimizer"] == "skipped"
    assert no_init["recurrence.step_epoch"] == "failed"
    # A look-alike without state_dict() does not claim to save its state: not applicable,
    # and the report says why.
    assert outcomes(r, "NoStateDict")["state_dict.roundtrip"] == "skipped"
    row = next(c for t in report(r)["targets"] if t["label"] == "NoStateDict"
               for c in t["checks"] if c["check"] == "state_dict.roundtrip")
    assert "no way to save its state" in row["reason"], row
    renamed = outcomes(r, "renamed")
    assert renamed["oracle.agreement"] == "passed"
    # Its closed form is no chainable recurrence: the chain checks fail, and their
    # reproducers build it with the fixed value under its own name.
    assert renamed["chain.external_change"] == "failed"
    assert "Cosine(opt, total_steps=7, floor=" in done.stdout


@pytest.mark.parametrize(("args", "needle"), [
    (["--scheduler-map", "{bad"], "--scheduler-map: invalid JSON"),
    (["--scheduler-map", '{"T_max": 3}'], "maps to 3"),
    (["--scheduler-map", '{"nope": "x"}'], "'nope' is not an argument of the spec"),
    (["--scheduler-map", '{"T_max": null}'], "fix its value with --scheduler-kwargs"),
    (["--scheduler-map", '{"T_max": "eta_min"}'], "would be given twice"),
    (["--scheduler-map", "{}", "--scheduler-map", "{}", "--scheduler-map", "{}"],
     "--scheduler-map given 3 times for 1 --scheduler values"),
])
def test_map_usage_errors(args: list[str], needle: str) -> None:
    with pytest.raises(UsageFault, match=None) as err:
        build_targets(["torch.optim.lr_scheduler:CosineAnnealingLR"], [], None,
                      [a for a in args if a != "--scheduler-map"])
    assert needle in str(err.value)


def test_map_needs_a_spec() -> None:
    with pytest.raises(UsageFault, match="needs a spec"):
        build_targets(["json:loads"], [], None, ['{"T_max": "n"}'])


def test_map_null_takes_the_fixed_value_or_the_default() -> None:
    where = {k: k for k in ("kwargs", "map", "domain")}
    binding = make(SPECS["CosineAnnealingLR"], {"T_max": 5}, {"T_max": None, "eta_min": None},
                   {}, where)
    assert binding.fixed == {"T_max": 5, "eta_min": 0.0}
    assert binding.kwargs({"T_max": 5, "eta_min": 0.0}, [0.1]) == {}


@pytest.mark.parametrize(("text", "needle"), [
    ("{}", "expected a JSON list"),
    ("[1]", "entry 0 is not an object"),
    ('[{"scheduler": "torch.optim.lr_scheduler:StepLR", "what": 1}]', "unknown key(s) what"),
    ('[{"scheduler": "torch.optim.lr_scheduler:StepLR", "map": []}]', "'map' must be"),
    ('[{"scheduler": "torch.optim.lr_scheduler:StepLR"},'
     ' {"scheduler": "torch.optim.lr_scheduler:StepLR"}]', "named twice"),
    ('[{"scheduler": "torch.optim.lr_scheduler:StepLR", "kwargs": {"T_max": 1}}]',
     "entry 0 kwargs: StepLR takes no argument(s) T_max"),
])
def test_config_usage_errors(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(text)
    with pytest.raises(UsageFault) as err:
        build_targets([], [], None, [], str(path))
    assert needle in str(err.value)


def test_config_error_exits_4_with_one_line(inproc: Runner, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text("[1]")
    done = inproc("--scheduler-config", str(path))
    assert done.returncode == 4
    assert "entry 0 is not an object" in done.stderr
    assert "Traceback" not in done.stderr


def _factory(name: str, module: str) -> Any:
    def factory(optimizer: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    factory.__name__ = name
    factory.__module__ = module
    return factory


def test_transformers_factories_find_their_spec() -> None:
    """transformers' factories are bound by name; the same name elsewhere is not."""
    for name in ("get_cosine_schedule_with_warmup", "get_wsd_schedule"):
        assert spec_for(_factory(name, "transformers.optimization"), None) is SPECS[name]
        assert spec_for(_factory(name, "pytorch_optimizer.lr_scheduler.wsd"), None) is None
    assert spec_for(_factory("get_scheduler", "transformers.optimization"), None) is None


def test_real_transformers_module_resolves_every_factory() -> None:
    pytest.importorskip("transformers")
    found = {path.rpartition(":")[2] for path, _ in resolve("transformers.optimization")}
    from reference.transformers import FAMILY

    assert set(FAMILY) <= found
