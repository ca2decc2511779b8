"""`claimwatch status`: what the service is doing, read from the database only (the state
lives there): per source, the corpus, the last digest and the outbox.

Reads; changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Connection

from digest.claims.schema import claims
from digest.compose import outbox
from digest.runtime.app import App
from digest.runtime.jobs import daemon_jobs
from ingest.config import SourceConfig
from ingest.schema import documents, sources


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceStatus:
    name: str
    url: str
    enabled: bool
    last_success: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    failures: int
    documents: int
    disabled_reason: str | None


def source_statuses(conn: Connection) -> list[SourceStatus]:
    query = sa.select(documents.c.source_id, sa.func.count()).group_by(documents.c.source_id)
    counts: dict[int, int] = {int(sid): int(n) for sid, n in conn.execute(query)}
    return [
        SourceStatus(
            name=row.name,
            url=row.current_url,
            enabled=row.disabled_reason is None,
            last_success=row.last_success_at,
            last_error=row.last_error,
            last_error_at=row.last_error_at,
            failures=row.consecutive_failures,
            documents=counts.get(row.id, 0),
            disabled_reason=row.disabled_reason,
        )
        for row in conn.execute(sa.select(sources).order_by(sources.c.name))
    ]


def _when(moment: datetime | None) -> str:
    """Short enough for an 80-column table; all times are UTC (said once, below it)."""
    return moment.strftime("%m-%d %H:%M") if moment else "never"


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusSnapshot:
    """Everything `status` shows, read in one transaction."""

    sources: list[SourceStatus]
    documents: int
    claims: int
    last_digest: outbox.DigestRecord | None
    outbox: dict[str, int]
    jobs: dict[str, sa.Row[Any]]  # daemon_jobs rows by job id


def read_status(conn: Connection) -> StatusSnapshot:
    return StatusSnapshot(
        sources=source_statuses(conn),
        documents=_count(conn, documents),
        claims=_count(conn, claims),
        last_digest=outbox.last_digest(conn),
        outbox=outbox.outbox_counts(conn),
        jobs={row.job_id: row for row in conn.execute(sa.select(daemon_jobs))},
    )


def print_status(app: App, console: Console | None = None) -> None:
    console = console or Console()
    with app.db.read() as conn:
        snapshot = read_status(conn)
    console.print(_source_table(snapshot, {s.name: s for s in app.settings.sources}))
    console.print("(times are UTC)")
    console.print(
        f"corpus: {snapshot.documents} documents in {app.settings.corpus_dir}; "
        f"{snapshot.claims} claims"
    )
    last = snapshot.last_digest
    console.print(f"last digest: {f'{last.key} ({last.subject})' if last else 'none yet'}")
    digest_job = snapshot.jobs.get("digest")
    if digest_job is not None:
        console.print(
            f"next digest: {_when(digest_job.next_run_at)}; last run "
            f"{_when(digest_job.last_run_at)}: {digest_job.last_outcome or '-'}",
            highlight=False,
        )
    box = snapshot.outbox
    console.print(
        f"outbox: {box['pending']} pending, {box['failed']} failed, {box['sent']} sent",
        highlight=False,
    )


def _source_table(snapshot: StatusSnapshot, configured: dict[str, SourceConfig]) -> Table:
    table = Table(title="sources", title_justify="left")
    columns = ("source", "state", "last success", "last error", "failures", "next run", "documents")
    for column in columns:
        table.add_column(column)
    for s in snapshot.sources:
        error = f"{_when(s.last_error_at)}: {s.last_error}" if s.last_error else ""
        job = snapshot.jobs.get(f"ingest:{s.name}")
        next_run = _when(job.next_run_at) if job is not None and job.next_run_at else "-"
        table.add_row(
            s.name,
            _state(s, configured.get(s.name)),
            _when(s.last_success),
            error,
            str(s.failures),
            next_run,
            str(s.documents),
        )
    return table


def _state(status: SourceStatus, config: SourceConfig | None) -> str:
    if config is None:
        return "removed from config"
    if status.disabled_reason:
        return "disabled: " + status.disabled_reason
    return "enabled" if config.enabled else "disabled in config"


def _count(conn: Connection, table: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
