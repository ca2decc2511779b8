"""The digest outbox tables (SQLAlchemy Core declarations): each digest with its rendered
content, the claims it carried, and one delivery per recipient. Their migrations are the
"digest" component's (`digest.runtime.migrations`).

Declarations only: no connections, no queries. Portable SQL (SQLite and PostgreSQL).
"""

from __future__ import annotations

import sqlalchemy as sa

from ingest.schema import UtcDateTime

metadata = sa.MetaData()

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

# The scheduled periods the distributed mode made a digest for (or found nothing to send):
# one row per period, so two schedulers or a retried job never make a second digest.
digest_periods = sa.Table(
    "digest_periods",
    metadata,
    sa.Column("period", sa.String(40), primary_key=True),  # the schedule's fire time, ISO 8601
    sa.Column("digest_id", sa.Integer),  # digests.id; None: nothing new to send
)
