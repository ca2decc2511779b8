"""robots.txt for article pages: what a site allows, read with Protego (the parser Scrapy
uses: wildcards, longest match, Crawl-delay), and the rules RFC 9309 gives for a robots.txt
that cannot be had.

Pure but for `RobotsCache`, which fetches through the caller's fetch function and keeps one
answer per site for ROBOTS_TTL (the RFC's 24 hours), revalidated with a conditional GET.
Feeds are not checked: they are fetched as feed readers do, at the user's request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from protego import Protego

ROBOTS_TTL = timedelta(hours=24)
MAX_ROBOTS_BYTES = 500_000  # RFC 9309 asks parsers to read at least 500 KiB
MAX_CRAWL_DELAY_S = 60.0  # a longer Crawl-delay is capped (and the site asked politely)

RobotsStatus = Literal["rules", "none", "unavailable"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RobotsAnswer:
    """What one site's /robots.txt said, and when we asked.

    - rules: a 2xx answer; the body is the rules;
    - none: 4xx (no robots.txt): everything is allowed (RFC 9309 2.3.1.3);
    - unavailable: 5xx, a network failure or a redirect loop: everything is disallowed
      for now (RFC 9309 2.3.1.4); pages wait for the next pass rather than fail.
    """

    site: str  # scheme://host[:port]
    status: RobotsStatus
    body: str = ""
    fetched_at: datetime
    etag: str | None = None
    last_modified: str | None = None

    def is_fresh(self, now: datetime) -> bool:
        return now - self.fetched_at < ROBOTS_TTL


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a page may be fetched; `reason` says why not."""

    allowed: bool
    reason: str = ""
    retry_later: bool = False  # robots.txt could not be had: try again next pass


def site_of(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def robots_url(url: str) -> str:
    return site_of(url) + "/robots.txt"


@dataclass(frozen=True, slots=True)
class Rules:
    """A parsed answer for one user agent."""

    answer: RobotsAnswer
    parser: Protego | None

    @classmethod
    def of(cls, answer: RobotsAnswer) -> Rules:
        parser = Protego.parse(answer.body) if answer.status == "rules" else None
        return cls(answer, parser)

    def verdict(self, url: str, user_agent: str) -> Verdict:
        if self.answer.status == "unavailable":
            return Verdict(False, "robots.txt unavailable", retry_later=True)
        if self.parser is None or self.parser.can_fetch(url, _token(user_agent)):
            return Verdict(True)
        return Verdict(False, "disallowed by robots.txt")

    def crawl_delay(self, user_agent: str) -> float | None:
        """The site's Crawl-delay for us, capped at MAX_CRAWL_DELAY_S (None: none given)."""
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(_token(user_agent))
        return None if delay is None else min(float(delay), MAX_CRAWL_DELAY_S)


def _token(user_agent: str) -> str:
    """The product token robots.txt groups are matched on: "claimwatch/0.1 (...)" -> claimwatch."""
    return user_agent.split("/", 1)[0].split()[0] if user_agent.strip() else "*"


Fetch = Callable[[str, RobotsAnswer | None], RobotsAnswer]
Store = Callable[[RobotsAnswer], None]


@dataclass(slots=True)
class RobotsCache:
    """One answer per site: from memory, else the database (`load`), refreshed through `fetch`
    (with the old answer's validators) when older than ROBOTS_TTL; new answers are saved with
    `save`. Thread-safe; two threads asking for one site wait for one fetch."""

    fetch: Fetch
    load: Callable[[str], RobotsAnswer | None]
    save: Store
    clock: Callable[[], datetime]
    _rules: dict[str, Rules] = field(default_factory=dict)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def rules_for(self, url: str) -> Rules:
        site = site_of(url)
        with self._guard:
            lock = self._locks.setdefault(site, threading.Lock())
        with lock:
            now = self.clock()
            known = self._rules.get(site)
            if known is not None and known.answer.is_fresh(now):
                return known
            stored = known.answer if known is not None else self.load(site)
            if stored is None or not stored.is_fresh(now):
                stored = self.fetch(site, stored)
                self.save(stored)
            rules = Rules.of(stored)
            self._rules[site] = rules
            return rules
