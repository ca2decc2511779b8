"""What a digest carries: the first-run window, collapsing by group, the cap on shown claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from digest.claims.store import ClaimRef
from digest.compose.model import DigestItem
from digest.compose.render import make_environment, render
from digest.compose.selection import assemble, choose_claims, window_for

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def item(n: int) -> DigestItem:
    return DigestItem(
        quote=f"Massage claim number {n}.",
        doc_title=f"Article {n}",
        url=f"https://example.org/{n}",
        source="news",
        published=NOW,
        type="efficacy",
        hedged=False,
        negated=False,
        evidence=(),
        also_in=0,
    )


def test_one_claim_per_group_and_the_cap_keeps_repeated_and_evidenced_ones_in_order() -> None:
    refs = [
        ClaimRef(id=10, group=10, evidence=0, confidence=0.9),
        ClaimRef(id=11, group=11, evidence=0, confidence=0.9),  # in 4 documents
        ClaimRef(id=12, group=12, evidence=1, confidence=0.9),
        ClaimRef(id=13, group=13, evidence=0, confidence=0.9),
        ClaimRef(id=14, group=11, evidence=2, confidence=0.9),  # same group as 11: collapsed
        ClaimRef(id=15, group=15, evidence=0, confidence=0.9),  # in 2 documents
    ]
    choice = choose_claims(refs, {11: 4, 15: 2}, limit=3)
    assert choice.shown == (11, 12, 15)
    assert choice.carried == (10, 11, 12, 13, 14, 15)
    assert choice.omitted == 2
    assert choose_claims(refs, {}, limit=10).shown == (10, 11, 12, 13, 15)


def test_a_capped_digest_counts_every_claim_and_says_how_many_are_not_shown() -> None:
    digest = assemble(
        key="2026-11-23-0800",
        created_at=NOW,
        since=None,
        topics=("massage",),
        items=tuple(item(n) for n in range(5)),
        failures=(),
        omitted=2,
    )
    rendered = render(digest, make_environment(None))
    assert rendered.subject.startswith("7 new massage claims")
    assert "2 more claims" in rendered.text and "2 more claims" in rendered.html


def test_first_run_windows() -> None:
    assert window_for(previous_watermark=None, first_run="all", now=NOW, max_seq=9).after_seq == -1
    none = window_for(previous_watermark=None, first_run="none", now=NOW, max_seq=9)
    assert none.after_seq == 9 and none.up_to_seq == 9
    week = window_for(previous_watermark=None, first_run="7d", now=NOW, max_seq=9)
    assert week.since == NOW - timedelta(days=7)
    later = window_for(previous_watermark=4, first_run="7d", now=NOW, max_seq=9)
    assert (later.after_seq, later.up_to_seq, later.since) == (4, 9, None)
