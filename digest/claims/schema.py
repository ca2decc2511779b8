"""The claims tables (SQLAlchemy Core declarations): each document's extraction state and its
claims. Their migrations are the "digest" component's (`digest.runtime.migrations`).

Declarations only: no connections, no queries. Portable SQL (SQLite and PostgreSQL).
"""

from __future__ import annotations

import sqlalchemy as sa

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
