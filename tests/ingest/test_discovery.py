"""Feed discovery from a page: announced alternates (relative, several, none), the usual
paths, and feeds told from pages by their first bytes."""

from __future__ import annotations

from ingest.discovery import common_feed_urls, feed_links, looks_like_feed

PAGE = b"""<!doctype html><html><head>
<title>Back Care Blog</title>
<link rel="stylesheet" href="/style.css">
<link rel="alternate" type="application/rss+xml" title="Posts" href="/feed/">
<link rel="alternate" type="application/atom+xml" title="Comments" href="comments/atom.xml">
<link rel="alternate" type="application/rss+xml" href="/feed/">
<link rel="alternate" hreflang="fr" href="/fr/">
<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
</head><body><p>Hello</p></body></html>"""


def test_alternates_are_resolved_in_page_order_once_each() -> None:
    links = feed_links(PAGE, "https://blog.example.org/posts/today")
    assert [(link.url, link.title, link.type) for link in links] == [
        ("https://blog.example.org/feed/", "Posts", "application/rss+xml"),
        ("https://blog.example.org/posts/comments/atom.xml", "Comments", "application/atom+xml"),
    ]


def test_a_base_element_changes_what_relative_hrefs_mean() -> None:
    page = (
        b'<html><head><base href="https://cdn.example.net/site/">'
        b'<link rel="alternate" type="application/atom+xml" href="atom.xml"></head></html>'
    )
    assert [link.url for link in feed_links(page, "https://example.org/")] == [
        "https://cdn.example.net/site/atom.xml"
    ]


def test_a_page_without_alternates_or_without_html_yields_none() -> None:
    assert feed_links(b"<html><head><title>x</title></head></html>", "https://e.org/") == ()
    assert feed_links(b"", "https://e.org/") == ()
    assert feed_links(b"\x00\x01 not html", "https://e.org/") == ()


def test_the_usual_paths_stay_on_the_site() -> None:
    urls = common_feed_urls("https://www.example.org/health/article?id=3")
    assert urls[0] == "https://www.example.org/feed"
    assert "https://www.example.org/?feed=rss2" in urls
    assert all(url.startswith("https://www.example.org/") for url in urls)


def test_feeds_are_told_from_pages_by_their_first_element() -> None:
    assert looks_like_feed(b'<?xml version="1.0"?>\n<rss version="2.0"><channel/>', "text/html")
    assert looks_like_feed(b"\xef\xbb\xbf<feed xmlns='http://www.w3.org/2005/Atom'>", "")
    assert looks_like_feed(b'{"version": "https://jsonfeed.org/version/1.1"}', "application/json")
    assert not looks_like_feed(PAGE, "application/rss+xml")  # a server's label is not the body
    assert not looks_like_feed(b"<html><body><rss>", "text/xml")
