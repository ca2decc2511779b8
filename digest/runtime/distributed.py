"""The distributed mode's service layer: what each job does, on an `App`, with the step
functions `ingest` and `run` use; only the scheduling differs (`runtime.worker` runs these as
Procrastinate tasks; `runtime.scheduler` queues the due ones).

    poll_feed     host gate ─ pipeline.poll_feed_recording ─▶ entries + validators + page jobs
                                                             (one transaction)
    fetch_page    host gate ─ pages.prepare_one ─▶ known text: a duplicate, recorded at once
                                                ─▶ new text: staged + number job (one txn)
                                                ─▶ skipped / failed / retry: recorded
    number        numbering.number_staged (the counter row locked) ─▶ documents + claims jobs
    find_claims   corpus file ─ finder (worker process) ─ grouping (advisory lock) ─▶ claims
    make_digest   compiler.make_period_digest (once per period) ─▶ deliver job
    deliver       delivery.send_claimed (outbox rows SKIP LOCKED)

A job finding its host busy queues itself again for the slot the gate gave it and succeeds:
no attempt is spent. Each returns a one-line summary (Procrastinate logs it).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from digest.claims import store as claimstore
from digest.claims.finder import EXTRACTOR_VERSION, Claim
from digest.claims.grouping import ClaimIndex
from digest.compose import compiler
from digest.mail.delivery import send_claimed
from digest.runtime import engine
from digest.runtime.app import App
from digest.runtime.engine import Deferrer, Job
from ingest import documents, gate, numbering, pages, pipeline, store
from ingest.context import IngestContext
from ingest.errors import ExtractionError
from ingest.queue_schema import staged_documents
from ingest.reports import PageOutcome
from ingest.schema import documents as document_rows

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key for storing claims: their grouping sees every claim stored before.
GROUPING_LOCK = 0x636C61696D73  # "claims"


@dataclass(slots=True)
class GroupingIndex:
    """This worker's copy of the claim grouping index, brought up to date from the claims
    table under the grouping lock before each use (only the claims stored since), reloaded
    whole when claims were removed (a re-extraction)."""

    index: ClaimIndex = field(default_factory=ClaimIndex)
    last_id: int = 0
    size: int = 0

    def catch_up(self, conn: Connection) -> ClaimIndex:
        if claimstore.count_claims_through(conn, self.last_id) != self.size:
            self.index, self.last_id, self.size = ClaimIndex(), 0, 0
        for claim_id, quote, group in claimstore.claims_after(conn, self.last_id):
            self.index.restore(claim_id, quote, group)
            self.last_id, self.size = claim_id, self.size + 1
        return self.index

    def forget(self) -> None:
        """After a transaction that added to the index was rolled back."""
        self.index, self.last_id, self.size = ClaimIndex(), 0, 0


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueContext:
    """What the jobs of one worker process share."""

    app: App
    deferrer: Deferrer = field(default_factory=Deferrer)
    grouping: GroupingIndex = field(default_factory=GroupingIndex)

    def defer(self, job: Job) -> bool:
        """Queue a job in a transaction of its own."""
        with self.app.db.write() as conn:
            return self.deferrer.defer(conn, job)


# --- feeds and pages -----------------------------------------------------------------------------


def poll_feed(q: QueueContext, source_id: int) -> str:
    """Poll one feed (never two polls of one feed at once: the job's lock); its new entries,
    its validators and the jobs of its pending pages are committed together."""
    with q.app.db.read() as conn:
        state = store.load_source_by_id(conn, source_id)
    if state.disabled_reason:
        return f"source {state.name} disabled: {state.disabled_reason}"
    ctx = _gated(q, state.current_url)
    if isinstance(ctx, gate.Busy):
        q.defer(engine.poll_job(source_id, at=ctx.retry_at))
        return _busy(ctx)
    report = pipeline.poll_feed_recording(ctx, state, lambda conn: _queue_pages(q, conn, state.id))
    return f"source {state.name}: {report.status}, {report.new_entries} new entries"


def _queue_pages(q: QueueContext, conn: Connection, source_id: int) -> None:
    for page in store.pending_pages(conn, source_id):
        q.deferrer.defer(conn, engine.page_job(source_id, page.page_id))


def fetch_page(q: QueueContext, source_id: int, page_id: int) -> str:
    """Fetch and extract one page; a text already in the corpus is recorded as a duplicate
    here, a new one staged for the numbering stage (with its job) in one transaction."""
    with q.app.db.read() as conn:
        page = store.pending_page(conn, source_id, page_id)
        staged = _is_staged(conn, page_id)
        state = store.load_source_by_id(conn, source_id)
    if page is None or staged:
        return f"page {page_id}: done already" if page is None else f"page {page_id}: staged"
    ctx = _gated(q, page.link)
    if isinstance(ctx, gate.Busy):
        q.defer(engine.page_job(source_id, page_id, at=ctx.retry_at))
        return _busy(ctx)
    result = pages.prepare_one(ctx, state, page)
    if result is None or isinstance(result, PageOutcome):
        return f"page {page.link}: {result.status if result else 'stopped'}"
    now = q.app.clock()
    with q.app.db.write() as conn:
        duplicate = documents.add_duplicate(conn, result.document, source_id=source_id, now=now)
        if duplicate is not None:
            store.record_page(
                conn,
                page_id,
                status="duplicate",
                final_url=result.final_url,
                document_id=duplicate.of.id,
                now=now,
            )
            return f"page {page.link}: duplicate of {duplicate.of.file}"
        numbering.stage(conn, page_id=page_id, source_id=source_id, ready=result, now=now)
        q.deferrer.defer(conn, engine.number_job())
    return f"page {page.link}: staged for numbering"


def _is_staged(conn: Connection, page_id: int) -> bool:
    query = sa.select(staged_documents.c.id).where(staged_documents.c.page_id == page_id)
    return conn.execute(query).first() is not None


def _gated(q: QueueContext, url: str) -> IngestContext | gate.Busy:
    """The ingest context for one job whose first request goes to `url`'s host, once the
    gate let it in; or when to come back."""
    host = urlsplit(url).hostname or ""
    delay = q.app.settings.fetch.host_delay_s
    answer = gate.enter(q.app.db, host, delay)
    if isinstance(answer, gate.Busy):
        return answer
    pacer = gate.GatePacer(q.app.db, delay, entered=host)
    return dataclasses.replace(q.app.ingest_context(), fetcher=q.app.fetcher_with(pacer))


def _busy(busy: gate.Busy) -> str:
    return f"host {busy.host} busy: queued again for {busy.retry_at.isoformat()}"


# --- numbering and claims ------------------------------------------------------------------------


def number(q: QueueContext) -> str:
    """One transaction of the serial numbering stage; its new documents' claims jobs are
    queued in it, and another numbering job when more documents wait."""
    settings = q.app.settings
    batch = settings.queue.number_batch if settings.queue else 50
    with q.app.db.write() as conn:
        done = numbering.number_staged(conn, settings.corpus_dir, limit=batch, now=q.app.clock())
        for document in done.stored:
            q.deferrer.defer(conn, engine.claims_job(document.id))
        if done.more:
            q.deferrer.defer(conn, engine.number_job())
    for path in done.removed:
        log.warning("numbering removed %s, left by an interrupted numbering", path.name)
    return f"numbered {len(done.stored)} documents, {done.duplicates} duplicates"


def find_claims(q: QueueContext, document_id: int) -> str:
    """The claims of one document (once per extractor version): found in a worker process,
    grouped and stored under the grouping lock."""
    with q.app.db.read() as conn:
        if claimstore.has_claims(conn, document_id, EXTRACTOR_VERSION):
            return f"document {document_id}: claims found already"
        query = sa.select(document_rows.c.file).where(document_rows.c.id == document_id)
        file = conn.execute(query).scalar_one()
    found = _find(q, file)
    with q.app.db.write() as conn:
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(GROUPING_LOCK)))
        if claimstore.has_claims(conn, document_id, EXTRACTOR_VERSION):
            return f"document {document_id}: claims found meanwhile"
        index = q.grouping.catch_up(conn)
        try:
            claimstore.replace_claims(
                conn, document_id, found, version=EXTRACTOR_VERSION, index=index, now=q.app.clock()
            )
            q.grouping.catch_up(conn)
        except BaseException:
            q.grouping.forget()
            raise
    return f"document {file}: {len(found)} claims and anecdotes"


def _find(q: QueueContext, file: str) -> tuple[Claim, ...]:
    """The claims in one corpus file; a file that cannot be read or a finder that gives no
    answer is recorded as an error, and the document counts as read (no claims)."""
    try:
        text = (q.app.settings.corpus_dir / file).read_text(encoding="utf-8")
        return q.app.workers.find_claims(text)
    except (OSError, UnicodeDecodeError, ExtractionError) as exc:
        log.error("claims: %s: %s", file, exc)
        with q.app.db.write() as conn:
            store.record_error(
                conn,
                source_id=None,
                stage="claims",
                kind="claims",
                url=file,
                message=f"claim finding failed for {file}: {exc}",
                now=q.app.clock(),
            )
        return ()


# --- digests and mail ----------------------------------------------------------------------------


def make_digest(q: QueueContext, period: str) -> str:
    """The digest of one scheduled period, made at most once whoever asks; it carries the
    documents whose claims are all found (later ones wait for the next period)."""
    with q.app.db.read() as conn:
        up_to = claimstore.claims_done_through(conn, EXTRACTOR_VERSION)
    made = compiler.make_period_digest(q.app.compose_context(), period, up_to_seq=up_to)
    if made is None:
        return f"digest for {period}: made already"
    q.defer(engine.deliver_job())
    return f"digest for {period}: {made.key or 'nothing new'}"


def deliver(q: QueueContext) -> str:
    report = send_claimed(q.app.delivery_context())
    return f"{report.sent} sent, {report.postponed} postponed, {report.failed} failed"
