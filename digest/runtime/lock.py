"""Locks that keep claimwatch to one writer: a lock file beside the SQLite database (or in the
corpus folder for other databases) taken around every job that writes (ingest, claims, digest)
by the daemon and the one-shot commands alike, and a second file that only a running daemon
holds, so that a second daemon refuses to start.

POSIX advisory locks (fcntl.flock): released by the kernel when the process dies, so a killed
process never leaves a stale lock behind. The paths are built by the composition root.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

WRITER_LOCK = "claimwatch.writer.lock"
DAEMON_LOCK = "claimwatch.daemon.lock"
POLL_S = 0.2

# Sleeps up to the given seconds before the next try; False: stop waiting.
Wait = Callable[[float], bool]


class LockBusy(Exception):
    """Another process holds the lock. `holder` is what it wrote into the lock file."""

    def __init__(self, path: Path, holder: str) -> None:
        super().__init__(f"{path} is held by {holder or 'another process'}")
        self.path = path
        self.holder = holder


@dataclass(frozen=True, slots=True, kw_only=True)
class Locks:
    writer: Path  # every job that writes
    daemon: Path  # held for as long as a daemon runs


def locks_for(database_url: str, corpus_dir: Path) -> Locks:
    """The lock files beside the SQLite database, or in the corpus folder for other databases."""
    url = sa.make_url(database_url)
    local = url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:"
    folder = Path(url.database).parent if local and url.database else corpus_dir
    return Locks(writer=folder / WRITER_LOCK, daemon=folder / DAEMON_LOCK)


class FileLock:
    """An exclusive flock on `path`, writing the holder's description into it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self, holder: str) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{holder} (pid {os.getpid()})\n".encode())
        self._fd = fd
        return True

    def holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def for_seconds(limit: float) -> Wait:
    """A wait that gives up `limit` seconds from now."""
    deadline = time.monotonic() + limit

    def wait(seconds: float) -> bool:
        if time.monotonic() >= deadline:
            return False
        time.sleep(seconds)
        return True

    return wait


@contextmanager
def held(
    path: Path, holder: str, *, wait: Wait, on_wait: Callable[[str], None] = lambda _: None
) -> Iterator[None]:
    """Hold the lock for the block. While another process holds it, tell `on_wait` (once, with
    what the holder wrote) and `wait`; LockBusy when `wait` gives up."""
    lock = FileLock(path)
    told = False
    while not lock.try_acquire(holder):
        if not told:
            on_wait(lock.holder())
            told = True
        if not wait(POLL_S):
            raise LockBusy(path, lock.holder())
    try:
        yield
    finally:
        lock.release()
