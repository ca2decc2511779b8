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

import logging
import random
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from digest.runtime import service
from digest.runtime.app import App, open_app, with_settings
from digest.runtime.exits import ExitCode
from digest.runtime.jobs import DIGEST_JOB, JobRun, ingest_job
from digest.runtime.lock import FileLock, LockBusy, held
from digest.runtime.metrics import Metrics, MetricsServer
from digest.runtime.schedule import WallClockCron, first_poll_at, missed_fire_time, parse_schedule
from digest.runtime.settings import Settings, load_settings
from ingest.config import SourceConfig
from ingest.errors import ConfigError

log = logging.getLogger(__name__)


def run_daemon(config_path: Path, settings: Settings) -> ExitCode:
    """Run until a signal stops it; refuse (exit 2) when another daemon already runs."""
    daemon = Daemon(config_path, settings)
    with open_app(settings, should_stop=daemon.stopping.is_set) as app:
        instance = FileLock(app.locks.daemon)
        if not instance.try_acquire("claimwatch run"):
            print(
                f"claimwatch: another daemon is already running ({instance.holder()}); "
                f"lock {instance.path}",
                file=sys.stderr,
            )
            return ExitCode.USAGE
        try:
            return daemon.serve(app)
        finally:
            instance.release()


class Daemon:
    def __init__(self, config_path: Path, settings: Settings) -> None:
        self.config_path = config_path
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
        self._app: App | None = None

    @property
    def app(self) -> App:
        assert self._app is not None, "the daemon is not serving"
        return self._app

    def serve(self, app: App) -> ExitCode:
        self._app = app
        server = self._metrics_server()
        self._install_signals()
        self.scheduler.add_listener(self._after_job, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        self._schedule_sources(app.settings.enabled_sources())
        self._schedule_digest()
        log.info("daemon started: %d sources", len(app.settings.enabled_sources()))
        self.scheduler.start()  # returns after shutdown
        if server is not None:
            server.stop()
        log.info("daemon stopped")
        return ExitCode.OK

    # --- jobs --------------------------------------------------------------------------------

    def ingest_job(self, name: str) -> str:
        def run() -> str:
            report = service.ingest(self.app, only=name, observer=self.metrics)
            result = report.sources[0] if report.sources else None
            return (
                f"{result.status}: {len(result.new_documents)} new" if result else "not configured"
            )

        return self._with_writer_lock(f"daemon ingest {name}", run)

    def digest_job(self) -> str:
        def run() -> str:
            report = service.digest(self.app)
            made, delivery = report.made, report.delivery
            if made.key is not None:
                self.metrics.digests.inc()
            self.metrics.sent.inc(delivery.sent)
            self.metrics.pending.set(service.outbox_pending(self.app))
            done = f"digest {made.key}" if made.key else "no new claims"
            return f"{done}; {delivery.sent} sent, {delivery.postponed} postponed"

        return self._with_writer_lock("daemon digest", run)

    def _with_writer_lock(self, holder: str, job: Callable[[], str]) -> str:
        """Run the job under the writer lock, waiting while a one-shot command holds it;
        "stopped" if the daemon began to stop meanwhile."""

        def log_wait(other: str) -> None:
            log.info("%s waits for the writer lock (%s)", holder, other)

        try:
            with held(self.app.locks.writer, holder, wait=self._until_stopping, on_wait=log_wait):
                return "stopped" if self.stopping.is_set() else job()
        except LockBusy:
            return "stopped"

    def _until_stopping(self, seconds: float) -> bool:
        return not self.stopping.wait(seconds)

    # --- scheduling --------------------------------------------------------------------------

    def _schedule_sources(self, configs: tuple[SourceConfig, ...]) -> None:
        now = self.app.clock()
        attempts = service.last_attempts(self.app)
        jitter = self.app.settings.daemon.jitter_s
        for config in configs:
            first = first_poll_at(attempts.get(config.name), config.every, now)
            first += timedelta(seconds=random.uniform(0, min(jitter, 5)))
            self.scheduler.add_job(
                self.ingest_job,
                IntervalTrigger(seconds=config.every.total_seconds(), jitter=jitter),
                args=(config.name,),
                id=ingest_job(config.name),
                name=f"ingest {config.name}",
                next_run_time=first,
                replace_existing=True,
            )
            service.record_job(self.app, JobRun(job_id=ingest_job(config.name), next_run=first))

    def _digest_trigger(self) -> WallClockCron:
        zone = ZoneInfo(self.app.settings.digest.timezone)
        return WallClockCron(parse_schedule(self.app.settings.digest.schedule, zone), zone)

    def _schedule_digest(self) -> None:
        trigger = self._digest_trigger()
        now = self.app.clock()
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
        service.record_job(
            self.app, JobRun(job_id=DIGEST_JOB, next_run=missed or job.next_run_time)
        )

    def _missed_digest(self, trigger: WallClockCron, now: datetime) -> datetime | None:
        """The scheduled digest time that passed while the daemon was down, if any: a time the
        daemon had recorded as next, or one after the last digest, within the grace period."""
        last_digest_at, job = service.digest_history(self.app)
        if job is None:
            return None  # the daemon never ran here: nothing fell due "while it was down"
        # Only times at or after the one the daemon last knew as next can have been missed.
        known_next = job.next_run_at - timedelta(microseconds=1) if job.next_run_at else None
        done = [t for t in (last_digest_at, job.last_run_at, known_next) if t is not None]
        return missed_fire_time(
            trigger,
            last_digest_at=max(done) if done else None,
            now=now,
            grace=self.app.settings.daemon.misfire_grace,
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
        run = JobRun(
            job_id=event.job_id,
            next_run=job.next_run_time if job else None,
            ran_at=event.scheduled_run_time,
            outcome=outcome,
            keep_next=job is None,
        )
        service.record_job(self.app, run)

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
        self.app.workers.kill()  # a page in extraction stays pending
        self.scheduler.shutdown(wait=True)

    def _on_reload(self, signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=self.reload, name="claimwatch-reload", daemon=True).start()

    def reload(self) -> None:
        try:
            new = load_settings(self.config_path)
        except ConfigError as exc:
            log.error("reload refused, keeping the running configuration: %s", exc)
            return
        running = self.app.settings
        if (new.database_url, new.storage, new.fetch, new.extract, new.topics) != (
            running.database_url,
            running.storage,
            running.fetch,
            running.extract,
            running.topics,
        ):
            log.warning("storage, fetch, extract and topics settings take effect only on restart")
        keep = new.model_copy(
            update={
                "storage": running.storage,
                "fetch": running.fetch,
                "extract": running.extract,
                "topics": running.topics,  # the claim workers were built with these
            }
        )
        self._app = with_settings(self.app, keep)
        self._reschedule(keep.enabled_sources())
        job = self.scheduler.reschedule_job(DIGEST_JOB, trigger=self._digest_trigger())
        service.record_job(self.app, JobRun(job_id=DIGEST_JOB, next_run=job.next_run_time))
        log.info("reloaded %s: %d sources", self.config_path, len(keep.enabled_sources()))

    def _reschedule(self, configs: tuple[SourceConfig, ...]) -> None:
        wanted = {ingest_job(c.name) for c in configs}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("ingest:") and job.id not in wanted:
                job.remove()
                log.info("source %s removed from the schedule", job.id.removeprefix("ingest:"))
        self._schedule_sources(configs)

    def _metrics_server(self) -> MetricsServer | None:
        config = self.app.settings.daemon
        if config.metrics_port is None:
            return None
        server = MetricsServer(
            self.metrics,
            config.metrics_host,
            config.metrics_port,
            lambda: not self.stopping.is_set(),
        )
        server.start()
        log.info("metrics on http://%s:%d/metrics", config.metrics_host, server.port)
        return server


__all__ = ["Daemon", "run_daemon"]
