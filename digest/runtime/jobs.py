"""The daemon's own state in the database: for each job ("ingest:<source>", "digest") when
it runs next, when it last ran and how that went. Read by `status` and by a restarted daemon
(a digest that fell due while it was down); written only by the daemon, through the service.

The `daemon_jobs` table's declaration and the queries on it; each function runs inside a
transaction the caller holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ingest.schema import UtcDateTime

DIGEST_JOB = "digest"
OUTCOME_LIMIT = 2000

metadata = sa.MetaData()

daemon_jobs = sa.Table(  # what the daemon last did and will do next, for `status`
    "daemon_jobs",
    metadata,
    sa.Column("job_id", sa.String(150), primary_key=True),  # "ingest:<source>" | "digest"
    sa.Column("next_run_at", UtcDateTime),
    sa.Column("last_run_at", UtcDateTime),
    sa.Column("last_outcome", sa.Text),
)


def ingest_job(source: str) -> str:
    """The id of a source's ingest job."""
    return f"ingest:{source}"


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRecord:
    job_id: str
    next_run_at: datetime | None
    last_run_at: datetime | None
    last_outcome: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRun:
    """What to record about a job: its next time, and, after a run, when and how it went.
    `keep_next`: leave the recorded next time as it is (the scheduler no longer knows it)."""

    job_id: str
    next_run: datetime | None
    ran_at: datetime | None = None
    outcome: str | None = None
    keep_next: bool = False


def all_jobs(conn: Connection) -> dict[str, JobRecord]:
    return {row.job_id: _record(row) for row in conn.execute(sa.select(daemon_jobs))}


def find_job(conn: Connection, job_id: str) -> JobRecord | None:
    row = conn.execute(sa.select(daemon_jobs).where(daemon_jobs.c.job_id == job_id)).first()
    return _record(row) if row is not None else None


def _record(row: sa.Row[tuple[str, datetime | None, datetime | None, str | None]]) -> JobRecord:
    return JobRecord(
        job_id=row.job_id,
        next_run_at=row.next_run_at,
        last_run_at=row.last_run_at,
        last_outcome=row.last_outcome,
    )


def record_job(conn: Connection, run: JobRun) -> None:
    values: dict[str, object] = {} if run.keep_next else {"next_run_at": run.next_run}
    if run.ran_at is not None:
        values.update(last_run_at=run.ran_at, last_outcome=(run.outcome or "")[:OUTCOME_LIMIT])
    updated = conn.execute(
        daemon_jobs.update().where(daemon_jobs.c.job_id == run.job_id).values(**values)
    )
    if updated.rowcount == 0:
        conn.execute(daemon_jobs.insert().values(job_id=run.job_id, **values))
