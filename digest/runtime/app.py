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
from digest.runtime import migrations as digest_schema
from digest.runtime.settings import Settings
from ingest import schema
from ingest.context import IngestContext, parse_in_process
from ingest.db import Database, migrate, open_database
from ingest.extract import ExtractedDocument, ExtractionSkipped, ExtractSettings, extract_document
from ingest.feeds import ParsedFeed
from ingest.http import Fetcher, build_client
from ingest.workers import WorkerPool, WorkerSettings

ExtractResult = ExtractedDocument | ExtractionSkipped


# What the workers' fork server imports once, so that no worker imports it again: the
# extraction library and the claim finder (their regular expressions compiled at import).
WORKER_PRELOAD = ("ingest.extract_preload", "digest.claims.finder")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class App:
    settings: Settings
    db: Database
    fetcher: Fetcher
    extract: Callable[[str, str], ExtractResult]
    parse: Callable[[bytes, str, str], ParsedFeed]
    find_claims: Callable[[str], tuple[Claim, ...]]  # in a worker, with the configured topics
    workers: int  # worker processes: how many calls may usefully run at once
    clock: Callable[[], datetime]
    should_stop: Callable[[], bool] = lambda: False
    stop_extraction: Callable[[], None] = lambda: None

    def ingest_context(self) -> IngestContext:
        return IngestContext(
            db=self.db,
            fetcher=self.fetcher,
            extract=self.extract,
            parse=self.parse,
            corpus_dir=self.settings.corpus_dir,
            clock=self.clock,
            should_stop=self.should_stop,
            workers=self.settings.fetch.concurrency,
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
) -> Iterator[App]:
    """Everything a command needs, closed again on exit."""
    db = prepare_database(settings)
    client = build_client(settings.fetch, transport)
    # One set of worker processes (one per core) for everything CPU-bound that a library does
    # without a time limit: page extraction, feed parsing, and claim finding.
    pool = WorkerPool(
        WorkerSettings(timeout_s=settings.extract.timeout_s, preload=WORKER_PRELOAD),
        size=settings.extract.workers or os.cpu_count() or 1,
    )
    try:
        calls = _WorkerCalls(pool, settings)
        yield App(
            settings=settings,
            db=db,
            fetcher=Fetcher(settings.fetch, client),
            extract=calls.extract,
            parse=calls.parse,
            find_claims=calls.find_claims,
            workers=pool.size,
            clock=clock,
            should_stop=should_stop,
            stop_extraction=pool.kill,
        )
    finally:
        pool.close()
        client.close()
        db.dispose()


class _WorkerCalls:
    """The pure CPU-bound steps, each run in the worker pool under its time limit."""

    def __init__(self, pool: WorkerPool, settings: Settings) -> None:
        self._pool = pool
        self._extract_settings = ExtractSettings(min_chars=settings.extract.min_chars)
        self._topics = settings.topic_list

    def extract(self, html: str, url: str) -> ExtractResult:
        return self._pool.call(extract_document, html, url=url, settings=self._extract_settings)

    def parse(self, content: bytes, url: str, content_type: str) -> ParsedFeed:
        return self._pool.call(parse_in_process, content, url, content_type)

    def find_claims(self, text: str) -> tuple[Claim, ...]:
        return self._pool.call(find_claims, text, self._topics)


__all__ = ["App", "open_app", "prepare_database"]
