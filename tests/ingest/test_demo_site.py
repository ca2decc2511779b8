"""The demo site (examples/demo-site): every page extracts to exactly its seed's article blocks,
the feeds point at those pages, and build.py regenerates the checked-in files identically."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from ingest.corpus import blocks_of
from ingest.extract import ExtractedDocument, ExtractSettings, extract_document

REPO_ROOT = Path(__file__).resolve().parents[2]
SITE = REPO_ROOT / "examples" / "demo-site"
BASE = "http://127.0.0.1:8000"
ATOM = "{http://www.w3.org/2005/Atom}"


def expected() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SITE / "expected.json").read_text(encoding="utf-8"))
    return data


PAGES = [(seed, page) for seed, entry in expected().items() for page in entry["pages"]]


@pytest.mark.parametrize(("seed", "page"), PAGES, ids=[page for _, page in PAGES])
def test_page_extracts_to_the_seed_blocks(seed: str, page: str) -> None:
    entry = expected()[seed]
    html = (SITE / page).read_text(encoding="utf-8")
    result = extract_document(html, url=f"{BASE}/{page}", settings=ExtractSettings())
    assert isinstance(result, ExtractedDocument), result
    assert blocks_of(result.text) == entry["blocks"]
    assert result.title == entry["title"]
    assert result.published == datetime.date.fromisoformat(entry["published"])


def test_every_seed_has_a_page() -> None:
    assert [name[:3] for name in sorted(expected())] == ["000", "001", "002", "003", "004"]
    for entry in expected().values():
        assert (SITE / entry["pages"][0]).is_file()


def test_amp_copy_has_other_clutter_but_the_same_text() -> None:
    (entry,) = [e for e in expected().values() if len(e["pages"]) == 2]
    full, amp = ((SITE / page).read_text(encoding="utf-8") for page in entry["pages"])
    assert full != amp
    texts = [extract_document(html, url=BASE, settings=ExtractSettings()) for html in (full, amp)]
    assert texts[0] == texts[1]


def feed_links() -> tuple[list[str], list[str]]:
    rss = ET.parse(SITE / "feed.xml").getroot()
    atom = ET.parse(SITE / "atom.xml").getroot()
    rss_links = [link.text or "" for link in rss.iter("link")][1:]  # [0]: the channel's
    atom_links = [
        link.get("href", "")
        for entry in atom.iter(f"{ATOM}entry")
        for link in entry.iter(f"{ATOM}link")
    ]
    return rss_links, atom_links


def test_feeds_link_the_pages_with_a_placeholder_base_url() -> None:
    rss_links, atom_links = feed_links()
    pages = {page for _, page in PAGES}
    assert {link.removeprefix("__BASE_URL__/") for link in rss_links} == {
        entry["pages"][0] for entry in expected().values()
    }
    bare_atom = {link.removeprefix("__BASE_URL__/").split("?")[0] for link in atom_links}
    assert bare_atom <= pages
    assert any("/amp/" in link for link in atom_links)
    tracked = [link for link in atom_links if "utm_source=" in link]
    assert len(tracked) == 1
    assert tracked[0].split("?")[0] in rss_links


def test_build_regenerates_the_checked_in_files(tmp_path: Path) -> None:
    shared = Path(os.environ.get("CLAIMWATCH_SHARED", REPO_ROOT.parent / "shared"))
    if not (shared / "seeds").is_dir():
        pytest.skip(f"seeds not found at {shared / 'seeds'} (set CLAIMWATCH_SHARED)")
    command = [sys.executable, str(SITE / "build.py"), "--shared", str(shared)]
    subprocess.run([*command, "--out", str(tmp_path)], check=True, timeout=60)
    built = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    checked_in = sorted(
        p.relative_to(SITE).as_posix()
        for p in SITE.rglob("*")
        if p.is_file() and p.name != "build.py" and "__pycache__" not in p.parts
    )
    assert built == checked_in
    for name in built:
        assert (tmp_path / name).read_bytes() == (SITE / name).read_bytes(), name
