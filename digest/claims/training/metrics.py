"""Scores used to choose and report the detector: precision, recall, F1, macro-F1 and Cohen's
kappa. Pure; no libraries, so the quality test needs nothing that training needs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class PRF:
    """Counts of one binary decision, and the scores they give."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __str__(self) -> str:
        return (
            f"P {self.precision:.3f} R {self.recall:.3f} F1 {self.f1:.3f} "
            f"(tp {self.tp}, fp {self.fp}, fn {self.fn})"
        )


def prf(gold: Sequence[bool], predicted: Sequence[bool]) -> PRF:
    pairs = list(zip(gold, predicted, strict=True))
    return PRF(
        tp=sum(1 for g, p in pairs if g and p),
        fp=sum(1 for g, p in pairs if p and not g),
        fn=sum(1 for g, p in pairs if g and not p),
    )


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """The mean F1 over the classes that occur in `gold`."""
    classes = sorted(set(gold))
    if not classes:
        return 0.0
    scores = [prf([g == c for g in gold], [p == c for p in predicted]).f1 for c in classes]
    return sum(scores) / len(scores)


def per_class_f1(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, tuple[int, float]]:
    """For each class in `gold`: its support and F1."""
    counts = Counter(gold)
    return {
        c: (counts[c], prf([g == c for g in gold], [p == c for p in predicted]).f1)
        for c in sorted(counts)
    }


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float:
    """Agreement beyond chance between two labellings of the same items."""
    n = len(first)
    if n == 0 or n != len(second):
        raise ValueError("kappa needs two labellings of the same, non-empty set of items")
    observed = sum(1 for a, b in zip(first, second, strict=True) if a == b) / n
    count_a, count_b = Counter(first), Counter(second)
    expected = sum(count_a[c] * count_b[c] for c in set(first) | set(second)) / (n * n)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)
