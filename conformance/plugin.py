"""The pytest plugin: `pytest --scheduler MODULE:ATTR` runs the check catalogue on ATTR.

Silent unless a target is named (option, else CONFORMANCE_SCHEDULER, else the
`conformance_scheduler` ini key): a plain `pytest` in another project is unchanged.
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from conformance import profiles
from conformance.execution import TIMEOUT
from conformance.findings import Finding, Group, clip
from conformance.report import Outcome, Recorder, derived
from conformance.targets import Target, UsageFault, build_targets, importable_cwd

_TARGETS = pytest.StashKey[list[Target]]()
_RECORDER = pytest.StashKey[Recorder]()
XFAIL_LINE = re.compile(
    r"^(?:\[(?P<label>[^\]]+)\]\s+)?(?P<id>[a-z0-9_]+\.[a-z0-9_]+)\s*(?:#\s*(?P<reason>.*))?$")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "LR scheduler conformance suite")
    group.addoption("--scheduler", action="append", default=[], metavar="MODULE[:ATTR]",
                    help="scheduler class or factory to check (repeatable); 'torch' for every "
                         "torch built-in; MODULE alone for every scheduler in it with a spec. "
                         "Without it: the CONFORMANCE_SCHEDULER environment variable, else "
                         "the conformance_scheduler ini key; none of them: the plugin stays "
                         "silent")
    group.addoption("--spec", action="append", default=[], metavar="NAME",
                    help="reference schedule to check the target against: a torch class name "
                         "(StepLR, CosineAnnealingLR, ...), a transformers factory name "
                         "(get_cosine_schedule_with_warmup, get_linear_schedule_with_warmup, "
                         "get_wsd_schedule, ...), a seed schedule (CosineAnnealingWarmupRestarts, "
                         "LinearAnnealingLR, GradualWarmupScheduler), a package.Class name "
                         "(timm.CosineLRScheduler, nemo.CosineAnnealing, deepspeed.WarmupLR, "
                         "mmengine.StepLR, speechbrain.NoamScheduler, "
                         "ignite.PiecewiseLinear, diffusers.get_piecewise_constant_schedule, "
                         "...), or MODULE:ATTR of a spec of your own; all of them: "
                         "--conformance-list-specs")
    group.addoption("--scheduler-kwargs", default=None, metavar="JSON",
                    help="constructor arguments to fix, as a JSON object (the rest are drawn)")
    group.addoption("--scheduler-map", action="append", default=[], metavar="JSON",
                    help="the target's names for the spec's arguments, as a JSON object "
                         "'{\"T_max\": \"total_steps\"}' (null: the target has no such "
                         "argument); pairs with --scheduler like --spec")
    group.addoption("--scheduler-domain", action="append", default=[], metavar="JSON",
                    help="narrower domains for drawn spec arguments, as a JSON object "
                         "'{\"num_warmup_steps\": {\"min\": 1}}' (or {\"choices\": [...]}); "
                         "pairs with --scheduler like --spec")
    group.addoption("--scheduler-protocol", action="append", default=[], metavar="NAME",
                    help="the protocol that drives the target, where its shape does not say: "
                         "torch, metric, timm, deepspeed, callable, ignite, lr_function, "
                         "factor_function, wrapper; pairs with --scheduler like --spec")
    group.addoption("--scheduler-config", default=None, metavar="FILE",
                    help="more targets from a JSON file: a list of {\"scheduler\", \"spec\", "
                         "\"map\", \"kwargs\", \"domain\", \"protocol\", \"claims\", "
                         "\"wraps\", \"label\"} objects")
    group.addoption("--conformance-list-checks", action="store_true", default=False,
                    help="list every check id with its contract, and exit")
    group.addoption("--conformance-list-specs", action="store_true", default=False,
                    help="list every built-in spec name, and exit")
    group.addoption("--conformance-report", default=None, metavar="PATH",
                    help="write a JSON report there (and a Markdown table next to it)")
    group.addoption("--conformance-xfails", default=None, metavar="FILE",
                    help="known failures, one '[Target] check-id  # reason' a line (or "
                         "'check-id  # reason' for every target)")
    group.addoption("--conformance-timeout", default=TIMEOUT, type=float, metavar="SECONDS",
                    help=f"time limit of one example (default {TIMEOUT:g}; 0: none); an "
                         "example that outlives it fails its check as hung")
    parser.addini("conformance_scheduler", "default --scheduler target(s)", type="args",
                  default=[])


def named_targets(config: pytest.Config) -> list[str]:
    """The targets named by option, else environment variable, else ini key."""
    given_opt: list[str] = config.getoption("scheduler") or []
    if given_opt:
        return given_opt
    env = os.environ.get("CONFORMANCE_SCHEDULER", "").split()
    if env:
        return env
    return list(config.getini("conformance_scheduler"))


def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """--conformance-list-checks and --conformance-list-specs: print, then exit 0."""
    if config.getoption("conformance_list_checks", False):
        import conformance.checks  # noqa: F401  (registers the catalogue)
        from conformance.catalogue import CHECKS

        for check in CHECKS.values():
            print(f"{check.id:36} {check.contract}")
        return 0
    if config.getoption("conformance_list_specs", False):
        from conformance.specs import SPECS

        for name, spec in SPECS.items():
            print(f"{name:52} {spec.schedule.source}")
        return 0
    return None


@pytest.hookimpl(tryfirst=True)  # before Hypothesis's plugin loads --hypothesis-profile
def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("help", False) or config.getoption("version", False):
        return
    names = named_targets(config)
    if not names and not config.getoption("scheduler_config"):
        if (config.getoption("spec") or config.getoption("scheduler_kwargs")
                or config.getoption("scheduler_map") or config.getoption("scheduler_domain")
                or config.getoption("scheduler_protocol")):
            raise pytest.UsageError("--spec, --scheduler-kwargs, --scheduler-map, "
                                    "--scheduler-domain and --scheduler-protocol need a "
                                    "target: add --scheduler MODULE:ATTR")
        return
    import conformance.checks  # noqa: F401  (registers the catalogue)

    profiles.register()
    importable_cwd()
    try:
        targets = build_targets(names, config.getoption("spec"),
                                config.getoption("scheduler_kwargs"),
                                config.getoption("scheduler_map"),
                                config.getoption("scheduler_config"),
                                config.getoption("scheduler_domain"),
                                config.getoption("scheduler_protocol"))
        xfails = read_xfails(config.getoption("conformance_xfails"), targets)
        if config.getoption("conformance_timeout") < 0:
            raise UsageFault("--conformance-timeout: give a number of seconds >= 0 "
                             "(0: no time limit)")
    except UsageFault as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[_TARGETS] = targets
    recorder = config.stash[_RECORDER] = Recorder(targets, xfails, seed=run_seed(config))
    config.pluginmanager.register(recorder, "conformance-recorder")
    if config.getoption("hypothesis_profile", None) is None:
        settings.load_profile(profiles.DEFAULT)
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        # No test path given: run the catalogue only, not the tests of the current directory.
        config.args = []


def run_seed(config: pytest.Config) -> Any:
    """The Hypothesis seed of the run: --hypothesis-seed, else the controller's (under
    xdist), else a fresh one; recorded in the report so that a run can be repeated."""
    given_seed = config.getoption("hypothesis_seed", None)
    if given_seed is not None:
        return int(given_seed) if str(given_seed).isdigit() else given_seed
    shared = getattr(config, "workerinput", {}).get("conformance_seed")
    return shared if shared is not None else random.SystemRandom().getrandbits(32)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist hook: every worker uses the controller's seed."""
    recorder = node.config.stash.get(_RECORDER, None)
    if recorder is not None:
        node.workerinput["conformance_seed"] = recorder.seed


def read_xfails(path: str | None, targets: list[Target]) -> dict[tuple[str | None, str], str]:
    """Parse the xfails file: {(label or None, check id): reason}. A line that names an
    unknown check or a target the run does not have is a usage error."""
    from conformance.catalogue import CHECKS

    if not path:
        return {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageFault(f"--conformance-xfails: cannot read {path!r} ({exc.strerror})") from None
    names = {t.label for t in targets} | {t.path for t in targets}
    out: dict[tuple[str | None, str], str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = XFAIL_LINE.match(line)
        if not match:
            raise UsageFault(
                f"--conformance-xfails {path}:{number}: malformed line {raw!r}; expected "
                "'check-id  # reason' or '[Target] check-id  # reason'")
        if match["id"] not in CHECKS:
            raise UsageFault(
                f"--conformance-xfails {path}:{number}: unknown check id {match['id']!r}; "
                "pytest --conformance-list-checks lists them")
        if match["label"] is not None and match["label"] not in names:
            raise UsageFault(
                f"--conformance-xfails {path}:{number}: no target of this run is labelled "
                f"{match['label']!r}; targets: {', '.join(sorted(t.label for t in targets))}")
        out[(match["label"], match["id"])] = (match["reason"] or "").strip()
    return out


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    targets = config.stash.get(_TARGETS, None)
    if not targets:
        return
    from conformance.catalogue import CHECKS, missing

    recorder = config.stash[_RECORDER]
    for target in targets:
        for check in CHECKS.values():
            if missing(check, target) or not target.selects(check):
                continue
            name = f"[{target.label}] {check.id}"
            item = CheckItem.from_parent(session, name=name, nodeid=name, target=target,
                                         check=check)
            reason = recorder.xfail_reason(target, check)
            if reason is not None:
                item.add_marker(pytest.mark.xfail(reason=reason or "known failure",
                                                  strict=False))
            items.append(item)


class Failed(AssertionError):
    """A check's finding, raised so that pytest counts the item failed."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.reason)
        self.finding = finding


class CheckItem(pytest.Item):
    """One check run on one target."""

    def __init__(self, *, target: Target, check: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target = target
        self.check = check
        self.finding: Finding | None = None

    def runtest(self) -> None:
        from conformance.findings import conduct
        from conformance.harness import Mismatch

        recorder = self.config.stash[_RECORDER]
        self.finding, exc = conduct(self.check, self.target,
                                    self.config.getoption("conformance_timeout"), recorder.seed)
        if exc is None:
            return
        if isinstance(exc, (Mismatch, Group)):
            raise Failed(self.finding) from None
        raise exc  # the target's own exception: pytest shows its traceback

    def _traceback_filter(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:
        # Show the target's frames, not pytest's, pluggy's, Hypothesis's or the suite's.
        hidden = ("_pytest", "pluggy", "hypothesis", os.sep + "conformance" + os.sep)
        tb = excinfo.traceback.filter(
            lambda entry: not any(h in str(entry.path) for h in hidden))
        return tb or excinfo.traceback[-1:]

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        finding = self.finding
        if finding is None:  # failed outside runtest (setup): pytest's own text
            return str(super().repr_failure(excinfo, style=style))
        text = finding.text(self.target.label, self.check.contract, self._derived(finding))
        if isinstance(excinfo.value, Failed):
            return text
        return text + "\n\n" + str(super().repr_failure(excinfo, style="short"))

    def _derived(self, finding: Finding) -> str:
        """Where an earlier failure of the same target may explain this one (the formula
        families run first)."""
        from conformance.report import Row

        recorder = self.config.stash[_RECORDER]
        row = Row(finding.check, "", Outcome.FAILED, reason=finding.reason, step=finding.step,
                  error=finding.error)
        why = derived(row, recorder.rows.get(self.target.label, []))
        return f"({why})" if why else ""

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, self.name


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    if isinstance(item, CheckItem):
        report = outcome.get_result()
        report.sections = [(title, clip(text)) for title, text in report.sections]
        if call.when == "call" and item.finding is not None:
            report.user_properties.append(("conformance", item.finding.as_dict()))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int,
                            config: pytest.Config) -> None:
    recorder = config.stash.get(_RECORDER, None)
    if recorder is None:
        return
    recorder.finish()
    terminalreporter.section("conformance summary")
    for line in recorder.summary_lines():
        terminalreporter.write_line(line)
    path = config.getoption("conformance_report")
    if path:
        written = recorder.write(Path(path), settings())
        terminalreporter.write_line(f"report: {', '.join(str(p) for p in written)}")
        plots = recorder.plots
        if plots.get("count"):
            terminalreporter.write_line(
                f"plots: {plots['count']} PNG(s) in {written[0].parent / plots['folder']}")
        elif plots.get("how"):
            terminalreporter.write_line(f"plots of the failed trajectories: {plots['how']}")
