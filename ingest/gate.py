"""The host gate: politeness across workers and machines. A request to a host may start only
when the previous one to that host started at least the delay ago, by PostgreSQL's clock
(`clock_timestamp()`), so the workers' own clocks do not matter. A compare-and-set on one row
per host (`host_gate`); the distributed mode only.

A job that finds its host busy is given a slot to come back at: the next one after those
already given, so that jobs waiting for one host wake one per delay instead of all at once.
Does not fetch; `GatePacer` is what the fetcher asks before each request of one job.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ingest.db import Database

# Added to the configured delay. The gate spaces the *grants*; the request reaches the server
# a little later, and that lag differs between two workers (a new connection or a reused one,
# a thread scheduled late). In tests/digest/runtime/test_distributed.py (3 workers on 2 cores,
# 18 requests, delay 250 ms) grants 300 ms apart arrived at least 296 ms apart: the lag
# differed by a few ms; 50 ms leaves room for a loaded machine.
GATE_MARGIN_S = 0.05

_ENSURE = sa.text(
    "INSERT INTO host_gate (host, last_at, retry_until) "
    "VALUES (:host, '-infinity', '-infinity') ON CONFLICT (host) DO NOTHING"
)
_ENTER = sa.text(
    "UPDATE host_gate SET last_at = clock_timestamp() "
    "WHERE host = :host AND last_at <= clock_timestamp() - make_interval(secs => :delay) "
    "RETURNING last_at"
)
_NEXT_SLOT = sa.text(
    "UPDATE host_gate SET retry_until = GREATEST(retry_until, last_at) "
    "+ make_interval(secs => :delay) WHERE host = :host RETURNING retry_until"
)
_EARLIEST = sa.text(
    "SELECT last_at + make_interval(secs => :delay) FROM host_gate WHERE host = :host"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Entered:
    """The request may start now; the host is closed to others for the delay."""

    host: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Busy:
    """Another request to the host started less than the delay ago; come back at `retry_at`
    (database time)."""

    host: str
    retry_at: datetime


def spacing(delay_s: float) -> float:
    """The gate's interval for a configured delay: 0 (no gate) or the delay plus the margin."""
    return delay_s + GATE_MARGIN_S if delay_s > 0 else 0.0


def try_enter(conn: Connection, host: str, delay_s: float, *, take_slot: bool) -> Entered | Busy:
    """Enter the host's gate, or say when to come back: the next free slot (`take_slot`, for a
    job that will be deferred to it) or the earliest moment the gate opens. Commit promptly:
    the host's row stays locked until then."""
    delay = spacing(delay_s)
    if delay == 0:
        return Entered(host=host)
    conn.execute(_ENSURE, {"host": host})
    if conn.execute(_ENTER, {"host": host, "delay": delay}).first() is not None:
        return Entered(host=host)
    query = _NEXT_SLOT if take_slot else _EARLIEST
    retry_at = conn.execute(query, {"host": host, "delay": delay}).scalar_one()
    return Busy(host=host, retry_at=retry_at)


def enter(db: Database, host: str, delay_s: float, *, take_slot: bool = True) -> Entered | Busy:
    """`try_enter` in a transaction of its own."""
    if spacing(delay_s) == 0:
        return Entered(host=host)
    with db.write() as conn:
        return try_enter(conn, host, delay_s, take_slot=take_slot)


def seconds_until(conn: Connection, moment: datetime) -> float:
    """How long from now (database clock) until `moment`."""
    query = sa.text("SELECT EXTRACT(EPOCH FROM (:moment - clock_timestamp()))")
    return max(0.0, float(conn.execute(query, {"moment": moment}).scalar_one()))


@dataclass(slots=True)
class GatePacer:
    """The fetcher's pacer for one job: the host the job already entered goes first (once);
    any other request (a redirect's next hop) waits at the gate, by the database's clock."""

    db: Database
    delay_s: float
    entered: str | None = None
    sleep: Callable[[float], None] = time.sleep
    _used: bool = field(default=False)

    def wait_turn(self, host: str) -> None:
        if host == self.entered and not self._used:
            self._used = True
            return
        while True:
            with self.db.write() as conn:
                answer = try_enter(conn, host, self.delay_s, take_slot=False)
                if isinstance(answer, Entered):
                    return
                wait = seconds_until(conn, answer.retry_at)
            self.sleep(max(wait, 0.001))
