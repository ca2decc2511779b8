"""Extraction runs in worker processes that can be stopped."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from ingest.errors import ExtractionTimeout, IngestError
from ingest.workers import RemoteTraceback, WorkerCrash, WorkerPool, WorkerSettings


def slow_or_fast(seconds: float) -> str:
    time.sleep(seconds)
    return f"slept {seconds}"


def crash(message: str) -> str:
    raise RuntimeError(message)


def test_a_request_over_its_time_limit_is_stopped_and_the_pool_goes_on() -> None:
    with WorkerPool(WorkerSettings(timeout_s=1.0, preload=()), size=1) as pool:
        started = time.monotonic()
        with pytest.raises(ExtractionTimeout):
            pool.call(slow_or_fast, 30)
        assert time.monotonic() - started < 5
        assert pool.call(slow_or_fast, 0) == "slept 0"


def test_a_call_that_raises_in_the_worker_is_raised_in_the_parent_as_a_crash() -> None:
    # Not an IngestError, so that no step records a bug as data and carries on.
    with WorkerPool(WorkerSettings(timeout_s=10, preload=()), size=1) as pool:
        with pytest.raises(WorkerCrash, match="RuntimeError: bad page") as raised:
            pool.call(crash, "bad page")
        assert not isinstance(raised.value, IngestError)
        assert isinstance(raised.value.__cause__, RemoteTraceback)
        assert "raise RuntimeError(message)" in str(raised.value.__cause__)
        assert pool.call(slow_or_fast, 0) == "slept 0"  # the worker goes on


def test_workers_start_with_the_libraries_loaded_and_the_main_process_without_them() -> None:
    """The fork server imports trafilatura and the claim finder once (WORKER_PRELOAD): a
    worker has them before its first call, and the main process never imports trafilatura.
    In a fresh interpreter: the fork server is one per process, started by the first pool."""
    script = (
        "import sys\n"
        "from digest.runtime.app import WORKER_PRELOAD\n"
        "from ingest.workers import WorkerPool, WorkerSettings\n"
        "with WorkerPool(WorkerSettings(timeout_s=60, preload=WORKER_PRELOAD), size=1) as p:\n"
        "    names = ('trafilatura', 'digest.claims.finder', 'pysbd')\n"
        "    print(p.call(eval, f'[m for m in {names!r} if m in __import__(\"sys\").modules]'))\n"
        "print('trafilatura' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == [
        "['trafilatura', 'digest.claims.finder', 'pysbd']",
        "False",
    ]
