"""The "digest" component's schema history: the migrations that create and change the tables
`digest.claims.schema`, `digest.compose.schema` and `digest.runtime.jobs` declare (one
component, one version number, as databases made by earlier releases record it).

Declarations and DDL only. A shape changes only through a new step appended to `MIGRATIONS`
(freeze older steps' DDL first). Run by the composition root (`app.prepare_database`).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from digest.claims.schema import claim_state, claims
from digest.compose.schema import deliveries, digest_claims, digest_periods, digests
from digest.runtime.jobs import daemon_jobs
from ingest.db import Migration


def _create_v1(conn: Connection) -> None:
    for table in (claim_state, claims, digests, digest_claims, deliveries):  # referenced first
        table.create(conn, checkfirst=True)


def _add_daemon_jobs_v2(conn: Connection) -> None:
    daemon_jobs.create(conn, checkfirst=True)


def _add_confidence_v3(conn: Connection) -> None:
    """Claims carry the detector's confidence. Version 1 creates `claims` from the current
    declaration, so a database made fresh already has the column: add it only where missing."""
    columns = {column["name"] for column in sa.inspect(conn).get_columns("claims")}
    if "confidence" not in columns:
        conn.execute(sa.text("ALTER TABLE claims ADD COLUMN confidence FLOAT NOT NULL DEFAULT 1.0"))


def _add_digest_periods_v4(conn: Connection) -> None:
    digest_periods.create(conn, checkfirst=True)


MIGRATIONS: tuple[Migration, ...] = (
    _create_v1,
    _add_daemon_jobs_v2,
    _add_confidence_v3,
    _add_digest_periods_v4,
)
COMPONENT = "digest"
