"""The composition root: builds the `App` (settings, database, HTTP fetcher, extraction
workers, clock) that the CLI and the daemon share, and tears it down.

The only place where components are built from settings. Holds no module-level state.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from digest.claims.finder import Claim, find_claims
from digest.claims.topics import Topic
from digest.runtime import migrations as digest_schema
from digest.runtime.settings import Settings
from ingest import schema
from ingest.context import ExtractResult, IngestContext, extract_in_process, parse_in_process
from ingest.db import Database, migrate, open_database
from ingest.extract import ExtractSettings
from ingest.feeds import ParsedFeed
from ingest.http import Fetcher, build_client
from ingest.workers import WorkerPool, WorkerSettings

# What the workers' fork server imports once, so that no worker imports it again: the
# extraction library and the claim finder (their regular expressions compiled at import).
WORKER_PRELOAD = ("ingest.extract_preload", "digest.claims.finder")


def utc_now() -> datetime:
    return datetime.now(UTC)


ClaimFinder = Callable[[str, tuple[Topic, ...]], tuple[Claim, ...]]


class WorkerCalls:
    """The CPU-bound steps, each run in the worker processes under the time limit: page
    extraction, feed parsing and claim finding. `size` calls can usefully run at once."""

    def __init__(self, pool: WorkerPool, settings: Settings, finder: ClaimFinder) -> None:
        self._pool = pool
        self._extract_settings = ExtractSettings(min_chars=settings.extract.min_chars)
        self._topics = settings.topic_list
        self._finder = finder
        self.size = pool.size

    def extract(self, html: str, url: str) -> ExtractResult:
        return self._pool.call(extract_in_process, html, url, self._extract_settings)

    def parse(self, content: bytes, url: str, content_type: str) -> ParsedFeed:
        return self._pool.call(parse_in_process, content, url, content_type)

    def find_claims(self, text: str) -> tuple[Claim, ...]:
        return self._pool.call(self._finder, text, self._topics)

    def kill(self) -> None:
        """Stop every worker now (a shutdown): the calls in flight fail with ExtractionError."""
        self._pool.kill()


@dataclass(frozen=True, slots=True, kw_only=True)
class App:
    settings: Settings
    db: Database
    fetcher: Fetcher
    workers: WorkerCalls  # processes
    clock: Callable[[], datetime]
    should_stop: Callable[[], bool] = lambda: False

    def ingest_context(self) -> IngestContext:
        return IngestContext(
            db=self.db,
            fetcher=self.fetcher,
            extract=self.workers.extract,
            parse=self.workers.parse,
            corpus_dir=self.settings.corpus_dir,
            clock=self.clock,
            should_stop=self.should_stop,
            concurrency=self.settings.fetch.concurrency,
        )


def prepare_database(settings: Settings) -> Database:
    """Open the database and bring its schema up to date (idempotent)."""
    db = open_database(settings.database_url)
    migrate(db, schema.COMPONENT, schema.MIGRATIONS)
    migrate(db, digest_schema.COMPONENT, digest_schema.MIGRATIONS)
    return db


@contextmanager
def open_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    transport: httpx.BaseTransport | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    claim_finder: ClaimFinder = find_claims,
) -> Iterator[App]:
    """Everything a command needs, closed again on exit. `claim_finder` runs in the worker
    processes, so it must be a top-level function (tests give one that fails)."""
    db = prepare_database(settings)
    client = build_client(settings.fetch, transport)
    # One set of worker processes (one per core) for everything CPU-bound that a library does
    # without a time limit: page extraction, feed parsing, and claim finding.
    pool = WorkerPool(
        WorkerSettings(timeout_s=settings.extract.timeout_s, preload=WORKER_PRELOAD),
        size=settings.extract.workers or os.cpu_count() or 1,
    )
    try:
        yield App(
            settings=settings,
            db=db,
            fetcher=Fetcher(settings.fetch, client),
            workers=WorkerCalls(pool, settings, claim_finder),
            clock=clock,
            should_stop=should_stop,
        )
    finally:
        pool.close()
        client.close()
        db.dispose()


__all__ = ["App", "open_app", "prepare_database"]
