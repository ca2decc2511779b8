"""The composition root: builds the `App` that the CLI and the daemon share (settings, database,
HTTP fetcher, worker processes, mailer, templates, archive site, locks, clock), hands each
layer below the narrow context it needs, and tears everything down again.

The only place where components are built from settings. Holds no module-level state.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import httpx
import jinja2

from digest.claims.finder import Claim, find_claims
from digest.compose.compiler import ComposeContext, DigestRules
from digest.compose.model import ArchiveSite
from digest.compose.render import make_environment
from digest.mail.delivery import DeliveryContext, Mailer
from digest.mail.message import Letterhead, make_message_id
from digest.mail.smtp import SmtpMailer
from digest.runtime import engine, migrations
from digest.runtime.lock import Locks, locks_for
from digest.runtime.settings import Settings
from digest.runtime.tasks import ClaimFinder, PageExtractor, extract_and_find_claims
from ingest import queue_schema, schema
from ingest.context import (
    ExtractResult,
    IngestContext,
    OnStored,
    extract_in_process,
    parse_in_process,
)
from ingest.db import Database, migrate, migration_lock, open_database
from ingest.extract import ExtractSettings
from ingest.feeds import ParsedFeed
from ingest.http import Fetcher, Pacer, build_client
from ingest.workers import WorkerPool, WorkerSettings

# What the workers' fork server imports once, so that no worker imports it again: the
# extraction library, feedparser (warmed by one parse), the claim finder with its weights, and
# the worker tasks. Not `__main__`: the console script's module is kept tiny for that reason.
WORKER_PRELOAD = (
    "ingest.extract_preload",
    "ingest.feeds_preload",
    "digest.claims.finder",
    "digest.runtime.tasks",
)


def utc_now() -> datetime:
    return datetime.now(UTC)


class WorkerCalls:
    """The CPU-bound steps, each run in the worker processes under the time limit: page
    extraction, feed parsing and claim finding. `size` calls can usefully run at once."""

    def __init__(
        self,
        pool: WorkerPool,
        settings: Settings,
        finder: ClaimFinder,
        extractor: PageExtractor = extract_in_process,
    ) -> None:
        self._pool = pool
        self._extract_settings = ExtractSettings(min_chars=settings.extract.min_chars)
        self._topics = settings.topic_list
        self._finder = finder
        self._extractor = extractor
        self.size = pool.size

    def extract(self, content: bytes, charset: str | None, url: str) -> ExtractResult:
        """The page's article and, attached, its claims (tasks.extract_and_find_claims)."""
        return self._pool.call(
            extract_and_find_claims,
            content,
            charset,
            url,
            self._extract_settings,
            self._finder,
            self._topics,
            self._extractor,
        )

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
    client: httpx.Client  # the fetcher's; `fetcher_with` shares it
    workers: WorkerCalls  # processes
    mailer: Mailer
    templates: jinja2.Environment
    site: ArchiveSite
    locks: Locks
    clock: Callable[[], datetime]
    should_stop: Callable[[], bool] = lambda: False

    def ingest_context(self, on_stored: OnStored | None = None) -> IngestContext:
        return IngestContext(
            db=self.db,
            fetcher=self.fetcher,
            extract=self.workers.extract,
            parse=self.workers.parse,
            corpus_dir=self.settings.corpus_dir,
            clock=self.clock,
            should_stop=self.should_stop,
            concurrency=self.settings.fetch.concurrency,
            on_stored=on_stored,
        )

    def fetcher_with(self, pacer: Pacer) -> Fetcher:
        """A fetcher on the same connections that asks `pacer` before each request (the
        distributed mode's host gate, one per job)."""
        return Fetcher(self.settings.fetch, self.client, pacer=pacer)

    def compose_context(self) -> ComposeContext:
        digest = self.settings.digest
        letterhead = _letterhead(self.settings)
        return ComposeContext(
            db=self.db,
            clock=self.clock,
            rules=DigestRules(
                first_run=digest.first_run,
                send_empty=digest.send_empty,
                max_claims=digest.max_claims,
                topics=tuple(t.label.replace(" ", "-") for t in self.settings.topic_list),
            ),
            templates=self.templates,
            site=self.site,
            html_dir=self.settings.html_dir,
            recipients=digest.email.to,
            message_id=partial(make_message_id, domain=letterhead.domain),
        )

    def delivery_context(self) -> DeliveryContext:
        return DeliveryContext(
            db=self.db,
            mailer=self.mailer,
            letterhead=_letterhead(self.settings),
            retry_backoff=self.settings.digest.email.retry_backoff,
            clock=self.clock,
        )


def _letterhead(settings: Settings) -> Letterhead:
    email = settings.digest.email
    return Letterhead(sender=email.from_, list_id=email.list_id, unsubscribe=email.unsubscribe)


def prepare_database(settings: Settings, application_name: str | None = None) -> Database:
    """Open the database and bring its schema up to date (idempotent); with `queue:`
    configured, the distributed mode's tables and Procrastinate's too."""
    db = open_database(settings.database_url, application_name=application_name)
    with migration_lock(db):  # N workers started at once migrate one after the other
        migrate(db, schema.COMPONENT, schema.MIGRATIONS)
        migrate(db, migrations.COMPONENT, migrations.MIGRATIONS)
        if settings.queue is not None:
            migrate(db, queue_schema.COMPONENT, queue_schema.MIGRATIONS)
            migrate(db, engine.COMPONENT, engine.MIGRATIONS)
    return db


def build_templates(settings: Settings) -> jinja2.Environment:
    templates = settings.digest.templates_dir
    return make_environment(settings.path(templates) if templates else None)


def build_site(settings: Settings) -> ArchiveSite:
    url = settings.digest.site_url or settings.html_dir.resolve().as_uri()
    return ArchiveSite(base_url=url if url.endswith("/") else url + "/")


def with_settings(app: App, settings: Settings, environ: Mapping[str, str] = os.environ) -> App:
    """The same App with new settings (a reload): what is built from the digest settings is
    built again; the database, fetcher and workers stay (their settings need a restart)."""
    return dataclasses.replace(
        app,
        settings=settings,
        mailer=SmtpMailer(settings.digest.email.smtp, environ),
        templates=build_templates(settings),
        site=build_site(settings),
    )


@contextmanager
def open_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    transport: httpx.BaseTransport | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    claim_finder: ClaimFinder = find_claims,
    page_extractor: PageExtractor = extract_in_process,
    application_name: str | None = None,
) -> Iterator[App]:
    """Everything a command needs, closed again on exit. `claim_finder` and `page_extractor`
    run in the worker processes, so they must be top-level functions (a test gives a finder
    with a bug; the scaling benchmark an extractor that sleeps)."""
    db = prepare_database(settings, application_name)
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
            client=client,
            workers=WorkerCalls(pool, settings, claim_finder, page_extractor),
            mailer=SmtpMailer(settings.digest.email.smtp, os.environ),
            templates=build_templates(settings),
            site=build_site(settings),
            locks=locks_for(settings.database_url, settings.corpus_dir),
            clock=clock,
            should_stop=should_stop,
        )
    finally:
        pool.close()
        client.close()
        db.dispose()


__all__ = ["App", "open_app", "prepare_database", "with_settings"]
