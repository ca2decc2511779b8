"""Real 2025 pages from the WCXB fixture (read from CLAIMWATCH_SHARED, never copied here) where
one trafilatura setting alone loses the article; claimwatch's checked extraction stores it whole.

Picked by measurement (bench/extraction_quality.py): WCXB 4007 is one of the 9 pages where
favor_precision (the previous setting) finds nothing; on WCXB 4666 the fast recall pass finds 1 %
of the page's text and the balanced retry finds the article.
"""

from __future__ import annotations

import pytest
from support import extraction_benchmarks as eb

from ingest.extract import (
    ExtractedDocument,
    ExtractionSkipped,
    ExtractSettings,
    Pass,
    extract_document,
)


def wcxb_page(page_id: str) -> eb.Page:
    folder = eb.wcxb_dir(eb.shared_root())
    if not (folder / "ground-truth" / f"{page_id}.json").is_file():
        pytest.skip(f"WCXB fixture not found at {folder} (set CLAIMWATCH_SHARED)")
    (page,) = [p for p in eb.load_wcxb(eb.shared_root()) if p.page_id == page_id]
    return page


def test_a_page_where_favor_precision_finds_nothing_is_stored_whole() -> None:
    page = wcxb_page("4007")
    html = page.html()
    precision_alone = ExtractSettings(first=Pass(focus="precision"), retry=None)
    assert extract_document(html, url=page.url, settings=precision_alone) == ExtractionSkipped(
        url=page.url, reason="no article text found"
    )
    result = extract_document(html, url=page.url, settings=ExtractSettings())
    assert isinstance(result, ExtractedDocument), result
    assert result.title == page.gold_title
    quality = eb.score(result.text, page.gold)
    assert quality.recall > 0.99
    assert quality.precision > 0.95


def test_a_first_pass_that_finds_almost_nothing_is_retried() -> None:
    page = wcxb_page("4666")
    html = page.html()
    first_alone = eb.score(
        eb.stored_text(html, page.url, settings=ExtractSettings(retry=None))[0], page.gold
    )
    assert first_alone.recall < 0.05
    result = extract_document(html, url=page.url, settings=ExtractSettings())
    assert isinstance(result, ExtractedDocument), result
    assert result.method == "balanced (retried: recall + fast: 1% of the page's text)"
    assert eb.score(result.text, page.gold).recall > 0.99
