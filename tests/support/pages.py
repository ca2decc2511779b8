"""Small builders of feeds and article pages for the tests, and a feed served with one."""

from __future__ import annotations

from xml.sax.saxutils import escape

from pytest_httpserver import HTTPServer

LOREM = (
    "Massage therapy is widely used for chronic low back pain, and several trials have "
    "compared it with usual care. Patients who received weekly sessions reported less pain "
    "and better function after ten weeks than those who did not, according to the authors."
)


def article(title: str, paragraphs: list[str], clutter: str = "") -> str:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title></head><body>"
        f"<nav><a href='/'>Home</a> <a href='/about'>About</a> {clutter}</nav>"
        f"<article><h1>{escape(title)}</h1>{body}</article>"
        "<footer>Copyright 2026 Example Health. All rights reserved.</footer></body></html>"
    )


def rss(items: list[tuple[str, str, str]], title: str = "Test feed") -> str:
    """items: (guid, link, title)."""
    entries = "".join(
        f"<item><guid isPermaLink='false'>{escape(g)}</guid><link>{escape(link)}</link>"
        f"<title>{escape(t)}</title><pubDate>Mon, 23 Nov 2026 08:00:00 GMT</pubDate></item>"
        for g, link, t in items
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>{escape(title)}</title><link>http://example.invalid/</link>{entries}"
        "</channel></rss>"
    )


def atom(items: list[tuple[str, str, str]], title: str = "Test atom") -> str:
    entries = "".join(
        f"<entry><id>{escape(g)}</id><link rel='alternate' href='{escape(link)}'/>"
        f"<title>{escape(t)}</title><updated>2026-11-23T08:00:00Z</updated></entry>"
        for g, link, t in items
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
        f"<title>{escape(title)}</title><id>urn:test</id><updated>2026-11-23T08:00:00Z</updated>"
        f"{entries}</feed>"
    )


def serve_one_article(httpserver: HTTPServer, feed: str = "/feed.xml") -> str:
    """A feed at `feed` with one article on massage and back pain, served; the feed's URL."""
    page = httpserver.url_for("/a.html")
    httpserver.expect_request(feed).respond_with_data(
        rss([("g1", page, "Massage and back pain")]), content_type="application/rss+xml"
    )
    httpserver.expect_request("/a.html").respond_with_data(
        article("Massage and back pain", [LOREM, LOREM[::-1]]), content_type="text/html"
    )
    return httpserver.url_for(feed)
