"""The service functions the CLI and the daemon call, each on an `App`: an ingest pass
followed by claim extraction for what it added, and claim extraction on its own. The daemon
only schedules these.

Data flow after `ingest.pipeline` (see there for the pass itself)::

    StoredDocument ─ corpus file ─ claims.find_claims ─▶ Claim*          (pure)
    Claim* ─ grouping.ClaimIndex ─ claimstore.replace_claims ─▶ rows      (one transaction per
                                                                          document, versioned)
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from digest.claims import store as claimstore
from digest.claims.finder import EXTRACTOR_VERSION, Claim
from digest.compose.compiler import CompileResult, make_digest
from digest.mail.delivery import DeliveryReport, send_due
from digest.runtime.app import App
from ingest import store
from ingest.errors import ExtractionError
from ingest.pipeline import run_pass
from ingest.reports import IngestReport, Observer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimsReport:
    documents: int
    claims: int
    anecdotes: int
    errors: tuple[str, ...] = ()


def ingest(app: App, *, only: str | None = None, observer: Observer | None = None) -> IngestReport:
    """One pass over the enabled sources (or the one named `only`), then claims for every
    document that has none, so a one-shot ingest leaves claims ready."""
    report = run_pass(app.ingest_context(), app.settings.enabled_sources(only), observer)
    extract_claims(app)
    return report


def digest(app: App, *, send_email: bool = True) -> tuple[CompileResult, DeliveryReport]:
    """Claims for anything not yet read, the next digest recorded and archived, and every
    due delivery (this digest's and earlier pending ones) sent."""
    extract_claims(app)
    result = make_digest(app, send_email=send_email)
    delivery = send_due(app) if send_email else DeliveryReport()
    return result, delivery


def extract_claims(app: App, *, redo_all: bool = False) -> ClaimsReport:
    """Claims for documents without any from this extractor version (all with `redo_all`)."""
    with app.db.read() as conn:
        todo = claimstore.documents_needing_claims(conn, EXTRACTOR_VERSION, redo_all=redo_all)
        if not todo:  # the index of every stored claim is only worth loading for new ones
            return ClaimsReport(documents=0, claims=0, anecdotes=0)
        index = claimstore.load_index(conn, exclude=[doc.id for doc in todo])
    totals = {"claim": 0, "anecdote": 0}
    errors: list[str] = []
    # Claims are found in the worker processes, `app.workers` documents at a time; they are
    # stored (and grouped) here, one document per transaction, in corpus order.
    with ThreadPoolExecutor(app.workers, thread_name_prefix="claimwatch-claims") as threads:
        for doc, found in zip(todo, threads.map(partial(_find, app), todo), strict=True):
            if isinstance(found, str):
                errors.append(_record_failure(app, doc, found))
                found = ()
            with app.db.write() as conn:
                claimstore.replace_claims(
                    conn, doc.id, found, version=EXTRACTOR_VERSION, index=index, now=app.clock()
                )
            for claim in found:
                totals[claim.kind] += 1
    log.info("claims: %d documents, %d claims, %d anecdotes", len(todo), *totals.values())
    return ClaimsReport(
        documents=len(todo),
        claims=totals["claim"],
        anecdotes=totals["anecdote"],
        errors=tuple(errors),
    )


def _find(app: App, doc: claimstore.DocumentRef) -> tuple[Claim, ...] | str:
    """The document's claims, or why they could not be found (recorded, not raised)."""
    path = app.settings.corpus_dir / doc.file
    try:
        return app.find_claims(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot read corpus file {doc.file}: {exc}"
    except ExtractionError as exc:
        return f"claim finding failed for {doc.file}: {exc}"


def _record_failure(app: App, doc: claimstore.DocumentRef, message: str) -> str:
    """Recorded as an error; the document is marked done (with no claims) so that one bad
    file does not stall every later run."""
    log.error("claims: %s", message)
    with app.db.write() as conn:
        store.record_error(
            conn,
            source_id=None,
            stage="claims",
            kind="claims",
            url=doc.file,
            message=message,
            now=app.clock(),
        )
    return message
