"""Features of a sentence for the two learned questions: its form (claim, anecdote or none,
whatever it is about) and whether it is about a configured topic.

Pure: no I/O. Every feature is a string (present or not), so a model is a table of weights.

- Form features (`form_features`) know no topic: the sentence's words and word pairs (numbers
  folded into <num>), its first words, the rule cues of `filters` and `cues` (question,
  advice, study design, first person, attribution, hedging, …), its length, and where it stands
  (lead paragraph, after an "About …" heading, right after an attributed sentence).
- Topic features (`topic_features`) know only where the configured topic's terms are: in the
  sentence, the sentences and blocks around it, the paragraph, the heading above, the title,
  the lead, and how often the article mentions the topic at all; plus whether the sentence
  points back (an anaphor) or refers to "the treatment" or "the patients". No word of any topic
  is a feature, so the same weights serve any topic configured by its terms.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from digest.claims import cues, filters
from digest.claims.sentences import Block, Sentence
from digest.claims.topics import TopicMatcher

_TOKEN_RE = re.compile(r"[a-z]+(?:['’][a-z]+)?|\d+(?:[.,]\d+)*")
_ANAPHOR_RE = re.compile(r"^\W*(?:this|these|those|it|its|they|their|such|that)\b", re.I)
_REFERENCE_RE = re.compile(
    r"\bthe (?:treatment|therapy|therapies|procedure|technique|intervention|device|implant"
    r"|injection|drug|study|trial|researchers|patients|participants|subjects|group|results"
    r"|findings|approach|program|sessions?|method)\b",
    re.I,
)
_ABOUT_HEADING_RE = re.compile(r"^\W*about\b", re.I)
_OPENING_QUOTE_RE = re.compile(r"^[\"“‘']")
_SAID_RE = re.compile(r"\b(?:said|says|say|told|explained|added|noted|according to)\b", re.I)


def _bucket(value: int, edges: Sequence[int]) -> str:
    """The first edge `value` does not exceed, as a label ("<=2"), or the last one (">12")."""
    for edge in edges:
        if value <= edge:
            return f"<={edge}"
    return f">{edges[-1]}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Layout:
    """Where each topic's terms are in one article: computed once per article and topic."""

    title: bool  # the title line mentions the topic
    lead: bool  # one of the first LEAD_BLOCKS blocks after the title does
    mentions: int  # in the whole text
    blocks: tuple[bool, ...]  # per block: mentions the topic
    block_count: int
    # The article's words for the topic's subject: content words of the blocks that name the
    # topic (title included), each with the number of such blocks it occurs in.
    subject: Counter[str]
    # Per block: blocks back to the nearest earlier mention, and on to the next (99: none).
    back: tuple[int, ...]
    on: tuple[int, ...]


# Words too common in health news to tell one subject from another.
_COMMON_WORDS = frozenset(
    """
    about after also among been before being between both could does during each from have
    into just like many more most much only other over said says some such than that their
    them then there these they this those through under very were what when where which while
    will with would year years percent people study studies researchers patients according
    found results research health medical doctors doctor treatment""".split()  # noqa: SIM905
)
_CONTENT_RE = re.compile(r"[a-z][a-z-]{3,}")


def content_words(text: str) -> frozenset[str]:
    """Lower-cased words of four letters or more, a plural "s" dropped, common ones left out."""
    words = (
        w[:-1] if w.endswith("s") and not w.endswith("ss") else w
        for w in _CONTENT_RE.findall(text.lower())
    )
    return frozenset(w for w in words if w not in _COMMON_WORDS)


LEAD_BLOCKS = 3


def layouts(blocks: Sequence[Block], matcher: TopicMatcher) -> tuple[Layout, ...]:
    """Where each topic of `matcher` is mentioned in an article (one pass over the text)."""
    count = len(matcher.names)
    per_block = []
    for block in blocks:
        found = [0] * count
        for match in matcher.pattern.finditer(block.text):
            found[int(str(match.lastgroup)[1:])] += 1
        per_block.append(found)
    words = [
        content_words(block.text) if any(row) else frozenset()
        for block, row in zip(blocks, per_block, strict=True)
    ]
    layouts = []
    for topic in range(count):
        subject: Counter[str] = Counter()
        for row, named in zip(per_block, words, strict=True):
            if row[topic]:
                subject.update(named)
        hits = tuple(row[topic] > 0 for row in per_block)
        back, on = _distances(hits)
        layouts.append(
            Layout(
                title=bool(per_block) and per_block[0][topic] > 0,
                lead=any(row[topic] for row in per_block[1 : 1 + LEAD_BLOCKS]),
                mentions=sum(row[topic] for row in per_block),
                blocks=hits,
                block_count=len(blocks),
                subject=subject,
                back=back,
                on=on,
            )
        )
    return tuple(layouts)


def article_features(where: Layout) -> list[str]:
    """What the article as a whole says about how much it is about the topic."""
    share = sum(where.blocks) / where.block_count if where.block_count else 0.0
    return [
        f"a:title={where.title}",
        f"a:lead={where.lead}",
        f"a:mentions{_bucket(where.mentions, (0, 1, 2, 4, 8, 16))}",
        f"a:share{_bucket(round(share * 10), (0, 1, 2, 4))}",
        f"a:title+lead={where.title and where.lead}",
    ]


NO_MENTION = 99  # the distance to a mention when there is none on that side


def _distances(hits: Sequence[bool]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """For every block, blocks back to the nearest earlier mention and on to the next (one
    pass each way)."""
    back, last = [], None
    for index, hit in enumerate(hits):
        back.append(NO_MENTION if last is None else index - last)
        if hit:
            last = index
    on, following = [0] * len(hits), None
    for index in range(len(hits) - 1, -1, -1):
        on[index] = NO_MENTION if following is None else following - index
        if hits[index]:
            following = index
    return tuple(back), tuple(on)


def block_features(where: Layout, index: int, heading_hit: bool) -> list[str]:
    """The block's neighbourhood, shared by all its sentences."""
    back, on = where.back[index], where.on[index]
    return [
        f"b:back{_bucket(back, (1, 2, 4, 8))}",
        f"b:on{_bucket(on, (1, 2, 4, 8))}",
        f"b:heading={heading_hit}",
        f"b:rel{_bucket(round(10 * index / max(1, where.block_count)), (1, 3, 6, 8))}",
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class Neighbourhood:
    """Mentions of the topic around one sentence, within its block and paragraph."""

    own: bool
    previous: bool  # the sentence just before (in this block or the one before)
    following: bool
    in_block: bool  # another sentence of the same block
    in_paragraph: bool  # another block of the same paragraph


def subject_overlap(
    words: frozenset[str], block_words: frozenset[str], block_hit: bool, where: Layout
) -> int:
    """How many of a sentence's content words the article uses where it names the topic,
    in blocks other than the sentence's own (whose words are `block_words`)."""
    return sum(1 for w in words if where.subject[w] - (block_hit and w in block_words) > 0)


SUBJECT_EDGES = (0, 1, 2, 4)
WORD_EDGES = (6, 12, 25, 40)


def _labels(edges: Sequence[int]) -> tuple[str, ...]:
    return (*(f"<={edge}" for edge in edges), f">{edges[-1]}")


def sentence_topic_features(sentence: Sentence, near: Neighbourhood, overlap: int = 0) -> list[str]:
    features = [
        f"s:subject{_bucket(overlap, SUBJECT_EDGES)}",
        f"s:own={near.own}",
        f"s:prev={near.previous}",
        f"s:next={near.following}",
        f"s:block={near.in_block}",
        f"s:para={near.in_paragraph}",
        f"s:words{_bucket(len(sentence.text.split()), WORD_EDGES)}",
    ]
    if _ANAPHOR_RE.search(sentence.text):
        features.append("s:anaphor")
    if _REFERENCE_RE.search(sentence.text):
        features.append("s:reference")
    return features


def unnamed_sentence_features(
    *, previous_block: bool, next_block: bool, in_paragraph: bool, article: Sequence[str]
) -> tuple[list[str], list[tuple[str, ...]]]:
    """What the topic features of any sentence of a block that names no topic can be, before
    the block is split: the features all its sentences have, and groups of which each sentence
    has one ("" for none). `sentence_topic_features` and `topic_features` in reverse, so that
    the detector can bound a block's topic probability (finder.readable_blocks)."""
    fixed = ["s:own=False", "s:block=False", f"s:para={in_paragraph}"]
    fixed += [f"{f}&own=False" for f in article]
    groups = [
        ("s:prev=False", *(("s:prev=True",) if previous_block else ())),
        ("s:next=False", *(("s:next=True",) if next_block else ())),
        tuple(f"s:subject{label}" for label in _labels(SUBJECT_EDGES)),
        tuple(f"s:words{label}" for label in _labels(WORD_EDGES)),
        ("", "s:anaphor"),
        ("", "s:reference"),
    ]
    return fixed, groups


def topic_features(
    article: Sequence[str],
    block: Sequence[str],
    sentence: Sentence,
    near: Neighbourhood,
    overlap: int,
) -> list[str]:
    """All topic features of one sentence for one topic."""
    own = near.own
    return [
        *article,
        *block,
        *sentence_topic_features(sentence, near, overlap),
        *(f"{f}&own={own}" for f in article),
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class FormContext:
    """What the form features need to know beyond the sentence itself."""

    lead: bool  # in the first paragraph after the title
    after_about: bool  # under a heading that starts "About"
    previous_attributed: bool  # the sentence before, in the same paragraph, names a speaker
    heading: bool  # the splitter took the block for a heading (or a list stub)
    repeat: bool  # its block opens as an earlier block did (a caption, a pull quote)
    masked: str  # the sentence with the topics' terms replaced by TOPIC_MASK (`mask_topics`)


def _tokens(text: str) -> list[str]:
    return ["<num>" if t[0].isdigit() else t for t in _TOKEN_RE.findall(text.lower())]


def word_features(text: str) -> list[str]:
    tokens = _tokens(text)
    features = [f"w:{t}" for t in tokens]
    features += [f"p:{a}_{b}" for a, b in itertools.pairwise(tokens)]
    features += [f"f:{t}" for t in tokens[:2]]
    if tokens:
        features.append(f"f2:{'_'.join(tokens[:2])}")
    return features


def cue_features(text: str) -> list[str]:
    """The rule lexicons, each a feature: what the rules knew, for the model to weigh."""
    found = []
    lower = text.lower()
    reason = filters.exclusion_reason(text)
    if reason is not None:
        found.append(f"c:{reason}")
    expert = cues.has_expert(text)
    named = (
        ("first_person", filters.is_first_person(text)),
        ("first_plural", filters.is_first_plural(text)),
        ("story", filters.is_anecdote(text, attributed=expert)),
        ("hedged", cues.is_hedged(text)),
        ("negated", cues.is_negated(text)),
        ("expert", expert),
        ("said", _SAID_RE.search(text) is not None),
        ("quote", _OPENING_QUOTE_RE.match(text) is not None),
        ("statistic", cues.STATISTIC_RE.search(lower) is not None),
        ("study", cues.STUDY_RE.search(lower) is not None),
        ("question", text.rstrip("\"'”’) ").endswith("?")),
    )
    found += [f"c:{name}" for name, present in named if present]
    return found


# What a configured topic's term becomes before the form model reads a sentence's words:
# nothing. The form model knows no topic, so "massage relieved back pain" and "the drug
# relieved migraine" look alike to it (cross-validated: as good as a placeholder word, and
# the topic's own words no longer weigh against the form, as they did unmasked).
TOPIC_MASK = " "


def mask_topics(text: str, matcher: TopicMatcher) -> str:
    return matcher.pattern.sub(TOPIC_MASK, text)


def form_features(sentence: Sentence, context: FormContext) -> list[str]:
    text = sentence.text
    features = [*word_features(context.masked), *cue_features(text)]
    features.append(f"l:words{_bucket(len(text.split()), (3, 6, 12, 25, 40))}")
    features += [
        name
        for name, present in (
            ("x:lead", context.lead),
            ("x:after_about", context.after_about),
            ("x:prev_attributed", context.previous_attributed),
            ("x:heading", context.heading),
            ("x:repeat", context.repeat),
        )
        if present
    ]
    return features


def type_cue_features(text: str) -> list[str]:
    """Which type cue lexicons the sentence hits: the type model reads these beside the form
    features."""
    lower = text.lower()
    found = [f"t:{name}" for name, pattern in cues.TYPE_CUES.items() if pattern.search(lower)]
    found += [f"g:{name}" for name, p in cues.GENERAL_TYPE_CUES.items() if p.search(lower)]
    return found


REPEAT_WORDS = 8  # two blocks opening with the same eight words say the same thing


def opening(text: str) -> tuple[str, ...]:
    """A block's first REPEAT_WORDS words, lower-cased: the key for `repeat`."""
    return tuple(_TOKEN_RE.findall(text[:400].lower())[:REPEAT_WORDS])


def is_about_heading(text: str) -> bool:
    return _ABOUT_HEADING_RE.match(text) is not None


def is_attributed(text: str) -> bool:
    """Whether the sentence reports speech ("said", "according to"): a cheap cue, once per
    sentence, for the sentence after it."""
    return _SAID_RE.search(text) is not None


def sigmoid(score: float) -> float:
    if score >= 0:
        return 1.0 / (1.0 + math.exp(-score))
    exp = math.exp(score)
    return exp / (1.0 + exp)
