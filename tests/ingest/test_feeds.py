"""The feed adapter: formats, links, GUIDs, and the DOCTYPE entity bomb."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from ingest.feeds import parse_feed, strip_doctype

BASE = "https://news.example.org/health/feed.xml"

RSS091 = b"""<?xml version="1.0"?><rss version="0.91"><channel><title>Old</title>
<item><title>One</title><link>https://news.example.org/a</link></item></channel></rss>"""
RSS10 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="https://news.example.org/"><title>RDF</title></channel>
<item rdf:about="https://news.example.org/a"><title>One</title>
<link>https://news.example.org/a</link></item></rdf:RDF>"""
RSS20 = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Two</title>
<item><title>One</title><link>/health/a?utm_source=rss</link><guid>tag:one</guid>
<pubDate>Mon, 23 Nov 2026 08:00:00 GMT</pubDate></item></channel></rss>"""
ATOM = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Atom</title>
<entry><id>urn:uuid:1</id><title>One</title><link href="a"/><updated>2026-11-23T08:00:00Z</updated>
</entry></feed>"""


@pytest.mark.parametrize(
    ("content", "version"),
    [(RSS091, "rss091u"), (RSS10, "rss10"), (RSS20, "rss20"), (ATOM, "atom10")],
)
def test_every_format_yields_its_entry(content: bytes, version: str) -> None:
    parsed = parse_feed(content, url=BASE)
    assert parsed.version == version
    assert len(parsed.entries) == 1 and parsed.entries[0].title == "One"
    assert parsed.entries[0].link.startswith("https://news.example.org/")


def test_relative_links_resolve_against_the_final_url_and_are_canonicalised() -> None:
    (entry,) = parse_feed(RSS20, url=BASE).entries
    assert entry.link == "https://news.example.org/health/a?utm_source=rss"
    assert entry.canonical == "https://news.example.org/health/a"
    assert entry.key == "tag:one" and entry.published is not None
    assert entry.published.isoformat() == "2026-11-23T08:00:00+00:00"


def test_entries_without_a_link_are_counted_not_kept() -> None:
    feed = b"<rss version='2.0'><channel><item><title>x</title></item></channel></rss>"
    parsed = parse_feed(feed, url=BASE)
    assert parsed.entries == () and parsed.skipped == 1


def test_duplicate_guids_keep_the_first_entry() -> None:
    feed = b"""<rss version='2.0'><channel>
    <item><guid>same</guid><link>https://x.example/1</link><title>first</title></item>
    <item><guid>same</guid><link>https://x.example/2</link><title>second</title></item>
    </channel></rss>"""
    (entry,) = parse_feed(feed, url=BASE).entries
    assert entry.title == "first"


def test_javascript_and_data_links_are_not_entries() -> None:
    feed = b"""<rss version='2.0'><channel>
    <item><link>javascript:alert(1)</link><title>js</title></item>
    <item><link>data:text/html,hi</link><title>data</title></item></channel></rss>"""
    parsed = parse_feed(feed, url=BASE)
    assert parsed.entries == () and parsed.skipped == 2


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>&lol9;</title><link>https://x.example/a</link><description>&lol9;</description></item>
</channel></rss>"""


def test_doctype_entity_bomb_is_bounded_in_time_and_memory() -> None:
    tracemalloc.start()
    started = time.perf_counter()
    parsed = parse_feed(BILLION_LAUGHS, url=BASE)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 2.0, f"{elapsed:.2f} s"
    assert peak < 100 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"
    assert len(parsed.entries) == 1  # the entry survives, its title without the expansion
    assert "lol" * 100 not in parsed.entries[0].title


def test_strip_doctype_removes_internal_subsets_and_keeps_the_rest() -> None:
    stripped = strip_doctype(BILLION_LAUGHS)
    assert b"<!DOCTYPE" not in stripped and b"<!ENTITY" not in stripped
    assert stripped.rstrip().endswith(b"</rss>")
    assert strip_doctype(b'<!DOCTYPE rss PUBLIC "-//x" "y.dtd"><rss/>') == b"<rss/>"


def test_utf16_feed_is_reencoded_so_its_doctype_is_found() -> None:
    feed = BILLION_LAUGHS.decode().replace('<?xml version="1.0"?>', "")
    content = ('<?xml version="1.0" encoding="utf-16"?>' + feed).encode("utf-16")
    stripped = strip_doctype(content)
    assert b"<!ENTITY" not in stripped and b'encoding="utf-8"' in stripped
    assert len(parse_feed(content, url=BASE).entries) == 1


def test_garbage_never_raises() -> None:
    for content in (b"", b"\x00\xff" * 100, b"<rss", b"<html><body>not a feed</body></html>"):
        parsed = parse_feed(content, url=BASE)
        assert parsed.entries == ()


def test_a_feed_that_crashes_feedparser_is_reported_not_raised() -> None:
    # Found by fuzzing: Podlove chapters outside an item make feedparser 6.0.x raise
    # KeyError('psc_chapters'); the feed must come back as unparseable instead.
    feed = (
        b"<rss version='2.0'><channel><psc:chapters><source><psc:chapter start='1' /></source>"
        b"</psc:chapters></channel></rss>"
    )
    parsed = parse_feed(feed, url=BASE)
    assert parsed.entries == ()
    assert parsed.bozo == "feedparser failed: KeyError('psc_chapters')"
