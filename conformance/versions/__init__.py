"""Torch versions, in three parts: this module loads the catalogue of torch-version
differences (conformance/versions.json); probes.py declares each entry of it next to its probe
(versions.json is generated from there); checks.py holds the checks of family `versions`.

This module parses versions and tells which entries the running torch is inside. It imports no
torch: the matrix's merge script reads the catalogue in a venv without torch. Ranges are
compared by MAJOR.MINOR: the behaviours change with minor releases, and a range "2.4"-"2.9"
holds every 2.4.x to 2.9.x.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CATALOGUE = Path(__file__).parent.parent / "versions.json"
_VERSION = re.compile(r"^\s*(\d+)\.(\d+)(?:\.(\d+))?")
#: "[Target] check-id", or a bare check id for every target.
_PATTERN = re.compile(r"^(?:\[(?P<label>[^\]]+)\]\s+)?(?P<check>[a-z0-9_]+\.[a-z0-9_]+)$")

Minor = tuple[int, int]


def parse(text: str) -> tuple[int, int, int]:
    """'2.13.0+cpu' -> (2, 13, 0); '2.4' -> (2, 4, 0). ValueError for anything else."""
    match = _VERSION.match(text)
    if not match:
        raise ValueError(f"not a torch version: {text!r}")
    return int(match[1]), int(match[2]), int(match[3] or 0)


def minor(text: str) -> Minor:
    major, minor_, _ = parse(text)
    return major, minor_


@functools.cache
def running() -> str:
    """The installed torch's version, without importing torch when its metadata says it."""
    from importlib import metadata

    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:  # a source build without metadata
        import torch

        return str(torch.__version__)


@dataclass(frozen=True)
class Entry:
    """One version-dependent behaviour."""

    id: str
    since: Minor
    until: Minor | None
    check: str
    title: str
    says: str
    before: str
    #: The targets the behaviour is about: capability flags (a spec's, a target's claims) and
    #: schedules (spec names).
    concerns: tuple[str, ...] = ()
    #: "[Target] check-id" results of the main catalogue that this entry explains.
    explains: tuple[str, ...] = ()
    #: Where those results differ: "outside" the range (the default) or "inside" it.
    explains_where: str = "outside"

    @property
    def span(self) -> str:
        """'2.4-2.9', '2.8+' or '2.4 only'."""
        first = f"{self.since[0]}.{self.since[1]}"
        if self.until is None:
            return f"{first}+"
        last = f"{self.until[0]}.{self.until[1]}"
        return f"{first} only" if last == first else f"{first}-{last}"

    def holds(self, version: str | None = None) -> bool:
        """Whether torch `version` (default: the running one) has this behaviour."""
        v = minor(version or running())
        return self.since <= v and (self.until is None or v <= self.until)

    def concerns_one_of(self, kinds: Collection[str]) -> bool:
        """Whether the entry concerns a target of `kinds` (its flags and its spec's name): one
        of its concerns is among them."""
        return any(kind in kinds for kind in self.concerns)

    def explains_result(self, label: str, check: str, version: str) -> bool:
        """Whether this entry explains `check` failing on target `label` under `version`."""
        differs = self.holds(version) if self.explains_where == "inside" else not self.holds(
            version)
        if not differs:
            return False
        for pattern in self.explains:
            match = _PATTERN.match(pattern)
            if match and match["check"] == check and match["label"] in (None, label):
                return True
        return False


class CatalogueError(ValueError):
    """versions.json is malformed."""


def _entry(raw: dict[str, Any]) -> Entry:
    try:
        since = minor(raw["since"])
        until = minor(raw["until"]) if raw.get("until") else None
        entry = Entry(
            id=raw["id"], since=since, until=until, check=raw["check"], title=raw["title"],
            says=raw["says"], before=raw["before"], concerns=tuple(raw.get("concerns", ())),
            explains=tuple(raw.get("explains", ())),
            explains_where=raw.get("explains_where", "outside"))
    except KeyError as exc:
        raise CatalogueError(f"entry {raw.get('id', '?')!r} lacks {exc.args[0]!r}") from None
    if until is not None and until < since:
        raise CatalogueError(f"entry {entry.id!r}: until {raw['until']} is before since")
    if entry.explains_where not in ("outside", "inside"):
        raise CatalogueError(f"entry {entry.id!r}: explains_where must be outside or inside")
    bad = [p for p in entry.explains if not _PATTERN.match(p)]
    if bad:
        raise CatalogueError(f"entry {entry.id!r}: malformed explains {bad}; "
                             "expected '[Target] check-id' or 'check-id'")
    return entry


def load(path: Path | None = None) -> dict[str, Entry]:
    """The catalogue's entries by id, in file order."""
    data = json.loads((path or CATALOGUE).read_text(encoding="utf-8"))
    out: dict[str, Entry] = {}
    for raw in data["entries"]:
        entry = _entry(raw)
        if entry.id in out:
            raise CatalogueError(f"duplicate entry id {entry.id!r}")
        out[entry.id] = entry
    return out


@functools.cache
def entries() -> dict[str, Entry]:
    """The packaged catalogue (cached)."""
    return load()


def holds(entry_id: str, version: str | None = None) -> bool:
    """Whether the running torch (or `version`) has the behaviour of entry `entry_id`."""
    return entries()[entry_id].holds(version)


def explanation(label: str, check: str, version: str,
                catalogue: dict[str, Entry] | None = None) -> Entry | None:
    """The entry that explains `check` failing on target `label` under torch `version`."""
    for entry in (catalogue or entries()).values():
        if entry.explains_result(label, check, version):
            return entry
    return None


def lacking(check: str, kinds: Collection[str]) -> Entry | None:
    """The entry whose behaviour, lacking on the running torch, explains `check` failing on
    the targets it concerns, when it concerns one of `kinds` (a target's flags and spec name):
    there, torch's own class does not keep the contract, and no target is held to it."""
    for entry in entries().values():
        if entry.explains_where == "outside" and not entry.holds() and \
                entry.concerns_one_of(kinds) and any(
                    (m := _PATTERN.match(p)) and m["check"] == check for p in entry.explains):
            return entry
    return None
