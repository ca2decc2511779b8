"""Running the distributed mode for tests: `claimwatch worker` and `schedule` as real
processes against a test's PostgreSQL schema, their logs in files, and the database read
directly to see what they did."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

COMMAND = [sys.executable, "-m", "digest.runtime"]
ROOT = Path(__file__).resolve().parents[2]


def queue_config(
    folder: Path, database: str, sources: list[dict[str, Any]], **sections: Any
) -> Path:
    """sources.yaml for the distributed mode, timed for tests (a worker silent for 2 s is
    dead; the sweeper looks every second)."""
    config = {
        "storage": {"corpus_dir": "corpus", "database": database},
        "fetch": {"allow_private_networks": True, "retries": 0, "timeout_s": 10},
        "extract": {"workers": 1, "timeout_s": 30},
        "sources": sources,
        "queue": {
            "engine": "procrastinate",
            "concurrency": 1,
            "poll_interval_s": 0.2,
            "heartbeat_s": 0.5,
            "stalled_after_s": 2,
            "sweep_every_s": 1,
            "number_batch": 5,
        },
        **sections,
    }
    path = folder / "sources.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


class Cluster:
    """Worker and scheduler processes of one test; every one is ended on exit."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.folder = config.parent
        self.processes: list[subprocess.Popen[bytes]] = []
        self._logs: dict[int, Path] = {}

    def command(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*COMMAND, "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            check=False,
        )

    def start(self, *args: str, name: str) -> subprocess.Popen[bytes]:
        path = self.folder / f"{name}.log"
        with path.open("wb") as log:
            process = subprocess.Popen(
                [*COMMAND, "--config", str(self.config), *args], stdout=log, stderr=log, cwd=ROOT
            )
        self.processes.append(process)
        self._logs[process.pid] = path
        return process

    def log_of(self, process: subprocess.Popen[bytes]) -> str:
        return self._logs[process.pid].read_text(errors="replace")

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.folder.glob("*.log"))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def cluster(config: Path) -> Iterator[Cluster]:
    running = Cluster(config)
    try:
        yield running
    finally:
        running.stop()


def wait_until(condition: Callable[[], Any], *, timeout: float, every: float = 0.05) -> Any:
    """`condition()`'s first true value, polled until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not reached within {timeout}s: {condition}")


def rows(engine: sa.Engine, query: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(query), params)]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
