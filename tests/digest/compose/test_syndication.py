"""A syndicated copy of a seed article (other clutter, one sentence reworded) on another site,
ingested for real: its claims join the original's groups, and the digest says "also in"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from pytest_httpserver import HTTPServer
from support.pages import rss

from digest.runtime import cli

ROOT = Path(__file__).resolve().parents[3]
ORIGINAL = ROOT / "examples" / "demo-site" / "articles" / "back-pain-massage-therapy.html"
SENTENCE = (
    "Since massage does not require medication or any invasive techniques, it is often used "
    "as a primary means of relieving back pain."
)
REWORDED = (
    "Because massage needs no medication or invasive technique, it is often used as a "
    "primary way of relieving back pain."
)


def syndicated(html: str) -> str:
    assert SENTENCE in html
    copy = html.replace(SENTENCE, REWORDED)
    copy = copy.replace(
        '<nav class="main-nav" aria-label="Main">',
        ('<nav class="main-nav" aria-label="Main"><a href="/partner">Partner network</a>'),
    )
    return copy.replace("</body>", "<footer><p>Syndicated by Health Wire.</p></footer></body>")


def test_syndicated_claims_share_the_original_groups(
    httpserver: HTTPServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    html = ORIGINAL.read_text(encoding="utf-8")
    httpserver.expect_request("/orig/feed.xml").respond_with_data(
        rss([("o1", httpserver.url_for("/orig/a.html"), "A")]), content_type="text/xml"
    )
    httpserver.expect_request("/wire/feed.xml").respond_with_data(
        rss([("w1", httpserver.url_for("/wire/a.html"), "A")]), content_type="text/xml"
    )
    httpserver.expect_request("/orig/a.html").respond_with_data(html, content_type="text/html")
    httpserver.expect_request("/wire/a.html").respond_with_data(
        syndicated(html), content_type="text/html"
    )
    config = tmp_path / "sources.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "storage": {"corpus_dir": "corpus", "database": "sqlite:///cw.db"},
                "fetch": {"allow_private_networks": True, "host_delay_s": 0},
                "extract": {"workers": 1},
                "sources": [
                    {"name": "original", "feed": httpserver.url_for("/orig/feed.xml")},
                    {"name": "wire", "feed": httpserver.url_for("/wire/feed.xml")},
                ],
                "digest": {"html_dir": "digests", "first_run": "all"},
            }
        )
    )
    assert cli.main(["--config", str(config), "ingest", "--json"]) == 0
    capsys.readouterr()
    assert cli.main(["--config", str(config), "claims", "--format", "jsonl"]) == 0
    out = capsys.readouterr().out
    claims = [json.loads(line) for line in out.splitlines()]
    claims = [c for c in claims if c["kind"] == "claim"]
    assert all(0 < c["confidence"] <= 1 for c in claims)  # the detector's, exported
    original = [c for c in claims if c["source"] == "original"]
    copy = [c for c in claims if c["source"] == "wire"]
    assert len(original) == len(copy) > 5
    assert {c["group"] for c in copy} == {c["group"] for c in original}
    reworded = next(c for c in copy if c["quote"] == REWORDED)
    assert reworded["group"] == next(c["group"] for c in original if c["quote"] == SENTENCE)

    assert cli.main(["--config", str(config), "digest", "--no-email"]) == 0
    page = next((tmp_path / "digests").glob("????-??-??-????.html")).read_text()
    assert page.count("also in 1 ") >= len(original) - 1
