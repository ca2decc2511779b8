"""feedparser's own 2,248 test feeds (v6.0.14) through the service's feed path, `parse_feed`.

Guards the feed adapter (`ingest.feeds`): no input in feedparser's test suite makes it raise,
and it never loses a feed that feedparser itself reads (an entry with an http(s) link).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import feedparser
import pytest

from ingest.feeds import parse_feed, strip_doctype
from ingest.links import is_http_url

BASE = "http://127.0.0.1/feedparser-tests/feed.xml"
FOLDERS = ("compression", "encoding", "entities", "http", "illformed", "wellformed")
EXPECTED_FILES = 2248
# Files for which parse_feed yields at least one entry: measured 97 with feedparser 6.0.14
# (every fixture in which feedparser finds an entry with an http(s) link). A pinned floor:
# a change in how links are found that loses any of them fails here.
ENTRIES_FLOOR = 97
_CONTENT_TYPE = re.compile(rb"^\s*Header:\s*Content-type:\s*(.+?)\s*$", re.I | re.M)


@pytest.fixture
def fixtures_root(shared_dir: Path) -> Path:
    """../shared/fixtures/feedparser-tests ($CLAIMWATCH_SHARED); skipped when absent."""
    root = shared_dir / "fixtures" / "feedparser-tests"
    if not root.is_dir():
        pytest.skip(f"feedparser test feeds not found at {root} (set CLAIMWATCH_SHARED)")
    return root


def fixture_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def content_type_of(content: bytes) -> str:
    """The Content-type a fixture says its server sends, as the fetcher would pass it on."""
    match = _CONTENT_TYPE.search(content)
    return match.group(1).decode("latin-1") if match else ""


def feedparser_finds_http_entries(content: bytes, content_type: str) -> bool:
    """feedparser alone, on the same DOCTYPE-stripped bytes and the same base URL."""
    headers = {"content-location": BASE, "content-type": content_type}
    result = feedparser.parse(strip_doctype(content), response_headers=headers)
    for entry in result.get("entries", []):
        links = [entry.get("link")] + [lk.get("href") for lk in entry.get("links", [])]
        if any(isinstance(link, str) and is_http_url(link.strip()) for link in links):
            return True
    return False


@dataclass
class Tally:
    files: int = 0
    with_entries: int = 0
    failures: list[str] = field(default_factory=list)


def check_folder(root: Path, folder: str) -> Tally:
    tally = Tally()
    for path in fixture_files(root / folder):
        tally.files += 1
        content = path.read_bytes()
        content_type = content_type_of(content)
        name = path.relative_to(root).as_posix()
        try:
            parsed = parse_feed(content, url=BASE, content_type=content_type)
        except Exception as exc:  # noqa: BLE001 - collected: every escaping error is listed
            tally.failures.append(f"{name}: raised {type(exc).__name__}: {exc}")
            continue
        tally.with_entries += bool(parsed.entries)
        if not parsed.entries and feedparser_finds_http_entries(content, content_type):
            tally.failures.append(f"{name}: feedparser finds http(s) entries, parse_feed none")
    return tally


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_fixture_parses_and_keeps_the_entries_feedparser_finds(
    fixtures_root: Path, folder: str
) -> None:
    # Guards parse_feed's error containment (dates, odd links, encodings, DOCTYPEs) and its
    # link finding (link, links[].href, permalink guid): an exception from any fixture, or a
    # fixture where feedparser sees an http(s) entry and we see none, fails this folder.
    root = fixtures_root
    started = time.perf_counter()
    tally = check_folder(root, folder)
    elapsed = time.perf_counter() - started
    print(
        f"\n{folder}: {tally.files} files, {tally.with_entries} with entries, "
        f"{len(tally.failures)} failures, {elapsed:.1f} s"
    )
    assert tally.files > 0, f"no fixtures in {root / folder}"
    assert not tally.failures, "\n".join(tally.failures[:50])


def test_fixture_set_is_complete_and_entries_stay_above_the_floor(fixtures_root: Path) -> None:
    # Guards the pinned floor: the count of fixtures yielding entries never drops, and the
    # per-folder test above really covered every file (none left outside FOLDERS).
    root = fixtures_root
    all_files = [p for p in fixture_files(root) if p.parent != root]  # not README/LICENSE
    covered = sum(len(fixture_files(root / folder)) for folder in FOLDERS)
    assert covered == len(all_files) == EXPECTED_FILES
    with_entries = 0
    for path in all_files:
        content = path.read_bytes()
        parsed = parse_feed(content, url=BASE, content_type=content_type_of(content))
        with_entries += bool(parsed.entries)
    print(f"\n{len(all_files)} feedparser fixtures, {with_entries} yield entries")
    assert with_entries >= ENTRIES_FLOOR
