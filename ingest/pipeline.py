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
    ExtractedDocument ─ documents.store_document ─▶ StoredDocument | Duplicate
                          (in entry order, whatever order the pages finished in, so `seq`
                           follows the feed; file written atomically before its row)

A failing source or page never stops the others: feed errors count against the source, page
errors against the page (retried on later passes up to `max_page_attempts`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from sqlalchemy.engine import Connection

from ingest import documents, store
from ingest.config import SourceConfig
from ingest.context import IngestContext
from ingest.errors import ExtractionError, FeedError, FetchError, HTTPStatusError
from ingest.feeds import ParsedFeed
from ingest.http import Fetched, NotModified, Validators
from ingest.pages import PagesTaken, PageWork, fetch_pending_pages
from ingest.reports import IngestReport, Observer, SilentObserver, SourceReport

log = logging.getLogger(__name__)


def run_pass(
    ctx: IngestContext, configs: Sequence[SourceConfig], observer: Observer | None = None
) -> IngestReport:
    """One pass over the given (enabled) sources. Feeds are polled `ctx.concurrency` at a time
    and their pages fetched, extracted and stored by a shared set of as many threads: the
    network is waited on concurrently (still paced per host), extraction runs in the worker
    processes, and the database has one writer at a time; each source stores its pages in
    the order of its entries. Only the pages in hand hold their
    HTML, so memory stays flat however many entries a pass finds."""
    observer = observer or SilentObserver()
    started = ctx.clock()
    with ctx.db.write() as conn:
        documents.remove_orphan_files(conn, ctx.corpus_dir)
    threads = max(1, ctx.concurrency)
    taken = PagesTaken()
    with ctx.db.read() as conn:  # one read for every source, not two per source
        known = {state.name: state for state in store.all_sources(conn)}
        with_pending = store.sources_with_pending_pages(conn)
    with (
        ThreadPoolExecutor(threads, thread_name_prefix="claimwatch-page") as pool,
        ThreadPoolExecutor(min(threads, max(1, len(configs))), "claimwatch-feed") as feeds,
    ):
        pages = PageWork(pool=pool, taken=taken, known=known, with_pending=with_pending)
        reports = list(feeds.map(partial(_run_source, ctx, observer, pages), configs))
    done = tuple(report for report in reports if report is not None)
    return IngestReport(started_at=started, finished_at=ctx.clock(), sources=done)


def _run_source(
    ctx: IngestContext, observer: Observer, pages: PageWork, config: SourceConfig
) -> SourceReport | None:
    if ctx.should_stop():
        log.info("ingest pass stopped before source %s", config.name)
        return None
    report = ingest_source(ctx, config, observer, pages)
    observer.source_done(report)
    return report


def ingest_source(
    ctx: IngestContext, config: SourceConfig, observer: Observer, pages: PageWork
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
    except (FetchError, FeedError) as exc:
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


def poll_feed_recording(
    ctx: IngestContext, state: store.SourceState, with_entries: Callable[[Connection], None]
) -> SourceReport:
    """`poll_feed` as one step on its own (the distributed mode's feed job): the new entries,
    the validators and whatever `with_entries` records (the page jobs it queues) are committed
    in one transaction, also after a 304 (pages left to retry). A failure is recorded as in
    `poll_feed`, and nothing else is."""
    try:
        result = ctx.fetcher.fetch(state.current_url, state.validators)
        fetched = None if isinstance(result, NotModified) else _fetched(result)
        parsed = _parse(ctx, fetched) if fetched else None
    except (FetchError, FeedError) as exc:
        return _feed_failed(ctx, state, exc)
    validators = fetched.validators if fetched else _fetched_or_304(result).validators
    moved = fetched.permanent_url if fetched else None
    with ctx.db.write() as conn:
        new, duplicates = (
            store.add_entries(conn, state.id, parsed.entries, ctx.clock()) if parsed else (0, 0)
        )
        store.record_feed_success(
            conn, state.id, validators=validators, new_url=moved, now=ctx.clock()
        )
        with_entries(conn)
    if moved:
        log.warning("source %s: feed moved permanently to %s", state.name, moved)
    return SourceReport(
        name=state.name,
        status="ok" if parsed else "not_modified",
        url=moved or state.current_url,
        entries_seen=len(parsed.entries) if parsed else 0,
        new_entries=new,
        duplicates=duplicates,
    )


def _fetched(result: object) -> Fetched:
    assert isinstance(result, Fetched)  # feeds are fetched without a media-type filter
    return result


def _fetched_or_304(result: object) -> Fetched | NotModified:
    assert isinstance(result, Fetched | NotModified)
    return result


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
    with ctx.db.write() as conn:
        return store.add_entries(conn, state.id, parsed.entries, ctx.clock())


def _feed_succeeded(
    ctx: IngestContext, state: store.SourceState, validators: Validators, new_url: str | None
) -> None:
    with ctx.db.write() as conn:
        store.record_feed_success(
            conn, state.id, validators=validators, new_url=new_url, now=ctx.clock()
        )


def _feed_failed(
    ctx: IngestContext, state: store.SourceState, exc: FetchError | FeedError
) -> SourceReport:
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
