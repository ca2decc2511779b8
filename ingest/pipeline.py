"""One ingest pass: every enabled source's feed, its new entries' pages, their extracted text,
stored once in the corpus. The service module of `ingest`; the CLI and the daemon call it.

Data flow (each arrow one typed value; every error from outside is recorded as data)::

    SourceConfig ─ store.sync_source ─▶ SourceState          (disabled after a 410: skipped)
    SourceState ─ http.fetch (conditional GET, limits) ─▶ Fetched | NotModified
    Fetched ─ feeds.parse_feed ─▶ FeedEntry*                 (by source + guid; canonical URL)
    FeedEntry* ─ store.add_entries ─▶ pages pending          (one page per canonical URL)
    ── validators saved only after the entries are, so a crash never hides an entry behind 304
    PendingPage ─ http.fetch ─▶ Fetched | Unwanted           (not HTML: skipped)
    Fetched ─ charset.decode_html ─ extract (worker process, time limit)
            ─▶ ExtractedDocument | ExtractionSkipped         (too short: skipped, with reason)
    ExtractedDocument ─ store.store_document ─▶ StoredDocument | Duplicate
                          (in entry order, whatever order the pages finished in, so `seq`
                           follows the feed; file written atomically before its row)

A failing source or page never stops the others: feed errors count against the source, page
errors against the page (retried on later passes up to `max_page_attempts`).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Literal, Protocol

from ingest import store
from ingest.charset import decode_html, is_html_media_type, looks_like_html
from ingest.config import SourceConfig
from ingest.db import Database
from ingest.errors import (
    BlockedAddress,
    BodyTooLarge,
    ExtractionError,
    ExtractionTimeout,
    FeedError,
    FetchError,
    HTTPStatusError,
    IngestError,
    TooManyRedirects,
)
from ingest.extract import ExtractedDocument, ExtractionSkipped
from ingest.feeds import ParsedFeed, parse_feed
from ingest.http import Fetched, Fetcher, NotModified, Unwanted, Validators

log = logging.getLogger(__name__)

Extract = Callable[[str, str], ExtractedDocument | ExtractionSkipped]
# (content, final URL, content type) -> ParsedFeed; may raise ExtractionError (time limit):
# feedparser has pathological inputs (its author regular expression) and no time limit.
ParseFeed = Callable[[bytes, str, str], ParsedFeed]


def parse_in_process(content: bytes, url: str, content_type: str) -> ParsedFeed:
    return parse_feed(content, url=url, content_type=content_type)


PageStatus = Literal["stored", "duplicate", "skipped", "failed", "retry"]
SourceStatus = Literal["ok", "not_modified", "failed", "disabled"]


class Observer(Protocol):
    """Hears about progress (progress bars, logs, metrics). Must not raise."""

    def source_started(self, name: str, url: str) -> None: ...
    def page_done(self, name: str, url: str, status: PageStatus, detail: str) -> None: ...
    def source_done(self, report: SourceReport) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestContext:
    """What a pass needs; built by the composition root."""

    db: Database
    fetcher: Fetcher
    extract: Extract  # may raise ExtractionError (time limit, crash)
    corpus_dir: Path
    parse: ParseFeed = parse_in_process
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    max_page_attempts: int = 3
    # Asked between pages and sources; True ends the pass early (a signal to stop). The page
    # in hand is finished first; nothing is half-recorded.
    should_stop: Callable[[], bool] = lambda: False
    workers: int = 4  # feeds polled and pages in hand at once


@dataclass(frozen=True, slots=True, kw_only=True)
class PageOutcome:
    status: PageStatus
    detail: str = ""
    document_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceReport:
    name: str
    status: SourceStatus
    url: str
    entries_seen: int = 0
    new_entries: int = 0
    new_documents: tuple[int, ...] = ()
    duplicates: int = 0
    skipped: int = 0
    errors: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestReport:
    started_at: datetime
    finished_at: datetime
    sources: tuple[SourceReport, ...] = field(default_factory=tuple)

    @property
    def failed(self) -> tuple[SourceReport, ...]:
        return tuple(s for s in self.sources if s.status == "failed")

    @property
    def new_documents(self) -> tuple[int, ...]:
        return tuple(doc for s in self.sources for doc in s.new_documents)


class _Silent:
    def source_started(self, name: str, url: str) -> None:
        pass

    def page_done(self, name: str, url: str, status: PageStatus, detail: str) -> None:
        pass

    def source_done(self, report: SourceReport) -> None:
        pass


def run_pass(
    ctx: IngestContext, configs: Sequence[SourceConfig], observer: Observer | None = None
) -> IngestReport:
    """One pass over the given (enabled) sources. Feeds are polled `ctx.workers` at a time and
    their pages fetched, extracted and stored by a shared set of `ctx.workers` threads: the
    network is waited on concurrently (still paced per host), extraction runs in the worker
    processes, and the database has one writer at a time; each source stores its pages in
    the order of its entries. Only the pages in hand hold their
    HTML, so memory stays flat however many entries a pass finds."""
    observer = observer or _Silent()
    started = ctx.clock()
    with ctx.db.write() as conn:
        store.remove_orphan_files(conn, ctx.corpus_dir)
    workers = max(1, ctx.workers)
    taken = _PagesTaken()
    with ctx.db.read() as conn:  # one read for every source, not two per source
        known = {state.name: state for state in store.all_sources(conn)}
        with_pending = store.sources_with_pending_pages(conn)
    with (
        ThreadPoolExecutor(workers, thread_name_prefix="claimwatch-page") as pool,
        ThreadPoolExecutor(min(workers, max(1, len(configs))), "claimwatch-feed") as feeds,
    ):
        pages = _PageWork(pool=pool, taken=taken, known=known, with_pending=with_pending)
        reports = list(feeds.map(partial(_run_source, ctx, observer, pages), configs))
    done = tuple(report for report in reports if report is not None)
    return IngestReport(started_at=started, finished_at=ctx.clock(), sources=done)


@dataclass(slots=True)
class _PagesTaken:
    """Pages some thread of this pass has taken: two sources pointing at one page (one
    article in two feeds) must not fetch it twice at the same time."""

    _ids: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, page_id: int) -> bool:
        with self._lock:
            if page_id in self._ids:
                return False
            self._ids.add(page_id)
            return True


@dataclass(frozen=True, slots=True)
class _PageWork:
    """What the threads of one pass share."""

    pool: Executor
    taken: _PagesTaken
    known: dict[str, store.SourceState]  # sources as stored when the pass began
    with_pending: frozenset[int]  # sources with pages left to retry when the pass began


def _run_source(
    ctx: IngestContext, observer: Observer, pages: _PageWork, config: SourceConfig
) -> SourceReport | None:
    if ctx.should_stop():
        log.info("ingest pass stopped before source %s", config.name)
        return None
    report = ingest_source(ctx, config, observer, pages)
    observer.source_done(report)
    return report


def ingest_source(
    ctx: IngestContext, config: SourceConfig, observer: Observer, pages: _PageWork
) -> SourceReport:
    """Poll one source's feed, then fetch the pages its entries point at."""
    known = pages.known.get(config.name)  # most passes find the source as configured: no write
    if known is None or known.feed_url != config.feed:
        with ctx.db.write() as conn:
            known = store.sync_source(conn, config, ctx.clock())
    state = known
    if state.disabled_reason:
        return SourceReport(
            name=config.name, status="disabled", url=state.current_url, error=state.disabled_reason
        )
    observer.source_started(config.name, state.current_url)
    feed_report = poll_feed(ctx, state)
    if feed_report.status == "failed":
        return feed_report
    if feed_report.status == "not_modified" and state.id not in pages.with_pending:
        return feed_report  # nothing new, nothing left to retry
    page_report = fetch_pending_pages(ctx, state, observer, pages)
    return _merge(feed_report, page_report)


def poll_feed(ctx: IngestContext, state: store.SourceState) -> SourceReport:
    """Conditional GET of the feed; new entries recorded, then the validators."""
    try:
        result = ctx.fetcher.fetch(state.current_url, state.validators)
        if isinstance(result, NotModified):
            _feed_succeeded(ctx, state, result.validators, None)
            return SourceReport(name=state.name, status="not_modified", url=state.current_url)
        assert isinstance(result, Fetched)  # feeds are fetched without a media-type filter
        parsed = _parse(ctx, result)
    except IngestError as exc:
        return _feed_failed(ctx, state, exc)
    new, duplicates = _record_entries(ctx, state, parsed)
    _feed_succeeded(ctx, state, result.validators, result.permanent_url)
    if result.permanent_url:
        log.warning("source %s: feed moved permanently to %s", state.name, result.permanent_url)
    return SourceReport(
        name=state.name,
        status="ok",
        url=result.permanent_url or state.current_url,
        entries_seen=len(parsed.entries),
        new_entries=new,
        duplicates=duplicates,
    )


def _parse(ctx: IngestContext, result: Fetched) -> ParsedFeed:
    content_type = result.media_type + (f"; charset={result.charset}" if result.charset else "")
    try:
        parsed = ctx.parse(result.content, result.final_url, content_type)
    except ExtractionError as exc:
        raise FeedError(f"feed parsing failed: {exc}") from exc
    if not parsed.entries and not parsed.version:
        raise FeedError(f"not a feed ({parsed.bozo or 'no entries, unknown format'})")
    return parsed


def _record_entries(
    ctx: IngestContext, state: store.SourceState, parsed: ParsedFeed
) -> tuple[int, int]:
    rows = [(e.key, e.link, e.canonical, e.title, e.published) for e in parsed.entries]
    with ctx.db.write() as conn:
        return store.add_entries(conn, state.id, rows, ctx.clock())


def _feed_succeeded(
    ctx: IngestContext, state: store.SourceState, validators: Validators, new_url: str | None
) -> None:
    with ctx.db.write() as conn:
        store.record_feed_success(
            conn, state.id, validators=validators, new_url=new_url, now=ctx.clock()
        )


def _feed_failed(ctx: IngestContext, state: store.SourceState, exc: IngestError) -> SourceReport:
    gone = isinstance(exc, HTTPStatusError) and exc.status == 410
    message = f"{exc.kind}: {exc}" + ("; source disabled (410 Gone)" if gone else "")
    url = getattr(exc, "url", state.current_url) or state.current_url
    log.warning("source %s: feed %s failed: %s", state.name, url, message)
    now = ctx.clock()
    with ctx.db.write() as conn:
        store.record_feed_failure(conn, state.id, message=message, now=now, disable=gone)
        store.record_error(
            conn, source_id=state.id, stage="feed", kind=exc.kind, url=url, message=message, now=now
        )
    return SourceReport(
        name=state.name, status="failed", url=state.current_url, errors=1, error=message
    )


def fetch_pending_pages(
    ctx: IngestContext, state: store.SourceState, observer: Observer, pages: _PageWork
) -> SourceReport:
    with ctx.db.read() as conn:
        pending = store.pending_pages(conn, state.id)
    counts = {"stored": 0, "duplicate": 0, "skipped": 0, "failed": 0, "retry": 0}
    new_documents: list[int] = []
    mine = [page for page in pending if pages.taken.take(page.page_id)]
    for page, outcome in _pages_in_entry_order(ctx, state, pages.pool, mine):
        counts[outcome.status] += 1
        if outcome.status == "stored" and outcome.document_id is not None:
            new_documents.append(outcome.document_id)
        observer.page_done(state.name, page.link, outcome.status, outcome.detail)
    return SourceReport(
        name=state.name,
        status="ok",
        url=state.current_url,
        new_documents=tuple(sorted(new_documents)),
        duplicates=counts["duplicate"],
        skipped=counts["skipped"],
        errors=counts["failed"] + counts["retry"],
    )


@dataclass(frozen=True, slots=True)
class _Ready:
    """A page fetched and extracted, waiting for its turn to be stored."""

    document: ExtractedDocument
    final_url: str


@dataclass(frozen=True, slots=True)
class _Ended:
    """A page that will not be stored this pass (skipped, failed, or to retry)."""

    outcome: PageOutcome
    final_url: str | None


def _pages_in_entry_order(
    ctx: IngestContext, state: store.SourceState, pool: Executor, todo: Sequence[store.PendingPage]
) -> Iterator[tuple[store.PendingPage, PageOutcome]]:
    """Pages are fetched and extracted concurrently on `pool`, whatever order they finish in,
    but stored here one after the other in the order of their entries, so the corpus numbers
    (`seq`) follow the feed. At most two pages per worker are in hand ahead of the next one to
    store: memory stays bounded however long the feed is. Once asked to stop, pages not yet
    started are left pending; those in hand are finished."""
    window = 2 * max(1, ctx.workers)
    waiting = iter(todo)
    in_hand: deque[tuple[store.PendingPage, Future[_Ready | _Ended | None]]] = deque()

    def top_up() -> None:
        while len(in_hand) < window and (page := next(waiting, None)) is not None:
            in_hand.append((page, pool.submit(_prepare, ctx, state, page)))

    top_up()
    while in_hand:
        page, future = in_hand.popleft()
        prepared = future.result()
        top_up()
        if prepared is not None:
            yield page, _finish(ctx, state, page, prepared)


def _prepare(
    ctx: IngestContext, state: store.SourceState, page: store.PendingPage
) -> _Ready | _Ended | None:
    """Fetch and extract one page (any thread); every failure becomes a recorded outcome."""
    if ctx.should_stop():
        return None
    try:
        return _fetch_and_extract(ctx, page)
    except (FetchError, ExtractionError) as exc:
        _record_page_error(ctx, state, page, exc)
        return _Ended(_page_failure(ctx, page, exc), getattr(exc, "url", None))


def _fetch_and_extract(ctx: IngestContext, page: store.PendingPage) -> _Ready | _Ended:
    result = ctx.fetcher.fetch(page.link, accept=is_html_media_type)
    if isinstance(result, Unwanted):
        return _Ended(PageOutcome(status="skipped", detail=f"not HTML: {result.media_type}"), None)
    assert isinstance(result, Fetched)  # no validators were sent, so never NotModified
    html = decode_html(result.content, result.charset)
    if not looks_like_html(html):
        skipped = PageOutcome(status="skipped", detail="not HTML: no markup found")
        return _Ended(skipped, result.final_url)
    extracted = ctx.extract(html, page.canonical_url)
    if isinstance(extracted, ExtractionSkipped):
        return _Ended(PageOutcome(status="skipped", detail=extracted.reason), result.final_url)
    return _Ready(extracted, result.final_url)


def _finish(
    ctx: IngestContext, state: store.SourceState, page: store.PendingPage, prepared: _Ready | _Ended
) -> PageOutcome:
    """Record one prepared page: stored (or found a duplicate), or its reason for not."""
    if isinstance(prepared, _Ready):
        outcome = _store(ctx, state, page, prepared.document, prepared.final_url)
    else:
        outcome = prepared.outcome
        with ctx.db.write() as conn:
            store.record_page(
                conn,
                page.page_id,
                status="pending" if outcome.status == "retry" else outcome.status,
                reason=outcome.detail,
                final_url=prepared.final_url,
                now=ctx.clock(),
            )
    log.info("source %s: %s %s %s", state.name, outcome.status, page.link, outcome.detail)
    return outcome


def _store(
    ctx: IngestContext,
    state: store.SourceState,
    page: store.PendingPage,
    extracted: ExtractedDocument,
    final_url: str,
) -> PageOutcome:
    published = page.published or _as_datetime(extracted.published)
    now = ctx.clock()
    with ctx.db.write() as conn:
        result = store.store_document(
            conn, ctx.corpus_dir, extracted, source_id=state.id, published=published, now=now
        )
        document = result.of if isinstance(result, store.Duplicate) else result
        status: PageStatus = "duplicate" if isinstance(result, store.Duplicate) else "stored"
        store.record_page(
            conn, page.page_id, status=status, final_url=final_url, document_id=document.id, now=now
        )
    return PageOutcome(status=status, detail=document.file, document_id=document.id)


def _as_datetime(value: date | None) -> datetime | None:
    if value is not None:
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


PERMANENT_FETCH_ERRORS = (BlockedAddress, BodyTooLarge, TooManyRedirects)


def _page_failure(
    ctx: IngestContext, page: store.PendingPage, exc: FetchError | ExtractionError
) -> PageOutcome:
    detail = f"{exc.kind}: {exc}"
    if isinstance(exc, ExtractionTimeout):
        return PageOutcome(status="skipped", detail=detail)
    permanent = isinstance(exc, PERMANENT_FETCH_ERRORS) or (
        isinstance(exc, HTTPStatusError)
        and 400 <= exc.status < 500
        and exc.status not in (408, 429)
    )
    if permanent or page.attempts + 1 >= ctx.max_page_attempts:
        return PageOutcome(status="failed", detail=detail)
    return PageOutcome(status="retry", detail=detail)


def _record_page_error(
    ctx: IngestContext,
    state: store.SourceState,
    page: store.PendingPage,
    exc: FetchError | ExtractionError,
) -> None:
    log.warning("source %s: page %s failed: %s: %s", state.name, page.link, exc.kind, exc)
    with ctx.db.write() as conn:
        store.record_error(
            conn,
            source_id=state.id,
            stage="extract" if isinstance(exc, ExtractionError) else "page",
            kind=exc.kind,
            url=page.link,
            message=str(exc),
            now=ctx.clock(),
        )


def _merge(feed: SourceReport, pages: SourceReport) -> SourceReport:
    return SourceReport(
        name=feed.name,
        status=feed.status,
        url=feed.url,
        entries_seen=feed.entries_seen,
        new_entries=feed.new_entries,
        new_documents=pages.new_documents,
        duplicates=feed.duplicates + pages.duplicates,
        skipped=pages.skipped,
        errors=feed.errors + pages.errors,
    )
