"""The learned detector's weights: linear models over string features, read from the JSON file
shipped in `digest/claims/weights/` and written by `make train`.

Pure apart from reading that package file. A `LinearModel` is a logistic regression: binary
(one weight per feature, `probability`) or multinomial (one weight per class, `probabilities`).
The shipped `Detector` is loaded once, when this module is first imported, into frozen values:
a constant like a compiled regular expression, not state (the worker processes' fork server
imports it, so every worker shares one copy).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Final

from digest.claims.features import sigmoid

WEIGHTS_PACKAGE: Final = "digest.claims.weights"
# Cues that may be learned instead of ruled (training keeps a model only where it beats the
# rule); hedging and statistics stay ruled.
LEARNED_CUES: Final = ("negated", "study", "expert")
WEIGHTS_FILE: Final = "detector.json"


class WeightsError(ValueError):
    """The weights file does not have the shape `make train` writes."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LinearModel:
    """Logistic regression over present/absent string features."""

    classes: tuple[str, ...]
    bias: tuple[float, ...]  # one per class, or one for a binary model
    weights: Mapping[str, tuple[float, ...]]

    def scores(self, features: Iterable[str]) -> list[float]:
        get = self.weights.get
        if len(self.bias) == 1:  # binary: one weight a feature (the common, hot case)
            total = self.bias[0]
            for feature in features:
                row = get(feature)
                if row is not None:
                    total += row[0]
            return [total]
        if len(self.bias) == 3:  # the form model, scored for every sentence: unrolled
            a, b, c = self.bias
            for feature in features:
                row = get(feature)
                if row is not None:
                    a, b, c = a + row[0], b + row[1], c + row[2]
            return [a, b, c]
        totals = list(self.bias)
        for feature in features:
            row = get(feature)
            if row is not None:
                totals = [t + w for t, w in zip(totals, row, strict=True)]
        return totals

    def upper_score(self, fixed: Iterable[str], groups: Iterable[Sequence[str]]) -> float:
        """The highest score (logit) of a binary model over every feature set made of `fixed`
        and one member of each group (a missing feature weighs 0)."""
        total = self.scores(fixed)[0]
        for group in groups:
            total += max(self.weights.get(f, (0.0,))[0] for f in group)
        return total

    def weight_of(self, features: Iterable[str]) -> float:
        """The summed weights of `features` (no bias) in a binary model."""
        get = self.weights.get
        return sum(row[0] for f in features if (row := get(f)) is not None)

    def probability(self, features: Iterable[str]) -> float:
        """P(classes[1]) of a binary model."""
        return sigmoid(self.scores(features)[0])

    def probabilities(self, features: Iterable[str]) -> dict[str, float]:
        """P(each class) of a multinomial model (softmax), or of a binary one."""
        scores = self.scores(features)
        if len(self.classes) == 2 and len(scores) == 1:
            positive = sigmoid(scores[0])
            return {self.classes[0]: 1.0 - positive, self.classes[1]: positive}
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}

    def best(self, features: Iterable[str]) -> str:
        scores = self.scores(features)
        if len(self.classes) == 2 and len(scores) == 1:
            return self.classes[1] if scores[0] >= 0 else self.classes[0]
        return self.classes[max(range(len(scores)), key=scores.__getitem__)]


@dataclass(frozen=True, slots=True, kw_only=True)
class Detector:
    """Everything claim finding learned: the form, topic and type models, and the thresholds
    chosen on the dev split (see the weights file's `provenance`)."""

    version: str
    form: LinearModel  # claim / anecdote / none, whatever the subject
    topic: LinearModel  # binary: is the sentence about this topic?
    type: LinearModel  # the seven claim types
    cues: Mapping[str, LinearModel]  # binary models of LEARNED_CUES that beat their rules
    claim_threshold: float  # report a claim when P(claim form) * P(topic) reaches it
    anecdote_threshold: float  # the same for anecdotes


def _model(data: Mapping[str, object]) -> LinearModel:
    classes = tuple(str(c) for c in _list(data["classes"]))
    weights = {
        str(name): tuple(_number(w) for w in _list(row))
        for name, row in _dict(data["weights"]).items()
    }
    return LinearModel(
        classes=classes,
        bias=tuple(_number(b) for b in _list(data["bias"])),
        weights=weights,  # a plain dict: read on every sentence, never written after loading
    )


def _number(value: object) -> float:
    if not isinstance(value, int | float):
        raise WeightsError(f"expected a number in the weights file, got {value!r}")
    return float(value)


def _list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise WeightsError(f"expected a list in the weights file, got {type(value).__name__}")
    return value


def _dict(value: object) -> dict[str, object]:
    if not isinstance(value, dict):
        raise WeightsError(f"expected an object in the weights file, got {type(value).__name__}")
    return value


def detector_from_json(data: Mapping[str, object]) -> Detector:
    try:
        return _detector(data)
    except KeyError as exc:
        raise WeightsError(f"the weights file lacks {exc}") from exc


def _detector(data: Mapping[str, object]) -> Detector:
    thresholds = _dict(data["thresholds"])
    claim_threshold = _number(thresholds["claim"])
    anecdote_threshold = _number(thresholds["anecdote"])
    models = _dict(data["models"])
    return Detector(
        version=str(data["version"]),
        form=_model(_dict(models["form"])),
        topic=_model(_dict(models["topic"])),
        type=_model(_dict(models["type"])),
        cues=MappingProxyType(
            {str(cue): _model(_dict(m)) for cue, m in _dict(data.get("cues", {})).items()}
        ),
        claim_threshold=claim_threshold,
        anecdote_threshold=anecdote_threshold,
    )


def load_shipped() -> Detector:
    """The detector whose weights ship in the package."""
    text = resources.files(WEIGHTS_PACKAGE).joinpath(WEIGHTS_FILE).read_text(encoding="utf-8")
    return detector_from_json(json.loads(text))
