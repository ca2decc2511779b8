"""The digest tables (SQLAlchemy Core declarations): claims and their extraction state, and
the digest outbox. Migrations for the "digest" component; ingest's tables are its own.

Declarations only: no connections, no queries. Portable SQL (SQLite and PostgreSQL). A shape
changes only through a new step appended to `MIGRATIONS` (freeze older steps' DDL first).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ingest.db import Migration
from ingest.schema import UtcDateTime

metadata = sa.MetaData()

claim_state = sa.Table(  # one row per document whose claims were extracted
    "claim_state",
    metadata,
    sa.Column("document_id", sa.Integer, primary_key=True),  # documents.id
    sa.Column("version", sa.String(40), nullable=False),
    sa.Column("extracted_at", UtcDateTime, nullable=False),
    sa.Column("claims", sa.Integer, nullable=False),
)

claims = sa.Table(
    "claims",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("document_id", sa.Integer, nullable=False, index=True),
    sa.Column("version", sa.String(40), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # claim | anecdote
    sa.Column("quote", sa.Text, nullable=False),
    sa.Column("start_offset", sa.Integer, nullable=False),
    sa.Column("end_offset", sa.Integer, nullable=False),
    sa.Column("topics", sa.Text, nullable=False),  # space-separated topic names
    sa.Column("type", sa.String(20), nullable=False),
    sa.Column("hedged", sa.Boolean, nullable=False),
    sa.Column("negated", sa.Boolean, nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),  # space-separated, sorted
    sa.Column("group_id", sa.Integer, nullable=False, index=True),
    # P(form) x P(topic) from the learned detector (migration 3; 1.0 for older claims)
    sa.Column("confidence", sa.Float, nullable=False, server_default="1.0"),
)

digests = sa.Table(
    "digests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(20), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("since", UtcDateTime),
    sa.Column("watermark_seq", sa.Integer, nullable=False),  # last document seq included
    sa.Column("claim_count", sa.Integer, nullable=False),
    sa.Column("article_count", sa.Integer, nullable=False),
    sa.Column("source_count", sa.Integer, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("html", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
)

digest_claims = sa.Table(  # claim ids as carried (no foreign key: claims may be re-extracted)
    "digest_claims",
    metadata,
    sa.Column("digest_id", sa.Integer, sa.ForeignKey("digests.id"), primary_key=True),
    sa.Column("claim_id", sa.Integer, primary_key=True),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("digest_id", sa.Integer, sa.ForeignKey("digests.id"), nullable=False),
    sa.Column("recipient", sa.String(320), nullable=False),
    sa.Column("message_id", sa.String(300), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # pending | sent | failed
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("next_attempt_at", UtcDateTime),
    sa.Column("sent_at", UtcDateTime),
    sa.UniqueConstraint("digest_id", "recipient", name="uq_deliveries_digest_recipient"),
)

sa.Index("ix_deliveries_status", deliveries.c.status)

daemon_jobs = sa.Table(  # what the daemon last did and will do next, for `status`
    "daemon_jobs",
    metadata,
    sa.Column("job_id", sa.String(150), primary_key=True),  # "ingest:<source>" | "digest"
    sa.Column("next_run_at", UtcDateTime),
    sa.Column("last_run_at", UtcDateTime),
    sa.Column("last_outcome", sa.Text),
)

_V1_TABLES = (claim_state, claims, digests, digest_claims, deliveries)


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn, tables=list(_V1_TABLES))


def _add_daemon_jobs_v2(conn: Connection) -> None:
    daemon_jobs.create(conn, checkfirst=True)


def _add_confidence_v3(conn: Connection) -> None:
    """Claims carry the detector's confidence. Version 1 creates `claims` from the current
    declaration, so a database made fresh already has the column: add it only where missing."""
    columns = {column["name"] for column in sa.inspect(conn).get_columns("claims")}
    if "confidence" not in columns:
        conn.execute(sa.text("ALTER TABLE claims ADD COLUMN confidence FLOAT NOT NULL DEFAULT 1.0"))


MIGRATIONS: tuple[Migration, ...] = (_create_v1, _add_daemon_jobs_v2, _add_confidence_v3)
COMPONENT = "digest"
