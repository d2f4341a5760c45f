"""The catalogue of torch-version differences (declared with its probes, generated into
versions.json), its checks' catalogue part and choice of entries, and the matrix's merge script.
Fast: no other torch is installed; the running one is the default."""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance import versions
from conformance.catalogue import CHECKS, SPEC_REASONS
from conformance.harness import Mismatch
from conformance.specs import SPECS
from conformance.targets import CLAIMS, build_targets
from conformance.versions import checks as vchecks
from conformance.versions import probes

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


table = _load("matrix_table", ROOT / "tools" / "matrix_table.py")


# -- versions and ranges ---------------------------------------------------------------------
@pytest.mark.parametrize(("text", "want"), [
    ("2.13.0+cpu", (2, 13, 0)), ("2.4.1+cu121", (2, 4, 1)), ("2.4", (2, 4, 0)),
    ("2.10.0", (2, 10, 0)), ("2.6.0a0+git123", (2, 6, 0))])
def test_parse(text: str, want: tuple[int, int, int]) -> None:
    assert versions.parse(text) == want


def test_parse_refuses_garbage() -> None:
    with pytest.raises(ValueError, match="not a torch version"):
        versions.parse("latest")


def test_ranges_compare_minor_releases_numerically() -> None:
    e = versions.entries()
    assert e["verbose_deprecated"].holds("2.2.2") and e["verbose_deprecated"].holds("2.6.9")
    assert not e["verbose_deprecated"].holds("2.1.2") and not e["verbose_deprecated"].holds("2.7.1")
    assert e["last_lr_copies"].holds("2.10.0") and not e["last_lr_copies"].holds("2.9.1")
    assert e["step_wrapper_unnamed"].span == "2.4 only"
    assert e["sequential_tensor_alias"].span == "2.4-2.9"
    assert e["load_weights_only_default"].span == "2.6+"


def test_the_issue_s_differences_are_catalogued() -> None:
    want = {"verbose_deprecated": ("2.2", "2.6"), "verbose_removed": ("2.7", None),
            "step_counter_wrapper": ("2.0", "2.3"), "opt_called_flag": ("2.4", None),
            "plateau_is_lrscheduler": ("2.2", None), "load_weights_only_default": ("2.6", None),
            "is_initial": ("2.8", None), "warm_restarts_modulo": ("2.8", None),
            "zip_strict": ("2.10", None), "last_lr_copies": ("2.10", None),
            "sequential_milestone_zero": ("2.13", None), "cyclic_deepcopy": ("2.1", None),
            "cyclic_scale_fn_state": ("2.2", None), "onecycle_anneal_string": ("2.4", None)}
    e = versions.entries()
    for entry_id, (since, until) in want.items():
        assert e[entry_id].since == versions.minor(since), entry_id
        assert e[entry_id].until == (versions.minor(until) if until else None), entry_id


# -- the catalogue file and the checks -----------------------------------------------------
def test_the_catalogue_file_is_generated_from_the_probes() -> None:
    """versions.json (what the torch-less tools read) is what probes.py declares."""
    assert versions.CATALOGUE.read_text(encoding="utf-8") == probes.catalogue(), (
        "conformance/versions.json differs from conformance/versions/probes.py: "
        "run `python -m conformance.versions.probes`")
    assert list(versions.entries()) == list(probes.BEHAVIOURS)


def test_every_entry_has_a_registered_check_and_a_probe() -> None:
    for entry in versions.entries().values():
        assert entry.check in CHECKS and entry.check.startswith("versions."), entry.id
        assert probes.BEHAVIOURS[entry.id].entry is entry
        assert entry.title and entry.says and entry.before, entry.id


def test_every_entry_concerns_flags_or_schedules_the_suite_knows() -> None:
    known = set(SPEC_REASONS) | set(CLAIMS) | set(SPECS)
    for entry in versions.entries().values():
        assert entry.concerns, f"{entry.id} concerns nothing"
        assert set(entry.concerns) <= known, (entry.id, set(entry.concerns) - known)


def test_checks_choose_entries_by_what_they_concern() -> None:
    """The entries a target is held to follow from its flags and its spec, never from a
    schedule's name in the checks."""
    targets = {t.label: t for t in build_targets(["torch"], [], None, [])}

    def chosen(label: str, among: tuple[probes.Behaviour, ...]) -> list[str]:
        return [b.id for b in among if vchecks.concerns(b, targets[label])]

    assert chosen("StepLR", vchecks.IN_PLACE) == ["tensor_lr_in_place"]
    assert chosen("CosineAnnealingWarmRestarts", vchecks.IN_PLACE) == [
        "tensor_lr_in_place", "warm_restarts_tensor_lr_in_place"]
    assert chosen("ReduceLROnPlateau", vchecks.IN_PLACE) == [
        "tensor_lr_in_place", "plateau_tensor_lr_in_place"]
    assert chosen("CyclicLR", vchecks.STATE) == ["cyclic_scale_fn_state"]
    assert chosen("OneCycleLR", vchecks.STATE) == ["onecycle_anneal_string"]
    sequential = (probes.sequential_milestone_zero, probes.sequential_switch_without_step)
    assert len(chosen("SequentialLR", sequential)) == 2
    assert chosen("ChainedScheduler", sequential) == []
    source = ast.parse(Path(vchecks.__file__).read_text(encoding="utf-8"))
    names = {n.value for n in ast.walk(source) if isinstance(n, ast.Constant)} & set(SPECS)
    assert not names, f"the versions checks name schedules: {names}"


def test_every_versions_check_confirms_some_entry() -> None:
    used = {e.check for e in versions.entries().values()}
    assert {cid for cid in CHECKS if cid.startswith("versions.")} == used


def test_explained_results_name_real_checks() -> None:
    for entry in versions.entries().values():
        for pattern in entry.explains:
            assert pattern.rpartition(" ")[2] in CHECKS, (entry.id, pattern)


def test_the_running_torch_behaves_as_catalogued() -> None:
    """Every probe agrees with its entry's range on the installed torch (the default, 2.13)."""
    wrong = {e.id: probes.observed(e.id) for e in versions.entries().values()
             if probes.observed(e.id) != e.holds()}
    assert not wrong, f"probes disagree with the catalogue on torch {versions.running()}: {wrong}"


def test_a_wrong_range_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """The catalogue part can fail: on torch 2.13 pretending to be 2.5, verbose still raises
    TypeError where the catalogue would expect a deprecation warning."""
    monkeypatch.setattr(versions, "running", lambda: "2.5.1")
    with pytest.raises(Mismatch, match=r"catalogue entry verbose_deprecated \(2.2-2.6\): torch "
                                       r"2.5.1 lacks") as info:
        vchecks.confirm("versions.constructor")
    assert "def verbose_deprecated" in info.value.script  # the probe is the reproducer


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_rejects_malformed_entries(tmp_path: Path) -> None:
    base = {"id": "x", "since": "2.4", "check": "versions.cyclic", "title": "t", "says": "s",
            "before": "b"}
    cases = [({**base, "until": "2.2"}, "before since"),
             ({k: v for k, v in base.items() if k != "says"}, "lacks 'says'"),
             ({**base, "explains": ["[A] not a check id"]}, "malformed explains"),
             ({**base, "explains_where": "around"}, "outside or inside")]
    for raw, message in cases:
        path = _write(tmp_path, "c.json", json.dumps({"entries": [raw]}))
        with pytest.raises(versions.CatalogueError, match=message):
            versions.load(path)
    path = _write(tmp_path, "c.json", json.dumps({"entries": [base, base]}))
    with pytest.raises(versions.CatalogueError, match="duplicate"):
        versions.load(path)


def test_explanation_by_target_check_and_version() -> None:
    swalr = ("SWALR", "state_dict.weights_only_roundtrip")
    assert versions.explanation(*swalr, "2.9.1").id == "swalr_strategy_in_state"  # type: ignore[union-attr]
    assert versions.explanation(*swalr, "2.10.0") is None
    assert versions.explanation("StepLR", "state_dict.weights_only_roundtrip", "2.0.1") is None
    # A bug inside a range explains failures inside it only.
    alias = ("SequentialLR", "versions.tensor_lr")
    assert versions.explanation(*alias, "2.5.1").id == "sequential_tensor_alias"  # type: ignore[union-attr]
    assert versions.explanation(*alias, "2.3.1") is None
    assert versions.explanation(*alias, "2.10.0") is None


# -- the merge script ----------------------------------------------------------------------
def _report(version: str, rows: dict[str, dict[str, str]]) -> dict[str, Any]:
    return {"schema": 1, "created": "2026-01-02T03:04:05Z", "torch": version,
            "python": "3.11.7",
            "hypothesis": {"profile": "ci", "max_examples": 50, "derandomize": True},
            "targets": [{"label": label, "path": f"torch.optim.lr_scheduler:{label}",
                         "spec": label, "fixed_kwargs": {},
                         "checks": [{"check": c, "contract": "", "outcome": o,
                                     "worst_ulps": None, "reason": f"why {c}"}
                                    for c, o in checks.items()]}
                        for label, checks in rows.items()]}


def _reports(tmp_path: Path, reports: list[dict[str, Any]]) -> list[Path]:
    return [_write(tmp_path, f"torch-{r['torch']}.json", json.dumps(r)) for r in reports]


def test_merge_classifies_every_result(tmp_path: Path) -> None:
    paths = _reports(tmp_path, [
        _report("2.10.0+cu128", {"SWALR": {"state_dict.weights_only_roundtrip": "passed",
                                           "api.finite": "passed"}}),
        _report("2.6.0+cu124", {"SWALR": {"state_dict.weights_only_roundtrip": "failed",
                                          "api.finite": "failed"},
                                "StepLR": {"api.finite": "skipped"}}),
    ])
    m = table.read(paths)
    assert m.versions == ["2.6.0", "2.10.0"]  # by version, not by name
    wo = m.cells[("state_dict.weights_only_roundtrip", "2.6.0")]
    assert wo.known == [("SWALR", "swalr_strategy_in_state")] and not wo.failed
    assert m.real_failures == [("2.6.0", "SWALR", "api.finite", "why api.finite")]
    text = table.render(m)
    assert "| check | 2.6.0 | 2.10.0 |" in text
    assert "| api.finite | **✗ 1** | ✓ |" in text
    assert "| state_dict.weights_only_roundtrip | ◆ 1 | ✓ |" in text
    assert "`swalr_strategy_in_state` (2.10+)" in text
    assert "2026-01-02" in text and "torch 2.6.0, 2.10.0" in text


def test_merge_exit_status_and_docs_splice(tmp_path: Path, capsys: Any) -> None:
    ok = _reports(tmp_path, [_report("2.6.0", {"SWALR": {
        "state_dict.weights_only_roundtrip": "failed", "api.finite": "passed"}})])
    doc = _write(tmp_path, "doc.md",
                 f"# Title\n\nintro\n\n{table.BEGIN}\nSTALE TABLE\n{table.END}\n\nend\n")
    assert table.main([*map(str, ok), "--docs", str(doc), "--out", str(tmp_path / "t.md")]) == 0
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\nintro\n\n") and text.endswith(f"{table.END}\n\nend\n")
    assert "STALE TABLE" not in text and "| api.finite | ✓ |" in text
    assert "| `cyclic_beta1` | 2.3+ | versions.cyclic | momentum | " in text  # the catalogue
    bad = _reports(tmp_path, [_report("2.6.0", {"SWALR": {"api.finite": "failed"}})])
    assert table.main([str(p) for p in bad]) == 1
    assert "FAILED torch 2.6.0 [SWALR] api.finite" in capsys.readouterr().out


def test_matrix_session_pins_numpy_for_old_torch() -> None:
    pytest.importorskip("nox")
    noxfile = _load("lr_noxfile", ROOT / "noxfile.py")
    assert "numpy<2" in noxfile.matrix_install("2.2.2")
    assert "numpy<2" not in noxfile.matrix_install("2.3.1")
    assert noxfile.matrix_install("2.4.1")[:1] == ["torch==2.4.1"]
    assert len(noxfile.MATRIX) == 16 and noxfile.DEFAULT_TORCH in noxfile.MATRIX
