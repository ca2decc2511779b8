"""Feeds: feedparser over bytes we fetched, turned into our own `FeedEntry` values.

feedparser is never given a URL, a str or bare bytes (it would fetch with no timeout, or open
a local file: bytes are tried as a file name first); it gets a byte stream and the final URL as
base. The bytes are first decoded as feedparser would decode them (HTTP charset, BOM, XML
declaration: UTF-16 without a BOM, UTF-7, EBCDIC…) and any `<!DOCTYPE …>` block is removed from
that text: feedparser's loose parser expands internal entities without limit (a 62 KB feed
reached ~600 MB). feedparser's dicts never leave this module. Pure: no I/O.
"""

from __future__ import annotations

import calendar
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser
from feedparser.encodings import convert_to_utf8

from ingest.links import canonical_url, is_http_url

_DOCTYPE_START = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_SUBSET_END = re.compile(rb"\]\s*>")
_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")
_ENCODING_DECL = re.compile(rb"""(<\?xml[^>]*?encoding\s*=\s*)["'][^"']*["']""", re.IGNORECASE)
# Numeric character references: feedparser's loose parser raises on one beyond U+10FFFF or
# a surrogate (chr() / UTF-8 encoding errors), losing the whole feed.
_CHARREF = re.compile(rb"&#([xX][0-9a-fA-F]+|[0-9]+);")
_REPLACEMENT_CHARREF = b"&#xFFFD;"
MAX_TITLE_CHARS = 1000
# What feedparser 6.0.14 was seen to raise on malformed input (e.g. KeyError 'links' from a
# stray `</ITEM` in the loose parser): the feed is then reported as unparseable, not a crash.
FEEDPARSER_CRASHES = (
    KeyError,
    AttributeError,
    IndexError,
    TypeError,
    ValueError,
    UnicodeError,
    RecursionError,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedEntry:
    """One entry of a feed, as we know it."""

    key: str  # guid, else the canonical link: unique within a source
    link: str  # absolute http(s) URL as the feed gave it (resolved against the feed URL)
    canonical: str
    title: str
    published: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedFeed:
    title: str
    version: str  # feedparser's name for the format, e.g. rss20, atom10; "" when unknown
    entries: tuple[FeedEntry, ...]
    bozo: str | None  # why feedparser found the document ill-formed, if it did
    skipped: int  # entries without a usable http(s) link


def strip_doctype(content: bytes) -> bytes:
    """Remove every `<!DOCTYPE …>` block, internal subset included (entity bombs live there)."""
    content = _as_utf8_if_wide(content)
    while match := _DOCTYPE_START.search(content):
        end = _doctype_end(content, match.end())
        content = content[: match.start()] + content[end:]
    return content


def _doctype_end(content: bytes, start: int) -> int:
    close = content.find(b">", start)
    bracket = content.find(b"[", start)
    if bracket != -1 and (close == -1 or bracket < close):
        subset_end = _SUBSET_END.search(content, bracket)
        return subset_end.end() if subset_end else len(content)
    return close + 1 if close != -1 else len(content)


def _as_utf8_if_wide(content: bytes) -> bytes:
    """UTF-16/32 feeds re-encoded as UTF-8, so the DOCTYPE search sees their text."""
    if not content.startswith(_UTF16_32_BOMS):
        return content
    for codec in ("utf-32", "utf-16"):
        try:
            text = content.decode(codec)
        except UnicodeDecodeError:
            continue
        data = text.encode("utf-8")
        return _ENCODING_DECL.sub(rb'\1"utf-8"', data, count=1)
    return content


def _valid_charref(match: re.Match[bytes]) -> bytes:
    ref = match.group(1)
    digits, base = (ref[1:], 16) if ref[:1] in b"xX" else (ref, 10)
    digits = digits.lstrip(b"0") or b"0"
    if len(digits) > 8:  # beyond any code point; also spares int() a huge number
        return _REPLACEMENT_CHARREF
    code = int(digits, base)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return _REPLACEMENT_CHARREF
    return match.group(0)


def parse_feed(content: bytes, *, url: str, content_type: str = "") -> ParsedFeed:
    """Parse feed bytes fetched from `url` (the final URL, used as the base for links)."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    decoding: dict[str, Any] = {}
    # The text feedparser will parse, as UTF-8 with a matching XML declaration: the DOCTYPE
    # is searched in that, not in bytes that may be UTF-16, UTF-7 or EBCDIC.
    text = convert_to_utf8(dict(headers), content, decoding)
    if decoding.get("encoding") and content_type:
        headers["content-type"] = content_type.split(";")[0].strip() + "; charset=utf-8"
    safe = _CHARREF.sub(_valid_charref, strip_doctype(text))
    try:
        result = feedparser.parse(io.BytesIO(safe), response_headers=headers, sanitize_html=False)
    except FEEDPARSER_CRASHES as exc:  # its loose parser has bugs that hostile input reaches
        return ParsedFeed(
            title="", version="", entries=(), bozo=f"feedparser failed: {exc!r}"[:500], skipped=0
        )
    entries, skipped = _entries(result.get("entries", []))
    bozo = result.get("bozo_exception") if result.get("bozo") else decoding.get("bozo_exception")
    return ParsedFeed(
        title=_text(result.get("feed", {}).get("title")),
        version=str(result.get("version") or ""),
        entries=entries,
        bozo=f"{type(bozo).__name__}: {bozo}"[:500] if bozo is not None else None,
        skipped=skipped,
    )


def _entries(raw_entries: list[Any]) -> tuple[tuple[FeedEntry, ...], int]:
    entries: dict[str, FeedEntry] = {}
    skipped = 0
    for raw in raw_entries:
        entry = to_entry(raw)
        if entry is None:
            skipped += 1
        else:
            entries.setdefault(entry.key, entry)  # duplicate GUIDs: the first one wins
    return tuple(entries.values()), skipped


def to_entry(raw: Any) -> FeedEntry | None:
    """Our value for one feedparser entry; None when it has no http(s) link to fetch."""
    link = _link(raw)
    if link is None:
        return None
    canonical = canonical_url(link)
    guid = _text(raw.get("id"))[:2000]
    return FeedEntry(
        key=guid or canonical,
        link=link,
        canonical=canonical,
        title=_text(raw.get("title"))[:MAX_TITLE_CHARS],
        published=_published(raw),
    )


def _link(raw: Any) -> str | None:
    candidates = [raw.get("link")]
    candidates += [lk.get("href") for lk in raw.get("links", []) if isinstance(lk, dict)]
    guid = raw.get("id")
    if raw.get("guidislink") or (isinstance(guid, str) and guid.startswith("http")):
        candidates.append(guid)
    for candidate in candidates:
        if isinstance(candidate, str) and is_http_url(candidate.strip()):
            return candidate.strip()
    return None


def _published(raw: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # `in` first: feedparser answers a missing updated_parsed with published_parsed and
        # a DeprecationWarning (an error under -W error).
        value = raw.get(key) if key in raw else None
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, TypeError, OSError):
                continue
    return None


def _text(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""
