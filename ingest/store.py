"""Recording ingest state: sources and their fetch state, entries, pages and errors (documents
and their corpus files: `ingest.documents`). Each function does one step inside a transaction
the caller holds. Does not fetch, parse or extract.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ingest.config import SourceConfig
from ingest.feeds import FeedEntry
from ingest.http import Validators
from ingest.schema import documents, entries, errors, pages, sources

log = logging.getLogger(__name__)

FINAL_PAGE_STATUSES = frozenset({"stored", "duplicate", "skipped", "failed"})


def inserted_id(result: sa.CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceState:
    id: int
    name: str
    feed_url: str
    current_url: str
    validators: Validators
    disabled_reason: str | None
    consecutive_failures: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingPage:
    page_id: int
    canonical_url: str
    link: str  # the URL to fetch: the first entry link that led here
    title: str
    published: datetime | None
    attempts: int


# --- sources ---------------------------------------------------------------------------------


def sync_source(conn: Connection, config: SourceConfig, now: datetime) -> SourceState:
    """The stored state of a configured source, created on first sight. A changed `feed` URL
    in the configuration starts afresh (no validators, no 410 verdict)."""
    row = conn.execute(sa.select(sources).where(sources.c.name == config.name)).mappings().first()
    if row is None:
        conn.execute(
            sources.insert().values(
                name=config.name,
                feed_url=config.feed,
                current_url=config.feed,
                consecutive_failures=0,
                created_at=now,
            )
        )
    elif row["feed_url"] != config.feed:
        conn.execute(
            sources.update()
            .where(sources.c.id == row["id"])
            .values(
                feed_url=config.feed,
                current_url=config.feed,
                etag=None,
                last_modified=None,
                disabled_reason=None,
            )
        )
    return load_source(conn, config.name)


def all_sources(conn: Connection) -> list[SourceState]:
    return [_source(row) for row in conn.execute(sa.select(sources)).mappings()]


def sources_with_pending_pages(conn: Connection) -> frozenset[int]:
    query = (
        sa.select(entries.c.source_id)
        .select_from(entries.join(pages, pages.c.id == entries.c.page_id))
        .where(pages.c.status == "pending")
        .distinct()
    )
    return frozenset(int(row[0]) for row in conn.execute(query))


def load_source(conn: Connection, name: str) -> SourceState:
    row = conn.execute(sa.select(sources).where(sources.c.name == name)).mappings().one()
    return _source(row)


def _source(row: sa.RowMapping) -> SourceState:
    return SourceState(
        id=row["id"],
        name=row["name"],
        feed_url=row["feed_url"],
        current_url=row["current_url"],
        validators=Validators(etag=row["etag"], last_modified=row["last_modified"]),
        disabled_reason=row["disabled_reason"],
        consecutive_failures=row["consecutive_failures"],
    )


def record_feed_success(
    conn: Connection,
    source_id: int,
    *,
    validators: Validators,
    new_url: str | None,
    now: datetime,
) -> None:
    values: dict[str, object] = {
        "etag": validators.etag,
        "last_modified": validators.last_modified,
        "last_attempt_at": now,
        "last_success_at": now,
        "consecutive_failures": 0,
    }
    if new_url:
        values["current_url"] = new_url
    conn.execute(sources.update().where(sources.c.id == source_id).values(**values))


def record_feed_failure(
    conn: Connection, source_id: int, *, message: str, now: datetime, disable: bool = False
) -> None:
    values: dict[str, object] = {
        "last_attempt_at": now,
        "last_error_at": now,
        "last_error": message[:2000],
        "consecutive_failures": sources.c.consecutive_failures + 1,
    }
    if disable:
        values["disabled_reason"] = message[:2000]
    conn.execute(sources.update().where(sources.c.id == source_id).values(**values))


def record_error(
    conn: Connection,
    *,
    source_id: int | None,
    stage: str,
    kind: str,
    url: str,
    message: str,
    now: datetime,
) -> None:
    conn.execute(
        errors.insert().values(
            at=now, source_id=source_id, stage=stage, kind=kind, url=url, message=message[:2000]
        )
    )


# --- entries and pages -------------------------------------------------------------------------


def add_entries(
    conn: Connection, source_id: int, feed_entries: Sequence[FeedEntry], now: datetime
) -> tuple[int, int]:
    """Record the entries not yet known for this source, each pointing at the page of its
    canonical URL (created pending if new). Returns how many entries were new, and how many
    of those pointed at a page already known (duplicates)."""
    added = known_pages = 0
    for entry in feed_entries:
        key_hash = url_key(entry.key)
        known = conn.execute(
            sa.select(entries.c.id).where(
                entries.c.source_id == source_id, entries.c.key_hash == key_hash
            )
        ).first()
        if known is not None:
            continue
        page_id, existed = _page_for(conn, entry.canonical, now)
        known_pages += existed
        conn.execute(
            entries.insert().values(
                source_id=source_id,
                key_hash=key_hash,
                key=entry.key,
                link=entry.link,
                title=entry.title,
                published=entry.published,
                page_id=page_id,
                first_seen_at=now,
            )
        )
        added += 1
    return added, known_pages


def _page_for(conn: Connection, canonical: str, now: datetime) -> tuple[int, bool]:
    key = url_key(canonical)
    row = conn.execute(sa.select(pages.c.id).where(pages.c.url_key == key)).first()
    if row is not None:
        return int(row[0]), True
    inserted = conn.execute(
        pages.insert().values(
            url_key=key, canonical_url=canonical, status="pending", attempts=0, first_seen_at=now
        )
    )
    return inserted_id(inserted), False


def pending_pages(conn: Connection, source_id: int) -> list[PendingPage]:
    """Pages still to be fetched that entries of this source point at, oldest first."""
    mine = entries.alias("mine")
    first_entry = (
        sa.select(sa.func.min(mine.c.id))
        .where(mine.c.page_id == pages.c.id, mine.c.source_id == source_id)
        .correlate(pages)
        .scalar_subquery()
    )
    query = (
        sa.select(pages, entries.c.link, entries.c.title, entries.c.published)
        .select_from(pages.join(entries, entries.c.id == first_entry))
        .where(pages.c.status == "pending")
        .order_by(pages.c.id)
    )
    return [
        PendingPage(
            page_id=row["id"],
            canonical_url=row["canonical_url"],
            link=row["link"],
            title=row["title"],
            published=row["published"],
            attempts=row["attempts"],
        )
        for row in conn.execute(query).mappings()
    ]


def record_page(
    conn: Connection,
    page_id: int,
    *,
    status: str,
    now: datetime,
    reason: str | None = None,
    final_url: str | None = None,
    document_id: int | None = None,
) -> None:
    conn.execute(
        pages.update()
        .where(pages.c.id == page_id)
        .values(
            status=status,
            reason=reason[:2000] if reason else None,
            final_url=final_url,
            document_id=document_id,
            attempts=pages.c.attempts + 1,
            last_attempt_at=now,
        )
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorRecord:
    at: datetime
    source: str | None
    stage: str
    kind: str
    url: str
    message: str


def errors_since(conn: Connection, since: datetime | None) -> list[ErrorRecord]:
    """Recorded errors (oldest first), with their source's name."""
    query = (
        sa.select(errors, sources.c.name.label("source_name"))
        .select_from(errors.outerjoin(sources, sources.c.id == errors.c.source_id))
        .order_by(errors.c.at, errors.c.id)
    )
    if since is not None:
        query = query.where(errors.c.at >= since)
    return [
        ErrorRecord(
            at=row["at"],
            source=row["source_name"],
            stage=row["stage"],
            kind=row["kind"],
            url=row["url"],
            message=row["message"],
        )
        for row in conn.execute(query).mappings()
    ]


# --- what `status` shows, and the daemon reads ---------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceOverview:
    """A stored source as `claimwatch status` shows it."""

    name: str
    url: str
    last_success: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    failures: int
    documents: int
    disabled_reason: str | None


def source_overviews(conn: Connection) -> list[SourceOverview]:
    """Every stored source (configured or not any more), by name, with its document count."""
    query = sa.select(documents.c.source_id, sa.func.count()).group_by(documents.c.source_id)
    counts: dict[int, int] = {int(sid): int(n) for sid, n in conn.execute(query)}
    return [
        SourceOverview(
            name=row.name,
            url=row.current_url,
            last_success=row.last_success_at,
            last_error=row.last_error,
            last_error_at=row.last_error_at,
            failures=row.consecutive_failures,
            documents=counts.get(row.id, 0),
            disabled_reason=row.disabled_reason,
        )
        for row in conn.execute(sa.select(sources).order_by(sources.c.name))
    ]


def last_attempts(conn: Connection) -> dict[str, datetime | None]:
    """When each stored source's feed was last polled (None: never), by source name."""
    query = sa.select(sources.c.name, sources.c.last_attempt_at)
    return {str(name): at for name, at in conn.execute(query)}


# --- one page or source at a time (the distributed mode's jobs) --------------------------------


def load_source_by_id(conn: Connection, source_id: int) -> SourceState:
    row = conn.execute(sa.select(sources).where(sources.c.id == source_id)).mappings().one()
    return _source(row)


def pending_page(conn: Connection, source_id: int, page_id: int) -> PendingPage | None:
    """One page of this source still to be fetched, None once it has an outcome."""
    mine = entries.alias("mine")
    first_entry = (
        sa.select(sa.func.min(mine.c.id))
        .where(mine.c.page_id == page_id, mine.c.source_id == source_id)
        .scalar_subquery()
    )
    query = (
        sa.select(pages, entries.c.link, entries.c.title, entries.c.published)
        .select_from(pages.join(entries, entries.c.id == first_entry))
        .where(pages.c.id == page_id, pages.c.status == "pending")
    )
    row = conn.execute(query).mappings().first()
    if row is None:
        return None
    return PendingPage(
        page_id=row["id"],
        canonical_url=row["canonical_url"],
        link=row["link"],
        title=row["title"],
        published=row["published"],
        attempts=row["attempts"],
    )
