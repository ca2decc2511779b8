"""Extraction runs in worker processes that can be stopped."""

from __future__ import annotations

import time

import pytest

from ingest.errors import ExtractionError, ExtractionTimeout
from ingest.workers import WorkerPool, WorkerSettings


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


def test_a_crash_in_the_worker_is_reported_as_data() -> None:
    with (
        WorkerPool(WorkerSettings(timeout_s=10, preload=()), size=1) as pool,
        pytest.raises(ExtractionError, match="RuntimeError: bad page"),
    ):
        pool.call(crash, "bad page")
