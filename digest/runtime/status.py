"""`claimwatch status`: what the service is doing, as read from the database (the state lives
there; `service.status` reads it in one transaction): per source, the corpus, the last digest,
the daemon's jobs and the outbox.

Presentation only: prints a snapshot, reads and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from digest.compose.outbox import DigestRecord
from digest.runtime.engine import QueueCounts
from digest.runtime.jobs import DIGEST_JOB, JobRecord, ingest_job
from ingest.config import SourceConfig
from ingest.store import SourceOverview


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueStatus:
    """The distributed mode's queue: jobs per queue, documents waiting to be numbered."""

    queues: tuple[QueueCounts, ...]
    staged: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusSnapshot:
    """Everything `status` shows, read in one transaction."""

    sources: list[SourceOverview]
    documents: int
    claims: int
    last_digest: DigestRecord | None
    outbox: dict[str, int]
    jobs: dict[str, JobRecord]  # by job id
    queue: QueueStatus | None = None  # the distributed mode only


def _when(moment: datetime | None) -> str:
    """Short enough for an 80-column table; all times are UTC (said once, below it)."""
    return moment.strftime("%m-%d %H:%M") if moment else "never"


def print_status(
    snapshot: StatusSnapshot,
    configured: Sequence[SourceConfig],
    corpus_dir: Path,
    console: Console | None = None,
) -> None:
    console = console or Console()
    console.print(_source_table(snapshot, {s.name: s for s in configured}))
    console.print("(times are UTC)")
    console.print(
        f"corpus: {snapshot.documents} documents in {corpus_dir}; {snapshot.claims} claims"
    )
    last = snapshot.last_digest
    console.print(f"last digest: {f'{last.key} ({last.subject})' if last else 'none yet'}")
    digest_job = snapshot.jobs.get(DIGEST_JOB)
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
    if snapshot.queue is not None:
        console.print(_queue_table(snapshot.queue))
        console.print(f"waiting to be numbered: {snapshot.queue.staged} documents")


def _queue_table(queue: QueueStatus) -> Table:
    table = Table(title="queue (jobs)", title_justify="left")
    for column in ("queue", "waiting", "later", "doing", "failed", "stalled"):
        table.add_column(column, justify="left" if column == "queue" else "right")
    for q in queue.queues:
        counts = (q.waiting, q.later, q.doing, q.failed, q.stalled)
        table.add_row(q.queue, *map(str, counts))
    return table


def _source_table(snapshot: StatusSnapshot, configured: dict[str, SourceConfig]) -> Table:
    table = Table(title="sources", title_justify="left")
    columns = ("source", "state", "last success", "last error", "failures", "next run", "documents")
    for column in columns:
        table.add_column(column)
    for s in snapshot.sources:
        error = f"{_when(s.last_error_at)}: {s.last_error}" if s.last_error else ""
        job = snapshot.jobs.get(ingest_job(s.name))
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


def _state(source: SourceOverview, config: SourceConfig | None) -> str:
    if config is None:
        return "removed from config"
    if source.disabled_reason:
        return "disabled: " + source.disabled_reason
    return "enabled" if config.enabled else "disabled in config"
