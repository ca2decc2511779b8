"""Topics (a name, a display label, vocabulary terms) and the matcher built from them.

Pure: no I/O. `TopicConfig` is the shape of one entry under `topics:` in sources.yaml; the
config loader validates it and `topics_from_configs` turns it into `Topic` values.
Terms match case-insensitively, on word boundaries, with hyphens or spaces between words and
common inflections of the last word (massage/massages/massaged/massaging, therapy/therapies).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator


@dataclass(frozen=True, slots=True, kw_only=True)
class Topic:
    """A configured topic: `name` is stored with claims, `label` is shown to readers."""

    name: str
    label: str
    terms: tuple[str, ...]


DEFAULT_TOPICS: tuple[Topic, ...] = (
    Topic(
        name="massage",
        label="massage",
        terms=(
            "massage",
            "massage therapy",
            "massage therapist",
            "masseuse",
            "masseur",
            "deep tissue",
            "Swedish massage",
            "sports massage",
            "trigger point",
            "myofascial release",
            "shiatsu",
            "reflexology",
            "acupressure",
            "foam rolling",
            "foam roller",
            "tui na",
            "rolfing",
            "bodywork",
            "rubdown",
        ),
    ),
    Topic(
        name="back_pain",
        label="back pain",
        terms=(
            "back pain",
            "backache",
            "back ache",
            "low back",
            "lower back",
            "upper back",
            "sore back",
            "back injury",
            "back problem",
            "back strain",
            "back spasm",
            "back surgery",
            "back muscle",
            "lumbar",
            "lumbago",
            "sciatica",
            "sciatic nerve",
            "herniated disc",
            "herniated disk",
            "slipped disc",
            "bulging disc",
            "disc herniation",
            "sacroiliac",
        ),
    ),
)


class TopicConfig(BaseModel):
    """One entry of the `topics:` list in sources.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    label: str | None = None
    terms: list[str] = Field(min_length=1)

    @field_validator("terms")
    @classmethod
    def _terms_not_blank(cls, terms: list[str]) -> list[str]:
        cleaned = [" ".join(term.split()) for term in terms]
        if not all(cleaned):
            raise ValueError("topic terms must not be blank")
        return cleaned


def topics_from_configs(configs: Sequence[TopicConfig]) -> tuple[Topic, ...]:
    """Topics from validated config entries; the label defaults to the name, spaced."""
    return tuple(
        Topic(
            name=config.name,
            label=config.label or config.name.replace("_", " "),
            terms=tuple(config.terms),
        )
        for config in configs
    )


def _inflected(word: str) -> str:
    """A regex for one word and its common inflections (plural, -ed, -ing, -er)."""
    if len(word) > 3 and word.endswith("e"):
        return re.escape(word[:-1]) + "(?:e|es|ed|ing|er|ers)"
    if len(word) > 3 and word.endswith("y") and word[-2] not in "aeiou":
        return re.escape(word[:-1]) + "(?:y|ies|ied)"
    if word.endswith("a"):
        return re.escape(word) + "(?:e|s)?"
    return re.escape(word) + "(?:s|es|ed|ing)?"


def term_pattern(term: str) -> str:
    """A regex for a (possibly multi-word) term: spaces or hyphens between words."""
    words = re.split(r"[\s-]+", term.strip().lower())
    parts = [re.escape(word) for word in words[:-1]] + [_inflected(words[-1])]
    return r"\b" + r"[\s-]+".join(parts) + r"\b"


@dataclass(frozen=True, slots=True)
class TopicMatcher:
    """One compiled alternation over all topics' terms; group `t<i>` is topic i."""

    names: tuple[str, ...]
    pattern: re.Pattern[str]

    def topics_in(self, text: str) -> tuple[str, ...]:
        """Names of the topics mentioned in `text`, in configuration order."""
        found = {match.lastgroup for match in self.pattern.finditer(text)}
        return tuple(name for i, name in enumerate(self.names) if f"t{i}" in found)


def build_matcher(topics: Sequence[Topic]) -> TopicMatcher:
    """Compile the matcher for `topics` (longer terms first within each topic)."""
    groups = []
    for index, topic in enumerate(topics):
        terms = sorted(topic.terms, key=len, reverse=True)
        alternation = "|".join(term_pattern(term) for term in terms)
        groups.append(f"(?P<t{index}>{alternation})")
    source = "|".join(groups) if groups else r"(?!x)x"
    return TopicMatcher(names=tuple(t.name for t in topics), pattern=re.compile(source, re.I))
