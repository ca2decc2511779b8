"""Finding a site's feed: the `<link rel="alternate">` feeds a page announces, then the paths
where feeds usually live; and telling a feed from a page by its first bytes.

Pure: no I/O (the caller fetches, with the guarded fetcher, and parses with `feeds`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.html
from lxml import etree

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/json",  # JSON Feed, when a page says so
        "application/xml",
        "text/xml",
    }
)
# Where feeds usually live, most common first (WordPress, generic, Blogger, Hugo, Ghost).
COMMON_PATHS = (
    "/feed",
    "/rss",
    "/rss.xml",
    "/feed.xml",
    "/atom.xml",
    "/index.xml",
    "/feeds/posts/default",
    "/?feed=rss2",
)
_FEED_START_RE = re.compile(rb"<(?:rss|feed|rdf:RDF)[\s>]", re.I)
_HTML_START_RE = re.compile(rb"<(?:!doctype\s+html|html)[\s>]", re.I)


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedLink:
    """A feed a page announces: its absolute URL, title and media type."""

    url: str
    title: str
    type: str


def feed_links(html: bytes, base_url: str) -> tuple[FeedLink, ...]:
    """The feeds announced by `<link rel="alternate" type="…">` in a page, in page order, with
    relative hrefs resolved against the page's `<base>` or `base_url`; duplicates dropped."""
    if not html.strip():
        return ()
    try:
        root = lxml.html.fromstring(html)
    except (etree.ParserError, ValueError):
        return ()
    base = _base_href(root, base_url)
    found: dict[str, FeedLink] = {}
    for link in root.iter("link"):
        rel = {part.lower() for part in (link.get("rel") or "").split()}
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind in FEED_TYPES and href:
            url = urljoin(base, href)
            if urlsplit(url).scheme in ("http", "https") and url not in found:
                found[url] = FeedLink(url=url, title=(link.get("title") or "").strip(), type=kind)
    return tuple(found.values())


def _base_href(root: lxml.html.HtmlElement, page_url: str) -> str:
    for base in root.iter("base"):
        href = str(base.get("href") or "").strip()
        if href:
            return urljoin(page_url, href)
    return page_url


def common_feed_urls(page_url: str) -> tuple[str, ...]:
    """The usual feed locations on the page's site (scheme and host kept)."""
    parts = urlsplit(page_url)
    return tuple(
        urlunsplit((parts.scheme, parts.netloc, *_path_and_query(path), ""))
        for path in COMMON_PATHS
    )


def _path_and_query(path: str) -> tuple[str, str]:
    path, _, query = path.partition("?")
    return path, query


def looks_like_feed(content: bytes, content_type: str) -> bool:
    """Whether a response is a feed rather than a page: RSS, Atom or RDF by its first element
    (a server's content type is often wrong), or a JSON Feed."""
    head = content[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if content_type.split(";")[0].strip().lower() == "application/feed+json":
        return True
    if head.startswith(b"{") and b"jsonfeed.org" in content[:4096]:
        return True
    if _HTML_START_RE.search(head[:512]):
        return False
    return _FEED_START_RE.search(head) is not None
