"""`make train`: the detector's weights from the labels, reproducibly, with the figures that
chose its settings.

    python -m digest.claims.training.train            # fit, write weights/detector.json
    python -m digest.claims.training.train --check    # exit 1 unless a refit writes the same
    python -m digest.claims.training.train --select   # the comparison of settings, printed

Needs the `train` extra (scikit-learn). What it does, in order:
1. reads pass a's labels of the train and dev splits (split.json); never the test split;
2. measures each candidate setting by cross-validation over those articles (FOLDS folds by
   article, near-duplicate reports of one study kept in one fold): out-of-fold
   probabilities for every sentence, so thresholds and settings are chosen on articles the
   models did not see (the dev split alone holds 23 claims outside one article: too few to
   choose by);
3. chooses the claim and anecdote thresholds on those out-of-fold probabilities, and, for each
   cue (negated, study, expert), the learned model or the rule, whichever scores higher;
4. fits the final models on all train and dev articles and writes them with the thresholds.

The models are logistic regressions (lbfgs, no randomness). Weights are rounded to
WEIGHT_DIGITS significant digits, so a refit on another machine writes the same bytes. The file
records the labels' digest, the settings and the cross-validated figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Final

from digest.claims.features import type_cue_features
from digest.claims.finder import Scored, cue_rule, score, type_features
from digest.claims.model import (
    LEARNED_CUES,
    WEIGHTS_FILE,
    WEIGHTS_PACKAGE,
    Detector,
    LinearModel,
)
from digest.claims.topics import DEFAULT_TOPICS
from digest.claims.training.dataset import Example, LabelledArticle, split_articles
from digest.claims.training.labels import LABELS_DIR, Label
from digest.claims.training.labeltool import pool_dir
from digest.claims.training.metrics import PRF, macro_f1, prf
from digest.claims.training.split import load_groups

WEIGHT_DIGITS: Final = 4
VERSION_PREFIX: Final = "lr"
FOLDS: Final = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """What `--select` compares; the defaults are its winners (see the README)."""

    form_c: float = 1.0
    topic_c: float = 1.0
    type_c: float = 0.3
    cue_c: float = 1.0
    min_count: int = 2  # a feature must occur in this many training sentences
    balanced_types: bool = True  # class_weight="balanced" for the type model


DEFAULT: Final = Settings()
Matrix = list[list[str]]


def _vocabulary(rows: Matrix, min_count: int) -> list[str]:
    counts: dict[str, int] = {}
    for row in rows:
        for feature in set(row):
            counts[feature] = counts.get(feature, 0) + 1
    return sorted(f for f, n in counts.items() if n >= min_count)


def _round(value: float) -> float:
    return float(f"{value:.{WEIGHT_DIGITS}g}")


def fit_linear(
    rows: Matrix, labels: Sequence[str], c: float, *, min_count: int, balanced: bool = False
) -> LinearModel:
    """A logistic regression over binary features (scikit-learn, lbfgs, deterministic)."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    vocabulary = _vocabulary(rows, min_count)
    index = {feature: i for i, feature in enumerate(vocabulary)}
    cols: list[int] = []
    ptr = [0]
    for row in rows:
        cols += sorted({index[f] for f in row if f in index})
        ptr.append(len(cols))
    matrix = csr_matrix(([1.0] * len(cols), cols, ptr), shape=(len(rows), len(vocabulary)))
    model = LogisticRegression(
        C=c, max_iter=5000, tol=1e-6, class_weight="balanced" if balanced else None
    )
    model.fit(matrix, np.array(labels))
    weights: dict[str, tuple[float, ...]] = {}
    for i, feature in enumerate(vocabulary):
        column = tuple(_round(float(w)) for w in model.coef_[:, i])
        if any(abs(w) >= 10**-WEIGHT_DIGITS for w in column):
            weights[feature] = column
    return LinearModel(
        classes=tuple(str(c) for c in model.classes_),
        bias=tuple(_round(float(b)) for b in model.intercept_),
        weights=weights,
    )


def _examples(articles: Sequence[LabelledArticle]) -> Iterator[Example]:
    for article in articles:
        yield from article.examples


def _form_row(example: Example) -> list[str]:
    return list(example.form_features)


def _topic_rows(articles: Sequence[LabelledArticle]) -> tuple[Matrix, list[str]]:
    """One row per claim- or anecdote-form sentence and configured topic: is it about it?"""
    names = [topic.name for topic in DEFAULT_TOPICS]
    rows: Matrix = []
    labels: list[str] = []
    for example in _examples(articles):
        if example.label.form != "none":
            for name, features in zip(names, example.reading.topic_features, strict=True):
                rows.append(list(features))
                labels.append("yes" if name in example.label.topics else "no")
    return rows, labels


def _has_cue(label: Label, cue: str) -> bool:
    return label.negated if cue == "negated" else cue in label.evidence


def fit_models(articles: Sequence[LabelledArticle], settings: Settings, version: str) -> Detector:
    """Every model of the detector, fitted on `articles`; thresholds left at 0.5."""
    examples = list(_examples(articles))
    forms = [_form_row(e) for e in examples]
    claims = [
        (row, e.label) for row, e in zip(forms, examples, strict=True) if e.label.form == "claim"
    ]
    claim_rows = [row for row, _ in claims]
    type_rows = [
        row + type_cue_features(e.reading.sentence.text)
        for row, e in zip(forms, examples, strict=True)
        if e.label.form == "claim"
    ]
    fit = partial_fit(settings)
    cue_models = {
        cue: fit(claim_rows, [_yes(_has_cue(label, cue)) for _, label in claims], settings.cue_c)
        for cue in LEARNED_CUES
    }
    return Detector(
        version=version,
        form=fit(forms, [e.label.form for e in examples], settings.form_c),
        topic=fit(*_topic_rows(articles), settings.topic_c),
        type=fit_linear(
            type_rows,
            [str(label.type) for _, label in claims],
            settings.type_c,
            min_count=settings.min_count,
            balanced=settings.balanced_types,
        ),
        cues=cue_models,
        claim_threshold=0.5,
        anecdote_threshold=0.5,
    )


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def partial_fit(settings: Settings) -> Callable[[Matrix, Sequence[str], float], LinearModel]:
    def fit(rows: Matrix, labels: Sequence[str], c: float) -> LinearModel:
        return fit_linear(rows, labels, c, min_count=settings.min_count)

    return fit


def folds(articles: Sequence[LabelledArticle], k: int = FOLDS) -> list[list[LabelledArticle]]:
    """`k` folds by article, in file order, near-duplicate groups kept together."""
    group_of = {file: group[0] for group in load_groups() for file in group}
    keys = sorted({group_of.get(a.file, a.file) for a in articles})
    fold_of = {key: i % k for i, key in enumerate(keys)}
    out: list[list[LabelledArticle]] = [[] for _ in range(k)]
    for article in articles:
        out[fold_of[group_of.get(article.file, article.file)]].append(article)
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoredExample:
    """A labelled sentence with what a model that never saw its article made of it."""

    example: Example
    scored: Scored
    detector: Detector  # the fold's detector (for the type and cue models)

    @property
    def joint(self) -> tuple[bool, float, float]:
        """(the title line?, max P(claim)·P(topic), max P(anecdote)·P(topic))."""
        scored = self.scored
        return (
            scored.reading.sentence.block == 0,
            max(scored.forms["claim"] * p for p in scored.topics),
            max(scored.forms["anecdote"] * p for p in scored.topics),
        )


def out_of_fold(articles: Sequence[LabelledArticle], settings: Settings) -> list[ScoredExample]:
    scored: list[ScoredExample] = []
    parts = folds(articles)
    for i, held_out in enumerate(parts):
        rest = [a for j, part in enumerate(parts) if j != i for a in part]
        detector = fit_models(rest, settings, "fold")
        scored += [
            ScoredExample(
                example=e,
                scored=score(e.reading, detector, features=e.form_features),
                detector=detector,
            )
            for e in _examples(held_out)
        ]
    return scored


def _grid(step: float = 0.05) -> Iterator[float]:
    value = step
    while value < 0.96:
        yield round(value, 2)
        value += step


def decisions(examples: Sequence[ScoredExample], claim: float, anecdote: float) -> list[str]:
    """What `find_claims` would call each sentence at these thresholds (finder.classify's
    rule, on each sentence's joint probabilities, so that a sweep costs nothing)."""
    out: list[str] = []
    for item in examples:
        title, joint_claim, joint_anecdote = item.joint
        if not title and joint_claim >= claim:
            out.append("claim")
        elif not title and joint_anecdote >= anecdote:
            out.append("anecdote")
        else:
            out.append("none")
    return out


def kind_prf(examples: Sequence[ScoredExample], kind: str, predicted: Sequence[str]) -> PRF:
    return prf([e.example.label.label == kind for e in examples], [p == kind for p in predicted])


def choose_thresholds(examples: Sequence[ScoredExample]) -> tuple[float, float]:
    """The claim and anecdote thresholds with the best F1 (ties: the higher one)."""
    claim = max(
        _grid(), key=lambda t: (kind_prf(examples, "claim", decisions(examples, t, 1.0)).f1, t)
    )
    anecdote = max(
        _grid(),
        key=lambda t: (kind_prf(examples, "anecdote", decisions(examples, claim, t)).f1, t),
    )
    return claim, anecdote


@dataclass(frozen=True, slots=True, kw_only=True)
class CrossValidated:
    claim: PRF
    anecdote: PRF
    thresholds: tuple[float, float]
    type_macro_f1: float  # over every claim-form sentence
    type_macro_f1_on_topic: float  # over the guide's claims
    cues: dict[str, tuple[PRF, PRF]]  # learned, rule
    use_learned: tuple[str, ...]  # the cues whose model beat the rule


def cross_validate(articles: Sequence[LabelledArticle], settings: Settings) -> CrossValidated:
    examples = out_of_fold(articles, settings)
    claim_t, anecdote_t = choose_thresholds(examples)
    predicted = decisions(examples, claim_t, anecdote_t)
    claims = [e for e in examples if e.example.label.form == "claim"]
    rows = {id(e): _form_row(e.example) for e in claims}
    types = [e.detector.type.best(type_features(e.scored)) for e in claims]
    gold_types = [str(e.example.label.type) for e in claims]
    on_topic = [i for i, e in enumerate(claims) if e.example.label.label == "claim"]
    cues: dict[str, tuple[PRF, PRF]] = {}
    for cue in LEARNED_CUES:
        gold = [_has_cue(e.example.label, cue) for e in claims]
        learned = [e.detector.cues[cue].best(rows[id(e)]) == "yes" for e in claims]
        ruled = [cue_rule(cue, e.example.reading.sentence.text) for e in claims]
        cues[cue] = (prf(gold, learned), prf(gold, ruled))
    return CrossValidated(
        claim=kind_prf(examples, "claim", predicted),
        anecdote=kind_prf(examples, "anecdote", predicted),
        thresholds=(claim_t, anecdote_t),
        type_macro_f1=macro_f1(gold_types, types),
        type_macro_f1_on_topic=macro_f1(
            [gold_types[i] for i in on_topic], [types[i] for i in on_topic]
        ),
        cues=cues,
        use_learned=tuple(c for c, (learned, rule) in cues.items() if learned.f1 > rule.f1),
    )


def labels_digest(pass_name: str = "a") -> str:  # noqa: S107 - a pass name, not a secret
    digest = hashlib.sha256()
    for path in sorted((LABELS_DIR / pass_name).glob("*.jsonl")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def _model_json(model: LinearModel) -> dict[str, object]:
    return {
        "classes": list(model.classes),
        "bias": list(model.bias),
        "weights": {f: list(w) for f, w in sorted(model.weights.items())},
    }


def to_json(detector: Detector, provenance: dict[str, object]) -> str:
    body = {
        "version": detector.version,
        "provenance": provenance,
        "thresholds": {"claim": detector.claim_threshold, "anecdote": detector.anecdote_threshold},
        "models": {
            "form": _model_json(detector.form),
            "topic": _model_json(detector.topic),
            "type": _model_json(detector.type),
        },
        "cues": {cue: _model_json(model) for cue, model in sorted(detector.cues.items())},
    }
    return json.dumps(body, indent=0, sort_keys=True, ensure_ascii=False) + "\n"


def _figures(cv: CrossValidated) -> dict[str, object]:
    return {
        "claim": {
            "precision": round(cv.claim.precision, 4),
            "recall": round(cv.claim.recall, 4),
            "f1": round(cv.claim.f1, 4),
        },
        "anecdote_f1": round(cv.anecdote.f1, 4),
        "type_macro_f1": round(cv.type_macro_f1, 4),
        "type_macro_f1_on_topic": round(cv.type_macro_f1_on_topic, 4),
        "cues_f1_learned_vs_rule": {
            cue: [round(learned.f1, 4), round(rule.f1, 4)]
            for cue, (learned, rule) in cv.cues.items()
        },
    }


def train(settings: Settings = DEFAULT) -> tuple[str, Detector, CrossValidated]:
    articles = split_articles(pool_dir(), splits=("train", "dev"))
    cv = cross_validate(articles, settings)
    digest = labels_digest()
    fitted = fit_models(articles, settings, "unversioned")
    detector = replace(
        fitted,
        claim_threshold=cv.thresholds[0],
        anecdote_threshold=cv.thresholds[1],
        cues={cue: m for cue, m in fitted.cues.items() if cue in cv.use_learned},
    )
    # The version names the weights themselves: any change to labels, features, settings or
    # code that changes a weight or a threshold gives a new version, so claims re-extract.
    content = hashlib.sha256(to_json(detector, {}).encode("utf-8")).hexdigest()
    detector = replace(detector, version=f"{VERSION_PREFIX}-{content[:10]}")
    provenance: dict[str, object] = {
        "labels": f"pass a, sha256 {digest}",
        "trained_on": f"train and dev splits, {len(articles)} articles",
        "settings": {name: getattr(settings, name) for name in Settings.__slots__},
        "cross_validated": _figures(cv),
    }
    return to_json(detector, provenance), detector, cv


def weights_path() -> Path:
    return Path(str(resources.files(WEIGHTS_PACKAGE).joinpath(WEIGHTS_FILE)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="train the claim detector")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--select", action="store_true")
    args = parser.parse_args(argv)
    if args.select:
        from digest.claims.training.select import compare

        compare()
        return 0
    body, detector, cv = train()
    path = weights_path()
    print(
        f"cross-validated on train+dev: claim {cv.claim}; anecdote F1 {cv.anecdote.f1:.3f}; "
        f"type macro-F1 {cv.type_macro_f1:.3f} (on-topic {cv.type_macro_f1_on_topic:.3f}); "
        f"thresholds {cv.thresholds}; learned cues {', '.join(cv.use_learned) or 'none'}"
    )
    if args.check:
        same = path.read_text(encoding="utf-8") == body
        print(f"{path.name} {'is' if same else 'is NOT'} what a fresh training run writes")
        return 0 if same else 1
    path.write_text(body, encoding="utf-8")
    print(f"wrote {path} ({len(body) // 1024} KB), version {detector.version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
