"""Grouping of claims across documents: calibration figures, a syndicated copy, index speed."""

from __future__ import annotations

import itertools
import random
import statistics
from pathlib import Path

import pytest
from conftest import shared_root

from digest.claims.finder import find_claims
from digest.claims.grouping import THRESHOLD, ClaimIndex, normalize_for_grouping, similarity
from digest.claims.topics import DEFAULT_TOPICS

# (original seed sentence, a reworded version a syndicating site might print)
REWORDINGS = (
    (
        "We all know that stress can be a major contributing factor in back pain.",
        "Stress is well known to be a major factor contributing to back pain.",
    ),
    (
        "Massage is often recommended by physicians for patients who suffer from mild back "
        "pain conditions.",
        "Physicians often recommend massage to patients suffering from mild back pain.",
    ),
    (
        "Training as a massage therapist varies by state, but most states require at least "
        "500 hours of formal training before granting a license to a massage therapist.",
        "Most states require at least 500 hours of formal training before they grant a "
        "massage therapist a license, though training varies by state.",
    ),
    (
        "One benefit to massage over other forms of treatment is the reduced cost.",
        "A benefit of massage over other forms of treatment is its reduced cost.",
    ),
    (
        "Massage just doesn't go far enough to give you long term relief.",
        "But massage simply doesn't go far enough to give long-term relief.",
    ),
    (
        "In many cases, inactive muscle use leads to back pain, since the muscles tend to "
        "become stiff and inflexible.",
        "Inactive muscle use often leads to back pain because muscles become stiff and inflexible.",
    ),
    (
        "First and foremost, blood circulation is greatly improved with massage therapy.",
        "Massage therapy greatly improves blood circulation.",
    ),
    (
        "It also could help relieve chronic back pain.",
        "Massage could also help relieve chronic back pain.",
    ),
    (
        "Most licensed massage therapists have at least one year of formal training, "
        "chiropractor Schneider says.",
        "Most licensed massage therapists have at least a year of formal training, according "
        "to chiropractor Schneider.",
    ),
    (
        "Some health insurance plans cover massage, usually under a doctor’s orders.",
        "Some health insurance plans will cover massage, usually when a doctor orders it.",
    ),
    (
        "A solid massage loosens those muscles, making the back more flexible and less painful.",
        "A good massage loosens the muscles, making your back less painful and more flexible.",
    ),
    (
        "For most people, however, massage remains one of the foremost effective ways of "
        "alleviating back and muscle pain.",
        "For most people massage remains one of the most effective ways of alleviating back "
        "and muscle pain.",
    ),
)


def _seeds_dir() -> Path:
    seeds = shared_root() / "seeds"
    if not seeds.is_dir():
        pytest.skip(f"seed documents not found at {seeds} (set CLAIMWATCH_SHARED)")
    return seeds


def _seed_quotes() -> list[list[str]]:
    return [
        [claim.quote for claim in find_claims(path.read_text("utf-8"), DEFAULT_TOPICS)]
        for path in sorted(_seeds_dir().glob("*.txt"))
    ]


def test_normalize_for_grouping_ignores_case_quotes_and_punctuation() -> None:
    assert (
        normalize_for_grouping("“Massage’s   effects,” Reyes says!") == "massage effects reyes says"
    )


def test_rewordings_score_above_threshold_and_distinct_claims_below() -> None:
    reworded = [similarity(original, copy) for original, copy in REWORDINGS]
    within = [
        similarity(left, right)
        for quotes in _seed_quotes()
        for left, right in itertools.combinations(quotes, 2)
    ]
    print(
        f"\nreworded: min {min(reworded):.2f} median {statistics.median(reworded):.2f}; "
        f"different claims, same article: max {max(within):.2f} "
        f"median {statistics.median(within):.2f}; threshold {THRESHOLD}"
    )
    assert min(reworded) >= THRESHOLD
    assert max(within) < THRESHOLD


def test_different_claims_of_one_article_get_their_own_groups() -> None:
    for quotes in _seed_quotes():
        index = ClaimIndex()
        groups = [index.add(claim_id, quote) for claim_id, quote in enumerate(quotes)]
        assert groups == list(range(len(quotes)))


def _syndicated_copy(original: str, sentence: str, reworded: str) -> str:
    """The article on another site: other clutter around it, one sentence reworded."""
    assert sentence in original
    body = original.replace(sentence, reworded)
    header = "Health News Daily\n\nHome | Health | Fitness | Contact\n\n"
    footer = "\n\nShare on facebook\n\nCopyright © 2024 Health News Daily. All rights reserved.\n"
    return header + body + footer


def test_syndicated_copy_claims_join_the_original_groups() -> None:
    original = next(_seeds_dir().glob("002_*.txt")).read_text("utf-8")
    first = find_claims(original, DEFAULT_TOPICS)
    quotes = {claim.quote for claim in first}
    sentence, reworded = next((s, r) for s, r in REWORDINGS if s in quotes)
    copy = _syndicated_copy(original, sentence, reworded)
    index = ClaimIndex()
    for claim_id, claim in enumerate(first):
        assert index.add(claim_id, claim.quote) == claim_id
    second = find_claims(copy, DEFAULT_TOPICS)
    # The detector reads context (title, position), so another site's clutter may change
    # which borderline sentences it reports; the shared claims must join their groups.
    ids = {claim.quote: claim_id for claim_id, claim in enumerate(first)}
    ids[reworded] = ids[sentence]
    shared = [claim for claim in second if claim.quote in ids]
    assert len(shared) >= 0.8 * len(first)
    for offset, claim in enumerate(shared):
        assert index.add(1000 + offset, claim.quote) == ids[claim.quote]
    assert index.add(9999, reworded) == ids[sentence]


def test_restored_claims_keep_their_group_and_attract_new_members() -> None:
    index = ClaimIndex()
    index.restore(7, "Massage relieves chronic back pain in office workers.", 3)
    assert index.group_of(7) == 3
    assert index.add(8, "Massage relieves chronic back pain in many office workers.") == 3
    assert index.add(9, "Sciatica often resolves within six weeks.") == 9


def _synthetic_claim(rng: random.Random) -> str:
    """A claim-like word set: a few topic words everyone uses, the rest from a long tail."""
    head = rng.sample(["massage", "back", "pain", "muscle", "therapist", "relief", "help"], 3)
    tail = [f"w{rng.randrange(300_000)}" for _ in range(7)]
    return " ".join(head + tail)


def test_index_with_many_claims_still_finds_the_match() -> None:
    # Correctness under load only; its speed is measured by `make bench`, not asserted here.
    rng = random.Random(7)
    index = ClaimIndex()
    for claim_id in range(5_000):
        index.add(claim_id, _synthetic_claim(rng))
    probe = "Massage relieves back pain and muscle tension in most office workers."
    assert index.add(5_000, probe) == 5_000
    for claim_id in range(5_001, 5_500):
        index.add(claim_id, _synthetic_claim(rng))
    assert index.add(5_500, "massage relieves back pain, muscle tension in office workers") == 5_000
    assert len(index) == 5_501
