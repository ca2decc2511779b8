"""Measuring the claim finder against labelled articles: what `find_claims` reports (the
product's own function, thresholds and all), matched to labelled sentences by overlap.

Pure but for what the caller passes in. Scored as docs/claims.md says: claim against
everything else over sentences; anecdotes the same; types over the claims found that are
claims (what a reader sees) and over all labelled claims (the type model alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from digest.claims import cues
from digest.claims.claim import EVIDENCE, Claim
from digest.claims.finder import find_claims, score, type_features
from digest.claims.model import Detector
from digest.claims.topics import Topic, build_matcher
from digest.claims.training.dataset import LabelledArticle
from digest.claims.training.labels import Label
from digest.claims.training.metrics import PRF, macro_f1, per_class_f1, prf


@dataclass(frozen=True, slots=True, kw_only=True)
class Figures:
    articles: int
    sentences: int
    claim: PRF
    anecdote: PRF
    type_macro_f1_found: float  # over true-positive claims
    type_macro_f1_gold: float  # the type model over every labelled claim
    type_per_class: dict[str, tuple[int, float]]
    hedged: PRF  # over true-positive claims
    negated: PRF
    evidence: dict[str, PRF]

    def summary(self) -> str:
        return (
            f"{self.articles} articles, {self.sentences} sentences\n"
            f"  claim    {self.claim}\n"
            f"  anecdote {self.anecdote}\n"
            f"  type macro-F1 {self.type_macro_f1_found:.3f} over claims found, "
            f"{self.type_macro_f1_gold:.3f} over all labelled claims\n"
            f"  hedged F1 {self.hedged.f1:.3f}, negated F1 {self.negated.f1:.3f}, evidence F1 "
            + ", ".join(f"{k} {v.f1:.3f}" for k, v in self.evidence.items())
        )


def _assign(found: Sequence[Claim], labels: Sequence[Label]) -> dict[int, Claim]:
    """Each reported claim to the labelled sentence it overlaps most (first one kept)."""
    assigned: dict[int, Claim] = {}
    for claim in found:
        overlaps = [min(claim.end, lab.end) - max(claim.start, lab.start) for lab in labels]
        best = max(range(len(labels)), key=overlaps.__getitem__)
        if overlaps[best] > 0:
            assigned.setdefault(best, claim)
    return assigned


@dataclass(frozen=True, slots=True, kw_only=True)
class _Pair:
    label: Label
    found: Claim | None


def _pairs(
    articles: Sequence[LabelledArticle], topics: Sequence[Topic], detector: Detector
) -> list[_Pair]:
    pairs = []
    for article in articles:
        labels = [example.label for example in article.examples]
        found = find_claims(article.text, topics, detector=detector)
        assigned = _assign(found, labels)
        pairs += [_Pair(label=label, found=assigned.get(i)) for i, label in enumerate(labels)]
    return pairs


def evaluate(
    articles: Sequence[LabelledArticle], topics: Sequence[Topic], detector: Detector
) -> Figures:
    pairs = _pairs(articles, topics, detector)
    kind = [p.found.kind if p.found else "none" for p in pairs]
    gold = [p.label.label for p in pairs]
    hits = [
        p for p, k in zip(pairs, kind, strict=True) if k == "claim" and p.label.label == "claim"
    ]
    gold_claims = [p.label for p in pairs if p.label.label == "claim"]
    readings = {(e.label.file, e.label.start): e.reading for a in articles for e in a.examples}
    typed = [
        detector.type.best(type_features(score(readings[(lab.file, lab.start)], detector)))
        for lab in gold_claims
    ]
    found_types = [p.found.type for p in hits if p.found]
    hit_labels = [p.label for p in hits]
    return Figures(
        articles=len(articles),
        sentences=len(pairs),
        claim=prf([g == "claim" for g in gold], [k == "claim" for k in kind]),
        anecdote=prf([g == "anecdote" for g in gold], [k == "anecdote" for k in kind]),
        type_macro_f1_found=macro_f1([str(lab.type) for lab in hit_labels], found_types),
        type_macro_f1_gold=macro_f1([str(lab.type) for lab in gold_claims], typed),
        type_per_class=per_class_f1([str(lab.type) for lab in gold_claims], typed),
        hedged=prf([lab.hedged for lab in hit_labels], [p.found.hedged for p in hits if p.found]),
        negated=prf(
            [lab.negated for lab in hit_labels], [p.found.negated for p in hits if p.found]
        ),
        evidence={
            cue: prf(
                [cue in lab.evidence for lab in hit_labels],
                [cue in p.found.evidence for p in hits if p.found],
            )
            for cue in sorted(EVIDENCE)
        },
    )


def passing_mentions(
    articles: Sequence[LabelledArticle], topics: Sequence[Topic], detector: Detector
) -> list[tuple[str, int, int]]:
    """For each article with at most two topic mentions: (file, mentions, claims reported)."""
    matcher = build_matcher(topics)
    rows = []
    for article in articles:
        mentions = sum(1 for _ in matcher.pattern.finditer(article.text))
        if mentions <= 2:
            found = find_claims(article.text, topics, detector=detector)
            rows.append((article.file, mentions, sum(1 for c in found if c.kind == "claim")))
    return rows


def baseline(articles: Sequence[LabelledArticle], topics: Sequence[Topic]) -> PRF:
    """The issue's baseline: a sentence that names a topic and is not a question is a claim."""
    matcher = build_matcher(topics)
    gold: list[bool] = []
    predicted: list[bool] = []
    for article in articles:
        for example in article.examples:
            sentence = example.reading.sentence
            gold.append(example.label.label == "claim")
            predicted.append(
                sentence.block > 0
                and matcher.pattern.search(sentence.text) is not None
                and not sentence.text.rstrip("\"'”’) ").endswith("?")
            )
    return prf(gold, predicted)


def rule_types(articles: Sequence[LabelledArticle]) -> float:
    """Macro-F1 of the rule-based types (`cues.type_of`) over the labelled claims: what the
    learned type model is compared with."""
    gold = [
        (str(e.label.type), cues.type_of(e.reading.sentence.text))
        for article in articles
        for e in article.examples
        if e.label.label == "claim"
    ]
    return macro_f1([g for g, _ in gold], [r for _, r in gold])
