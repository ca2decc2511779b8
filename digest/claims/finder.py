"""Finding claims about configured topics in a seed-format document, with the learned detector.

Pure: no I/O (the shipped weights are a constant of `model`). For each article:

    text ─ blocks, title, headings; where each topic is mentioned (features.Layout)
         ─ sentences of the blocks that could hold a claim (`readable_blocks`)
    each sentence ─ topic model, per topic: P(about the topic)       (features.topic_features)
                  ─ form model: P(claim), P(anecdote), P(none)       (features.form_features)
                  ─ claim   when P(claim) · P(topic) ≥ claim_threshold   for some topic
                    anecdote when P(anecdote) · P(topic) ≥ anecdote_threshold
    each claim ─ type model; hedged, negated, evidence from the cue rules (`cues`)

`confidence` is P(form) · P(topic) for the claim's best topic; its topics are those that pass
the threshold. Why two models: whether a sentence has the form of a claim does not depend on
its subject and is learned from every labelled article; whether it is about a topic depends
only on where the topic's terms are, so a new topic needs only its terms (docs/claims.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from digest.claims import cues
from digest.claims.claim import Claim, Evidence, Kind
from digest.claims.features import (
    REPEAT_WORDS,
    FormContext,
    Layout,
    Neighbourhood,
    article_features,
    block_features,
    content_words,
    form_features,
    is_about_heading,
    is_attributed,
    layouts,
    mask_topics,
    opening,
    sigmoid,
    subject_overlap,
    topic_features,
    type_cue_features,
    unnamed_sentence_features,
)
from digest.claims.model import Detector, LinearModel, load_shipped
from digest.claims.sentences import (
    Block,
    Sentence,
    is_heading_block,
    iter_blocks,
    make_segmenter,
    split_blocks,
)
from digest.claims.topics import Topic, TopicMatcher, build_matcher

EVIDENCE_ORDER: tuple[Evidence, ...] = ("expert", "statistic", "study")  # sorted, as stored

__all__ = ["EXTRACTOR_VERSION", "SHIPPED", "Claim", "Reading", "find_claims", "read_article"]

SHIPPED = load_shipped()
# Stored with every claim: the version of the shipped weights (`make train` sets it).
EXTRACTOR_VERSION = SHIPPED.version


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """One sentence as the detector sees it: its topic features (one list per configured
    topic) and what its form features need."""

    sentence: Sentence
    topic_features: tuple[tuple[str, ...], ...]
    form_context: FormContext


@dataclass(frozen=True, slots=True, kw_only=True)
class _Article:
    blocks: tuple[Block, ...]
    headings: tuple[bool, ...]
    layouts: tuple[Layout, ...]  # one per topic
    repeats: tuple[bool, ...]  # per block: an earlier block opens with the same words
    matcher: TopicMatcher


def _prepare(text: str, matcher: TopicMatcher) -> _Article:
    blocks = tuple(iter_blocks(text))
    return _Article(
        blocks=blocks,
        headings=tuple(is_heading_block(block.text) for block in blocks),
        layouts=layouts(blocks, matcher),
        repeats=_repeats(blocks),
        matcher=matcher,
    )


def _repeats(blocks: Sequence[Block]) -> tuple[bool, ...]:
    """Blocks that open as an earlier block did (a caption or pull quote repeating the text)."""
    seen: set[tuple[str, ...]] = set()
    found = []
    for block in blocks:
        key = opening(block.text)
        found.append(len(key) == REPEAT_WORDS and key in seen)
        seen.add(key)
    return tuple(found)


def _heading_above(article: _Article) -> list[int]:
    """For each block, the index of the nearest heading block before it (-1: none)."""
    above, last = [], -1
    for index, heading in enumerate(article.headings):
        above.append(last)
        if heading:
            last = index
    return above


def _own_hits(sentences: Sequence[Sentence], matcher: TopicMatcher) -> list[frozenset[str]]:
    """For each sentence, the matcher groups ("t0", "t1", …) of the topics it names."""
    return [
        frozenset(m.lastgroup for m in matcher.pattern.finditer(s.text) if m.lastgroup)
        for s in sentences
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Counts:
    """How many sentences of each block, and blocks of each paragraph, name each topic."""

    groups: tuple[str, ...]  # "t0", "t1", … one per configured topic
    in_block: Counter[tuple[int, str]]
    in_paragraph: Counter[tuple[int, str]]


def _counts(
    sentences: Sequence[Sentence], own: Sequence[frozenset[str]], article: _Article
) -> _Counts:
    in_block: Counter[tuple[int, str]] = Counter()
    for sentence, named in zip(sentences, own, strict=True):
        in_block.update((sentence.block, group) for group in named)
    in_paragraph: Counter[tuple[int, str]] = Counter()
    for topic, where in enumerate(article.layouts):
        in_paragraph.update(
            (block.para, f"t{topic}")
            for block, hit in zip(article.blocks, where.blocks, strict=True)
            if hit
        )
    groups = tuple(f"t{topic}" for topic in range(len(article.layouts)))
    return _Counts(groups=groups, in_block=in_block, in_paragraph=in_paragraph)


def _neighbourhood(
    index: int,
    sentences: Sequence[Sentence],
    own: Sequence[frozenset[str]],
    counts: _Counts,
    article: _Article,
) -> Iterator[Neighbourhood]:
    """Where each topic is named around sentence `index`, topic by topic. The sentence before
    (after) is the one before in its block, or for a block's first (last) sentence the block
    before (after): known without splitting the neighbours, so skipping them changes nothing."""
    sentence = sentences[index]
    block = sentence.block
    first = index == 0 or sentences[index - 1].block != block
    last = index + 1 == len(sentences) or sentences[index + 1].block != block
    for group, where in zip(counts.groups, article.layouts, strict=True):
        mine = group in own[index]
        block_hit = counts.in_block[(block, group)] > 0
        yield Neighbourhood(
            own=mine,
            previous=_block_hit(where, block - 1) if first else group in own[index - 1],
            following=_block_hit(where, block + 1) if last else group in own[index + 1],
            in_block=counts.in_block[(block, group)] - mine > 0,
            in_paragraph=counts.in_paragraph[(sentence.para, group)] - block_hit > 0,
        )


def _block_hit(where: Layout, block: int) -> bool:
    return 0 <= block < len(where.blocks) and where.blocks[block]


def readable_blocks(article: _Article, detector: Detector) -> frozenset[int]:
    """Blocks that cannot hold a claim or an anecdote, so need not be split into sentences
    (splitting and the form features are most of the cost): a block that names no topic and
    whose every possible sentence has a topic probability below both thresholds, by the topic
    model's upper bound (`LinearModel.upper_score`). A block stays when the next block of its
    paragraph stays (that block's first sentence reads this block's last one). Exact: a test
    checks that skipping changes no result."""
    gate = min(detector.claim_threshold, detector.anecdote_threshold)
    above = _heading_above(article)
    best = [0.0] * len(article.blocks)
    for where in article.layouts:
        bound = _TopicBound(where=where, model=detector.topic, article=article)
        for index, heading in enumerate(above):
            if best[index] < gate:
                best[index] = max(best[index], bound.at(index, heading))
    keep = [value >= gate for value in best]
    for i in range(len(keep) - 2, -1, -1):
        if keep[i + 1] and article.blocks[i + 1].para == article.blocks[i].para:
            keep[i] = True
    return frozenset(i for i, kept in enumerate(keep) if not kept)


class _TopicBound:
    """The highest probability the topic model can give any sentence of a block, per block
    of one article and one topic; what is the same for every block is worked out once."""

    def __init__(self, *, where: Layout, model: LinearModel, article: _Article) -> None:
        self._where, self._model = where, model
        self._facts = article_features(where)
        self._paragraphs = {
            b.para for b, hit in zip(article.blocks, where.blocks, strict=True) if hit
        }
        self._paras = [block.para for block in article.blocks]
        self._memo: dict[tuple[bool, bool, bool], float] = {}  # the logit but for the block

    def at(self, index: int, heading: int) -> float:
        where = self._where
        if where.blocks[index]:
            return 1.0
        key = (
            _block_hit(where, index - 1),
            _block_hit(where, index + 1),
            self._paras[index] in self._paragraphs,
        )
        if key not in self._memo:
            fixed, groups = unnamed_sentence_features(
                previous_block=key[0], next_block=key[1], in_paragraph=key[2], article=self._facts
            )
            self._memo[key] = self._model.upper_score([*fixed, *self._facts], groups)
        block = block_features(where, index, heading >= 0 and where.blocks[heading])
        return sigmoid(self._memo[key] + self._model.weight_of(block))


def read_article(
    text: str, matcher: TopicMatcher, detector: Detector | None = None
) -> list[Reading]:
    """Every sentence of `text` with its features; with a `detector`, only the sentences of
    the blocks that could hold a claim or an anecdote (`readable_blocks`)."""
    article = _prepare(text, matcher)
    skip = readable_blocks(article, detector) if detector is not None else frozenset()
    sentences = split_blocks(article.blocks, make_segmenter(), skip)
    own = _own_hits(sentences, matcher)
    counts = _counts(sentences, own, article)
    above = _heading_above(article)
    articles = [article_features(where) for where in article.layouts]
    readings = []
    previous_attributed, previous_para = False, -1
    block_words: dict[int, frozenset[str]] = {}
    for index, sentence in enumerate(sentences):
        heading_index = above[sentence.block]
        words = content_words(sentence.text)
        if sentence.block not in block_words:
            block_words[sentence.block] = content_words(article.blocks[sentence.block].text)
        topic_lists = []
        for topic, near in enumerate(_neighbourhood(index, sentences, own, counts, article)):
            where = article.layouts[topic]
            heading_hit = heading_index >= 0 and where.blocks[heading_index]
            block = block_features(where, sentence.block, heading_hit)
            overlap = subject_overlap(
                words, block_words[sentence.block], where.blocks[sentence.block], where
            )
            topic_lists.append(
                tuple(topic_features(articles[topic], block, sentence, near, overlap))
            )
        heading_text = article.blocks[heading_index].text if heading_index >= 0 else ""
        context = FormContext(
            lead=sentence.para <= 1 and sentence.block > 0,
            after_about=is_about_heading(heading_text),
            previous_attributed=previous_attributed and previous_para == sentence.para,
            heading=sentence.heading,
            repeat=article.repeats[sentence.block],
            masked=mask_topics(sentence.text, matcher),
        )
        readings.append(
            Reading(sentence=sentence, topic_features=tuple(topic_lists), form_context=context)
        )
        previous_attributed, previous_para = is_attributed(sentence.text), sentence.para
    return readings


@dataclass(frozen=True, slots=True, kw_only=True)
class Scored:
    """A sentence's probabilities: of each form, and of being about each topic."""

    reading: Reading
    features: list[str]  # its form features (the type and cue models read them too)
    forms: dict[str, float]
    topics: tuple[float, ...]


def topic_probabilities(reading: Reading, detector: Detector) -> tuple[float, ...]:
    return tuple(detector.topic.probability(f) for f in reading.topic_features)


def score(
    reading: Reading,
    detector: Detector,
    topics: tuple[float, ...] | None = None,
    features: Sequence[str] | None = None,
) -> Scored:
    """The sentence's probabilities (`topics` and `features` when already computed)."""
    if features is None:
        features = form_features(reading.sentence, reading.form_context)
    return Scored(
        reading=reading,
        features=list(features),
        forms=detector.form.probabilities(features),
        topics=topic_probabilities(reading, detector) if topics is None else topics,
    )


def classify(
    scored: Scored, names: Sequence[str], detector: Detector
) -> tuple[Kind, tuple[str, ...], float] | None:
    """What a scored sentence is: (kind, its topics, confidence), or None."""
    if scored.reading.sentence.block == 0:
        return None  # the title line (docs/claims.md, decision 2)
    kinds: tuple[tuple[Kind, float], ...] = (
        ("claim", detector.claim_threshold),
        ("anecdote", detector.anecdote_threshold),
    )
    for kind, threshold in kinds:
        joint = [scored.forms[kind] * p for p in scored.topics]
        topics = tuple(name for name, p in zip(names, joint, strict=True) if p >= threshold)
        if topics:
            return kind, topics, max(joint)
    return None


def decide(scored: Scored, names: Sequence[str], detector: Detector) -> Claim | None:
    """The claim or anecdote a scored sentence makes, or None."""
    found = classify(scored, names, detector)
    if found is None:
        return None
    kind, topics, confidence = found
    return _claim(scored, kind, topics, confidence, detector)


def type_features(scored: Scored) -> list[str]:
    """What the type model reads: the form features and the type cue lexicons."""
    return scored.features + type_cue_features(scored.reading.sentence.text)


def cue_rule(cue: str, text: str) -> bool:
    """The rule for a cue (used where no learned model beat it)."""
    if cue == "hedged":
        return cues.is_hedged(text)
    if cue == "negated":
        return cues.is_negated(text)
    return cue in cues.evidence_of(text)


def _cue(scored: Scored, cue: str, detector: Detector) -> bool:
    model = detector.cues.get(cue)
    if model is None:
        return cue_rule(cue, scored.reading.sentence.text)
    return model.best(scored.features) == "yes"


def _claim(
    scored: Scored, kind: Kind, topics: tuple[str, ...], confidence: float, detector: Detector
) -> Claim:
    sentence = scored.reading.sentence
    evidence = tuple(e for e in EVIDENCE_ORDER if _cue(scored, e, detector))
    return Claim(
        kind=kind,
        quote=sentence.text,
        start=sentence.start,
        end=sentence.end,
        topics=topics,
        type=detector.type.best(type_features(scored)),  # type: ignore[arg-type]  # its classes
        hedged=_cue(scored, "hedged", detector),
        negated=_cue(scored, "negated", detector),
        evidence=evidence,
        confidence=round(confidence, 4),
    )


def find_claims(
    text: str, topics: Sequence[Topic], *, detector: Detector = SHIPPED
) -> tuple[Claim, ...]:
    """The claims and anecdotes about `topics` in a seed-format text, in text order."""
    matcher = build_matcher(topics)
    if matcher.pattern.search(text) is None:
        return ()  # no topic term anywhere: the topic model gives every sentence P ≈ 0
    gate = min(detector.claim_threshold, detector.anecdote_threshold)
    found = []
    for reading in read_article(text, matcher, detector):
        about = topic_probabilities(reading, detector)
        if max(about) < gate:  # P(form) <= 1: cannot reach either threshold
            continue
        claim = decide(score(reading, detector, about), matcher.names, detector)
        if claim is not None:
            found.append(claim)
    return tuple(found)
