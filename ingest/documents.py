"""Recording documents: each extracted text stored once, as a corpus file and the row that
points at it, with every URL that carried it. Inside a transaction the caller holds.

The only place that assigns `seq`: `store_document`, under the write lock, writing the corpus
file atomically before the row that points at it. Does not fetch, parse or extract.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ingest import corpus
from ingest.extract import ExtractedDocument
from ingest.schema import document_urls, documents
from ingest.store import inserted_id, url_key

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredDocument:
    id: int
    seq: int
    hash16: str
    file: str
    title: str
    url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Duplicate:
    """The text is already in the corpus as document `of`; the URL was recorded against it."""

    of: StoredDocument
    url: str


def find_document(conn: Connection, hash16: str) -> StoredDocument | None:
    row = conn.execute(sa.select(documents).where(documents.c.hash == hash16)).mappings().first()
    return _document(row) if row is not None else None


def _document(row: sa.RowMapping) -> StoredDocument:
    return StoredDocument(
        id=row["id"],
        seq=row["seq"],
        hash16=row["hash"],
        file=row["file"],
        title=row["title"],
        url=row["url"],
    )


@dataclass(slots=True)
class Numbering:
    """The next corpus number, read once per write transaction and counted on from there (the
    transaction holds the write lock, so nobody else numbers meanwhile)."""

    next: int

    @classmethod
    def start(cls, conn: Connection) -> Numbering:
        return cls(next_seq(conn))

    def take(self) -> int:
        seq, self.next = self.next, self.next + 1
        return seq


def store_document(
    conn: Connection,
    corpus_dir: Path,
    doc: ExtractedDocument,
    *,
    source_id: int,
    published: datetime | None,
    now: datetime,
    numbers: Numbering | None = None,
    staged: corpus.Staged | None = None,
) -> StoredDocument | Duplicate:
    """The document, stored once: a new file and row, or the URL added to the existing one.
    Must run inside a write transaction (it numbers documents and relies on the lock);
    `numbers` carries the count across several documents of one transaction. With `staged`
    (the text already written and fsynced, `corpus.stage`), the file is only renamed: the
    caller syncs the corpus folder once before the transaction commits."""
    hash16 = corpus.hash16(doc.text)
    existing = find_document(conn, hash16)
    if existing is not None:
        if staged is not None:
            corpus.discard(staged)
        _add_url(conn, existing.id, doc.url, source_id, now)
        return Duplicate(of=existing, url=doc.url)
    seq = (numbers or Numbering.start(conn)).take()
    name = corpus.file_name(seq, hash16)
    if staged is None:
        corpus.write_atomically(corpus_dir / name, doc.text)
    else:
        corpus.place(staged, corpus_dir / name)
    title = doc.title or (corpus.blocks_of(doc.text) or [""])[0]
    try:
        inserted = conn.execute(
            documents.insert().values(
                seq=seq,
                hash=hash16,
                file=name,
                title=title[:1000],
                url=doc.url,
                published=published,
                first_seen_at=now,
                source_id=source_id,
                chars=len(doc.text),
            )
        )
        document_id = inserted_id(inserted)
        _add_url(conn, document_id, doc.url, source_id, now)
    except BaseException:
        # The row was refused (database full, lock timeout): its file must not outlive it.
        # No row can name this file (its seq is past every row's). A failed COMMIT is not
        # handled here: it may be ambiguous (PostgreSQL), so the next pass's
        # `remove_orphan_files` decides from the rows that did commit.
        (corpus_dir / name).unlink(missing_ok=True)
        raise
    return StoredDocument(
        id=document_id, seq=seq, hash16=hash16, file=name, title=title, url=doc.url
    )


def count_documents(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(documents)).scalar_one())


def next_seq(conn: Connection) -> int:
    current = conn.execute(sa.select(sa.func.max(documents.c.seq))).scalar()
    return 0 if current is None else int(current) + 1


def _add_url(conn: Connection, document_id: int, url: str, source_id: int, now: datetime) -> None:
    key = url_key(url)
    if conn.execute(sa.select(document_urls.c.id).where(document_urls.c.url_key == key)).first():
        return
    conn.execute(
        document_urls.insert().values(
            document_id=document_id, url_key=key, url=url, source_id=source_id, seen_at=now
        )
    )


def known_files(conn: Connection) -> dict[str, str]:
    """file name -> hash16 of every stored document."""
    return {
        row.file: row.hash for row in conn.execute(sa.select(documents.c.file, documents.c.hash))
    }


def remove_orphan_files(conn: Connection, corpus_dir: Path) -> list[Path]:
    """Delete what an interrupted write left behind: temporary files, and corpus files numbered
    past the last stored document (written, but their row never committed). Files numbered
    within the stored range that no row names are left for `verify` to report."""
    last = next_seq(conn) - 1
    named = known_files(conn)
    removed = [p for p in corpus_dir.glob(".tmp-*.part") if p.is_file()]
    removed += [
        f.path
        for f in corpus.scan_corpus_dir(corpus_dir)
        if f.seq > last and f.path.name not in named
    ]
    for path in removed:
        log.warning("removing %s: left by an interrupted write", path)
        path.unlink(missing_ok=True)
    return removed


def add_duplicate(
    conn: Connection, doc: ExtractedDocument, *, source_id: int, now: datetime
) -> Duplicate | None:
    """When the text is already in the corpus: its URL recorded against that document, without
    a number or a file (so any worker may do it); None when the text is new."""
    existing = find_document(conn, corpus.hash16(doc.text))
    if existing is None:
        return None
    _add_url(conn, existing.id, doc.url, source_id, now)
    return Duplicate(of=existing, url=doc.url)
