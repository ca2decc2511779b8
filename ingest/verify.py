"""Checking that the corpus folder and the `documents` rows agree, and repairing only what can
be repaired without guessing. Does not re-extract or restore anything.

    documents rows ─┐
                    ├─ take_inventory ─▶ Inventory ─ find_problems (pure) ─▶ Finding*
    corpus folder ──┘                                                         │
                                     remove_leftovers (only with --repair) ◀──┘

Found: files whose text no longer hashes to the hash in their name, unreadable files, rows
whose file is missing, rows whose seq or hash disagree with their file name, files no row
names, and temporary files of interrupted writes. Removable (and nothing else): temporary
files, and files no row names that are numbered past the last document, which is exactly
what a write killed between its file and its row leaves (`ingest.documents` writes the file
first). Everything else needs a person: it is reported, never deleted or rewritten.

Rows are read before the folder is listed, so an ingest running meanwhile can only make a
just-written file look unfinished, never a row look fileless; repairs therefore run under
the writer lock (the CLI takes it for `verify --repair`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ingest import corpus
from ingest.db import Database
from ingest.schema import documents

log = logging.getLogger(__name__)

TEMPORARY_GLOB = ".tmp-*.part"  # what corpus.write_atomically names its temporary files

FindingKind = Literal[
    "temporary",  # a temporary file of an interrupted write            (removable)
    "unfinished_write",  # no row; numbered past the last document      (removable)
    "orphan_file",  # no row; numbered within the stored range
    "missing_file",  # a row whose file is not there
    "hash_mismatch",  # the text no longer hashes to the name's hash16
    "unreadable",  # the file cannot be read as UTF-8 text
    "row_mismatch",  # a row whose seq or hash differs from its file name's
]
REMOVABLE: frozenset[FindingKind] = frozenset({"temporary", "unfinished_write"})


@dataclass(frozen=True, slots=True, kw_only=True)
class FileFacts:
    """A corpus-shaped file: what its name says and what its text hashes to."""

    name: str
    seq: int
    name_hash: str
    content_hash: str | None  # None: unreadable


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentRow:
    seq: int
    hash16: str
    file: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Inventory:
    files: tuple[FileFacts, ...]
    temporaries: tuple[str, ...]  # names of temporary files
    rows: tuple[DocumentRow, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    kind: FindingKind
    name: str  # the file concerned, relative to the corpus folder
    detail: str

    @property
    def removable(self) -> bool:
        return self.kind in REMOVABLE


@dataclass(frozen=True, slots=True, kw_only=True)
class Verification:
    files: int
    rows: int
    findings: tuple[Finding, ...]
    removed: tuple[Finding, ...] = ()  # findings repaired by deleting their file

    @property
    def remaining(self) -> tuple[Finding, ...]:
        """Findings still true: not about a file that was removed."""
        gone = {finding.name for finding in self.removed}
        return tuple(f for f in self.findings if f.name not in gone)

    @property
    def clean(self) -> bool:
        return not self.remaining


# --- the decision (pure) ----------------------------------------------------------------------


def find_problems(inventory: Inventory) -> tuple[Finding, ...]:
    """Every disagreement between the files and the rows, temporaries first, then by name."""
    found = [
        Finding(kind="temporary", name=name, detail="temporary file of an interrupted write")
        for name in sorted(inventory.temporaries)
    ]
    by_file = {row.file: row for row in inventory.rows}
    last = max((row.seq for row in inventory.rows), default=-1)
    for facts in sorted(inventory.files, key=lambda f: f.name):
        found.extend(_file_problems(facts, facts.name in by_file, last))
    names = {facts.name for facts in inventory.files}
    for row in sorted(inventory.rows, key=lambda r: r.seq):
        found.extend(_row_problems(row, row.file in names))
    return tuple(found)


def _file_problems(facts: FileFacts, has_row: bool, last: int) -> list[Finding]:
    found = []
    if facts.content_hash is None:
        found.append(Finding(kind="unreadable", name=facts.name, detail="not readable as UTF-8"))
    elif facts.content_hash != facts.name_hash:
        detail = f"text hashes to {facts.content_hash}, the name says {facts.name_hash}"
        found.append(Finding(kind="hash_mismatch", name=facts.name, detail=detail))
    if not has_row and facts.seq > last:
        detail = f"no row, numbered past the last document ({last}): an interrupted write"
        found.append(Finding(kind="unfinished_write", name=facts.name, detail=detail))
    elif not has_row:
        detail = f"no row names it, though seq {facts.seq} is within the stored range"
        found.append(Finding(kind="orphan_file", name=facts.name, detail=detail))
    return found


def _row_problems(row: DocumentRow, has_file: bool) -> list[Finding]:
    found = []
    if not has_file:
        detail = f"document seq {row.seq} names this file; it is missing"
        found.append(Finding(kind="missing_file", name=row.file, detail=detail))
    if corpus.parse_file_name(row.file) != (row.seq, row.hash16):
        detail = f"document row says seq {row.seq}, hash {row.hash16}"
        found.append(Finding(kind="row_mismatch", name=row.file, detail=detail))
    return found


# --- the edges --------------------------------------------------------------------------------


def take_inventory(conn: Connection, corpus_dir: Path) -> Inventory:
    """The rows (read first; see the module docstring), then the folder, each file hashed."""
    query = sa.select(documents.c.seq, documents.c.hash, documents.c.file)
    rows = tuple(DocumentRow(seq=r.seq, hash16=r.hash, file=r.file) for r in conn.execute(query))
    files = tuple(
        FileFacts(name=f.path.name, seq=f.seq, name_hash=f.hash16, content_hash=_hash_of(f.path))
        for f in corpus.scan_corpus_dir(corpus_dir)
    )
    temporaries = tuple(p.name for p in corpus_dir.glob(TEMPORARY_GLOB) if p.is_file())
    return Inventory(files=files, temporaries=temporaries, rows=rows)


def _hash_of(path: Path) -> str | None:
    try:
        return corpus.hash16(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("cannot read corpus file %s: %s", path, exc)
        return None


def remove_leftovers(corpus_dir: Path, findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Delete the files of the removable findings; the ones actually removed."""
    removed = []
    for finding in findings:
        if not finding.removable:
            continue
        try:
            (corpus_dir / finding.name).unlink(missing_ok=True)
        except OSError as exc:
            log.error("cannot remove %s from %s: %s", finding.name, corpus_dir, exc)
            continue
        log.warning("removed %s from %s: %s", finding.name, corpus_dir, finding.detail)
        removed.append(finding)
    return tuple(removed)


def verify_corpus(db: Database, corpus_dir: Path, *, repair: bool = False) -> Verification:
    """Check the corpus against the database; with `repair`, remove the removable leftovers
    (the caller must hold the writer lock)."""
    with db.read() as conn:
        inventory = take_inventory(conn, corpus_dir)
    findings = find_problems(inventory)
    removed = remove_leftovers(corpus_dir, findings) if repair else ()
    return Verification(
        files=len(inventory.files), rows=len(inventory.rows), findings=findings, removed=removed
    )
