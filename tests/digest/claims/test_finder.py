"""find_claims with the shipped detector: the contract every claim keeps (offsets, topics,
order), what the topic configuration controls, and a behaviour checklist of clear cases.

The checklist is a measurement, not a list of promises: each case is a short article (a title,
then the sentence in a paragraph about the topic) whose answer the definition leaves in no
doubt; the share the detector gets right is printed and held to a floor, so a model that
forgets what a question or a patient's story is fails here even when the quality gate's
sentences happen not to show it.
"""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.claims.finder import (
    EXTRACTOR_VERSION,
    SHIPPED,
    Claim,
    decide,
    find_claims,
    read_article,
    score,
)
from digest.claims.topics import (
    DEFAULT_TOPICS,
    Topic,
    TopicConfig,
    build_matcher,
    topics_from_configs,
)

TITLE = "Massage therapy and low back pain: what a new trial found"
LEAD = (
    "A randomized trial of 400 adults with chronic low back pain compared massage therapy "
    "with usual care."
)


def _article(*paragraphs: str) -> str:
    return "\n\n".join((TITLE, LEAD, *paragraphs)) + "\n"


def _kinds_of(sentence: str) -> set[str]:
    text = _article(sentence)
    start = text.index(sentence)
    return {c.kind for c in find_claims(text, DEFAULT_TOPICS) if c.start >= start}


CLAIMS = [
    "Massage relieved chronic low back pain for up to six months, the researchers found.",
    "Patients who had weekly massage were twice as likely to report less back pain.",
    "There is little evidence that massage helps sciatica in the long run.",
    "Massage may ease low back pain, but the benefits fade after a few weeks.",
    "Back pain is the leading cause of disability worldwide, according to the WHO.",
    "Most states require massage therapists to complete 500 hours of training.",
    "Deep tissue massage can cause bruising and soreness in some patients.",
    "Insurance rarely covers massage therapy for back pain.",
]
NOT_CLAIMS = [
    "Does massage really help back pain?",
    "Ask your doctor whether massage is right for your back pain.",
    "Participants with back pain were randomly assigned to one of three groups.",
    "More studies of massage for back pain are needed.",
    "Share this article on Facebook and Twitter.",
    "The study was published in the Annals of Internal Medicine.",
]
ANECDOTES = [
    "I have had many rounds of massage therapy for my back pain.",
    "After ten sessions of massage for her back pain, she could garden again.",
]
CHECKLIST_FLOOR = 0.75


def test_behaviour_checklist() -> None:
    right = []
    for sentence in CLAIMS:
        right.append(("claim", sentence, "claim" in _kinds_of(sentence)))
    for sentence in NOT_CLAIMS:
        right.append(("none", sentence, "claim" not in _kinds_of(sentence)))
    for sentence in ANECDOTES:
        right.append(("anecdote", sentence, _kinds_of(sentence) == {"anecdote"}))
    share = sum(ok for *_, ok in right) / len(right)
    print(f"\nbehaviour checklist: {share:.0%} of {len(right)} right (floor {CHECKLIST_FLOOR:.0%})")
    for expected, sentence, ok in right:
        if not ok:
            print(f"  missed ({expected}): {sentence}")
    assert share >= CHECKLIST_FLOOR


def test_extractor_version_is_the_shipped_weights_version() -> None:
    assert EXTRACTOR_VERSION.startswith("lr-")


def test_claims_keep_their_contract_on_every_seed(shared_dir: Path) -> None:
    total = 0
    for path in sorted((shared_dir / "seeds").glob("*.txt")):
        text = path.read_text("utf-8")
        claims = find_claims(text, DEFAULT_TOPICS)
        assert claims, path.name
        assert [c.start for c in claims] == sorted(c.start for c in claims)
        first_line = len(text.split("\n", 1)[0])
        for claim in claims:
            assert text[claim.start : claim.end] == claim.quote
            assert claim.start > first_line  # the title is never a claim
            assert claim.topics and set(claim.topics) <= {"massage", "back_pain"}
            assert claim.evidence == tuple(sorted(set(claim.evidence)))
            assert 0 < claim.confidence <= 1
        total += len(claims)
    assert total > 50


def test_without_a_topic_term_nothing_is_a_claim() -> None:
    text = (
        "Statins and the heart\n\nStatins cut the risk of heart attack by a third, a trial of "
        "10,000 adults found. The drug was safe, the researchers said.\n"
    )
    assert find_claims(text, DEFAULT_TOPICS) == ()


def test_a_page_that_mentions_massage_in_passing_makes_its_other_sentences_no_claims() -> None:
    text = (
        "Spring spa deals\n\nThe resort's new wing opens in May with 40 rooms and a pool. "
        "Guests can book a massage at the front desk. Only one coupon can be redeemed per "
        "stay. Prices start at $120 a night, and children under 12 stay free.\n"
    )
    found = [c.quote for c in find_claims(text, DEFAULT_TOPICS) if c.kind == "claim"]
    assert not any("coupon" in q or "Prices" in q or "wing" in q for q in found), found


def test_the_topic_of_a_finding_comes_from_the_article() -> None:
    text = _article(
        "Of the 200 patients treated, 81 percent were pain free one year after a single "
        "10-minute treatment session."
    )
    found = {c.quote: c.topics for c in find_claims(text, DEFAULT_TOPICS)}
    assert any(q.startswith("Of the 200 patients") for q in found), found


def test_custom_topics_are_matched_with_inflections() -> None:
    topics = topics_from_configs([TopicConfig(name="yoga", terms=["yoga", "hot yoga class"])])
    assert topics == (Topic(name="yoga", label="yoga", terms=("yoga", "hot yoga class")),)
    matcher = build_matcher(topics)
    assert matcher.topics_in("Two hot-yoga classes a week") == ("yoga",)
    text = (
        "Yoga for back pain\n\nA trial of 300 adults found that weekly yoga classes eased "
        "chronic back pain as much as physical therapy did.\n"
    )
    assert [c.topics for c in find_claims(text, topics)] == [("yoga",)]


def test_default_matcher_inflections_and_word_boundaries() -> None:
    matcher = build_matcher(DEFAULT_TOPICS)
    assert matcher.topics_in("She was massaging his lumbar muscles") == ("massage", "back_pain")
    assert matcher.topics_in("Massages and backaches") == ("massage", "back_pain")
    assert matcher.topics_in("Spinach and unmassageable backpacks") == ()


def test_topic_config_rejects_unknown_keys_and_blank_terms() -> None:
    with pytest.raises(pydantic.ValidationError):
        TopicConfig.model_validate({"name": "x", "terms": ["a"], "colour": "red"})
    with pytest.raises(pydantic.ValidationError):
        TopicConfig.model_validate({"name": "x", "terms": ["  "]})


_PIECES = [
    "The weather was mild for the season.",
    "Prices rose again in the third quarter.",
    "Massage therapy eased chronic low back pain in a 2019 trial.",
    "This can be caused by sitting too long.",
    "Researchers at the clinic said so.",
    "\u201cIt works for most of my patients,\u201d she said.",
    "I tried deep-tissue massage and my back felt better.",
    "Back Pain Basics",
    "\u2022 Sciatica",
    "Such treatments may not help everyone.",
]


@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(_PIECES), min_size=1, max_size=3),
            st.sampled_from(["\n", "\n\n"]),
        ),
        min_size=1,
        max_size=14,
    )
)
@settings(max_examples=200, deadline=None)
def test_every_claim_is_a_sentence_of_the_text(blocks: list[tuple[list[str], str]]) -> None:
    text = "".join(" ".join(sentences) + sep for sentences, sep in blocks)
    claims: tuple[Claim, ...] = find_claims(text, DEFAULT_TOPICS)
    for claim in claims:
        assert text[claim.start : claim.end] == claim.quote
        assert claim.kind in ("claim", "anecdote")


def _reading_everything(text: str) -> tuple[Claim, ...]:
    """find_claims without its shortcuts: every block split, every sentence scored."""
    matcher = build_matcher(DEFAULT_TOPICS)
    scored = (score(r, SHIPPED) for r in read_article(text, matcher))
    return tuple(c for s in scored if (c := decide(s, matcher.names, SHIPPED)) is not None)


@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(_PIECES), min_size=1, max_size=3),
            st.sampled_from(["\n", "\n\n"]),
        ),
        min_size=1,
        max_size=14,
    )
)
@settings(max_examples=200, deadline=None)
def test_skipping_what_cannot_be_a_claim_changes_no_result(
    blocks: list[tuple[list[str], str]],
) -> None:
    text = "".join(" ".join(sentences) + sep for sentences, sep in blocks)
    if build_matcher(DEFAULT_TOPICS).pattern.search(text):
        assert find_claims(text, DEFAULT_TOPICS) == _reading_everything(text)


def test_skipping_changes_no_result_on_the_pool_and_the_seeds(shared_dir: Path) -> None:
    """The blocks skipped by the topic model's upper bound, and the sentences whose topic
    probability is below both thresholds, hold no claim: on every pool article and seed that
    names a topic (65 + 5; about three blocks in four are skipped in them)."""
    matcher = build_matcher(DEFAULT_TOPICS)
    paths = sorted((shared_dir / "claims" / "pool").glob("*.txt"))
    paths += sorted((shared_dir / "seeds").glob("*.txt"))
    checked = 0
    for path in paths:
        text = path.read_text(encoding="utf-8")
        if matcher.pattern.search(text):
            assert find_claims(text, DEFAULT_TOPICS) == _reading_everything(text), path.name
            checked += 1
    assert checked >= 5


def test_patterns_for_lower_cased_text_find_what_their_case_insensitive_forms_find(
    shared_dir: Path,
) -> None:
    """The cue lexicons are compiled for lower-cased text (cues.lowered: two to three times
    faster than re.IGNORECASE): over every sentence of the seeds and 300 pool articles, each
    finds in `text.lower()` exactly what its re.I form finds in the text."""
    import re

    from digest.claims import cues, filters
    from digest.claims.sentences import split_sentences

    patterns = [cues.HEDGE_RE, cues.NEGATION_RE, cues.STATISTIC_RE, cues.STUDY_RE]
    patterns += [*cues.TYPE_CUES.values(), *cues.GENERAL_TYPE_CUES.values()]
    patterns += [pattern for _, pattern in filters._RULES]
    paths = sorted((shared_dir / "seeds").glob("*.txt"))
    paths += sorted((shared_dir / "claims" / "pool").glob("*.txt"))[:300]
    texts = [s.text for p in paths for s in split_sentences(p.read_text(encoding="utf-8"))]
    assert len(texts) > 5000
    for pattern in patterns:
        assert not pattern.flags & re.IGNORECASE
        original = re.compile(pattern.pattern, pattern.flags | re.IGNORECASE)
        for text in texts:
            assert bool(pattern.search(text.lower())) == bool(original.search(text)), text
