"""`claimwatch run`: the daemon. It only schedules: one ingest job per enabled source at its
interval (with jitter), one digest job on `digest.schedule`, each calling the same service
functions as the one-shot commands, under the same writer lock.

- A second daemon refuses to start (a lock only a running daemon holds); exit code 2.
- State lives in the database: a restarted daemon polls each source `every` after its last
  attempt, and sends once, at start, a digest that fell due while it was down.
- SIGTERM/SIGINT: no new job starts, the pass in hand stops after its current page, extraction
  workers are killed (their page stays pending), and the process exits within seconds.
  SIGHUP reloads sources.yaml (a broken file is reported and the running one kept).
"""

from __future__ import annotations

import dataclasses
import logging
import random
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from digest.compose import outbox
from digest.runtime import service
from digest.runtime.app import App, open_app
from digest.runtime.jobs import daemon_jobs
from digest.runtime.lock import DAEMON_LOCK, WRITER_LOCK, FileLock, lock_dir
from digest.runtime.metrics import Metrics, MetricsServer
from digest.runtime.schedule import WallClockCron, first_poll_at, missed_fire_time, parse_schedule
from digest.runtime.settings import Settings, load_settings
from ingest.config import SourceConfig
from ingest.errors import ConfigError
from ingest.schema import sources

log = logging.getLogger(__name__)

DIGEST_JOB = "digest"
EXIT_OK, EXIT_BUSY = 0, 2


def run_daemon(config_path: Path, settings: Settings) -> int:
    """Run until a signal stops it; refuse (exit 2) when another daemon already runs."""
    folder = lock_dir(settings.database_url, settings.corpus_dir)
    instance = FileLock(folder / DAEMON_LOCK)
    if not instance.try_acquire("claimwatch run"):
        print(
            f"claimwatch: another daemon is already running ({instance.holder()}); "
            f"lock {instance.path}",
            file=sys.stderr,
        )
        return EXIT_BUSY
    try:
        return Daemon(config_path, settings).serve()
    finally:
        instance.release()


class Daemon:
    def __init__(self, config_path: Path, settings: Settings) -> None:
        self.config_path = config_path
        self.settings = settings
        self.stopping = threading.Event()
        self.metrics = Metrics()
        self.scheduler = BlockingScheduler(
            timezone="UTC",
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(settings.daemon.misfire_grace.total_seconds()),
            },
        )
        self.writer_lock = lock_dir(settings.database_url, settings.corpus_dir) / WRITER_LOCK
        self.app: App | None = None

    def serve(self) -> int:
        server = self._metrics_server()
        with open_app(self.settings, should_stop=self.stopping.is_set) as app:
            self.app = app
            self._install_signals()
            self.scheduler.add_listener(self._after_job, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
            self._schedule_sources(self.settings.enabled_sources())
            self._schedule_digest()
            log.info("daemon started: %d sources", len(self.settings.enabled_sources()))
            self.scheduler.start()  # returns after shutdown
        if server is not None:
            server.stop()
        log.info("daemon stopped")
        return EXIT_OK

    # --- jobs --------------------------------------------------------------------------------

    def _current_app(self) -> App:
        assert self.app is not None
        return self.app

    def ingest_job(self, name: str) -> str:
        with self._writer(f"daemon ingest {name}") as acquired:
            if not acquired or self.stopping.is_set():
                return "stopped"
            report = service.ingest(self._current_app(), only=name, observer=self.metrics)
        result = report.sources[0] if report.sources else None
        return f"{result.status}: {len(result.new_documents)} new" if result else "not configured"

    def digest_job(self) -> str:
        with self._writer("daemon digest") as acquired:
            if not acquired or self.stopping.is_set():
                return "stopped"
            result, delivery = service.digest(self._current_app())
        if result.key is not None:
            self.metrics.digests.inc()
        self.metrics.sent.inc(delivery.sent)
        self._update_outbox_gauge()
        made = f"digest {result.key}" if result.key else "no new claims"
        return f"{made}; {delivery.sent} sent, {delivery.postponed} postponed"

    @contextmanager
    def _writer(self, holder: str) -> Iterator[bool]:
        """The writer lock for one job: waits while a one-shot command holds it; yields False
        if the daemon began to stop meanwhile."""
        lock = FileLock(self.writer_lock)
        told = False
        while not lock.try_acquire(holder):
            if not told:
                log.info("%s waits for the writer lock (%s)", holder, lock.holder())
                told = True
            if self.stopping.wait(0.5):
                yield False
                return
        try:
            yield True
        finally:
            lock.release()

    def _update_outbox_gauge(self) -> None:
        with self._current_app().db.read() as conn:
            self.metrics.pending.set(outbox.outbox_counts(conn)["pending"])

    # --- scheduling --------------------------------------------------------------------------

    def _schedule_sources(self, configs: tuple[SourceConfig, ...]) -> None:
        app = self._current_app()
        now = app.clock()
        with app.db.read() as conn:
            attempts = dict(
                conn.execute(sa.select(sources.c.name, sources.c.last_attempt_at)).all()
            )
        for config in configs:
            first = first_poll_at(attempts.get(config.name), config.every, now)
            first += timedelta(seconds=random.uniform(0, min(self.settings.daemon.jitter_s, 5)))
            self.scheduler.add_job(
                self.ingest_job,
                IntervalTrigger(
                    seconds=config.every.total_seconds(), jitter=self.settings.daemon.jitter_s
                ),
                args=(config.name,),
                id=f"ingest:{config.name}",
                name=f"ingest {config.name}",
                next_run_time=first,
                replace_existing=True,
            )
            self._record_job(f"ingest:{config.name}", next_run=first)

    def _digest_trigger(self) -> WallClockCron:
        zone = ZoneInfo(self.settings.digest.timezone)
        return WallClockCron(parse_schedule(self.settings.digest.schedule, zone), zone)

    def _schedule_digest(self) -> None:
        trigger = self._digest_trigger()
        now = self._current_app().clock()
        missed = self._missed_digest(trigger, now)
        job = self.scheduler.add_job(
            self.digest_job,
            trigger,
            id=DIGEST_JOB,
            name="digest",
            replace_existing=True,
            next_run_time=now if missed else trigger.get_next_fire_time(None, now),
        )
        if missed is not None:
            log.info("digest due at %s was missed while stopped: sending now", missed.isoformat())
        self._record_job(DIGEST_JOB, next_run=missed or job.next_run_time)

    def _missed_digest(self, trigger: WallClockCron, now: datetime) -> datetime | None:
        """The scheduled digest time that passed while the daemon was down, if any: a time the
        daemon had recorded as next, or one after the last digest, within the grace period."""
        with self._current_app().db.read() as conn:
            last = outbox.last_digest(conn)
            job = conn.execute(
                sa.select(daemon_jobs).where(daemon_jobs.c.job_id == DIGEST_JOB)
            ).first()
        if job is None:
            return None  # the daemon never ran here: nothing fell due "while it was down"
        # Only times at or after the one the daemon last knew as next can have been missed.
        known_next = job.next_run_at - timedelta(microseconds=1) if job.next_run_at else None
        done = [
            t
            for t in (last.created_at if last else None, job.last_run_at, known_next)
            if t is not None
        ]
        return missed_fire_time(
            trigger,
            last_digest_at=max(done) if done else None,
            now=now,
            grace=self.settings.daemon.misfire_grace,
        )

    def _after_job(self, event: JobExecutionEvent) -> None:
        # During shutdown the scheduler holds its job-store lock while it waits for this very
        # thread: asking it for the job then would deadlock.
        job = None if self.stopping.is_set() else self.scheduler.get_job(event.job_id)
        outcome = (
            f"error: {type(event.exception).__name__}: {event.exception}"
            if event.exception
            else str(event.retval)
        )
        if event.exception:
            log.error("job %s failed: %s", event.job_id, outcome)
        else:
            log.info("job %s: %s", event.job_id, outcome)
        self._record_job(
            event.job_id,
            next_run=job.next_run_time if job else None,
            ran_at=event.scheduled_run_time,
            outcome=outcome,
            keep_next=job is None,
        )

    def _record_job(
        self,
        job_id: str,
        *,
        next_run: datetime | None,
        ran_at: datetime | None = None,
        outcome: str | None = None,
        keep_next: bool = False,
    ) -> None:
        values: dict[str, object] = {} if keep_next else {"next_run_at": next_run}
        if ran_at is not None:
            values.update(last_run_at=ran_at, last_outcome=(outcome or "")[:2000])
        with self._current_app().db.write() as conn:
            updated = conn.execute(
                daemon_jobs.update().where(daemon_jobs.c.job_id == job_id).values(**values)
            )
            if updated.rowcount == 0:
                conn.execute(daemon_jobs.insert().values(job_id=job_id, **values))

    # --- signals and reload --------------------------------------------------------------------

    def _install_signals(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_reload)

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping.is_set():
            return
        log.info("received %s: stopping", signal.Signals(signum).name)
        self.stopping.set()
        threading.Thread(target=self._shutdown, name="claimwatch-stop", daemon=True).start()

    def _shutdown(self) -> None:
        self._current_app().workers.kill()  # a page in extraction stays pending
        self.scheduler.shutdown(wait=True)

    def _on_reload(self, signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=self.reload, name="claimwatch-reload", daemon=True).start()

    def reload(self) -> None:
        try:
            new = load_settings(self.config_path)
        except ConfigError as exc:
            log.error("reload refused, keeping the running configuration: %s", exc)
            return
        if (new.database_url, new.storage, new.fetch, new.extract, new.topics) != (
            self.settings.database_url,
            self.settings.storage,
            self.settings.fetch,
            self.settings.extract,
            self.settings.topics,
        ):
            log.warning("storage, fetch, extract and topics settings take effect only on restart")
        keep = new.model_copy(
            update={
                "storage": self.settings.storage,
                "fetch": self.settings.fetch,
                "extract": self.settings.extract,
                "topics": self.settings.topics,  # the claim workers were built with these
            }
        )
        self.settings = keep
        self.app = dataclasses.replace(self._current_app(), settings=keep)
        self._reschedule(keep.enabled_sources())
        job = self.scheduler.reschedule_job(DIGEST_JOB, trigger=self._digest_trigger())
        self._record_job(DIGEST_JOB, next_run=job.next_run_time)
        log.info("reloaded %s: %d sources", self.config_path, len(keep.enabled_sources()))

    def _reschedule(self, configs: tuple[SourceConfig, ...]) -> None:
        wanted = {f"ingest:{c.name}" for c in configs}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("ingest:") and job.id not in wanted:
                job.remove()
                log.info("source %s removed from the schedule", job.id.removeprefix("ingest:"))
        self._schedule_sources(configs)

    def _metrics_server(self) -> MetricsServer | None:
        port = self.settings.daemon.metrics_port
        if port is None:
            return None
        server = MetricsServer(
            self.metrics,
            self.settings.daemon.metrics_host,
            port,
            lambda: not self.stopping.is_set(),
        )
        server.start()
        log.info("metrics on http://%s:%d/metrics", self.settings.daemon.metrics_host, server.port)
        return server


__all__ = ["Daemon", "run_daemon"]
