"""OPML 2.0, the list of feeds every feed reader exchanges: reading one (`parse_opml`) and
writing claimwatch's sources as one (`write_opml`).

Pure: no I/O. Any DOCTYPE is removed before parsing (as for feeds: lxml still expands
internal entities inside attributes even with entity resolution off), DTDs and network access
are off, so a hostile file is refused rather than amplified. Nested outlines (folders) are
flattened, in document order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import quoteattr

from lxml import etree

from ingest.config import check_http_url
from ingest.errors import ConfigError
from ingest.feeds import strip_doctype

MAX_OPML_BYTES = 5_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class OpmlFeed:
    """One subscription: a title and the feed's URL (`xmlUrl`), and the site's (`htmlUrl`)."""

    title: str
    xml_url: str
    html_url: str | None = None


def parse_opml(content: bytes, *, origin: str = "OPML file") -> tuple[OpmlFeed, ...]:
    """Every outline with an http(s) `xmlUrl`, once each, in document order; a file that is not
    OPML raises ConfigError naming `origin`."""
    if len(content) > MAX_OPML_BYTES:
        raise ConfigError(f"{origin}: larger than {MAX_OPML_BYTES:,} bytes")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(strip_doctype(content), parser=parser)
    except etree.XMLSyntaxError as exc:
        raise ConfigError(f"{origin}: not well-formed XML ({exc.msg})") from exc
    if root.tag != "opml" or root.find("body") is None:
        raise ConfigError(f"{origin}: not an OPML document (no <opml><body>)")
    feeds: dict[str, OpmlFeed] = {}
    for outline in root.find("body").iter("outline"):
        url = (outline.get("xmlUrl") or "").strip()
        if not url or url in feeds:
            continue
        try:
            check_http_url(url)
        except ValueError:
            continue
        title = (outline.get("title") or outline.get("text") or "").strip()
        html_url = (outline.get("htmlUrl") or "").strip() or None
        feeds[url] = OpmlFeed(title=title or url, xml_url=url, html_url=html_url)
    return tuple(feeds.values())


def write_opml(feeds: Sequence[OpmlFeed], *, title: str, created: datetime) -> str:
    """An OPML 2.0 document listing `feeds` (type="rss", as readers expect for any feed)."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head>",
        f"    <title>{_text(title)}</title>",
        f"    <dateCreated>{format_datetime(created)}</dateCreated>",
        "  </head>",
        "  <body>",
    ]
    for feed in feeds:
        attributes = [
            'type="rss"',
            f"text={quoteattr(feed.title)}",
            f"title={quoteattr(feed.title)}",
            f"xmlUrl={quoteattr(feed.xml_url)}",
        ]
        if feed.html_url:
            attributes.append(f"htmlUrl={quoteattr(feed.html_url)}")
        lines.append(f"    <outline {' '.join(attributes)}/>")
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
