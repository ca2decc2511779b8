"""The ingest tables (SQLAlchemy Core declarations) and their migrations.

Declarations only: no connections, no queries. Portable SQL only (SQLite and PostgreSQL).
A table's shape changes only through a new migration step appended to `MIGRATIONS`; the
declarations below are always the latest shape, so before changing one, freeze the older
step's DDL in that step.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from ingest.db import Migration


class UtcDateTimeType(sa.TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend (SQLite keeps no zone:
    values are stored in UTC so that they also compare correctly as text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime given to the database: {value!r}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = sa.MetaData()
UtcDateTime = UtcDateTimeType()

sources = sa.Table(
    "sources",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("feed_url", sa.Text, nullable=False),  # as configured
    sa.Column("current_url", sa.Text, nullable=False),  # after permanent redirects
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("disabled_reason", sa.Text),  # e.g. "410 Gone"; cleared when the feed URL changes
    sa.Column("last_attempt_at", UtcDateTime),
    sa.Column("last_success_at", UtcDateTime),
    sa.Column("last_error_at", UtcDateTime),
    sa.Column("last_error", sa.Text),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False, unique=True),
    sa.Column("hash", sa.String(16), nullable=False, unique=True),
    sa.Column("file", sa.String(255), nullable=False, unique=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),  # where it was first found
    sa.Column("published", UtcDateTime),
    sa.Column("first_seen_at", UtcDateTime, nullable=False),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id"), nullable=False),
    sa.Column("chars", sa.Integer, nullable=False),
)

pages = sa.Table(
    "pages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("url_key", sa.String(64), nullable=False, unique=True),  # sha256(canonical URL)
    sa.Column("canonical_url", sa.Text, nullable=False),
    sa.Column("final_url", sa.Text),
    # pending: not yet done; stored | duplicate: has a document; skipped: not an article;
    # failed: gave up after retries or a permanent error
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id")),
    sa.Column("first_seen_at", UtcDateTime, nullable=False),
    sa.Column("last_attempt_at", UtcDateTime),
)

entries = sa.Table(
    "entries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id"), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False),  # sha256(guid or canonical link)
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("link", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("published", UtcDateTime),
    sa.Column("page_id", sa.Integer, sa.ForeignKey("pages.id"), nullable=False),
    sa.Column("first_seen_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("source_id", "key_hash", name="uq_entries_source_key"),
)

document_urls = sa.Table(
    "document_urls",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id"), nullable=False),
    sa.Column("url_key", sa.String(64), nullable=False, unique=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id"), nullable=False),
    sa.Column("seen_at", UtcDateTime, nullable=False),
)

errors = sa.Table(
    "errors",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", UtcDateTime, nullable=False, index=True),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("sources.id")),
    sa.Column("stage", sa.String(20), nullable=False),  # feed | page | extract | store
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
)

sa.Index("ix_pages_status", pages.c.status)
sa.Index("ix_entries_page", entries.c.page_id)
sa.Index("ix_documents_first_seen", documents.c.first_seen_at)


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn)


MIGRATIONS: tuple[Migration, ...] = (_create_v1,)
COMPONENT = "ingest"
