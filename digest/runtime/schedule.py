"""When things run: the digest's cron schedule in local wall-clock time (safe across DST),
the digest that fell due while the daemon was down, and when a source is next polled.

Pure: no I/O, no scheduler; `runtime.daemon` hands these to APScheduler.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

# APScheduler 3's CronTrigger fires twice on a fall-back night (02:30+02:00, then 02:30+01:00)
# and then keeps returning the repeated time: we step past a repeated wall-clock time.
_REPEATED_HOUR = timedelta(hours=1, seconds=1)
_MAX_STEPS = 16
_TICK = timedelta(microseconds=1)


def parse_schedule(expression: str, timezone: tzinfo) -> CronTrigger:
    """A cron trigger from 5 fields (minute hour day month day-of-week) or 6 (seconds first)."""
    fields = expression.split()
    if len(fields) == 5:
        return CronTrigger.from_crontab(expression, timezone=timezone)
    if len(fields) == 6:
        second, minute, hour, day, month, day_of_week = fields
        return CronTrigger(
            second=second,
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=day_of_week,
            timezone=timezone,
        )
    raise ValueError(f"a cron schedule has 5 or 6 fields, not {len(fields)}: {expression!r}")


class WallClockCron(BaseTrigger):  # type: ignore[misc]
    """A cron trigger that fires at most once per local wall-clock time: on a fall-back night
    the repeated hour does not fire twice; a time that does not exist on a spring-forward night
    fires once, at the same instant one hour later on the clock."""

    def __init__(self, cron: CronTrigger, timezone: tzinfo) -> None:
        self.cron = cron
        self.timezone = timezone

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        # Like CronTrigger, count from just after the previous fire time (so that misfires
        # are seen), but ask it with no previous time: given one, it ignores `now` and keeps
        # returning the repeated time of a fall-back night.
        start = now if previous_fire_time is None else previous_fire_time + _TICK
        last: datetime | None = None
        for _ in range(_MAX_STEPS):
            candidate: datetime | None = self.cron.get_next_fire_time(None, start)
            if candidate is None or previous_fire_time is None:
                return candidate
            if self._wall(candidate) > self._wall(previous_fire_time):
                return candidate
            # A wall-clock time already passed (the repeated hour of a fall-back night): look
            # from just after the previous wall-clock time, in its second occurrence.
            after = (self._wall(previous_fire_time) + _TICK).replace(tzinfo=self.timezone, fold=1)
            start = candidate + _REPEATED_HOUR if candidate == last else max(after, start)
            last = candidate
        return None

    def _wall(self, moment: datetime) -> datetime:
        return moment.astimezone(self.timezone).replace(tzinfo=None)

    def __str__(self) -> str:
        return f"wall-clock {self.cron}"

    def __getstate__(self) -> dict[str, Any]:  # pragma: no cover - memory job store only
        return {"cron": self.cron, "timezone": self.timezone}


def fire_times(trigger: BaseTrigger, start: datetime, end: datetime) -> list[datetime]:
    """Every time `trigger` fires in [start, end), as the scheduler would walk it."""
    times: list[datetime] = []
    previous = None
    moment = trigger.get_next_fire_time(None, start)
    while moment is not None and moment < end and len(times) < 100_000:
        times.append(moment)
        previous = moment
        moment = trigger.get_next_fire_time(previous, moment + timedelta(microseconds=1))
    return times


def missed_fire_time(
    trigger: BaseTrigger, *, last_digest_at: datetime | None, now: datetime, grace: timedelta
) -> datetime | None:
    """The latest scheduled time in (now − grace, now] with no digest made at or after it:
    the digest that fell due while the daemon was down. None when there is none."""
    window_start = now - grace
    if last_digest_at is not None:
        window_start = max(window_start, last_digest_at + timedelta(microseconds=1))
    times = fire_times(trigger, window_start, now + timedelta(microseconds=1))
    return times[-1] if times else None


def first_poll_at(last_attempt: datetime | None, every: timedelta, now: datetime) -> datetime:
    """A restarted daemon continues where it stopped: a source is polled `every` after its
    last attempt, or now if that is already past (or it was never polled)."""
    if last_attempt is None:
        return now
    return max(now, last_attempt + every)
