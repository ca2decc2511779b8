"""The archive: digest pages written atomically, an index newest first, a valid Atom feed."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import jinja2
import pytest

from digest.compose.archive import archive_entry, render_atom, write_digest_page, write_index
from digest.compose.model import ArchiveEntry, ArchiveSite, Digest, RenderedDigest, digest_key
from digest.compose.render import make_environment

ATOM = "{http://www.w3.org/2005/Atom}"
SITE = ArchiveSite(base_url="https://example.org/claims/", title="Massage & back-pain claims")
FIRST = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)


@pytest.fixture
def env() -> jinja2.Environment:
    return make_environment(None)


def entry(week: int, claims: int = 3) -> ArchiveEntry:
    created = FIRST + timedelta(weeks=week)
    return ArchiveEntry(
        key=digest_key(created),
        created_at=created,
        subject=f"{claims} new massage claims — week {week} <b>",
        claim_count=claims,
        summary=f"{claims} claims from 2 articles in 1 source",
    )


def empty_digest(key: str) -> Digest:
    return Digest(
        key=key,
        created_at=FIRST,
        since=None,
        topics=("massage",),
        items=(),
        failures=(),
        article_count=0,
        source_count=0,
    )


RENDERED = RenderedDigest(subject="No new massage claims", html="<p>page</p>", text="page")


def test_digest_page_is_named_after_the_key(tmp_path: Path) -> None:
    path = write_digest_page(tmp_path, empty_digest("2026-11-09-0800"), RENDERED)
    assert path == tmp_path / "2026-11-09-0800.html"
    assert path.read_text(encoding="utf-8") == "<p>page</p>"
    assert [p.name for p in tmp_path.iterdir()] == ["2026-11-09-0800.html"]  # no temp file left


def test_rewriting_a_page_replaces_it(tmp_path: Path) -> None:
    write_digest_page(tmp_path, empty_digest("2026-11-09-0800"), RENDERED)
    again = RenderedDigest(subject="s", html="<p>second</p>", text="t")
    path = write_digest_page(tmp_path, empty_digest("2026-11-09-0800"), again)
    assert path.read_text(encoding="utf-8") == "<p>second</p>"


@pytest.mark.parametrize("key", ["../../etc/passwd", "2026-11-09", "2026-11-09-0800/x", ""])
def test_a_key_that_is_not_a_digest_key_never_names_a_file(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError, match="not a digest key"):
        write_digest_page(tmp_path / "html", empty_digest(key), RENDERED)
    assert not (tmp_path / "html").exists()


def test_archive_entry_of_a_digest() -> None:
    made = archive_entry(empty_digest("2026-11-09-0800"), RENDERED)
    assert made == ArchiveEntry(
        key="2026-11-09-0800",
        created_at=FIRST,
        subject="No new massage claims",
        claim_count=0,
        summary="0 claims from 0 articles in 0 sources",
    )


def test_index_lists_every_digest_newest_first(tmp_path: Path, env: jinja2.Environment) -> None:
    index_path, _ = write_index(tmp_path, [entry(1), entry(3, claims=1), entry(2)], env, SITE)
    html = index_path.read_text(encoding="utf-8")
    positions = [html.index(f'href="{entry(w).key}.html"') for w in (3, 2, 1)]
    assert positions == sorted(positions)
    assert "30 Nov 2026 08:00 UTC · 1 claim ·" in html
    assert "week 3 &lt;b&gt;" in html
    assert "<b>" not in html
    assert 'href="atom.xml"' in html


def test_atom_feed_parses_with_one_entry_per_digest(
    tmp_path: Path, env: jinja2.Environment
) -> None:
    _, feed_path = write_index(tmp_path, [entry(1), entry(3), entry(2)], env, SITE)
    feed = ET.fromstring(feed_path.read_bytes())
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id") == "https://example.org/claims/atom.xml"
    assert feed.findtext(f"{ATOM}title") == "Massage & back-pain claims"
    assert feed.findtext(f"{ATOM}updated") == "2026-11-30T08:00:00Z"
    assert feed.findtext(f"{ATOM}author/{ATOM}name") == "claimwatch"
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links == {
        "self": "https://example.org/claims/atom.xml",
        "alternate": "https://example.org/claims/index.html",
    }
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}id") for e in entries] == [
        "https://example.org/claims/2026-11-30-0800.html",
        "https://example.org/claims/2026-11-23-0800.html",
        "https://example.org/claims/2026-11-16-0800.html",
    ]
    first = entries[0]
    assert first.findtext(f"{ATOM}title") == "3 new massage claims — week 3 <b>"
    assert first.findtext(f"{ATOM}updated") == "2026-11-30T08:00:00Z"
    assert first.findtext(f"{ATOM}summary") == "3 claims from 2 articles in 1 source"
    assert first.find(f"{ATOM}link[@rel='alternate']") is not None


def test_empty_archive_has_a_valid_feed_and_index(tmp_path: Path, env: jinja2.Environment) -> None:
    index_path, feed_path = write_index(tmp_path, [], env, SITE)
    feed = ET.fromstring(feed_path.read_bytes())
    assert feed.findall(f"{ATOM}entry") == []
    assert feed.findtext(f"{ATOM}updated") == "1970-01-01T00:00:00Z"
    assert "No digests yet." in index_path.read_text(encoding="utf-8")


def test_feed_dates_are_utc(env: jinja2.Environment) -> None:
    berlin = timezone(timedelta(hours=1))
    local = ArchiveEntry(
        key="2026-11-23-0900",
        created_at=datetime(2026, 11, 23, 9, 0, tzinfo=berlin),
        subject="s",
        claim_count=1,
        summary="x",
    )
    feed = ET.fromstring(render_atom([local], env, SITE))
    assert feed.findtext(f"{ATOM}updated") == "2026-11-23T08:00:00Z"


@pytest.mark.parametrize("base_url", ["https://example.org/claims", "javascript:x/", "/claims/"])
def test_base_url_must_be_absolute_http_and_end_in_slash(
    env: jinja2.Environment, base_url: str
) -> None:
    with pytest.raises(ValueError, match="base_url"):
        render_atom([entry(1)], env, ArchiveSite(base_url=base_url))
