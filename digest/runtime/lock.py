"""Locks that keep claimwatch to one writer: a lock file beside the SQLite database (or in the
corpus folder for other databases) taken around every job that writes (ingest, claims, digest)
by the daemon and the one-shot commands alike, and a second file that only a running daemon
holds, so that a second daemon refuses to start.

POSIX advisory locks (fcntl.flock): released by the kernel when the process dies, so a killed
process never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa


class LockBusy(Exception):
    """Another process holds the lock. `holder` is what it wrote into the lock file."""

    def __init__(self, path: Path, holder: str) -> None:
        super().__init__(f"{path} is held by {holder or 'another process'}")
        self.path = path
        self.holder = holder


def lock_dir(database_url: str, corpus_dir: Path) -> Path:
    url = sa.make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).parent
    return corpus_dir


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


@contextmanager
def held(
    path: Path,
    holder: str,
    *,
    wait_s: float = 0.0,
    on_wait: Callable[[str], None] | None = None,
    poll_s: float = 0.2,
) -> Iterator[None]:
    """Hold the lock for the block; wait up to `wait_s` for it, else raise LockBusy."""
    lock = FileLock(path)
    deadline = time.monotonic() + wait_s
    told = False
    while not lock.try_acquire(holder):
        if time.monotonic() >= deadline:
            raise LockBusy(path, lock.holder())
        if on_wait is not None and not told:
            on_wait(lock.holder())
            told = True
        time.sleep(poll_s)
    try:
        yield
    finally:
        lock.release()


WRITER_LOCK = "claimwatch.writer.lock"
DAEMON_LOCK = "claimwatch.daemon.lock"
