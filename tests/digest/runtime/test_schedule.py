"""When the daemon runs things: the digest's cron across DST (an injected clock: the trigger
is walked through the transition days), the digest missed while stopped, first polls."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from digest.runtime.schedule import (
    WallClockCron,
    fire_times,
    first_poll_at,
    missed_fire_time,
    parse_schedule,
)

# (zone, a day before spring-forward, a day before fall-back) in 2026
ZONES = [
    ("Europe/Berlin", date(2026, 3, 28), date(2026, 10, 24)),
    ("America/New_York", date(2026, 3, 7), date(2026, 10, 31)),
    ("Australia/Lord_Howe", date(2026, 4, 4), date(2026, 10, 3)),  # a 30-minute shift
]


def trigger(expression: str, zone: str) -> WallClockCron:
    tz = ZoneInfo(zone)
    return WallClockCron(parse_schedule(expression, tz), tz)


@pytest.mark.parametrize(("zone", "spring", "fall"), ZONES)
@pytest.mark.parametrize("expression", ["30 2 * * *", "0 2 * * *", "0 7 * * *", "45 1 * * *"])
def test_a_daily_digest_fires_once_per_day_across_dst(
    zone: str, spring: date, fall: date, expression: str
) -> None:
    tz = ZoneInfo(zone)
    for day in (spring, fall):
        start = datetime.combine(day, time(12), tzinfo=tz)
        times = fire_times(trigger(expression, zone), start, start + timedelta(days=3))
        local_days = [t.astimezone(tz).date() for t in times]
        assert local_days == [day + timedelta(days=n) for n in range(1, 4)], times


@pytest.mark.parametrize(("zone", "spring", "fall"), ZONES)
def test_hourly_and_secondly_schedules_never_repeat_a_wall_clock_time(
    zone: str, spring: date, fall: date
) -> None:
    tz = ZoneInfo(zone)
    for expression in ("0 * * * *", "*/20 * * * * *"):
        for day in (spring, fall):
            start = datetime.combine(day, time(12), tzinfo=tz)
            times = fire_times(trigger(expression, zone), start, start + timedelta(days=2))
            walls = [t.astimezone(tz).replace(tzinfo=None) for t in times]
            assert walls == sorted(set(walls))
            assert times == sorted(times)


def test_apscheduler_alone_would_double_the_fall_back_digest() -> None:
    # Why WallClockCron exists: the plain CronTrigger fires twice on the fall-back night.
    tz = ZoneInfo("Europe/Berlin")
    plain = parse_schedule("30 2 * * *", tz)
    first = plain.get_next_fire_time(None, datetime(2026, 10, 25, 0, 0, tzinfo=tz))
    second = plain.get_next_fire_time(first, first + timedelta(microseconds=1))
    assert first is not None and second is not None
    assert second.astimezone(tz).date() == first.astimezone(tz).date()  # doubled
    ours = trigger("30 2 * * *", "Europe/Berlin")
    after = ours.get_next_fire_time(first, first + timedelta(microseconds=1))
    assert after is not None and after.astimezone(tz).date() == date(2026, 10, 26)


def test_six_fields_means_seconds_first_and_bad_schedules_are_refused() -> None:
    times = fire_times(
        trigger("*/15 * * * * *", "UTC"),
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, 0, 1, tzinfo=UTC),
    )
    assert [t.second for t in times] == [0, 15, 30, 45]
    with pytest.raises(ValueError, match="5 or 6 fields"):
        parse_schedule("* * *", ZoneInfo("UTC"))


DAILY_7 = trigger("0 7 * * *", "UTC")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_the_digest_due_while_stopped_is_found_once() -> None:
    due = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    last = datetime(2026, 11, 22, 7, 0, 5, tzinfo=UTC)
    assert missed_fire_time(DAILY_7, last_digest_at=last, now=NOW, grace=timedelta(days=1)) == due
    made_since = datetime(2026, 11, 23, 9, 0, tzinfo=UTC) - timedelta(seconds=1)
    assert (
        missed_fire_time(DAILY_7, last_digest_at=made_since, now=NOW, grace=timedelta(days=1))
        is None
    )


def test_a_digest_missed_longer_ago_than_the_grace_is_not_sent() -> None:
    assert missed_fire_time(DAILY_7, last_digest_at=None, now=NOW, grace=timedelta(hours=1)) is None
    assert missed_fire_time(DAILY_7, last_digest_at=None, now=NOW, grace=timedelta(hours=3))


def test_several_missed_digests_make_one() -> None:
    long_ago = NOW - timedelta(days=5)
    missed = missed_fire_time(DAILY_7, last_digest_at=long_ago, now=NOW, grace=timedelta(days=7))
    assert missed == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # only the latest, once


def test_first_poll_continues_where_the_daemon_stopped() -> None:
    every = timedelta(hours=2)
    assert first_poll_at(None, every, NOW) == NOW
    assert first_poll_at(NOW - timedelta(hours=3), every, NOW) == NOW
    assert first_poll_at(NOW - timedelta(minutes=30), every, NOW) == NOW + timedelta(minutes=90)
