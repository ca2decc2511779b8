"""The service layer: every function the CLI and the daemon call, each on an `App` (they call
nothing else that touches storage). The daemon only schedules these.

    ingest        a pass over the sources (`ingest.pipeline`), then claims for what it added
    extract_claims
                  StoredDocument ─ corpus file ─ claims.find_claims (worker) ─▶ Claim*
                  Claim* ─ grouping.ClaimIndex ─ claims.store.replace_claims ─▶ rows
                  (one transaction per document, versioned by the extractor)
    digest        claims first, then compose.make_digest (select, render, record in the
                  outbox, archive) and mail.delivery.send_due (every due delivery, once)
    preview       the next digest rendered into a folder; nothing recorded
    claim_rows, status, verify, and what the daemon keeps (job state, last attempts)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Literal

from sqlalchemy.engine import Connection

from digest.claims import store as claimstore
from digest.claims.finder import EXTRACTOR_VERSION, Claim
from digest.claims.grouping import ClaimIndex
from digest.claims.store import ClaimRow as ClaimRow
from digest.compose import compiler, outbox
from digest.compose.compiler import DigestOutcome
from digest.mail.delivery import DeliveryReport, send_due
from digest.runtime import engine, jobs
from digest.runtime.app import App
from digest.runtime.status import QueueStatus, StatusSnapshot
from ingest import documents, numbering, store, verify
from ingest.documents import StoredDocument
from ingest.errors import ExtractionError
from ingest.pipeline import run_pass
from ingest.reports import IngestReport, Observer
from ingest.verify import Verification as Verification

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimsFailure:
    """Why one document's claims could not be found: its corpus file could not be read, or
    the worker gave no answer (out of time). Recorded; the document is marked done."""

    file: str
    kind: Literal["unreadable", "no_answer"]
    detail: str

    def __str__(self) -> str:
        if self.kind == "unreadable":
            return f"cannot read corpus file {self.file}: {self.detail}"
        return f"claim finding failed for {self.file}: {self.detail}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimsReport:
    documents: int
    claims: int
    anecdotes: int
    failures: tuple[ClaimsFailure, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DigestReport:
    made: DigestOutcome
    delivery: DeliveryReport


def ingest(app: App, *, only: str | None = None, observer: Observer | None = None) -> IngestReport:
    """One pass over the enabled sources (or the one named `only`). Each new document's claims
    are found in the worker call that extracted it and stored in the transaction that stores
    it; then claims for any document still without (older detector versions, earlier passes
    cut short), so a one-shot ingest leaves claims ready."""
    storer = ClaimStorer(version=EXTRACTOR_VERSION, clock=app.clock)
    context = app.ingest_context(on_stored=storer)
    report = run_pass(context, app.settings.enabled_sources(only), observer)
    extract_claims(app)
    return report


@dataclass(slots=True)
class ClaimStorer:
    """`IngestContext.on_stored` for the digest: stores the claims a worker attached to a new
    document, in the document's own transaction (so a document never exists without its
    claims, and a rolled-back batch leaves neither). The grouping index of every stored claim
    is loaded on the first new document, not before: a pass that finds nothing new pays
    nothing. Called under the process's writer lock, one document at a time."""

    version: str
    clock: Callable[[], datetime]
    index: ClaimIndex | None = None

    def __call__(self, conn: Connection, document: StoredDocument, attachment: object) -> None:
        if not isinstance(attachment, tuple):
            return  # not found with the document (left for extract_claims)
        claims = tuple(c for c in attachment if isinstance(c, Claim))
        if self.index is None:
            self.index = claimstore.load_index(conn, exclude=[document.id])
        claimstore.replace_claims(
            conn, document.id, claims, version=self.version, index=self.index, now=self.clock()
        )


def digest(app: App, *, send_email: bool = True) -> DigestReport:
    """Claims for anything not yet read, the next digest recorded and archived, and every
    due delivery (this digest's and earlier pending ones) sent."""
    extract_claims(app)
    made = compiler.make_digest(app.compose_context(), send_email=send_email)
    delivery = send_due(app.delivery_context()) if send_email else DeliveryReport()
    return DigestReport(made=made, delivery=delivery)


def preview(app: App, out_dir: Path) -> Path:
    """Claims for anything not yet read, then the next digest rendered into `out_dir`
    (HTML, text, subject); nothing recorded, nothing sent. Returns the HTML page."""
    extract_claims(app)
    return compiler.preview(app.compose_context(), out_dir)


def claim_rows(app: App, *, since: datetime | None = None) -> Iterator[ClaimRow]:
    """Every stored claim and anecdote with its document, in corpus order (read in one
    transaction, held while the caller iterates)."""
    with app.db.read() as conn:
        yield from claimstore.claim_rows(conn, since=since)


def status(app: App) -> StatusSnapshot:
    """Everything `status` shows, read in one transaction."""
    with app.db.read() as conn:
        return StatusSnapshot(
            sources=store.source_overviews(conn),
            documents=documents.count_documents(conn),
            claims=claimstore.count_claims(conn),
            last_digest=outbox.last_digest(conn),
            outbox=outbox.outbox_counts(conn),
            jobs=jobs.all_jobs(conn),
            queue=_queue_status(app, conn),
        )


def _queue_status(app: App, conn: Connection) -> QueueStatus | None:
    queue = app.settings.queue
    if queue is None:
        return None
    return QueueStatus(
        queues=tuple(engine.queue_counts(conn, queue.stalled_after_s)),
        staged=numbering.staged_count(conn),
    )


def verify_corpus(app: App, *, repair: bool = False) -> Verification:
    """Corpus files and document rows checked against each other; with `repair`, what an
    interrupted write left behind removed."""
    return verify.verify_corpus(app.db, app.settings.corpus_dir, repair=repair)


# --- what the daemon keeps in the database -----------------------------------------------------


def last_attempts(app: App) -> dict[str, datetime | None]:
    """When each stored source's feed was last polled, by source name."""
    with app.db.read() as conn:
        return store.last_attempts(conn)


def outbox_pending(app: App) -> int:
    with app.db.read() as conn:
        return outbox.outbox_counts(conn)["pending"]


def digest_history(app: App) -> tuple[datetime | None, jobs.JobRecord | None]:
    """When the last digest was made, and what the daemon last recorded of its digest job."""
    with app.db.read() as conn:
        last = outbox.last_digest(conn)
        return (last.created_at if last else None), jobs.find_job(conn, jobs.DIGEST_JOB)


def record_job(app: App, run: jobs.JobRun) -> None:
    with app.db.write() as conn:
        jobs.record_job(conn, run)


# --- claims ------------------------------------------------------------------------------------


def extract_claims(app: App, *, redo_all: bool = False) -> ClaimsReport:
    """Claims for documents without any from this extractor version (all with `redo_all`).

    A document whose file cannot be read, or whose claims take longer than the time limit, is
    recorded as an error and marked done (one bad file must not stall every later run). A
    bug (`WorkerCrash`) propagates with nothing recorded for its document, which stays to do;
    so does every document not finished when the service is asked to stop."""
    with app.db.read() as conn:
        todo = claimstore.documents_needing_claims(conn, EXTRACTOR_VERSION, redo_all=redo_all)
        if not todo:  # the index of every stored claim is only worth loading for new ones
            return ClaimsReport(documents=0, claims=0, anecdotes=0)
        index = claimstore.load_index(conn, exclude=[doc.id for doc in todo])
    totals = {"claim": 0, "anecdote": 0}
    failures: list[ClaimsFailure] = []
    done = 0
    # Claims are found in the worker processes, `app.workers.size` documents at a time; they
    # are stored (and grouped) here, one document per transaction, in corpus order.
    with ThreadPoolExecutor(app.workers.size, thread_name_prefix="claimwatch-claims") as threads:
        for doc, found in zip(todo, threads.map(partial(_find, app), todo), strict=True):
            if app.should_stop():  # a worker killed at shutdown is no verdict on the document
                break
            if isinstance(found, ClaimsFailure):
                failures.append(_record_failure(app, found))
                found = ()
            with app.db.write() as conn:
                claimstore.replace_claims(
                    conn, doc.id, found, version=EXTRACTOR_VERSION, index=index, now=app.clock()
                )
            done += 1
            for claim in found:
                totals[claim.kind] += 1
    log.info("claims: %d documents, %d claims, %d anecdotes", done, *totals.values())
    return ClaimsReport(
        documents=done,
        claims=totals["claim"],
        anecdotes=totals["anecdote"],
        failures=tuple(failures),
    )


def _find(app: App, doc: claimstore.DocumentRef) -> tuple[Claim, ...] | ClaimsFailure:
    """The document's claims, or why they could not be found (a value: recorded, not raised).
    Nothing is read once the service is asked to stop."""
    if app.should_stop():
        return ()
    path = app.settings.corpus_dir / doc.file
    try:
        return app.workers.find_claims(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return ClaimsFailure(file=doc.file, kind="unreadable", detail=str(exc))
    except ExtractionError as exc:
        return ClaimsFailure(file=doc.file, kind="no_answer", detail=str(exc))


def _record_failure(app: App, failure: ClaimsFailure) -> ClaimsFailure:
    log.error("claims: %s", failure)
    with app.db.write() as conn:
        store.record_error(
            conn,
            source_id=None,
            stage="claims",
            kind="claims",
            url=failure.file,
            message=str(failure),
            now=app.clock(),
        )
    return failure
