"""`claimwatch status`: what the service is doing, read from the database only (the state
lives there): per source, the corpus, the last digest and the outbox.

Reads; changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Connection

from digest import outbox
from digest.app import App
from digest.schema import claims, daemon_jobs
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


def print_status(app: App, console: Console | None = None) -> None:
    console = console or Console()
    configured = {s.name: s for s in app.settings.sources}
    with app.db.read() as conn:
        statuses = source_statuses(conn)
        doc_count = conn.execute(sa.select(sa.func.count()).select_from(documents)).scalar()
        claim_count = conn.execute(sa.select(sa.func.count()).select_from(claims)).scalar()
        last = outbox.last_digest(conn)
        box = outbox.outbox_counts(conn)
        jobs = {row.job_id: row for row in conn.execute(sa.select(daemon_jobs))}
    table = Table(title="sources", title_justify="left")
    columns = ("source", "state", "last success", "last error", "failures", "next run", "documents")
    for column in columns:
        table.add_column(column)
    for s in statuses:
        config = configured.get(s.name)
        state = (
            "removed from config"
            if config is None
            else "disabled: " + s.disabled_reason
            if s.disabled_reason
            else ("enabled" if config.enabled else "disabled in config")
        )
        error = f"{_when(s.last_error_at)}: {s.last_error}" if s.last_error else ""
        job = jobs.get(f"ingest:{s.name}")
        next_run = _when(job.next_run_at) if job is not None and job.next_run_at else "-"
        table.add_row(
            s.name, state, _when(s.last_success), error, str(s.failures), next_run, str(s.documents)
        )
    console.print(table)
    console.print("(times are UTC)")
    console.print(
        f"corpus: {doc_count} documents in {app.settings.corpus_dir}; {claim_count} claims"
    )
    digest_line = f"{last.key} ({last.subject})" if last else "none yet"
    console.print(f"last digest: {digest_line}")
    digest_job = jobs.get("digest")
    if digest_job is not None:
        console.print(
            f"next digest: {_when(digest_job.next_run_at)}; last run "
            f"{_when(digest_job.last_run_at)}: {digest_job.last_outcome or '-'}",
            highlight=False,
        )
    console.print(
        f"outbox: {box['pending']} pending, {box['failed']} failed, {box['sent']} sent",
        highlight=False,
    )
