"""Turning fetched page bytes into text: UTF-8 when the bytes are valid UTF-8 (whatever the
label says), else the declared charset, else the document's own <meta> declaration, else
charset-normalizer's best guess (windows-1252 when that fits as well as any other).

Pure: no I/O.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_SNIFF_BYTES = 4096


def known_codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_html(content: bytes, declared: str | None) -> str:
    """The page as text; never raises, undecodable bytes become U+FFFD.

    Labels lie both ways: servers send `charset=iso-8859-1` for UTF-8 pages and `utf-8` for
    windows-1252 ones. Non-ASCII bytes that happen to form valid UTF-8 are vanishingly rare in
    legacy-encoded text, so valid UTF-8 wins over any label, and a UTF-8 label on bytes that
    are not UTF-8 is ignored.
    """
    if content.startswith(codecs.BOM_UTF8):
        return content[3:].decode("utf-8", errors="replace")
    wide = known_codec(declared)
    if wide is not None and wide.startswith(("utf-16", "utf-32")):  # ASCII in these is NULs
        return content.decode(wide, errors="replace")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for candidate in (declared, _meta_charset(content)):
        codec = _legacy_codec(candidate)
        if codec is not None:
            return content.decode(codec, errors="replace")
    return content.decode(_guess(content), errors="replace")


# As browsers do (WHATWG Encoding): these labels mean windows-1252, whose 0x80-0x9F are
# printable (€, ‚, „, “, ”, –, —) where ISO 8859-1 has invisible C1 controls.
_AS_WINDOWS_1252 = frozenset({"iso8859-1", "ascii"})


def _legacy_codec(label: str | None) -> str | None:
    """The codec for a label on bytes known not to be UTF-8; None for UTF-8 or unknown."""
    codec = known_codec(label)
    if codec is None or codec.startswith("utf-8"):
        return None
    return "cp1252" if codec in _AS_WINDOWS_1252 else codec


def _guess(content: bytes) -> str:
    """charset-normalizer's best guess, but windows-1252 (the web's default legacy encoding,
    WHATWG's fallback for Western locales) when it decodes the bytes as cleanly: on German or
    mixed Western text the detector otherwise picks a look-alike such as cp1250 (č for è)."""
    results = from_bytes(content)
    best = results.best()
    if best is None:
        return "cp1252"
    for match in results:
        if match.chaos <= best.chaos and "cp1252" in match.could_be_from_charset:
            return "cp1252"
    return known_codec(best.encoding) or "utf-8"


def _meta_charset(content: bytes) -> str | None:
    match = _META_CHARSET.search(content[:_SNIFF_BYTES])
    return match[1].decode("ascii", errors="replace") if match else None


HTML_MEDIA_TYPES = frozenset({"text/html", "application/xhtml+xml", ""})


def is_html_media_type(media_type: str) -> bool:
    """HTML, or no type at all (sniffed later); everything else (PDF, images…) is skipped."""
    return media_type in HTML_MEDIA_TYPES


def looks_like_html(text: str) -> bool:
    head = text[:_SNIFF_BYTES].lstrip().lower()
    return head.startswith(("<!doctype html", "<html", "<head", "<body", "<!--")) or (
        "<p" in head or "<div" in head or "<article" in head
    )
