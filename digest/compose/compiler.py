"""Making a digest: the claims that entered since the previous digest selected and rendered,
recorded with the claims it carries and its pending deliveries in one transaction (the
outbox), and the archive (every page, the index, the Atom feed) brought up to date. Then
`digest.mail.delivery` sends what is due. Given a `ComposeContext`, never the App.

Data flow::

    claims since the watermark ─ selection.digest_items ─▶ DigestItem*   (collapsed by group)
    DigestItem* + failures ─ selection.assemble ─▶ Digest
    Digest ─ render.render ─▶ RenderedDigest ─ outbox.record   (one transaction: the digest, its
                                             │                  claims, one delivery a recipient)
                                             └ archive: page, index, Atom feed
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import jinja2
from sqlalchemy.engine import Connection

from digest.claims import store as claimstore
from digest.compose import archive, outbox, selection
from digest.compose.model import ArchiveSite, Digest, RenderedDigest, digest_key
from digest.compose.render import headline, render
from ingest import documents, store
from ingest.corpus import write_atomically
from ingest.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class DigestRules:
    """What a digest carries, from the `digest` settings."""

    first_run: str  # all | none | a duration back from now
    send_empty: bool
    max_claims: int  # shown; the rest are counted
    topics: tuple[str, ...]  # display labels, e.g. ("massage", "back-pain")


@dataclass(frozen=True, slots=True, kw_only=True)
class ComposeContext:
    """What making a digest is given; built by the composition root."""

    db: Database
    clock: Callable[[], datetime]
    rules: DigestRules
    templates: jinja2.Environment
    site: ArchiveSite
    html_dir: Path
    recipients: tuple[str, ...]
    message_id: Callable[[str, str], str]  # (digest key, recipient) -> its Message-ID


@dataclass(frozen=True, slots=True, kw_only=True)
class Draft:
    """The next digest as it would be made now: selected and rendered; nothing recorded."""

    digest: Digest
    rendered: RenderedDigest
    window: claimstore.ClaimWindow
    claim_count: int  # claims carried (shown or not)


@dataclass(frozen=True, slots=True, kw_only=True)
class DigestOutcome:
    key: str | None  # None: nothing new, no digest made
    claims: int
    page: Path | None


def next_draft(conn: Connection, ctx: ComposeContext, *, up_to_seq: int | None = None) -> Draft:
    """What the next digest would carry (documents up to `up_to_seq`, default all), rendered;
    reads only."""
    now = ctx.clock()
    previous = outbox.last_digest(conn)
    window = selection.window_for(
        previous_watermark=previous.watermark_seq if previous else None,
        first_run=ctx.rules.first_run,
        now=now,
        max_seq=documents.next_seq(conn) - 1 if up_to_seq is None else up_to_seq,
    )
    since = previous.created_at if previous else window.since  # and failures since then
    groups = claimstore.group_sizes(conn, window)
    choice = selection.choose_claims(
        claimstore.claim_refs(conn, window), groups, ctx.rules.max_claims
    )
    digest = selection.assemble(
        key=_free_key(conn, now),
        created_at=now,
        since=since,
        topics=ctx.rules.topics,
        items=selection.digest_items(claimstore.claim_rows_by_id(conn, choice.shown), groups),
        failures=selection.source_failures(store.errors_since(conn, since)),
        omitted=choice.omitted,
    )
    rendered = render(digest, ctx.templates)
    return Draft(digest=digest, rendered=rendered, window=window, claim_count=len(choice.carried))


def _free_key(conn: Connection, now: datetime) -> str:
    """The minute's key, or the next free minute when two digests share one."""
    moment = now
    while outbox.key_taken(conn, digest_key(moment)):
        moment += timedelta(minutes=1)
    return digest_key(moment)


def make_digest(ctx: ComposeContext, *, send_email: bool = True) -> DigestOutcome:
    """Make and record the next digest (unless it is empty and empty ones are not sent), then
    bring the archive up to date."""
    with ctx.db.write() as conn:
        draft = next_draft(conn, ctx)
        made = draft.claim_count > 0 or ctx.rules.send_empty
        if made:
            outbox.record(conn, _new_digest(ctx, draft, send_email=send_email))
    publish_archive(ctx)
    if not made:
        log.info("digest: no new claims; nothing recorded")
        return DigestOutcome(key=None, claims=0, page=None)
    page = ctx.html_dir / archive.page_name(draft.digest.key)
    claims = len(draft.digest.items) + draft.digest.omitted
    log.info("digest %s: %d claims, page %s", draft.digest.key, claims, page)
    return DigestOutcome(key=draft.digest.key, claims=claims, page=page)


def make_period_digest(ctx: ComposeContext, period: str, *, up_to_seq: int) -> DigestOutcome | None:
    """`make_digest` for one scheduled period (the distributed mode's digest job): made at most
    once per period, whoever asks (the period's row is unique: a second transaction waits for
    the first and then finds it); None when the period was already decided. Carries documents
    up to `up_to_seq` (those whose claims are all found), then brings the archive up to date."""
    with ctx.db.write() as conn:
        if not outbox.claim_period(conn, period):
            return None
        draft = next_draft(conn, ctx, up_to_seq=up_to_seq)
        made = draft.claim_count > 0 or ctx.rules.send_empty
        digest_id = outbox.record(conn, _new_digest(ctx, draft, send_email=True)) if made else None
        outbox.settle_period(conn, period, digest_id)
    publish_archive(ctx)
    if digest_id is None:
        log.info("digest for %s: no new claims; nothing recorded", period)
        return DigestOutcome(key=None, claims=0, page=None)
    claims = len(draft.digest.items) + draft.digest.omitted
    log.info("digest %s for %s: %d claims", draft.digest.key, period, claims)
    page = ctx.html_dir / archive.page_name(draft.digest.key)
    return DigestOutcome(key=draft.digest.key, claims=claims, page=page)


def _new_digest(ctx: ComposeContext, draft: Draft, *, send_email: bool) -> outbox.NewDigest:
    digest = draft.digest
    recipients = ctx.recipients if send_email else ()
    return outbox.NewDigest(
        key=digest.key,
        created_at=digest.created_at,
        since=digest.since,
        carried=draft.window,
        claim_count=draft.claim_count,
        article_count=digest.article_count,
        source_count=digest.source_count,
        rendered=draft.rendered,
        summary=headline(digest),
        recipients=tuple((to, ctx.message_id(digest.key, to)) for to in recipients),
    )


def publish_archive(ctx: ComposeContext) -> None:
    """Every digest's page (restoring any a crash left unwritten), the index and the feed."""
    with ctx.db.read() as conn:
        pages = outbox.all_pages(conn)
        entries = outbox.archive_entries(conn)
    for key, html in pages:
        path = ctx.html_dir / archive.page_name(key)
        if not path.exists():
            write_atomically(path, html)
    archive.write_index(ctx.html_dir, entries, ctx.templates, ctx.site)


def preview(ctx: ComposeContext, out_dir: Path) -> Path:
    """Render the next digest into `out_dir` (HTML, text, subject) and record nothing."""
    with ctx.db.read() as conn:
        draft = next_draft(conn, ctx)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = draft.digest.key
    write_atomically(out_dir / f"{stem}.html", draft.rendered.html)
    write_atomically(out_dir / f"{stem}.txt", draft.rendered.text)
    write_atomically(out_dir / f"{stem}.subject.txt", draft.rendered.subject + "\n")
    return out_dir / f"{stem}.html"
