"""Labelled sentences as pointers into the pool: file name, character offsets and a short hash
of the sentence, never the pool's text; reading and writing them, and resolving them back to
text against a pool folder.

One JSON object a line, one file per labelled article and labelling pass
(`labels/<pass>/<article stem>.jsonl`). A label says what a sentence is *as a form*
(claim, anecdote or none, whatever it is about) and *what it is about* (the configured topics
it asserts something about); the guide's label follows from both (`guide_label`). See
docs/claims.md for the definitions every label follows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, get_args

from digest.claims.claim import CLAIM_TYPES, EVIDENCE, ClaimType, Evidence

Form = Literal["claim", "anecdote", "none"]
FORMS: Final = frozenset(get_args(Form))
GuideLabel = Form

LABELS_DIR: Final = Path(__file__).resolve().parent / "labels"


def span_hash(sentence: str) -> str:
    """Eight hex digits of SHA-256 over the sentence with its white space collapsed: enough to
    notice that a pool file changed under a label, too little to carry its text."""
    return hashlib.sha256(" ".join(sentence.split()).encode("utf-8")).hexdigest()[:8]


@dataclass(frozen=True, slots=True, kw_only=True)
class Label:
    """One labelled sentence of one pool article, by one labelling pass."""

    file: str  # pool file name, e.g. "0006_f8abfa83fda19504.txt"
    start: int
    end: int
    sha: str  # span_hash(text[start:end])
    form: Form
    topics: tuple[str, ...]  # configured topics the sentence asserts something about
    type: ClaimType | None  # for form == "claim"
    evidence: tuple[Evidence, ...]
    hedged: bool
    negated: bool

    @property
    def label(self) -> GuideLabel:
        return guide_label(self.form, self.topics)


def guide_label(form: Form, topics: Sequence[str]) -> GuideLabel:
    """The guide's label: a claim or anecdote only when it is about a configured topic."""
    return form if topics else "none"


def _to_json(label: Label) -> dict[str, object]:
    return {
        "file": label.file,
        "start": label.start,
        "end": label.end,
        "sha": label.sha,
        "form": label.form,
        "topics": list(label.topics),
        "type": label.type,
        "evidence": list(label.evidence),
        "hedged": label.hedged,
        "negated": label.negated,
        "label": label.label,
    }


def _from_json(row: dict[str, object]) -> Label:
    form, kind = str(row["form"]), row.get("type")
    if form not in FORMS or (kind is not None and kind not in CLAIM_TYPES):
        raise ValueError(f"bad label row: {row}")
    evidence = tuple(str(e) for e in _strings(row.get("evidence", [])))
    if not set(evidence) <= EVIDENCE:
        raise ValueError(f"bad evidence in label row: {row}")
    return Label(
        file=str(row["file"]),
        start=int(str(row["start"])),
        end=int(str(row["end"])),
        sha=str(row["sha"]),
        form=form,  # type: ignore[arg-type]  # checked against FORMS above
        topics=tuple(_strings(row.get("topics", []))),
        type=kind,  # type: ignore[arg-type]  # checked against CLAIM_TYPES above
        evidence=evidence,  # type: ignore[arg-type]  # checked against EVIDENCE above
        hedged=bool(row.get("hedged", False)),
        negated=bool(row.get("negated", False)),
    )


def _strings(value: object) -> list[str]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {value!r}")
    return [str(item) for item in value]


def label_path(pass_name: str, file: str, root: Path = LABELS_DIR) -> Path:
    return root / pass_name / (Path(file).stem + ".jsonl")


def write_labels(path: Path, labels: Iterable[Label]) -> None:
    """Write one article's labels (atomically: a temporary file renamed over the old one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(json.dumps(_to_json(label), ensure_ascii=False) + "\n" for label in labels)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(path)


def read_labels(path: Path) -> list[Label]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [_from_json(json.loads(line)) for line in lines if line.strip()]


def iter_pass(pass_name: str, root: Path = LABELS_DIR) -> Iterator[Label]:
    """Every label of one pass, article by article in file-name order."""
    for path in sorted((root / pass_name).glob("*.jsonl")):
        yield from read_labels(path)


def labelled_files(pass_name: str, root: Path = LABELS_DIR) -> list[str]:
    return sorted(p.stem + ".txt" for p in (root / pass_name).glob("*.jsonl"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolved:
    """A label with its sentence, read back from the pool."""

    label: Label
    text: str


class StaleLabel(Exception):
    """A pool file no longer holds the labelled sentence at its offsets (hash differs)."""


def resolve(labels: Iterable[Label], pool: Path) -> Iterator[Resolved]:
    """Each label with its sentence from `pool`; raises StaleLabel when a hash differs."""
    cache: dict[str, str] = {}
    for label in labels:
        if label.file not in cache:
            cache[label.file] = (pool / label.file).read_text(encoding="utf-8")
        text = cache[label.file][label.start : label.end]
        if span_hash(text) != label.sha:
            raise StaleLabel(f"{label.file}[{label.start}:{label.end}] changed since labelling")
        yield Resolved(label=label, text=text)
