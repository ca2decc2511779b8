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

from sqlalchemy.engine import Connection

from ingest import corpus, documents, store
from ingest.charset import is_html_media_type
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
    """A page fetched and extracted, its text already written (and fsynced) under a temporary
    name, waiting for its turn to be numbered and stored."""

    document: ExtractedDocument
    final_url: str
    staged: corpus.Staged


@dataclass(frozen=True, slots=True)
class _Ended:
    """A page that will not be stored this pass (skipped, failed, or to retry)."""

    outcome: PageOutcome
    final_url: str | None


# Pages stored in one transaction: the finished pages next in entry order, as many as are
# ready (never waiting for more), at most this many. One commit (and, on SQLite, one writer
# lock) for several pages instead of one each.
STORE_BATCH = 16


def _pages_in_entry_order(
    ctx: IngestContext, state: store.SourceState, pool: Executor, todo: Sequence[store.PendingPage]
) -> Iterator[tuple[store.PendingPage, PageOutcome]]:
    """Pages are fetched and extracted concurrently on `pool`, whatever order they finish in,
    but stored here in the order of their entries, so the corpus numbers (`seq`) follow the
    feed: the next page in order is waited for, and the pages after it that are already done
    are stored with it, in one transaction. At most two pages per worker are in hand ahead of
    the next one to store: memory stays bounded however long the feed is. Once asked to stop,
    pages not yet started are left pending; those in hand are finished."""
    window = 2 * max(1, ctx.concurrency)
    waiting = iter(todo)
    in_hand: deque[tuple[store.PendingPage, Future[_Ready | _Ended | None]]] = deque()

    def top_up() -> None:
        while len(in_hand) < window and (page := next(waiting, None)) is not None:
            in_hand.append((page, pool.submit(_prepare, ctx, state, page)))

    top_up()
    try:
        while in_hand:
            batch = _take_batch(in_hand)
            top_up()
            ready = [(page, prepared) for page, prepared in batch if prepared is not None]
            if ready:
                yield from zip(
                    (page for page, _ in ready), _finish_batch(ctx, state, ready), strict=True
                )
    finally:  # the pass ends early (an error, a bug): no staged file outlives its page
        for _, future in in_hand:
            future.add_done_callback(_discard_if_staged)


def _discard_if_staged(future: Future[_Ready | _Ended | None]) -> None:
    if not future.cancelled() and future.exception() is None:
        prepared = future.result()
        if isinstance(prepared, _Ready):
            corpus.discard(prepared.staged)


def _take_batch(
    in_hand: deque[tuple[store.PendingPage, Future[_Ready | _Ended | None]]],
) -> list[tuple[store.PendingPage, _Ready | _Ended | None]]:
    """The next page in entry order (waited for) and those after it already done, at most
    STORE_BATCH; if one of them raised, the staged files of the others are discarded."""
    batch = [_take(in_hand)]
    try:
        while in_hand and len(batch) < STORE_BATCH and in_hand[0][1].done():
            batch.append(_take(in_hand))
    except BaseException:
        for _, prepared in batch:
            if isinstance(prepared, _Ready):
                corpus.discard(prepared.staged)
        raise
    return batch


def _take(
    in_hand: deque[tuple[store.PendingPage, Future[_Ready | _Ended | None]]],
) -> tuple[store.PendingPage, _Ready | _Ended | None]:
    page, future = in_hand.popleft()
    return page, future.result()


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
    extracted = ctx.extract(result.content, result.charset, page.canonical_url)
    if isinstance(extracted, ExtractionFailed):  # recorded like a page that gave no answer
        raise ExtractionError(extracted.reason)
    if isinstance(extracted, ExtractionSkipped):
        return _Ended(PageOutcome(status="skipped", detail=extracted.reason), result.final_url)
    return _Ready(extracted, result.final_url, corpus.stage(ctx.corpus_dir, extracted.text))


def _finish_batch(
    ctx: IngestContext,
    state: store.SourceState,
    batch: Sequence[tuple[store.PendingPage, _Ready | _Ended]],
) -> list[PageOutcome]:
    """Record prepared pages in one transaction: each stored (or found a duplicate), or its
    reason for not. Corpus files were written and fsynced when the page was prepared; here
    they get their numbered names, and the folder is synced once, before the rows that name
    them commit. If the transaction does not commit, every file it named is removed."""
    written: list[str] = []
    outcomes: list[PageOutcome] = []
    now = ctx.clock()
    try:
        with ctx.db.write() as conn:
            numbers = documents.Numbering.start(conn)
            for page, prepared in batch:
                if isinstance(prepared, _Ready):
                    outcome = _store(ctx, conn, numbers, state, page, prepared, now)
                    if outcome.status == "stored":
                        written.append(outcome.detail)
                else:
                    outcome = prepared.outcome
                    store.record_page(
                        conn,
                        page.page_id,
                        status="pending" if outcome.status == "retry" else outcome.status,
                        reason=outcome.detail,
                        final_url=prepared.final_url,
                        now=now,
                    )
                outcomes.append(outcome)
            if written:
                corpus.sync_folder(ctx.corpus_dir)
    except BaseException:
        for name in written:  # no committed row names them (their rows rolled back)
            (ctx.corpus_dir / name).unlink(missing_ok=True)
        for _, prepared in batch:
            if isinstance(prepared, _Ready):
                corpus.discard(prepared.staged)  # those not yet named (a no-op for the rest)
        raise
    for (page, _), outcome in zip(batch, outcomes, strict=True):
        log.info("source %s: %s %s %s", state.name, outcome.status, page.link, outcome.detail)
    return outcomes


def _store(
    ctx: IngestContext,
    conn: Connection,
    numbers: documents.Numbering,
    state: store.SourceState,
    page: store.PendingPage,
    prepared: _Ready,
    now: datetime,
) -> PageOutcome:
    extracted = prepared.document
    published = page.published or _as_datetime(extracted.published)
    result = documents.store_document(
        conn,
        ctx.corpus_dir,
        extracted,
        source_id=state.id,
        published=published,
        now=now,
        numbers=numbers,
        staged=prepared.staged,
    )
    document = result.of if isinstance(result, documents.Duplicate) else result
    status: PageStatus = "duplicate" if isinstance(result, documents.Duplicate) else "stored"
    store.record_page(
        conn,
        page.page_id,
        status=status,
        final_url=prepared.final_url,
        document_id=document.id,
        now=now,
    )
    if status == "stored" and ctx.on_stored is not None:
        ctx.on_stored(conn, document, extracted.attachment)
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
        return _finish_batch(ctx, state, [(page, prepared)])[0]
    corpus.discard(prepared.staged)  # the numbering stage writes the file itself
    published = page.published or _as_datetime(prepared.document.published)
    return ReadyPage(document=prepared.document, final_url=prepared.final_url, published=published)
