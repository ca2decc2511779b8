"""`claimwatch schedule`: queues what is due, for the workers: a poll of each enabled source
`every` after its last attempt, the digest of the latest scheduled period (within
`daemon.misfire_grace`) not yet decided, and a delivery run while the outbox has due mail.

Any number of schedulers may run: a due poll is queued once (its queueing lock), a period's
digest is made once (`digest_periods`, unique), and the outbox's rows are claimed one sender
at a time. `--once`: queue what is due now and exit. Keeps no state of its own.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType
from zoneinfo import ZoneInfo

from digest.compose import outbox
from digest.runtime import engine
from digest.runtime.app import App, open_app
from digest.runtime.engine import Deferrer
from digest.runtime.exits import ExitCode
from digest.runtime.schedule import WallClockCron, first_poll_at, missed_fire_time, parse_schedule
from digest.runtime.settings import Settings
from ingest import store

log = logging.getLogger(__name__)

LONGEST_SLEEP = timedelta(seconds=30)  # a reloaded source list or a new source is seen this soon


@dataclass(frozen=True, slots=True, kw_only=True)
class Scheduled:
    """What one pass queued, and when the next thing falls due."""

    polls: int
    digest_period: str | None  # queued this pass
    deliveries: bool
    next_due: datetime


def schedule_due(app: App, deferrer: Deferrer) -> Scheduled:
    """Queue every poll, digest and delivery run due now (one transaction)."""
    now = app.clock()
    settings = app.settings
    polls, next_due = 0, now + LONGEST_SLEEP
    with app.db.write() as conn:
        attempts = store.last_attempts(conn)
        for config in settings.enabled_sources():
            state = store.sync_source(conn, config, now)
            due_at = first_poll_at(attempts.get(config.name), config.every, now)
            if state.disabled_reason:
                continue
            if due_at <= now:
                polls += deferrer.defer(conn, engine.poll_job(state.id))
            else:
                next_due = min(next_due, due_at)
        period = current_period(settings, now)
        queued = None
        if period is not None and not outbox.period_decided(conn, period):
            queued = period if deferrer.defer(conn, engine.digest_job(period)) else None
        mail = bool(outbox.due_deliveries(conn, now)) and deferrer.defer(conn, engine.deliver_job())
    return Scheduled(polls=polls, digest_period=queued, deliveries=mail, next_due=next_due)


def current_period(settings: Settings, now: datetime) -> str | None:
    """The digest schedule's latest fire time within `daemon.misfire_grace` (ISO 8601, UTC):
    the period whose digest is due; None when none fell due in that window."""
    zone = ZoneInfo(settings.digest.timezone)
    trigger = WallClockCron(parse_schedule(settings.digest.schedule, zone), zone)
    fired = missed_fire_time(
        trigger, last_digest_at=None, now=now, grace=settings.daemon.misfire_grace
    )
    return fired.astimezone(ZoneInfo("UTC")).isoformat() if fired else None


def run_scheduler(settings: Settings, *, once: bool) -> ExitCode:
    """Queue what is due, then (unless `once`) again whenever something falls due, until a
    signal stops it."""
    stopping = threading.Event()
    if not once:
        _stop_on_signals(stopping)
    deferrer = Deferrer()
    with open_app(settings, application_name="claimwatch-scheduler") as app:
        while True:
            done = schedule_due(app, deferrer)
            log.info(
                "scheduled %d polls%s%s",
                done.polls,
                f", the digest of {done.digest_period}" if done.digest_period else "",
                ", a delivery run" if done.deliveries else "",
            )
            wait = (done.next_due - app.clock()).total_seconds()
            if once or stopping.wait(min(max(wait, 1.0), LONGEST_SLEEP.total_seconds())):
                return ExitCode.OK


def _stop_on_signals(stopping: threading.Event) -> None:
    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


__all__ = ["Scheduled", "current_period", "run_scheduler", "schedule_due"]
