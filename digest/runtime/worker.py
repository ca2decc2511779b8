"""`claimwatch worker`: a Procrastinate worker running the distributed mode's jobs
(`runtime.distributed`) on one App, plus the stalled-job sweeper as a periodic job.

- Jobs are claimed with `FOR UPDATE SKIP LOCKED`; `--concurrency` of them run at once, each
  in a thread (Procrastinate runs synchronous tasks in threads): extraction, feed parsing and
  claim finding still go to the App's worker processes.
- Each worker beats (`queue.heartbeat_s`); one silent for `queue.stalled_after_s` is taken for
  dead, and the sweeper puts the jobs it held back in the queue (Procrastinate leaves them
  "doing" otherwise). The sweeper has no `lock`, so a sweeper killed mid-sweep blocks nothing
  (procrastinate#1408); a stalled job whose twin already waits (same queueing lock) is marked
  failed instead, the twin does the work (retrying it would break the queueing lock's unique
  index, procrastinate#1543).
- `--burst`: work until no job of its queues waits or runs anywhere, then exit.
- SIGTERM / SIGINT: no new job starts, running ones finish, the worker deregisters.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from procrastinate import App as Procrastinate
from procrastinate import JobContext, PsycopgConnector, RetryStrategy
from procrastinate import exceptions as procrastinate_errors
from procrastinate.jobs import Status

from digest.runtime import distributed, engine
from digest.runtime.app import App, open_app
from digest.runtime.distributed import QueueContext
from digest.runtime.exits import ExitCode
from digest.runtime.settings import QueueConfig, Settings
from digest.runtime.tasks import PageExtractor
from ingest.context import extract_in_process
from ingest.errors import StorageError

log = logging.getLogger(__name__)

# The database failing under a job (a restart, a lost connection) is retried with backoff;
# anything else a job raises is a bug: the job fails and stays failed (see `status`).
STORAGE_RETRY = RetryStrategy(max_attempts=5, exponential_wait=3, retry_exceptions={StorageError})


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerOptions:
    queues: tuple[str, ...] = engine.QUEUES
    concurrency: int | None = None  # None: queue.concurrency
    burst: bool = False


def run_worker(
    settings: Settings,
    options: WorkerOptions,
    *,
    page_extractor: PageExtractor = extract_in_process,
) -> ExitCode:
    """Run a worker until a signal stops it (or, with `burst`, until nothing is left)."""
    queue = _queue_settings(settings)
    name = f"claimwatch-worker-{os.getpid()}"
    with open_app(settings, application_name=name, page_extractor=page_extractor) as app:
        q = QueueContext(app=app)
        while True:
            procrastinate = build_procrastinate(q, queue, name)
            procrastinate.run_worker(**_worker_options(queue, options, name))
            if not options.burst or not _wait_for_more(app, options.queues, queue):
                return ExitCode.OK


def _queue_settings(settings: Settings) -> QueueConfig:
    assert settings.queue is not None, "the CLI checks that queue: is configured"
    return settings.queue


def _worker_options(queue: QueueConfig, options: WorkerOptions, name: str) -> dict[str, Any]:
    return {
        "queues": list(options.queues),
        "name": name,
        "concurrency": options.concurrency or queue.concurrency,
        "wait": not options.burst,
        "fetch_job_polling_interval": queue.poll_interval_s,
        "update_heartbeat_interval": queue.heartbeat_s,
        "stalled_worker_timeout": queue.stalled_after_s,
        "delete_jobs": "successful",
    }


def _wait_for_more(app: App, queues: Sequence[str], queue: QueueConfig) -> bool:
    """In burst mode, after the worker found nothing ready: whether jobs still wait (for
    later) or run elsewhere (they may queue more); if so, sleep until the next may be due."""
    with app.db.read() as conn:
        count, wait = engine.unfinished_jobs(conn, tuple(queues))
    if count == 0:
        return False
    time.sleep(min(max(wait, 0.05), queue.poll_interval_s))
    return True


def build_procrastinate(q: QueueContext, queue: QueueConfig, name: str) -> Procrastinate:
    """A Procrastinate app whose tasks run the distributed steps on `q`."""
    connector = PsycopgConnector(
        conninfo=engine.conninfo(q.app.settings.database_url),
        kwargs={"application_name": name},
        min_size=1,
        max_size=4,
    )
    procrastinate = Procrastinate(connector=connector)
    for kind, step in _steps(q).items():
        procrastinate.task(name=kind.name, queue=kind.queue, retry=STORAGE_RETRY)(step)
    sweep = procrastinate.task(
        name=engine.SWEEP.name,
        queue=engine.SWEEP.queue,
        queueing_lock="sweep",
        pass_context=True,
    )(_sweeper(queue.stalled_after_s))
    procrastinate.periodic(cron=f"*/{queue.sweep_every_s} * * * * *")(sweep)
    return procrastinate


def _steps(q: QueueContext) -> dict[engine.JobKind, Callable[..., str]]:
    def poll_feed(source_id: int) -> str:
        return distributed.poll_feed(q, source_id)

    def fetch_page(source_id: int, page_id: int) -> str:
        return distributed.fetch_page(q, source_id, page_id)

    def number() -> str:
        return distributed.number(q)

    def find_claims(document_id: int) -> str:
        return distributed.find_claims(q, document_id)

    def make_digest(period: str) -> str:
        return distributed.make_digest(q, period)

    def deliver() -> str:
        return distributed.deliver(q)

    return {
        engine.POLL: poll_feed,
        engine.PAGE: fetch_page,
        engine.NUMBER: number,
        engine.CLAIMS: find_claims,
        engine.DIGEST: make_digest,
        engine.DELIVER: deliver,
    }


def _sweeper(stalled_after_s: float) -> Callable[..., Any]:
    async def sweep(context: JobContext, timestamp: int) -> str:
        """Put the jobs of dead workers (no heartbeat for `stalled_after_s`) back in the
        queue, then forget those workers."""
        manager = context.app.job_manager
        stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after_s))
        retried = 0
        for job in stalled:
            if job.task_name == engine.SWEEP.name or job.id == context.job.id:
                await manager.finish_job(job, status=Status.FAILED, delete_job=False)
                continue
            try:
                await manager.retry_job(job)
                retried += 1
            except procrastinate_errors.UniqueViolation:  # its twin waits: the twin does it
                await manager.finish_job(job, status=Status.FAILED, delete_job=False)
            log.warning("sweeper: job %s [%s] of a dead worker retried", job.task_name, job.id)
        await manager.prune_stalled_workers(stalled_after_s)
        return f"{retried} stalled jobs retried"

    return sweep


__all__ = ["WorkerOptions", "build_procrastinate", "run_worker"]
