"""Finding claims about configured topics in a seed-format document.

Pure: no I/O, no database. For each sentence, in order:

    sentence ─ heading? ──────────────────────────────▶ (context only)
             ─ topics: own terms, else carried from context (below)
             ─ claimfilters.exclusion_reason ─────────▶ not reported
             ─ claimfilters.is_anecdote ──────────────▶ Claim(kind="anecdote")
             ─ otherwise ─────────────────────────────▶ Claim(kind="claim")
    each Claim gets claimtypes.type_of / is_hedged / is_negated / evidence_of

Topic carry-over ("This can be caused by …" after a back-pain sentence): a sentence without
topic terms takes the topics of the sentence or heading just before it when
- it is in the same paragraph (or follows a heading) and refers back (an anaphor in its first
  ANAPHOR_WINDOW words) or talks about the body or the treatment (DOMAIN_RE); or
- it opens a new paragraph with an anaphor ("In addition to their hands, …").
Carried topics fade: at most MAX_CARRY sentences in a row without a topic word inherit them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from digest.claims.claim import Claim, Evidence, Kind
from digest.claims.cues import (
    evidence_of,
    has_expert,
    is_hedged,
    is_negated,
    type_of,
)
from digest.claims.filters import exclusion_reason, is_anecdote, is_first_plural
from digest.claims.sentences import Block, Sentence, iter_blocks, make_segmenter, split_blocks
from digest.claims.topics import Topic, TopicMatcher, build_matcher

__all__ = ["EXTRACTOR_VERSION", "Claim", "find_claims"]

# Stored with every claim: bump it whenever find_claims would answer differently.
EXTRACTOR_VERSION = "rules-2025.1"

# Two sentences of carry cover a paragraph that explains one point in three sentences
# (topic sentence, mechanism, consequence) and stop before an unrelated digression.
MAX_CARRY = 2
# Anaphors count near the start only: that is where a sentence picks up its predecessor.
ANAPHOR_WINDOW = 6

_ANAPHOR_RE = re.compile(
    r"\b(?:this|these|those|it|its|they|them|their|such|he|she|his|her)\b", re.I
)
_LEADING_THAT_RE = re.compile(r"^\W*that\b", re.I)
_DOMAIN_RE = re.compile(
    r"\b(?:muscles?|blood|tissues?|pain\w*|circulat\w+|lymph\w*|injur\w+|therap\w+"
    r"|treatments?|sessions?|stretch\w*|joints?|nerves?|posture|relief|relax\w*|flexib\w+"
    r"|stiff\w*|sore\w*|tension|spasms?|healing|recovery|discs?|knots?|fibers?|fibres?)\b",
    re.I,
)
_OPENING_QUOTE_RE = re.compile(r"^[\"“‘']")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Context:
    """What one sentence leaves for the next: its topics and how it was read."""

    topics: tuple[str, ...] = ()
    carried: int = 0
    para: int = -1
    heading: bool = False
    kind: Kind | None = None
    expert: bool = False


def _refers_back(text: str) -> bool:
    """Whether an anaphor appears among the first ANAPHOR_WINDOW words."""
    head = " ".join(text.split()[:ANAPHOR_WINDOW])
    return bool(_ANAPHOR_RE.search(head) or _LEADING_THAT_RE.match(head))


def _carries(sentence: Sentence, previous: _Context) -> bool:
    """Whether `sentence` inherits the topics of the sentence or heading before it."""
    if not previous.topics or previous.carried >= MAX_CARRY:
        return False
    adjacent = previous.heading or previous.para == sentence.para
    if adjacent and previous.kind == "anecdote":
        return True
    if adjacent and _DOMAIN_RE.search(sentence.text):
        return True
    return _refers_back(sentence.text)


def _topics_for(
    sentence: Sentence, previous: _Context, matcher: TopicMatcher
) -> tuple[tuple[str, ...], int]:
    """The sentence's topics and how many sentences they have been carried."""
    own = matcher.topics_in(sentence.text)
    if own:
        return own, 0
    if _carries(sentence, previous):
        return previous.topics, previous.carried + 1
    return (), 0


def _kind_of(sentence: Sentence, previous: _Context, expert: bool) -> Kind | None:
    """claim, anecdote, or None when a `none` rule fires."""
    if exclusion_reason(sentence.text) is not None:
        return None
    if is_anecdote(sentence.text, attributed=expert):
        return "anecdote"
    story_goes_on = previous.kind == "anecdote" and previous.para == sentence.para
    if story_goes_on and is_first_plural(sentence.text):
        return "anecdote"
    return "claim"


def _evidence(sentence: Sentence, previous: _Context) -> tuple[Evidence, ...]:
    """Evidence cues; a quotation right after an attributed one keeps the attribution."""
    found = set(evidence_of(sentence.text))
    quoted_on = previous.expert and previous.para == sentence.para
    if quoted_on and _OPENING_QUOTE_RE.match(sentence.text):
        found.add("expert")
    return tuple(sorted(found))


def _claim(sentence: Sentence, kind: Kind, topics: tuple[str, ...], previous: _Context) -> Claim:
    return Claim(
        kind=kind,
        quote=sentence.text,
        start=sentence.start,
        end=sentence.end,
        topics=topics,
        type=type_of(sentence.text),
        hedged=is_hedged(sentence.text),
        negated=is_negated(sentence.text),
        evidence=_evidence(sentence, previous),
    )


def _read(sentences: Sequence[Sentence], matcher: TopicMatcher) -> Iterator[Claim]:
    """Walk the sentences in order, carrying context from each to the next."""
    previous = _Context()
    for sentence in sentences:
        if sentence.heading:
            topics = matcher.topics_in(sentence.text)
            previous = _Context(topics=topics, para=sentence.para, heading=True)
            continue
        topics, carried = _topics_for(sentence, previous, matcher)
        expert = has_expert(sentence.text)
        kind = _kind_of(sentence, previous, expert) if topics else None
        if kind is not None:
            yield _claim(sentence, kind, topics, previous)
        previous = _Context(
            topics=topics, carried=carried, para=sentence.para, kind=kind, expert=expert
        )


def find_claims(
    text: str, topics: Sequence[Topic], *, read_every_block: bool = False
) -> tuple[Claim, ...]:
    """The claims and anecdotes about `topics` in a seed-format text, in text order.
    `read_every_block` splits even the blocks that cannot hold a claim: the same result,
    slower; for tests that check that skipping them changes nothing."""
    matcher = build_matcher(topics)
    if matcher.pattern.search(text) is None:
        return ()  # every claim needs a topic word, its own or its neighbour's: none here
    blocks = list(iter_blocks(text))
    skip = frozenset() if read_every_block else _unreadable_blocks(blocks, matcher)
    return tuple(_read(split_blocks(blocks, make_segmenter(), skip), matcher))


def _unreadable_blocks(blocks: Sequence[Block], matcher: TopicMatcher) -> frozenset[int]:
    """Blocks that cannot hold a claim, so need not be split into sentences: no topic word of
    their own and none in the MAX_CARRY blocks before (carried topics fade after MAX_CARRY
    sentences, and every block has at least one). A block stays when the next block of its
    paragraph stays: a quotation there may take its attribution from this block's last
    sentence. Skipping them changes no result (the sentence before a skipped block carries no
    topics on, having carried them MAX_CARRY times already, and is in another paragraph than
    the sentence after): it spares most of the splitting."""
    hits = [matcher.pattern.search(block.text) is not None for block in blocks]
    keep = [any(hits[max(0, i - MAX_CARRY) : i + 1]) for i in range(len(blocks))]
    for i in range(len(blocks) - 2, -1, -1):
        if keep[i + 1] and blocks[i + 1].para == blocks[i].para:
            keep[i] = True
    return frozenset(i for i, kept in enumerate(keep) if not kept)
