"""The values a digest is made of: what is selected, what is rendered, what the archive lists.

Pure data and tiny pure helpers; no I/O, no rendering, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from digest.claims.claim import ClaimType, Evidence

# "2026-11-23-0800": names the archive page and appears in Message-IDs, so it is checked
# before it reaches a file name or a header.
DIGEST_KEY_RE: Final = re.compile(r"\A\d{4}-\d{2}-\d{2}-\d{4}\Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class DigestItem:
    """One claim as shown in a digest."""

    quote: str
    doc_title: str
    url: str
    source: str
    published: datetime | None  # tz-aware
    type: ClaimType
    hedged: bool
    negated: bool
    evidence: tuple[Evidence, ...]
    also_in: int  # number of OTHER sources/documents carrying the same claim group


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceFailure:
    """A source that failed since the previous digest, as recorded by the fetcher."""

    source: str
    url: str
    kind: str
    message: str
    last_at: datetime
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Digest:
    """Everything one digest shows, selected from the database; input of `render`."""

    key: str  # "2026-11-23-0800", also the archive page name stem
    created_at: datetime  # tz-aware
    since: datetime | None
    topics: tuple[str, ...]  # display labels, e.g. ("massage", "back-pain")
    items: tuple[DigestItem, ...]
    failures: tuple[SourceFailure, ...]
    article_count: int
    source_count: int
    omitted: int = 0  # claims carried but not shown (over digest.max_claims)


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderedDigest:
    """A digest rendered for mail and archive: subject line, HTML (CSS inlined) and text."""

    subject: str
    html: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiveEntry:
    """One digest as listed in the archive index and the Atom feed."""

    key: str
    created_at: datetime  # tz-aware
    subject: str
    claim_count: int
    summary: str  # one line, e.g. "12 claims from 9 articles in 5 sources"


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiveSite:
    """Where the archive is published: `base_url` is the public URL of `html_dir`."""

    base_url: str  # absolute http(s) URL ending in "/", e.g. "https://example.org/claims/"
    title: str = "claimwatch digests"


def digest_key(created_at: datetime) -> str:
    """The key of a digest created at `created_at`, e.g. "2026-11-23-0800"."""
    return created_at.strftime("%Y-%m-%d-%H%M")


def is_digest_key(key: str) -> bool:
    """Whether `key` has the shape of a digest key (and is therefore safe in names)."""
    return DIGEST_KEY_RE.match(key) is not None
