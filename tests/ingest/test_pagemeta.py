"""Titles and dates from a page's own markup (ingest.pagemeta), over small hand-written pages."""

from __future__ import annotations

import datetime

import pytest
from lxml import html as lxml_html

from ingest.pagemeta import PageHead, page_head

URL = "https://www.examplehealth.org/news/massage-back-pain"
TODAY = datetime.date(2026, 6, 1)
HEADLINE = "Massage eases chronic back pain, trial finds"


def head_of(
    head: str = "", body: str = "", *, url: str = URL, feed_title: str | None = None
) -> PageHead:
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"
    )
    return page_head(
        lxml_html.document_fromstring(page), url=url, today=TODAY, feed_title=feed_title
    )


def json_ld(data: str) -> str:
    return f'<script type="application/ld+json">{data}</script>'


def test_title_from_og_title() -> None:
    head = f'<title>Home – Example Health</title><meta property="og:title" content="{HEADLINE}">'
    assert head_of(head).title == HEADLINE


def test_title_from_json_ld_headline() -> None:
    data = '{"@context": "https://schema.org", "@graph": [{"@type": "WebSite", "name": "Example"},'
    data += ' {"@type": "NewsArticle", "headline": "Massage &amp; back pain: what a trial found"}]}'
    assert (
        head_of(f"<title>News</title>{json_ld(data)}").title
        == "Massage & back pain: what a trial found"
    )


@pytest.mark.parametrize(
    "title_element",
    [
        f"{HEADLINE} | Example Health",  # og:site_name
        f"Example Health – {HEADLINE}",
        f"{HEADLINE} - ExampleHealth",  # the host's name
    ],
)
def test_title_from_the_title_element_without_the_site_name(title_element: str) -> None:
    head = f'<title>{title_element}</title><meta property="og:site_name" content="Example Health">'
    assert head_of(head).title == HEADLINE


def test_a_title_element_without_a_site_name_is_kept_whole() -> None:
    assert head_of("<title>Massage - does it help back pain?</title>").title == (
        "Massage - does it help back pain?"
    )


def test_the_visible_headline_wins_when_it_agrees_with_a_declared_title() -> None:
    head = f'<meta property="og:title" content="{HEADLINE.upper()} | Example Health">'
    body = f"<header><h1>{HEADLINE}</h1></header><p>Text.</p>"
    assert head_of(head, body).title == HEADLINE


def test_an_h1_that_is_not_the_article_title_loses_to_the_declared_title() -> None:
    head = f'<meta property="og:title" content="{HEADLINE}">'
    body = "<h1>Example Health</h1><h2>Latest</h2><p>Text.</p>"
    assert head_of(head, body).title == HEADLINE


def test_the_feed_title_is_used_only_when_the_page_declares_none() -> None:
    assert head_of(body="<p>Text.</p>", feed_title=f"  {HEADLINE} ").title == HEADLINE
    declared = f'<meta property="og:title" content="{HEADLINE}">'
    assert head_of(declared, feed_title="Another title").title == HEADLINE


def test_no_title_at_all() -> None:
    assert head_of(body="<p>Text.</p>").title is None


@pytest.mark.parametrize(
    ("head", "body", "expected"),
    [
        (
            json_ld('{"@type": "Article", "datePublished": "2019-05-14T23:30:00-05:00"}'),
            "",
            "2019-05-14",
        ),
        (
            '<meta property="article:published_time" content="2021-03-02T09:00:00Z">',
            "",
            "2021-03-02",
        ),
        ("", '<span itemprop="datePublished" content="2020-01-31">Jan 31</span>', "2020-01-31"),
        (
            "",
            '<time class="entry-date published" datetime="2018-07-04">4 July</time>',
            "2018-07-04",
        ),
        ("", '<p>Posted <time datetime="2017-10-09T08:00">9 Oct</time></p>', "2017-10-09"),
    ],
    ids=["json-ld", "article-meta", "itemprop", "time-published", "time"],
)
def test_declared_publication_dates(head: str, body: str, expected: str) -> None:
    assert head_of(head, body).published == datetime.date.fromisoformat(expected)


def test_the_json_ld_date_comes_before_a_time_element() -> None:
    head = json_ld('{"@type": "BlogPosting", "datePublished": "2019-05-14"}')
    assert head_of(head, '<time datetime="2024-01-01">updated</time>').published == datetime.date(
        2019, 5, 14
    )


def test_dates_in_the_future_or_before_the_web_are_not_trusted() -> None:
    head = '<meta property="article:published_time" content="2031-01-01T00:00:00Z">'
    body = '<time datetime="1970-01-01">epoch</time><time datetime="2022-02-22">real</time>'
    assert head_of(head, body).published == datetime.date(2022, 2, 22)


def test_without_a_declared_date_htmldate_reads_the_url() -> None:
    url = "https://www.examplehealth.org/2016/08/23/massage-back-pain/"
    assert head_of(body="<p>Text.</p>", url=url).published == datetime.date(2016, 8, 23)


def test_no_date_at_all() -> None:
    assert head_of(body="<p>Text without any date.</p>").published is None
