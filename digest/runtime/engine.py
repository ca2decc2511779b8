"""Procrastinate, wired to claimwatch: the jobs of the distributed mode (name, queue, locks),
deferring one inside a transaction the caller holds, the Procrastinate schema as a migration
component of our own runner, and the connection string both share.

The only module that knows how Procrastinate defers; the tasks themselves are registered by
`runtime.worker`. Procrastinate (the `queue` extra) is imported only when a queue is used.
Holds no module-level state.

    job            queue       lock            queueing lock     what it does
    poll_feed      feeds       feed:<source>   poll:<source>     one feed; its page jobs
    fetch_page     pages       page:<page>     page:<page>       one page fetched, extracted
    number         numbering   number          number            the serial numbering stage
    find_claims    claims      -               claims:<doc>      one document's claims
    make_digest    digests     digest          digest:<period>   one scheduled period's digest
    deliver        mail        -               deliver           the outbox, rows SKIP LOCKED
    sweep          sweeper     -               sweep             stalled jobs retried
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ingest.db import Migration

JsonArgs = dict[str, int | str]


@dataclass(frozen=True, slots=True, kw_only=True)
class JobKind:
    name: str  # the task name the workers know it by
    queue: str


POLL: Final = JobKind(name="claimwatch.poll_feed", queue="feeds")
PAGE: Final = JobKind(name="claimwatch.fetch_page", queue="pages")
NUMBER: Final = JobKind(name="claimwatch.number", queue="numbering")
CLAIMS: Final = JobKind(name="claimwatch.find_claims", queue="claims")
DIGEST: Final = JobKind(name="claimwatch.make_digest", queue="digests")
DELIVER: Final = JobKind(name="claimwatch.deliver", queue="mail")
SWEEP: Final = JobKind(name="claimwatch.sweep", queue="sweeper")
KINDS: Final = (POLL, PAGE, NUMBER, CLAIMS, DIGEST, DELIVER, SWEEP)
QUEUES: Final = tuple(kind.queue for kind in KINDS)


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """One job to defer."""

    kind: JobKind
    args: JsonArgs = field(default_factory=dict)
    lock: str | None = None  # no two jobs with one lock run at once, in order
    queueing_lock: str | None = None  # no two jobs with one queueing lock wait at once
    at: datetime | None = None  # not before


def poll_job(source_id: int, at: datetime | None = None) -> Job:
    return Job(
        kind=POLL,
        args={"source_id": source_id},
        lock=f"feed:{source_id}",
        queueing_lock=f"poll:{source_id}",
        at=at,
    )


def page_job(source_id: int, page_id: int, at: datetime | None = None) -> Job:
    return Job(
        kind=PAGE,
        args={"source_id": source_id, "page_id": page_id},
        lock=f"page:{page_id}",
        queueing_lock=f"page:{page_id}",
        at=at,
    )


def number_job() -> Job:
    return Job(kind=NUMBER, lock="number", queueing_lock="number")


def claims_job(document_id: int) -> Job:
    return Job(
        kind=CLAIMS, args={"document_id": document_id}, queueing_lock=f"claims:{document_id}"
    )


def digest_job(period: str) -> Job:
    return Job(
        kind=DIGEST, args={"period": period}, lock="digest", queueing_lock=f"digest:{period}"
    )


def deliver_job() -> Job:
    return Job(kind=DELIVER, queueing_lock="deliver")


class Deferrer:
    """Defers jobs on the connection of a SQLAlchemy transaction the caller holds, so that a
    job is queued exactly when the data it works on is committed (Procrastinate's
    `configure(connection=...)`, a psycopg connection it does not commit)."""

    def __init__(self) -> None:
        from procrastinate import App, SyncPsycopgConnector

        # Never opened: every defer names the connection it runs on.
        self._app = App(connector=SyncPsycopgConnector())

    def defer(self, conn: Connection, job: Job) -> bool:
        """Queue `job` in the caller's transaction; False when a job with its queueing lock
        is already waiting (in a savepoint, so the caller's transaction goes on)."""
        from procrastinate.exceptions import AlreadyEnqueued

        deferrer = self._app.configure_task(
            job.kind.name,
            queue=job.kind.queue,
            lock=job.lock,
            queueing_lock=job.queueing_lock,
            schedule_at=job.at,
            connection=psycopg_connection(conn),
        )
        try:
            with conn.begin_nested():
                deferrer.defer(**job.args)
        except AlreadyEnqueued:
            return False
        return True


def psycopg_connection(conn: Connection) -> Any:
    """The psycopg connection under a SQLAlchemy connection (in its transaction)."""
    raw = conn.connection.driver_connection
    assert raw is not None, "a SQLAlchemy connection that is open has a driver connection"
    return raw


def conninfo(database_url: str) -> str:
    """The libpq connection string of a SQLAlchemy PostgreSQL URL (options kept)."""
    url = sa.make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


# --- Procrastinate's own schema, as a component of our migration runner --------------------

# The Procrastinate release whose schema step 1 creates. Procrastinate ships `schema.sql` for
# new databases and numbered SQL migrations between releases; raising the pin means
# appending a step that applies the migrations of the releases in between (a test fails
# until it is done).
SCHEMA_RELEASE = "3.10.0"


def _create_v1(conn: Connection) -> None:
    from procrastinate.schema import SchemaManager

    # psycopg sends a statement without parameters as a simple query: several at once.
    psycopg_connection(conn).execute(SchemaManager.get_schema())


MIGRATIONS: tuple[Migration, ...] = (_create_v1,)
COMPONENT = "procrastinate"


# --- what `status` shows of the queue -------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueCounts:
    """Jobs of one queue: ready to run, scheduled for later (a busy host), running, failed
    (a bug: see the worker's log), and stalled (running on a worker that stopped beating)."""

    queue: str
    waiting: int
    later: int
    doing: int
    failed: int
    stalled: int


_COUNTS = sa.text(
    """
    SELECT queue_name,
      count(*) FILTER (WHERE status = 'todo' AND coalesce(scheduled_at <= now(), true)),
      count(*) FILTER (WHERE status = 'todo' AND scheduled_at > now()),
      count(*) FILTER (WHERE status = 'doing'),
      count(*) FILTER (WHERE status = 'failed'),
      count(*) FILTER (WHERE status = 'doing' AND (worker_id IS NULL OR worker_id IN (
        SELECT id FROM procrastinate_workers
        WHERE last_heartbeat < now() - make_interval(secs => :stalled_after))))
    FROM procrastinate_jobs GROUP BY queue_name
    """
)


def queue_counts(conn: Connection, stalled_after_s: float) -> list[QueueCounts]:
    """Every queue, in the order jobs flow through them."""
    found = {row[0]: row for row in conn.execute(_COUNTS, {"stalled_after": stalled_after_s})}
    return [
        QueueCounts(
            queue=queue,
            waiting=int(row[1]) if row else 0,
            later=int(row[2]) if row else 0,
            doing=int(row[3]) if row else 0,
            failed=int(row[4]) if row else 0,
            stalled=int(row[5]) if row else 0,
        )
        for queue in QUEUES
        for row in [found.get(queue)]
    ]


def unfinished_jobs(conn: Connection, queues: tuple[str, ...]) -> tuple[int, float]:
    """How many jobs of these queues wait or run, and in how many seconds the earliest
    waiting one is due (0: now, or none waits)."""
    query = sa.text(
        "SELECT count(*), coalesce(EXTRACT(EPOCH FROM min(scheduled_at) - now()), 0) "
        "FROM procrastinate_jobs WHERE status IN ('todo', 'doing') AND queue_name = ANY(:queues)"
    )
    count, wait = conn.execute(query, {"queues": list(queues)}).one()
    return int(count), max(0.0, float(wait))
