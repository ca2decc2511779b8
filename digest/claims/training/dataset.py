"""Labelled articles read the way the detector reads them: each label beside the `Reading`
(features) of its sentence. Shared by training and by the quality test's evaluation.

Reads the pool (files named by the labels); otherwise pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from digest.claims.features import form_features
from digest.claims.finder import Reading, read_article
from digest.claims.topics import DEFAULT_TOPICS, Topic, build_matcher
from digest.claims.training.labels import Label, StaleLabel, iter_pass, span_hash
from digest.claims.training.split import load_split

# The second topic (docs/claims.md): configured by its terms only, as a user would.
ACUPUNCTURE = Topic(
    name="acupuncture",
    label="acupuncture",
    terms=("acupuncture", "acupuncturist", "electroacupuncture", "electro-acupuncture", "acupoint"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Example:
    label: Label
    reading: Reading
    form_features: tuple[str, ...]  # computed once: every fold of training reads them


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelledArticle:
    file: str
    text: str
    examples: tuple[Example, ...]


def _match(label: Label, readings: Sequence[Reading]) -> Reading:
    """The reading of the labelled sentence: same offsets, else the largest overlap (labels
    made with an older splitter still find their sentence)."""
    for reading in readings:
        if (reading.sentence.start, reading.sentence.end) == (label.start, label.end):
            return reading
    overlaps = [
        min(label.end, r.sentence.end) - max(label.start, r.sentence.start) for r in readings
    ]
    best = max(range(len(readings)), key=overlaps.__getitem__)
    return readings[best]


def read_labelled(
    labels: Iterable[Label], pool: Path, topics: Sequence[Topic] = DEFAULT_TOPICS
) -> list[LabelledArticle]:
    """Each labelled article with its text and examples, in file order."""
    by_file: dict[str, list[Label]] = {}
    for label in labels:
        by_file.setdefault(label.file, []).append(label)
    matcher = build_matcher(topics)
    articles = []
    for file in sorted(by_file):
        text = (pool / file).read_text(encoding="utf-8")
        readings = read_article(text, matcher)
        examples = []
        for label in by_file[file]:
            if span_hash(text[label.start : label.end]) != label.sha:
                raise StaleLabel(f"{file}[{label.start}:{label.end}] changed since labelling")
            reading = _match(label, readings)
            features = tuple(form_features(reading.sentence, reading.form_context))
            examples.append(Example(label=label, reading=reading, form_features=features))
        articles.append(LabelledArticle(file=file, text=text, examples=tuple(examples)))
    return articles


def split_articles(
    pool: Path,
    pass_name: str = "a",  # noqa: S107 - a labelling pass, not a secret
    splits: Sequence[str] = ("train",),
) -> list[LabelledArticle]:
    """The labelled articles of the named splits (split.json), from one labelling pass."""
    assignment = load_split()
    wanted = [label for label in iter_pass(pass_name) if assignment.get(label.file) in splits]
    return read_labelled(wanted, pool)
