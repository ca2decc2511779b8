"""OPML: what feed readers export is read (nested folders, duplicates, junk), what we write
reads back the same, and hostile XML is refused, not expanded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.errors import ConfigError
from ingest.opml import OpmlFeed, parse_opml, write_opml

EXPORT = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>My feeds</title></head><body>
  <outline text="Health">
    <outline type="rss" text="NCCIH" title="NCCIH News"
             xmlUrl="https://www.nccih.nih.gov/news/rss.xml" htmlUrl="https://www.nccih.nih.gov/"/>
    <outline type="rss" text="Spine &amp; back" xmlUrl="https://example.org/feed"/>
  </outline>
  <outline type="rss" text="again" xmlUrl="https://example.org/feed"/>
  <outline type="rss" text="no url"/>
  <outline type="rss" text="ftp" xmlUrl="ftp://example.org/feed"/>
</body></opml>"""


def test_a_readers_export_is_flattened_in_order_once_each() -> None:
    assert parse_opml(EXPORT) == (
        OpmlFeed(
            title="NCCIH News",
            xml_url="https://www.nccih.nih.gov/news/rss.xml",
            html_url="https://www.nccih.nih.gov/",
        ),
        OpmlFeed(title="Spine & back", xml_url="https://example.org/feed"),
    )


def test_what_we_write_reads_back_the_same() -> None:
    extra = OpmlFeed(title='Quotes "and" <tags>', xml_url="https://a.b/x?y=1&z=2")
    feeds = (*parse_opml(EXPORT), extra)
    written = write_opml(
        feeds, title="claimwatch sources", created=datetime(2026, 12, 1, tzinfo=UTC)
    )
    assert written.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">')
    assert "<dateCreated>Tue, 01 Dec 2026 00:00:00 +0000</dateCreated>" in written
    assert parse_opml(written.encode()) == feeds


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"<rss><channel/></rss>", "not an OPML document"),
        (b"<opml><body>", "not well-formed"),
        (b"not xml at all", "not well-formed"),
    ],
)
def test_what_is_not_opml_is_refused_with_a_reason(content: bytes, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_opml(content, origin="feeds.opml")


def test_entity_definitions_are_refused_not_expanded() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "' + b"&a;" * 10 + b'"><!ENTITY c "' + b"&b;" * 10 + b'">]>'
        b'<opml version="2.0"><body><outline text="&c;" xmlUrl="https://e.org/f"/></body></opml>'
    )
    with pytest.raises(ConfigError, match="not well-formed"):
        parse_opml(bomb)
