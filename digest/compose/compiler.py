"""Compiling a digest: select the claims that entered since the previous digest, render them,
record the digest with its claims and pending deliveries in one transaction, write its
archive page and the index. Then `digest.delivery` sends what is due.

Data flow::

    claims since the watermark ─ selection.digest_items ─▶ DigestItem*     (collapsed by group)
    DigestItem* + failures ─ selection.build_digest ─▶ Digest
    Digest ─ render.render_digest ─▶ RenderedDigest ─ outbox.record_digest  (one transaction)
                                                    ─ archive page, index, Atom feed
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from pathlib import Path

import jinja2
from sqlalchemy.engine import Connection

from digest.claims import store as claimstore
from digest.compose import archive, outbox, selection
from digest.compose.model import ArchiveSite, Digest, RenderedDigest, digest_key
from digest.compose.render import headline, make_environment, render_digest
from digest.mail.smtp import make_message_id
from digest.runtime.app import App
from ingest import documents, store
from ingest.corpus import write_atomically

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Compiled:
    digest: Digest
    rendered: RenderedDigest
    carried: claimstore.ClaimWindow
    claim_count: int  # claims carried (shown or not)
    watermark_seq: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CompileResult:
    key: str | None  # None: nothing new, no digest made
    claims: int
    page: Path | None


def environment(app: App) -> jinja2.Environment:
    templates = app.settings.digest.templates_dir
    return make_environment(app.settings.path(templates) if templates else None)


def archive_site(app: App) -> ArchiveSite:
    url = app.settings.digest.site_url or app.settings.html_dir.resolve().as_uri()
    return ArchiveSite(base_url=url if url.endswith("/") else url + "/")


def compile_digest(conn: Connection, app: App, env: jinja2.Environment) -> Compiled:
    """What the next digest would carry, rendered; reads only."""
    now = app.clock()
    previous = outbox.last_digest(conn)
    window = selection.window_for(
        previous_watermark=previous.watermark_seq if previous else None,
        previous_at=previous.created_at if previous else None,
        first_run=app.settings.digest.first_run,
        now=now,
        max_seq=documents.next_seq(conn) - 1,
    )
    carried = claimstore.ClaimWindow(
        since=window.since, after_seq=window.after_seq, up_to_seq=window.watermark_seq
    )
    refs = claimstore.claim_refs(conn, carried)
    groups = claimstore.group_sizes(conn, carried)
    choice = selection.choose_claims(refs, groups, app.settings.digest.max_claims)
    items = selection.digest_items(claimstore.claim_rows_by_id(conn, choice.shown), groups)
    failures = selection.source_failures(store.errors_since(conn, window.failures_since))
    digest = selection.build_digest(
        key=_free_key(conn, now),
        created_at=now,
        since=previous.created_at if previous else window.since,
        topics=tuple(t.label.replace(" ", "-") for t in app.settings.topic_list),
        items=items,
        failures=failures,
        omitted=choice.omitted,
    )
    return Compiled(
        digest=digest,
        rendered=render_digest(digest, env),
        carried=carried,
        claim_count=len(choice.carried),
        watermark_seq=window.watermark_seq,
    )


def _free_key(conn: Connection, now: datetime) -> str:
    """The minute's key, or the next free minute when two digests share one."""
    moment = now
    while outbox.key_taken(conn, digest_key(moment)):
        moment += timedelta(minutes=1)
    return digest_key(moment)


def record(conn: Connection, app: App, compiled: Compiled, *, send_email: bool) -> None:
    email = app.settings.digest.email
    domain = parseaddr(email.from_)[1].rpartition("@")[2] or "localhost"
    recipients = email.to if send_email else ()
    outbox.record_digest(
        conn,
        outbox.NewDigest(
            key=compiled.digest.key,
            created_at=compiled.digest.created_at,
            since=compiled.digest.since,
            watermark_seq=compiled.watermark_seq,
            carried=compiled.carried,
            claim_count=compiled.claim_count,
            article_count=compiled.digest.article_count,
            source_count=compiled.digest.source_count,
            rendered=compiled.rendered,
            summary=headline(compiled.digest),
            recipients=tuple(
                (to, make_message_id(compiled.digest.key, to, domain)) for to in recipients
            ),
        ),
    )


def make_digest(app: App, *, send_email: bool = True) -> CompileResult:
    """Compile and record the next digest (unless it is empty and empty ones are not sent),
    then bring the archive up to date."""
    env = environment(app)
    with app.db.write() as conn:
        compiled = compile_digest(conn, app, env)
        empty = compiled.claim_count == 0
        if empty and not app.settings.digest.send_empty:
            log.info("digest: no new claims; nothing recorded")
            made = None
        else:
            record(conn, app, compiled, send_email=send_email)
            made = compiled
    write_archive(app, env)
    if made is None:
        return CompileResult(key=None, claims=0, page=None)
    page = app.settings.html_dir / archive.page_name(made.digest.key)
    claims = len(made.digest.items) + made.digest.omitted
    log.info("digest %s: %d claims, page %s", made.digest.key, claims, page)
    return CompileResult(key=made.digest.key, claims=claims, page=page)


def write_archive(app: App, env: jinja2.Environment) -> None:
    """Every digest's page (restoring any a crash left unwritten), the index and the feed."""
    html_dir = app.settings.html_dir
    with app.db.read() as conn:
        pages = outbox.all_pages(conn)
        entries = outbox.archive_entries(conn)
    for key, html in pages:
        path = html_dir / archive.page_name(key)
        if not path.exists():
            write_atomically(path, html)
    archive.write_index(html_dir, entries, env, archive_site(app))


def dry_run(app: App, out_dir: Path) -> Path:
    """Render the next digest into `out_dir` (HTML, text, subject) and record nothing."""
    env = environment(app)
    with app.db.read() as conn:
        compiled = compile_digest(conn, app, env)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = compiled.digest.key
    write_atomically(out_dir / f"{stem}.html", compiled.rendered.html)
    write_atomically(out_dir / f"{stem}.txt", compiled.rendered.text)
    write_atomically(out_dir / f"{stem}.subject.txt", compiled.rendered.subject + "\n")
    return out_dir / f"{stem}.html"
