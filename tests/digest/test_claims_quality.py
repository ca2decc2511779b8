"""Quality gate: find_claims against the labelled sentences of shared/claims/dev.jsonl.

Predicted claims are matched to labelled sentences by character overlap (GUIDE.md): each
predicted claim goes to the labelled sentence it overlaps most. Scored over sentences,
`claim` against everything else. The figures are printed on every run.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from digest.claims.finder import Claim, find_claims
from digest.claims.topics import DEFAULT_TOPICS

PRECISION_FLOOR = 0.85
RECALL_FLOOR = 0.85


@dataclass(frozen=True, slots=True, kw_only=True)
class Scores:
    true_positives: int
    false_positives: int
    false_negatives: int
    typed_right: int

    @property
    def precision(self) -> float:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 0.0

    @property
    def recall(self) -> float:
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 0.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    @property
    def type_accuracy(self) -> float:
        return self.typed_right / self.true_positives if self.true_positives else 0.0


def _shared_dir() -> Path:
    shared = os.environ.get("CLAIMWATCH_SHARED")
    root = Path(shared) if shared else Path(__file__).parents[2].parent / "shared"
    if not (root / "claims" / "dev.jsonl").is_file():
        pytest.skip(f"labelled sentences not found at {root}/claims/dev.jsonl")
    return root


def _locate(text: str, rows: list[dict[str, object]]) -> list[tuple[int, int]]:
    """Offsets of each labelled sentence in the document, searched in order."""
    spans, cursor = [], 0
    for row in rows:
        sentence = str(row["text"])
        start = text.find(sentence, cursor)
        assert start >= 0, f"labelled sentence {row['id']} not found in {row['doc']}"
        spans.append((start, start + len(sentence)))
        cursor = start + len(sentence)
    return spans


def _assign(claims: tuple[Claim, ...], spans: list[tuple[int, int]]) -> dict[int, Claim]:
    """Each predicted claim to the labelled sentence it overlaps most (first one kept)."""
    assigned: dict[int, Claim] = {}
    for claim in claims:
        overlaps = [min(claim.end, end) - max(claim.start, start) for start, end in spans]
        best = max(range(len(spans)), key=overlaps.__getitem__)
        if overlaps[best] > 0:
            assigned.setdefault(best, claim)
    return assigned


def _score(root: Path) -> Scores:
    lines = (root / "claims" / "dev.jsonl").read_text("utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    by_doc: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        by_doc.setdefault(str(row["doc"]), []).append(row)
    tp = fp = fn = typed = 0
    for doc, doc_rows in by_doc.items():
        text = (root / "seeds" / doc).read_text("utf-8")
        claims = tuple(c for c in find_claims(text, DEFAULT_TOPICS) if c.kind == "claim")
        assigned = _assign(claims, _locate(text, doc_rows))
        for index, row in enumerate(doc_rows):
            gold, predicted = row["label"] == "claim", assigned.get(index)
            tp += gold and predicted is not None
            fp += not gold and predicted is not None
            fn += gold and predicted is None
            typed += gold and predicted is not None and predicted.type == row["type"]
    return Scores(true_positives=tp, false_positives=fp, false_negatives=fn, typed_right=typed)


def test_claims_quality_gate(capsys: pytest.CaptureFixture[str]) -> None:
    scores = _score(_shared_dir())
    with capsys.disabled():
        print(
            f"\nclaims quality (dev.jsonl, seeds 000-002): precision {scores.precision:.3f} "
            f"recall {scores.recall:.3f} F1 {scores.f1:.3f} "
            f"type accuracy {scores.type_accuracy:.3f} "
            f"(tp {scores.true_positives}, fp {scores.false_positives}, "
            f"fn {scores.false_negatives}; floors P≥{PRECISION_FLOOR} R≥{RECALL_FLOOR})"
        )
    assert scores.precision >= PRECISION_FLOOR
    assert scores.recall >= RECALL_FLOOR
