"""The digest outbox in the database: each digest with what it carries and its rendered
content, and one delivery row per recipient whose status moves pending → sent | failed.

A digest, its claims and its pending deliveries are written in one transaction, so claims
count as digested exactly when the digest exists. A delivery is marked sent only after the
server accepted it. Each function runs inside a transaction the caller holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from digest.claims.store import ClaimWindow, claim_ids_in
from digest.compose.model import ArchiveEntry, RenderedDigest
from digest.compose.schema import deliveries, digest_claims, digest_periods, digests
from ingest.store import inserted_id

MAX_BACKOFF = timedelta(hours=6)


@dataclass(frozen=True, slots=True, kw_only=True)
class DigestRecord:
    id: int
    key: str
    created_at: datetime
    watermark_seq: int
    subject: str
    html: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingDelivery:
    id: int
    digest: DigestRecord
    recipient: str
    message_id: str
    attempts: int


@dataclass(frozen=True, slots=True, kw_only=True)
class NewDigest:
    """What `record` writes."""

    key: str
    created_at: datetime
    since: datetime | None
    carried: ClaimWindow  # its up_to_seq is the digest's watermark
    claim_count: int  # claims in `carried`
    article_count: int
    source_count: int
    rendered: RenderedDigest
    summary: str
    recipients: tuple[tuple[str, str], ...]  # (address, Message-ID)


def last_digest(conn: Connection) -> DigestRecord | None:
    row = conn.execute(sa.select(digests).order_by(digests.c.id.desc()).limit(1)).mappings().first()
    return _record(row) if row is not None else None


def _record(row: sa.RowMapping) -> DigestRecord:
    return DigestRecord(
        id=row["id"],
        key=row["key"],
        created_at=row["created_at"],
        watermark_seq=row["watermark_seq"],
        subject=row["subject"],
        html=row["html"],
        text=row["text"],
    )


def key_taken(conn: Connection, key: str) -> bool:
    return conn.execute(sa.select(digests.c.id).where(digests.c.key == key)).first() is not None


def record(conn: Connection, new: NewDigest) -> int:
    """The digest, the claims it carries and one pending delivery per recipient, together."""
    digest_id = inserted_id(
        conn.execute(
            digests.insert().values(
                key=new.key,
                created_at=new.created_at,
                since=new.since,
                watermark_seq=new.carried.up_to_seq,
                claim_count=new.claim_count,
                article_count=new.article_count,
                source_count=new.source_count,
                subject=new.rendered.subject,
                summary=new.summary,
                html=new.rendered.html,
                text=new.rendered.text,
            )
        )
    )
    carried = claim_ids_in(new.carried, sa.literal(digest_id, sa.Integer))
    conn.execute(digest_claims.insert().from_select(["digest_id", "claim_id"], carried))
    for recipient, message_id in new.recipients:
        conn.execute(
            deliveries.insert().values(
                digest_id=digest_id,
                recipient=recipient,
                message_id=message_id,
                status="pending",
                attempts=0,
                next_attempt_at=new.created_at,
            )
        )
    return digest_id


def due_deliveries(conn: Connection, now: datetime) -> list[PendingDelivery]:
    """Pending deliveries whose backoff has passed, oldest digest first."""
    return [_pending(row) for row in conn.execute(_due(now)).mappings()]


def claim_due_delivery(conn: Connection, now: datetime) -> PendingDelivery | None:
    """One due delivery, its row locked until this transaction ends; rows another transaction
    holds are skipped (`FOR UPDATE SKIP LOCKED`), so concurrent senders never take one row
    twice. (SQLite has no row locks: its single writer gives the same.)"""
    query = _due(now).limit(1).with_for_update(skip_locked=True, of=deliveries)
    row = conn.execute(query).mappings().first()
    return _pending(row) if row is not None else None


def claim_period(conn: Connection, period: str) -> bool:
    """Record that the digest of a scheduled period is being decided in this transaction;
    False when it already was (by a transaction that committed first: a concurrent one
    waits for it here)."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(
        digest_periods
    )
    query = insert.values(period=period).on_conflict_do_nothing(index_elements=["period"])
    return conn.execute(query.returning(digest_periods.c.period)).first() is not None


def settle_period(conn: Connection, period: str, digest_id: int | None) -> None:
    query = digest_periods.update().where(digest_periods.c.period == period)
    conn.execute(query.values(digest_id=digest_id))


def _due(now: datetime) -> sa.Select[tuple[object, ...]]:
    return (
        sa.select(
            deliveries.c.id.label("delivery_id"),
            deliveries.c.recipient,
            deliveries.c.message_id,
            deliveries.c.attempts,
            digests,
        )
        .select_from(deliveries.join(digests, digests.c.id == deliveries.c.digest_id))
        .where(deliveries.c.status == "pending", deliveries.c.next_attempt_at <= now)
        .order_by(deliveries.c.digest_id, deliveries.c.id)
    )


def _pending(row: sa.RowMapping) -> PendingDelivery:
    return PendingDelivery(
        id=row["delivery_id"],
        digest=_record(row),
        recipient=row["recipient"],
        message_id=row["message_id"],
        attempts=row["attempts"],
    )


def mark_sent(conn: Connection, delivery_id: int, now: datetime) -> None:
    conn.execute(
        deliveries.update()
        .where(deliveries.c.id == delivery_id)
        .values(status="sent", sent_at=now, attempts=deliveries.c.attempts + 1, last_error=None)
    )


def mark_failed(conn: Connection, delivery_id: int, reason: str) -> None:
    conn.execute(
        deliveries.update()
        .where(deliveries.c.id == delivery_id)
        .values(status="failed", attempts=deliveries.c.attempts + 1, last_error=reason[:2000])
    )


def postpone(
    conn: Connection, delivery: PendingDelivery, reason: str, now: datetime, base: timedelta
) -> datetime:
    """Keep a delivery pending; the next attempt waits base × 2^attempts (at most 6 h)."""
    wait = min(base * (1 << min(delivery.attempts, 20)), MAX_BACKOFF)
    conn.execute(
        deliveries.update()
        .where(deliveries.c.id == delivery.id)
        .values(
            attempts=deliveries.c.attempts + 1,
            last_error=reason[:2000],
            next_attempt_at=now + wait,
        )
    )
    return now + wait


def outbox_counts(conn: Connection) -> dict[str, int]:
    query = sa.select(deliveries.c.status, sa.func.count()).group_by(deliveries.c.status)
    counts = {"pending": 0, "sent": 0, "failed": 0}
    counts.update({status: int(n) for status, n in conn.execute(query)})
    return counts


def archive_entries(conn: Connection) -> list[ArchiveEntry]:
    query = sa.select(
        digests.c.key,
        digests.c.created_at,
        digests.c.subject,
        digests.c.claim_count,
        digests.c.summary,
    )
    return [
        ArchiveEntry(
            key=row.key,
            created_at=row.created_at,
            subject=row.subject,
            claim_count=row.claim_count,
            summary=row.summary,
        )
        for row in conn.execute(query)
    ]


def all_pages(conn: Connection) -> Sequence[tuple[str, str]]:
    """(key, html) of every digest, to restore archive pages a crash did not write."""
    return [(r.key, r.html) for r in conn.execute(sa.select(digests.c.key, digests.c.html))]


def period_decided(conn: Connection, period: str) -> bool:
    """Whether the digest of a scheduled period was made (or found nothing to send)."""
    query = sa.select(digest_periods.c.period).where(digest_periods.c.period == period)
    return conn.execute(query).first() is not None
