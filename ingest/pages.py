"""The page step of a pass: fetch each pending page of a source, extract its article in a
worker process and store it once in the corpus. Pages of a source are fetched and extracted
concurrently but stored in the order of their entries, so corpus numbers follow the feed."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from ingest import documents, store
from ingest.charset import decode_html, is_html_media_type, looks_like_html
from ingest.context import ExtractionFailed, IngestContext
from ingest.errors import (
    BlockedAddress,
    BodyTooLarge,
    ExtractionError,
    ExtractionTimeout,
    FetchError,
    HTTPStatusError,
    TooManyRedirects,
)
from ingest.extract import ExtractedDocument, ExtractionSkipped
from ingest.http import Fetched, Unwanted
from ingest.reports import Observer, PageOutcome, PageStatus, SourceReport

log = logging.getLogger(__name__)


@dataclass(slots=True)
class PagesTaken:
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
class PageWork:
    """What the threads of one pass share."""

    pool: Executor
    taken: PagesTaken
    known: dict[str, store.SourceState]  # sources as stored when the pass began
    with_pending: frozenset[int]  # sources with pages left to retry when the pass began


def fetch_pending_pages(
    ctx: IngestContext, state: store.SourceState, observer: Observer, pages: PageWork
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
    window = 2 * max(1, ctx.concurrency)
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
    if isinstance(extracted, ExtractionFailed):  # recorded like a page that gave no answer
        raise ExtractionError(extracted.reason)
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
        result = documents.store_document(
            conn, ctx.corpus_dir, extracted, source_id=state.id, published=published, now=now
        )
        document = result.of if isinstance(result, documents.Duplicate) else result
        status: PageStatus = "duplicate" if isinstance(result, documents.Duplicate) else "stored"
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


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadyPage:
    """A page fetched and extracted on its own, its document not yet numbered."""

    document: ExtractedDocument
    final_url: str
    published: datetime | None  # the entry's date, else the page's


def prepare_one(
    ctx: IngestContext, state: store.SourceState, page: store.PendingPage
) -> ReadyPage | PageOutcome | None:
    """Fetch and extract one page as a step on its own (the distributed mode's page job): the
    document, for the numbering stage to store; or the outcome, already recorded (skipped,
    failed, to retry); None when asked to stop before it began."""
    prepared = _prepare(ctx, state, page)
    if prepared is None:
        return None
    if isinstance(prepared, _Ended):
        return _finish(ctx, state, page, prepared)
    published = page.published or _as_datetime(prepared.document.published)
    return ReadyPage(document=prepared.document, final_url=prepared.final_url, published=published)
