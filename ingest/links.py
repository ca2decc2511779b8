"""Canonical article URLs, so one article under two links is known once.

Pure: no I/O. Built on courlan's normalisation (lower-case host, default port dropped, query
sorted, tracking parameters such as utm_*, fbclid, gclid removed), plus dropping the fragment.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import courlan


def canonical_url(url: str) -> str:
    """The URL we know an article by; falls back to the fragment-less input if courlan fails."""
    cleaned = url.strip()
    try:
        normalised = str(courlan.normalize_url(cleaned))
    except (ValueError, TypeError, AttributeError):
        normalised = cleaned
    parts = urlsplit(normalised)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
