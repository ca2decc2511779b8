"""Unit tests of ingest.extract over small hand-written pages."""

from __future__ import annotations

import datetime
import pickle
import re

import pytest

from ingest.corpus import blocks_of, format_document
from ingest.extract import ExtractedDocument, ExtractionSkipped, ExtractSettings, extract_document

URL = "https://example.org/article.html"
PARAGRAPHS = (
    "Researchers followed four hundred adults with chronic low back pain for two years and "
    "found that weekly massage reduced pain scores more than usual care did.",
    "The effect faded within six months after the sessions stopped, which suggests that "
    "massage helps while it lasts but does not change the underlying condition.",
    "Doctors interviewed for this article recommend combining massage with strengthening "
    "exercises and staying active rather than resting in bed for long periods.",
)


def page(body: str, *, title: str = "Massage and back pain", head: str = "") -> str:
    """A page with some clutter around an <article> holding `body`."""
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{title} – Example Health</title><meta property="og:title" content="{title}">{head}</head>
<body><header><nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/about">About</a></li></ul></nav></header>
<main><article>{body}</article>
<section id="comments" class="comments"><h3>2 comments</h3>
<div class="comment"><p>Great article, thanks a lot for writing it!</p></div></section></main>
<footer><p>© 2024 Example Health. All rights reserved.</p></footer></body></html>"""


def paragraphs_html(paragraphs: tuple[str, ...] = PARAGRAPHS) -> str:
    return "".join(f"<p>{text}</p>" for text in paragraphs)


def extracted(html: str, **settings: int | bool) -> ExtractedDocument:
    result = extract_document(html, url=URL, settings=ExtractSettings(**settings))
    assert isinstance(result, ExtractedDocument), result
    return result


def test_paragraphs_and_headings_are_blocks_in_reading_order() -> None:
    body = f"<p>{PARAGRAPHS[0]}</p><h2>What the doctors say</h2>{paragraphs_html(PARAGRAPHS[1:])}"
    result = extracted(page(body))
    assert result.blocks == (PARAGRAPHS[0], "What the doctors say", *PARAGRAPHS[1:])
    assert result.title == "Massage and back pain"
    assert result.text == format_document(result.title, result.blocks)
    assert blocks_of(result.text) == [result.title, *result.blocks]


def test_list_items_are_bulleted_blocks() -> None:
    body = (
        f"<p>{PARAGRAPHS[0]}</p><p>{PARAGRAPHS[1]}</p><p>What the study found:</p>"
        "<ul><li>Pain fell by a third on average.</li><li>Sleep <b>improved</b> too.</li></ul>"
        f"<p>{PARAGRAPHS[2]}</p>"
    )
    blocks = extracted(page(body)).blocks
    index = blocks.index("What the study found:")
    assert blocks[index + 1 : index + 3] == (
        "• Pain fell by a third on average.",
        "• Sleep improved too.",
    )


def test_table_rows_are_blocks_with_cells_joined() -> None:
    table = (
        "<table><tr><th>Therapy</th><th>Pain score</th></tr>"
        "<tr><td>Massage</td><td>3.1</td></tr><tr><td>Usual care</td><td>4.6</td></tr></table>"
    )
    blocks = extracted(page(paragraphs_html(PARAGRAPHS[:2]) + table + f"<p>{PARAGRAPHS[2]}</p>"))
    assert blocks.blocks[2:5] == ("Therapy | Pain score", "Massage | 3.1", "Usual care | 4.6")


def test_title_is_not_repeated_when_the_body_starts_with_it() -> None:
    result = extracted(page("<h1>Massage and back pain</h1>" + paragraphs_html()))
    assert result.blocks[0] == "Massage and back pain"
    assert blocks_of(result.text) == list(result.blocks)


def test_title_comes_first_when_the_body_does_not_start_with_it() -> None:
    result = extracted(page(paragraphs_html(), title="Does massage help?"))
    assert blocks_of(result.text) == ["Does massage help?", *PARAGRAPHS]


def test_clutter_around_the_article_is_left_out() -> None:
    text = extracted(page(paragraphs_html())).text
    for clutter in ("Home", "comments", "Great article", "All rights reserved"):
        assert clutter not in text


def test_publication_date_comes_from_the_page_metadata() -> None:
    head = '<meta property="article:published_time" content="2019-05-14T11:00:00+00:00">'
    assert extracted(page(paragraphs_html(), head=head)).published == datetime.date(2019, 5, 14)


def test_invisible_format_characters_are_dropped() -> None:
    body = paragraphs_html(("Ein regis\u00adtriertes Smartphone\u200b hilft. " * 8,))
    assert extracted(page(body)).blocks[0].startswith("Ein registriertes Smartphone hilft.")


# On a page this small, trafilatura's recall-oriented passes fall back to the page's whole text
# (its last resort), so the navigation comes along: "Home News About Massage may help …".
SHORT_ARTICLE = "Massage may help back pain, a small study says."


def test_too_short_body_is_skipped_with_its_length() -> None:
    result = extract_document(page(f"<p>{SHORT_ARTICLE}</p>"), url=URL, settings=ExtractSettings())
    assert isinstance(result, ExtractionSkipped)
    match = re.fullmatch(r"too short: (\d+) < 200 characters", result.reason)
    assert match, result.reason
    assert len(SHORT_ARTICLE) <= int(match[1]) < 200


def test_min_chars_is_a_setting() -> None:
    result = extracted(page(f"<p>{SHORT_ARTICLE}</p>"), min_chars=40)
    assert result.blocks[-1].endswith(SHORT_ARTICLE)


@pytest.mark.parametrize(
    "html",
    ["", "<html><body></body></html>", "<html><body><script>var a = 1;</script></body></html>"],
    ids=["empty", "empty-body", "script-only"],
)
def test_page_without_text_is_skipped(html: str) -> None:
    result = extract_document(html, url=URL, settings=ExtractSettings())
    assert result == ExtractionSkipped(url=URL, reason="no article text found")


def test_index_page_is_not_an_article() -> None:
    links = "".join(
        f'<li><a href="/a{n}">Study {n} finds massage may help back pain in adults</a></li>'
        for n in range(12)
    )
    html = page("").replace("<article></article>", f"<h1>Latest news</h1><ul>{links}</ul>")
    result = extract_document(html, url=URL, settings=ExtractSettings())
    assert isinstance(result, ExtractionSkipped)
    assert result.reason.startswith("no article text found: only links (")


def test_results_cross_process_boundaries() -> None:
    result = extracted(page(paragraphs_html()))
    assert pickle.loads(pickle.dumps(result)) == result  # noqa: S301 (our own bytes)
    skipped = ExtractionSkipped(url=URL, reason="no article text found")
    assert pickle.loads(pickle.dumps(skipped)) == skipped  # noqa: S301
