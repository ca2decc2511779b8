"""Property tests: `parse_feed` never raises, whatever bytes a server sends, and what it returns
always holds (http(s) links, a key, bounded titles).

Guards the feed adapter's containment of feedparser's loose output: the type checks on its
dict values, the date conversion's caught errors, strip_doctype on broken DOCTYPEs, and the
UTF-16/32 re-encoding.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.feeds import MAX_TITLE_CHARS, ParsedFeed, parse_feed

BASE = "http://127.0.0.1/feed.xml"
# Bounded so the file runs in a few seconds; no deadline (feedparser's speed varies by input
# and machine, and a timing failure here would say nothing about correctness).
FEW = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Pieces that reach feedparser's and our edge cases: markup, entities, DOCTYPE fragments,
# dates, links of every scheme, wide encodings.
TOKENS = [
    "<", ">", "&", ";", "&amp;", "&lt;", "&#0;", "&#x110000;", "&#9999999999;", "&nbsp;", "]]>",
    "<![CDATA[", "<!DOCTYPE rss [", "<!ENTITY x \"", "]>", "<!--", "-->", "<?xml", "?>",
    "http://", "https://", "javascript:", "data:", "//", "../", "#", "?utm_source=x", " ",
    "\n", "\t", "\x00", "\ufeff", "\u202e", "é", "𝔘", "Mon, 31 Dec 9999 23:59:59 GMT",
    "0000-00-00T00:00:00Z", "Tue, 30 Feb 2026 25:61:61 +9999", "-1", "1e309", "a@b.c",
    "<a href='x'>", "</item>", "<item>", "<entry>", "</feed>", "<link href=",
]  # fmt: skip
WIDE_BOMS = [b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00"]

texts = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=200),
    st.lists(st.sampled_from(TOKENS), max_size=20).map("".join),
)
raw_texts = texts  # inserted unescaped: broken markup is part of the input space
safe_texts = texts.map(escape)  # inserted escaped: well-formed feeds with odd values


def check(parsed: ParsedFeed) -> None:
    for entry in parsed.entries:
        assert entry.link.startswith(("http://", "https://")), entry.link
        assert entry.canonical.startswith(("http://", "https://")), entry.canonical
        assert entry.key
        assert len(entry.title) <= MAX_TITLE_CHARS
    assert len({entry.key for entry in parsed.entries}) == len(parsed.entries)
    assert parsed.skipped >= 0


@FEW
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(content: bytes) -> None:
    # Guards: parse_feed on anything a server sends returns a ParsedFeed, never an exception.
    check(parse_feed(content, url=BASE))


@FEW
@given(st.sampled_from(WIDE_BOMS), st.binary(max_size=1000), texts)
def test_wide_encodings_never_raise(bom: bytes, content: bytes, text: str) -> None:
    # Guards the UTF-16/32 path of strip_doctype (decode attempts, encoding declaration rewrite).
    check(parse_feed(bom + content, url=BASE))
    for codec in ("utf-16", "utf-32"):
        feed = f'<?xml version="1.0" encoding="{codec}"?><!DOCTYPE rss [{text}]>{text}<rss/>'
        check(parse_feed(feed.encode(codec), url=BASE))


CHARSETS = ["utf-8", "utf-16", "utf-16le", "utf-32be", "utf-7", "cp037", "idna", "rot13",
            "base64", "gb2312", "x-bogus", ""]  # fmt: skip


@FEW
@given(
    st.sampled_from(["application/rss+xml", "text/xml", "text/html", "application/octet-stream"]),
    st.sampled_from(CHARSETS),
    st.sampled_from(CHARSETS),
    texts,
)
def test_any_declared_encoding_never_raises(
    media_type: str, http_charset: str, xml_charset: str, text: str
) -> None:
    # Guards decoding before the DOCTYPE is stripped: whatever the Content-Type charset and
    # the XML declaration name (text codecs, codecs that are not text, unknown names), and
    # whether or not the bytes match them, parse_feed returns a ParsedFeed.
    content_type = media_type + (f"; charset={http_charset}" if http_charset else "")
    declaration = f'<?xml version="1.0" encoding="{xml_charset}"?>' if xml_charset else ""
    feed = f'{declaration}<rss version="2.0"><channel><title>{text}</title></channel></rss>'
    for content in (feed.encode("utf-8"), feed.encode("utf-16-le")):
        check(parse_feed(content, url=BASE, content_type=content_type))


def rss_item(values: list[str]) -> str:
    title, link, guid, date, author, description = values
    return (
        f"<item><title>{title}</title><link>{link}</link><guid>{guid}</guid>"
        f"<pubDate>{date}</pubDate><author>{author}</author>"
        f"<description>{description}</description></item>"
    )


def atom_entry(values: list[str]) -> str:
    title, link, guid, date, author, description = values
    return (
        f'<entry><title>{title}</title><link href="{link}"/><id>{guid}</id>'
        f"<updated>{date}</updated><published>{date}</published>"
        f"<author><name>{author}</name><email>{author}</email></author>"
        f"<summary>{description}</summary></entry>"
    )


@FEW
@given(
    st.sampled_from(["rss", "atom"]),
    st.booleans(),
    st.lists(st.lists(raw_texts, min_size=6, max_size=6), min_size=1, max_size=3),
    st.lists(st.lists(safe_texts, min_size=6, max_size=6), min_size=1, max_size=3),
)
def test_arbitrary_text_in_feed_skeletons_never_raises(
    kind: str, doctype: bool, raw: list[list[str]], safe: list[list[str]]
) -> None:
    # Guards every field conversion in to_entry (links, GUIDs, titles, dates) on values that
    # feedparser passes through loosely, in well-formed (escaped) and broken (raw) documents.
    for items in (raw, safe):
        head = '<?xml version="1.0" encoding="utf-8"?>'
        if doctype:
            head += f'<!DOCTYPE {kind} [<!ENTITY t "{items[0][0]}">]>'
        if kind == "rss":
            body = "".join(rss_item(values) for values in items)
            feed = f'{head}<rss version="2.0"><channel><title>t</title>{body}</channel></rss>'
        else:
            body = "".join(atom_entry(values) for values in items)
            feed = f'{head}<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>{body}</feed>'
        check(parse_feed(feed.encode("utf-8"), url=BASE, content_type="application/xml"))


@FEW
@given(safe_texts, safe_texts)
def test_any_http_link_in_a_well_formed_feed_is_kept(path: str, title: str) -> None:
    # Guards link finding: an item whose link is an http(s) URL always yields an entry.
    link = "https://news.example.org/" + path.replace(" ", "%20")
    feed = f'<rss version="2.0"><channel><item><title>{title}</title><link>{link}</link></item>'
    parsed = parse_feed((feed + "</channel></rss>").encode("utf-8"), url=BASE)
    check(parsed)
    assert len(parsed.entries) == 1
