"""Running CPU-bound library code where it can be stopped: worker processes, each answering one
call at a time over a pipe, killed and replaced when a call exceeds its time limit.

trafilatura and feedparser have no time limit of their own, and a thread cannot be stopped, so
a page or feed that takes too long costs its worker process, not the pass. The same workers
run claim finding, so all cores help once extraction is done. Does not know what it runs.

A call comes back as its value, or as `ExtractionTimeout` / `ExtractionError` when the worker
gives no answer (out of time, or killed). A call that raised in the worker is re-raised here as
`WorkerCrash`, which is not an `IngestError`: what a library is known to raise is caught where
the library is called and returned as a value, so whatever still escapes is a bug, and no
step may record it as data and carry on.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, ParamSpec, TypeVar

from ingest.errors import ExtractionError, ExtractionTimeout

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# Worker processes are started with "forkserver": no copy of the parent's threads or locks
# (fork with threads can deadlock), and cheaper than "spawn" once the server is up.
_START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerSettings:
    timeout_s: float
    max_tasks: int = 500  # recycle a worker after this many calls, so leaks stay bounded
    # Imported once in the fork server, so each new worker starts with them loaded. Not the
    # default `__main__`, which may be a script that cannot be imported twice.
    preload: tuple[str, ...] = ("ingest.extract",)


class RemoteTraceback(Exception):
    """The traceback of a call that raised in a worker process (the cause of `WorkerCrash`)."""

    def __str__(self) -> str:
        return str(self.args[0])


class WorkerCrash(Exception):
    """A call raised in the worker process: a bug, not an outside-world failure (see the module
    docstring). `error` is the exception as "TypeError: …"; the worker's traceback is the
    `__cause__`. Deliberately not an `IngestError`, so that it propagates."""

    def __init__(self, function: str, error: str, remote_traceback: str) -> None:
        super().__init__(f"{function} raised in a worker process: {error}")
        self.function = function
        self.error = error
        self.remote_traceback = remote_traceback


@dataclass(frozen=True, slots=True)
class _Raised:
    """What the child sends back instead of a value when the call raised."""

    function: str
    error: str
    remote_traceback: str


def _serve(conn: Connection) -> None:  # pragma: no cover - runs in the child
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        function, args, kwargs = request
        try:
            conn.send(("ok", function(*args, **kwargs)))
        except Exception as exc:  # noqa: BLE001 - raised again in the parent, as WorkerCrash
            name = getattr(function, "__qualname__", repr(function))
            error = f"{type(exc).__name__}: {exc}"[:1000]
            conn.send(("raised", _Raised(name, error, traceback.format_exc())))


class Worker:
    """One child process running calls of picklable top-level functions."""

    def __init__(self, settings: WorkerSettings) -> None:
        self._settings = settings
        self._context: Any = multiprocessing.get_context(_START_METHOD)
        if _START_METHOD == "forkserver":
            self._context.set_forkserver_preload(list(settings.preload))
        self._process: Any = None
        self._conn: Connection | None = None
        self._tasks = 0

    def call(self, function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run one call; ExtractionTimeout or ExtractionError when it does not come back,
        WorkerCrash when it raised."""
        conn = self._ensure_started()
        self._tasks += 1
        try:
            conn.send((function, args, kwargs))
            if not conn.poll(self._settings.timeout_s):
                self.stop(kill=True)
                raise ExtractionTimeout(f"no answer within {self._settings.timeout_s:g}s")
            status, payload = conn.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            self.stop(kill=True)
            raise ExtractionError(f"worker process died: {exc or type(exc).__name__}") from exc
        if self._tasks >= self._settings.max_tasks:
            self.stop()
        if status == "raised":
            crash = WorkerCrash(payload.function, payload.error, payload.remote_traceback)
            raise crash from RemoteTraceback(payload.remote_traceback)
        return payload  # type: ignore[no-any-return]

    def _ensure_started(self) -> Connection:
        if self._conn is not None and self._process is not None and self._process.is_alive():
            return self._conn
        self.stop(kill=True)
        parent: Connection
        child: Connection
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_serve, args=(child,), daemon=True, name="claimwatch-worker"
        )
        process.start()
        child.close()
        self._process, self._conn, self._tasks = process, parent, 0
        return parent

    def stop(self, *, kill: bool = False) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            if not kill:
                try:
                    conn.send(None)
                except OSError:
                    kill = True
            conn.close()
        if process is not None:
            if kill:
                process.kill()
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)


class WorkerPool:
    """`size` workers; `call` blocks until one is free. Safe to use from several threads."""

    def __init__(self, settings: WorkerSettings, size: int) -> None:
        self.size = max(1, size)
        self._idle: queue.SimpleQueue[Worker] = queue.SimpleQueue()
        self._all = [Worker(settings) for _ in range(self.size)]
        for worker in self._all:
            self._idle.put(worker)

    def call(self, function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        worker = self._idle.get()
        try:
            return worker.call(function, *args, **kwargs)
        finally:
            self._idle.put(worker)

    def close(self) -> None:
        for worker in self._all:
            worker.stop()

    def kill(self) -> None:
        """Stop every worker at once (a shutdown): a call in flight fails with
        ExtractionError, so its page stays pending for the next pass."""
        for worker in self._all:
            worker.stop(kill=True)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
