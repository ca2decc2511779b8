"""The numbering stage of the distributed mode: any worker stages the documents it extracted;
one transaction at a time, whichever worker runs it, numbers them, writes their files and
records them. `seq` stays contiguous and is never reused across workers and machines.

The transaction locks the corpus counter row first (`FOR UPDATE`: the next one waits for the
commit), removes the files an interrupted numbering left (numbered at or past the counter, no
row names them), then stores each staged document with `documents.store_document` (the file
written and fsynced before its row) and moves the counter. A crash before the commit leaves
only files past the counter, which the next run removes. Does not fetch or extract.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from ingest import corpus, documents, store
from ingest.extract import ExtractedDocument
from ingest.pages import ReadyPage
from ingest.queue_schema import corpus_counter, staged_documents

log = logging.getLogger(__name__)


class NumberingConflict(RuntimeError):
    """The counter and the stored documents disagree: something numbered documents without
    the counter (a single-machine `ingest` run against the queue's database). A bug in how
    claimwatch is run, never recorded as data."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Numbered:
    """What one numbering transaction did."""

    stored: tuple[documents.StoredDocument, ...]
    duplicates: int
    removed: tuple[Path, ...]  # files an interrupted numbering had left
    more: bool  # staged documents are left for the next transaction


def stage(
    conn: Connection, *, page_id: int, source_id: int, ready: ReadyPage, now: datetime
) -> bool:
    """Stage a page's document for numbering, once per page; False when it already was."""
    doc = ready.document
    insert = (
        postgresql.insert(staged_documents)
        .values(
            page_id=page_id,
            source_id=source_id,
            hash=corpus.hash16(doc.text),
            url=doc.url,
            final_url=ready.final_url,
            title=doc.title,
            text=doc.text,
            published=ready.published,
            staged_at=now,
        )
        .on_conflict_do_nothing(index_elements=["page_id"])
        .returning(staged_documents.c.id)
    )
    return conn.execute(insert).first() is not None


def staged_count(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(staged_documents)).scalar_one())


def lock_counter(conn: Connection) -> int:
    """Take the numbering lock (the counter row, until this transaction ends): the next seq."""
    query = sa.select(corpus_counter.c.next_seq).where(corpus_counter.c.id == 1).with_for_update()
    next_seq = int(conn.execute(query).scalar_one())
    stored = documents.next_seq(conn)
    if next_seq != stored:
        raise NumberingConflict(
            f"corpus counter says {next_seq} but the documents end at {stored - 1}: "
            "documents were numbered outside the queue's numbering stage"
        )
    return next_seq


def number_staged(conn: Connection, corpus_dir: Path, *, limit: int, now: datetime) -> Numbered:
    """Number and store up to `limit` staged documents, in staging order, in this transaction."""
    lock_counter(conn)
    removed = tuple(documents.remove_orphan_files(conn, corpus_dir))
    rows = conn.execute(
        sa.select(staged_documents).order_by(staged_documents.c.id).limit(limit + 1)
    ).mappings()
    batch = list(rows)
    stored: list[documents.StoredDocument] = []
    duplicates = 0
    for row in batch[:limit]:
        outcome = _store_one(conn, corpus_dir, row, now)
        if isinstance(outcome, documents.Duplicate):
            duplicates += 1
        else:
            stored.append(outcome)
    conn.execute(
        corpus_counter.update()
        .where(corpus_counter.c.id == 1)
        .values(next_seq=documents.next_seq(conn))
    )
    return Numbered(
        stored=tuple(stored), duplicates=duplicates, removed=removed, more=len(batch) > limit
    )


def _store_one(
    conn: Connection, corpus_dir: Path, row: sa.RowMapping, now: datetime
) -> documents.StoredDocument | documents.Duplicate:
    doc = ExtractedDocument(
        url=row["url"], title=row["title"], blocks=(), published=None, text=row["text"]
    )
    result = documents.store_document(
        conn, corpus_dir, doc, source_id=row["source_id"], published=row["published"], now=now
    )
    duplicate = isinstance(result, documents.Duplicate)
    document = result.of if isinstance(result, documents.Duplicate) else result
    store.record_page(
        conn,
        row["page_id"],
        status="duplicate" if duplicate else "stored",
        final_url=row["final_url"],
        document_id=document.id,
        now=now,
    )
    conn.execute(staged_documents.delete().where(staged_documents.c.id == row["id"]))
    log.info(
        "numbered %s: %s", doc.url, "duplicate of " + document.file if duplicate else document.file
    )
    return result
