"""`python -m digest.claims.training.train --select`: the settings compared.

Each row cross-validates one setting over the train and dev splits (train.cross_validate:
out-of-fold probabilities, thresholds chosen on them) and prints the claim P/R/F1, anecdote
F1, and the type model's macro-F1. The winner becomes `train.DEFAULT`. Never reads the test
split.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from digest.claims.training.dataset import split_articles
from digest.claims.training.labeltool import pool_dir
from digest.claims.training.train import DEFAULT, Settings, cross_validate

GRID: dict[str, tuple[object, ...]] = {
    "form_c": (0.3, 1.0, 3.0),
    "topic_c": (0.3, 1.0, 3.0),
    "min_count": (1, 2),
}


def compare() -> None:
    articles = split_articles(pool_dir(), splits=("train", "dev"))
    print(f"{len(articles)} articles (train and dev), cross-validated")
    rows = []
    for values in itertools.product(*GRID.values()):
        settings = replace(DEFAULT, **dict(zip(GRID, values, strict=True)))  # type: ignore[arg-type]
        cv = cross_validate(articles, settings)
        rows.append((cv.claim.f1, cv.type_macro_f1, settings))
        print(
            f"{_describe(settings)}  thresholds {cv.thresholds}  claim {cv.claim}  "
            f"anecdote F1 {cv.anecdote.f1:.3f}  type {cv.type_macro_f1:.3f} "
            f"(on topic {cv.type_macro_f1_on_topic:.3f})",
            flush=True,
        )
    best = max(rows, key=lambda row: (row[0], row[1]))
    print(f"\nbest: {_describe(best[2])}")


def _describe(settings: Settings) -> str:
    return " ".join(f"{name}={getattr(settings, name)}" for name in GRID)
