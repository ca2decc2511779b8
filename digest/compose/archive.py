"""The HTML archive: one page per digest, an index of every digest and an Atom feed.

The `render_*` functions are pure; the `write_*` functions only write what they render,
atomically (temporary file + rename), so a reader never sees half a page. Does not decide
which digests exist (the caller passes them) nor render a digest (`render`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import jinja2

from digest.compose.model import ArchiveEntry, ArchiveSite, Digest, RenderedDigest, is_digest_key
from digest.compose.render import format_moment, headline, is_http_url
from ingest.corpus import write_atomically

INDEX_NAME: Final = "index.html"
FEED_NAME: Final = "atom.xml"
# Atom requires <updated> on the feed; an archive with no digest yet has never been updated.
EMPTY_FEED_UPDATED: Final = datetime(1970, 1, 1, tzinfo=UTC)


def page_name(key: str) -> str:
    """`2026-11-23-0800.html`; the key is checked so that it can never name another path."""
    if not is_digest_key(key):
        raise ValueError(f"not a digest key: {key!r}")
    return f"{key}.html"


def archive_entry(digest: Digest, rendered: RenderedDigest) -> ArchiveEntry:
    """The archive's record of one digest."""
    return ArchiveEntry(
        key=digest.key,
        created_at=digest.created_at,
        subject=rendered.subject,
        claim_count=len(digest.items),
        summary=headline(digest),
    )


def write_digest_page(html_dir: Path, digest: Digest, rendered: RenderedDigest) -> Path:
    """Write the digest's HTML as `html_dir/<key>.html`, atomically; return its path."""
    path = html_dir / page_name(digest.key)
    write_atomically(path, rendered.html)
    return path


def newest_first(entries: Iterable[ArchiveEntry]) -> list[ArchiveEntry]:
    """Entries sorted by creation time, newest first (the key breaks ties)."""
    return sorted(entries, key=lambda e: (e.created_at, e.key), reverse=True)


def render_index(
    entries: Iterable[ArchiveEntry], env: jinja2.Environment, site: ArchiveSite
) -> str:
    """`index.html`: every digest, newest first, with its date, subject and claim count."""
    ordered = newest_first(entries)
    rows = [(e, page_name(e.key), format_moment(e.created_at)) for e in ordered]
    return env.get_template("index.html.j2").render(site=site, entries=ordered, rows=rows)


def render_atom(entries: Iterable[ArchiveEntry], env: jinja2.Environment, site: ArchiveSite) -> str:
    """`atom.xml`: an Atom 1.0 feed with one entry per digest, newest first."""
    # A file: URL stands in when no public URL is configured: Atom needs absolute IRIs.
    valid = is_http_url(site.base_url) or site.base_url.startswith("file:///")
    if not valid or not site.base_url.endswith("/"):
        raise ValueError(
            f"archive base_url must be an http(s) or file URL ending in '/': {site.base_url!r}"
        )
    ordered = newest_first(entries)
    rows = [(e, site.base_url + page_name(e.key), rfc3339(e.created_at)) for e in ordered]
    updated = ordered[0].created_at if ordered else EMPTY_FEED_UPDATED
    return env.get_template("atom.xml.j2").render(
        site=site,
        rows=rows,
        updated=rfc3339(updated),
        feed_url=site.base_url + FEED_NAME,
        index_url=site.base_url + INDEX_NAME,
    )


def rfc3339(moment: datetime) -> str:
    """`2026-11-23T08:00:00Z` (UTC); Atom dates need a zone, so naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime in the archive: {moment!r}")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_index(
    html_dir: Path, entries: Iterable[ArchiveEntry], env: jinja2.Environment, site: ArchiveSite
) -> tuple[Path, Path]:
    """Write `index.html` and `atom.xml` in `html_dir`, atomically; return their paths."""
    listed = list(entries)
    index_path, feed_path = html_dir / INDEX_NAME, html_dir / FEED_NAME
    index_text, feed_text = render_index(listed, env, site), render_atom(listed, env, site)
    write_atomically(index_path, index_text)
    write_atomically(feed_path, feed_text)
    return index_path, feed_path
