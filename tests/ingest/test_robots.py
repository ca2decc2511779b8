"""robots.txt rules as a crawler must read them (RFC 9309), and the cache that asks each site
once a day with a conditional GET."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from ingest.robots import RobotsAnswer, RobotsCache, Rules, robots_url, site_of

UA = "claimwatch/0.1 (+https://github.com/claimwatch/claimwatch; feed reader)"
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
BODY = """
User-agent: *
Disallow: /private/
Crawl-delay: 2

User-agent: claimwatch
Disallow: /news/drafts/
Allow: /news/
Disallow: /*.pdf$
Crawl-delay: 120
"""


def _rules(status: str = "rules", body: str = BODY) -> Rules:
    return Rules.of(
        RobotsAnswer(site="https://e.org", status=status, body=body, fetched_at=T0)  # type: ignore[arg-type]
    )


def test_our_group_wins_over_the_wildcard_and_the_longest_match_decides() -> None:
    rules = _rules()
    assert rules.verdict("https://e.org/news/massage-study", UA).allowed
    assert not rules.verdict("https://e.org/news/drafts/x", UA).allowed
    assert not rules.verdict("https://e.org/news/report.pdf", UA).allowed
    assert rules.verdict("https://e.org/private/x", UA).allowed  # only * disallows it
    assert rules.verdict("https://e.org/news/drafts/x", UA).reason == "disallowed by robots.txt"
    assert rules.crawl_delay(UA) == 60.0  # 120 asked, capped
    assert _rules(body="User-agent: *\nCrawl-delay: 3\n").crawl_delay(UA) == 3.0


def test_no_robots_txt_allows_everything_and_an_unavailable_one_nothing_for_now() -> None:
    missing = _rules(status="none", body="")
    assert missing.verdict("https://e.org/anything", UA).allowed
    assert missing.crawl_delay(UA) is None
    down = _rules(status="unavailable", body="")
    verdict = down.verdict("https://e.org/anything", UA)
    assert not verdict.allowed and verdict.retry_later


def test_sites_and_robots_urls() -> None:
    assert site_of("https://E.org:8443/a/b?c#d") == "https://E.org:8443"
    assert robots_url("http://e.org/a/b") == "http://e.org/robots.txt"


def test_the_cache_asks_each_site_once_a_day_revalidating_what_it_has() -> None:
    now = [T0]
    asked: list[tuple[str, RobotsAnswer | None]] = []
    saved: list[RobotsAnswer] = []
    old = RobotsAnswer(
        site="https://old.org",
        status="rules",
        body="User-agent: *\nDisallow: /x\n",
        fetched_at=T0 - timedelta(hours=30),
        etag='"v1"',
    )
    stored = {"https://old.org": old}

    def fetch(site: str, previous: RobotsAnswer | None) -> RobotsAnswer:
        asked.append((site, previous))
        return RobotsAnswer(site=site, status="none", fetched_at=now[0])

    cache = RobotsCache(fetch=fetch, load=stored.get, save=saved.append, clock=lambda: now[0])
    threads = [
        threading.Thread(target=cache.rules_for, args=("https://e.org/a",)) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [site for site, _ in asked] == ["https://e.org"]  # eight threads, one request
    cache.rules_for("https://old.org/y")  # stored but stale: revalidated with its etag
    assert asked[-1] == ("https://old.org", stored["https://old.org"])
    now[0] = T0 + timedelta(hours=23)
    cache.rules_for("https://e.org/b")
    assert len(asked) == 2
    now[0] = T0 + timedelta(hours=25)
    cache.rules_for("https://e.org/b")
    assert len(asked) == 3 and len(saved) == 3
