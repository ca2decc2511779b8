"""The labelling tool: splits a pool article into the finder's sentences, shows each with its
paragraph and the article's title, and records answers as pointer labels (labels.py).

    python -m digest.claims.training.labeltool show FILE            # numbered sentences
    python -m digest.claims.training.labeltool record FILE --pass a ANSWERS   # ANSWERS or -
    python -m digest.claims.training.labeltool label FILE --pass a  # one sentence at a time
    python -m digest.claims.training.labeltool show FILE --pass a   # with that pass's answers
    python -m digest.claims.training.labeltool amend FILE --pass a ANSWERS   # change some
    python -m digest.claims.training.labeltool status               # what is labelled

Answers, one line per sentence or range (every sentence must be answered once):

    <n>[-<m>] <form> [<type>] [ev=<cue>,<cue>] [h] [neg] [t=<topic>,<topic>|t=-]

form: c (claim), a (anecdote), n (none); type (claims only): eff mech safe dose cost prac cause
(or the full names); evidence cues: study expert stat; h: hedged; neg: negated or limiting;
t=: the topics the sentence asserts something about (m massage, bp back_pain, ac acupuncture),
required for claims and anecdotes, `t=-` when it is about none of them. Lines starting with #
are comments. See docs/claims.md for what each answer means.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from digest.claims.claim import CLAIM_TYPES, EVIDENCE, ClaimType, Evidence
from digest.claims.sentences import Sentence, split_sentences
from digest.claims.training.labels import (
    LABELS_DIR,
    Form,
    Label,
    iter_pass,
    label_path,
    labelled_files,
    read_labels,
    span_hash,
    write_labels,
)

FORM_CODES: dict[str, Form] = {"c": "claim", "a": "anecdote", "n": "none"}
TYPE_CODES: dict[str, ClaimType] = {
    "eff": "efficacy",
    "mech": "mechanism",
    "safe": "safety",
    "dose": "dosage",
    "cost": "cost_access",
    "prac": "practice_training",
    "cause": "cause_prevalence",
}
EVIDENCE_CODES: dict[str, Evidence] = {"study": "study", "expert": "expert", "stat": "statistic"}
TOPIC_CODES = {"m": "massage", "bp": "back_pain", "ac": "acupuncture"}
DEFAULT_TOPICS = ("massage", "back_pain")

_LINE_RE = re.compile(r"^(?P<first>\d+)(?:-(?P<last>\d+))?\s+(?P<rest>.+)$")


class AnswerError(ValueError):
    """An answer line that cannot be read, or answers that do not cover the article."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    form: Form
    type: ClaimType | None
    evidence: tuple[Evidence, ...]
    hedged: bool
    negated: bool
    topics: tuple[str, ...]


def pool_dir() -> Path:
    shared = Path(os.environ.get("CLAIMWATCH_SHARED", Path(__file__).parents[4] / "shared"))
    return shared / "claims" / "pool"


def units(text: str) -> tuple[Sentence, ...]:
    """What is labelled: every sentence the finder's splitter yields, headings included."""
    return split_sentences(text)


def answer_code(label: Label) -> str:
    """A recorded label written back as an answer line's tail (what `record` would read)."""
    parts = [{v: k for k, v in FORM_CODES.items()}[label.form]]
    if label.type:
        parts.append({v: k for k, v in TYPE_CODES.items()}[label.type])
    if label.evidence:
        cues = {v: k for k, v in EVIDENCE_CODES.items()}
        parts.append("ev=" + ",".join(cues[e] for e in label.evidence))
    parts += [flag for flag, on in (("h", label.hedged), ("neg", label.negated)) if on]
    if label.form != "none":
        topics = {v: k for k, v in TOPIC_CODES.items()}
        parts.append("t=" + (",".join(topics.get(t, t) for t in label.topics) or "-"))
    return " ".join(parts)


def render(file: str, text: str, labels: Sequence[Label] = ()) -> str:
    """The article for a labeller: title, then each paragraph with its numbered sentences
    (each preceded by its recorded answer in [brackets] when `labels` are given)."""
    sentences = units(text)
    recorded = {(label.start, label.end): label for label in labels}
    title = text.split("\n", 1)[0].strip()
    out = [
        f"# {file}",
        f"# title: {title}",
        f"# {len(sentences)} sentences (0-{len(sentences) - 1})",
    ]
    para = -1
    for number, sentence in enumerate(sentences):
        if sentence.para != para:
            para = sentence.para
            out.append(f"\n[paragraph {para}]")
        marker = " (heading)" if sentence.heading else ""
        label = recorded.get((sentence.start, sentence.end))
        answer = f" [{answer_code(label)}]" if label else ""
        out.append(f"{number:>3}{marker}{answer} {sentence.text}")
    return "\n".join(out) + "\n"


def _code(value: str, codes: dict[str, str], full: frozenset[str], what: str) -> str:
    if value in codes:
        return codes[value]
    if value in full:
        return value
    raise AnswerError(f"unknown {what} {value!r}")


def parse_answer(rest: str, topics: Sequence[str]) -> Answer:
    """One answer (the part after the sentence number)."""
    tokens = rest.split()
    form_token, options = tokens[0].lower(), tokens[1:]
    form = FORM_CODES.get(form_token) or (form_token if form_token in FORM_CODES.values() else None)
    if form is None:
        raise AnswerError(f"unknown form {tokens[0]!r} (c, a or n)")
    kind: str | None = None
    evidence: list[str] = []
    hedged = negated = False
    found_topics: tuple[str, ...] | None = None
    for option in options:
        if option.startswith("ev="):
            values = [v for v in option[3:].split(",") if v]
            evidence = [_code(v, dict(EVIDENCE_CODES), EVIDENCE, "evidence cue") for v in values]
        elif option.startswith("t="):
            found_topics = _topics(option[2:], topics)
        elif option in ("h", "neg"):
            hedged, negated = hedged or option == "h", negated or option == "neg"
        else:
            kind = _code(option, dict(TYPE_CODES), CLAIM_TYPES, "type")
    return _checked(form, kind, evidence, hedged, negated, found_topics)


def _topics(value: str, allowed: Sequence[str]) -> tuple[str, ...]:
    if value in ("-", ""):
        return ()
    names = [TOPIC_CODES.get(v, v) for v in value.split(",")]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise AnswerError(f"topic {unknown[0]!r} is not one of {', '.join(allowed)}")
    return tuple(n for n in allowed if n in names)


def _checked(
    form: str,
    kind: str | None,
    evidence: list[str],
    hedged: bool,
    negated: bool,
    topics: tuple[str, ...] | None,
) -> Answer:
    if form == "claim" and kind is None:
        raise AnswerError("a claim needs a type")
    if form != "claim" and (kind or evidence or hedged or negated):
        raise AnswerError("type, evidence, h and neg are for claims only")
    if form != "none" and topics is None:
        raise AnswerError("claims and anecdotes need t=… (t=- when off the topics)")
    return Answer(
        form=form,  # type: ignore[arg-type]  # one of FORM_CODES' values
        type=kind,  # type: ignore[arg-type]  # one of CLAIM_TYPES
        evidence=tuple(sorted(set(evidence))),  # type: ignore[arg-type]  # in EVIDENCE
        hedged=hedged,
        negated=negated,
        topics=topics or (),
    )


def parse_answers(
    lines: Sequence[str], count: int, topics: Sequence[str], *, partial: bool = False
) -> dict[int, Answer]:
    """Answers by sentence number; every sentence 0..count-1 answered exactly once unless
    `partial` (an amendment)."""
    answers: dict[int, Answer] = {}
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _LINE_RE.match(line)
        if match is None:
            raise AnswerError(f"cannot read {raw.strip()!r}")
        first = int(match["first"])
        last = int(match["last"] or first)
        try:
            answer = parse_answer(match["rest"], topics)
        except AnswerError as exc:
            raise AnswerError(f"{raw.strip()!r}: {exc}") from exc
        for number in range(first, last + 1):
            if number >= count or number in answers:
                raise AnswerError(f"sentence {number} out of range or answered twice")
            answers[number] = answer
    missing = [n for n in range(count) if n not in answers]
    if missing and not partial:
        raise AnswerError(f"no answer for sentences {missing[:20]}")
    return answers


def to_labels(file: str, text: str, answers: Sequence[Answer]) -> Iterator[Label]:
    for sentence, answer in zip(units(text), answers, strict=True):
        yield Label(
            file=file,
            start=sentence.start,
            end=sentence.end,
            sha=span_hash(sentence.text),
            form=answer.form,
            topics=answer.topics,
            type=answer.type,
            evidence=answer.evidence,
            hedged=answer.hedged,
            negated=answer.negated,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Place:
    """Where articles are read from and labels written to (tests use their own)."""

    pool: Path
    labels: Path = LABELS_DIR


def default_place() -> Place:
    return Place(pool=pool_dir())


def record(
    file: str, pass_name: str, lines: Sequence[str], topics: Sequence[str], place: Place
) -> Path:
    """Record a whole article's answers (replacing that pass's labels of it)."""
    text = (place.pool / file).read_text(encoding="utf-8")
    count = len(units(text))
    answers = parse_answers(lines, count, topics)
    path = label_path(pass_name, file, place.labels)
    write_labels(path, to_labels(file, text, [answers[n] for n in range(count)]))
    return path


def amend(
    file: str, pass_name: str, lines: Sequence[str], topics: Sequence[str], place: Place
) -> Path:
    """Replace the answers of the sentences named in `lines`; keep every other label."""
    text = (place.pool / file).read_text(encoding="utf-8")
    sentences = units(text)
    path = label_path(pass_name, file, place.labels)
    old = {(label.start, label.end): label for label in read_labels(path)}
    changes = parse_answers(lines, len(sentences), topics, partial=True)
    kept = [
        _answer_of(old[(s.start, s.end)]) if n not in changes else changes[n]
        for n, s in enumerate(sentences)
    ]
    write_labels(path, to_labels(file, text, kept))
    return path


def _answer_of(label: Label) -> Answer:
    return Answer(
        form=label.form,
        type=label.type,
        evidence=label.evidence,
        hedged=label.hedged,
        negated=label.negated,
        topics=label.topics,
    )


def label_interactively(file: str, pass_name: str, topics: Sequence[str], place: Place) -> Path:
    """Ask for each sentence in turn, showing its paragraph; the same answers as `record`."""
    text = (place.pool / file).read_text(encoding="utf-8")
    sentences = units(text)
    print(f"title: {text.split(chr(10), 1)[0]}\n{__doc__.split('Answers,', 1)[1]}")
    lines: list[str] = []
    for number, sentence in enumerate(sentences):
        paragraph = " ".join(s.text for s in sentences if s.para == sentence.para)
        print(f"\n[paragraph {sentence.para}] {paragraph}\n>>> {number}: {sentence.text}")
        while True:
            reply = input("answer> ").strip() or "n"
            try:
                parse_answer(reply, topics)
            except AnswerError as exc:
                print(f"  {exc}")
                continue
            lines.append(f"{number} {reply}")
            break
    return record(file, pass_name, lines, topics, place)


def status(root: Path = LABELS_DIR) -> str:
    rows = []
    for pass_dir in sorted(p for p in root.glob("*") if p.is_dir()):
        labels = list(iter_pass(pass_dir.name, root))
        claims = sum(1 for label in labels if label.label == "claim")
        files = len(labelled_files(pass_dir.name, root))
        rows.append(f"{pass_dir.name}: {files} articles, {len(labels)} sentences, {claims} claims")
    return "\n".join(rows) or "no labels yet"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labeltool", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show")
    show.add_argument("file")
    show.add_argument("--pass", dest="pass_name", help="show this pass's recorded answers")
    for name in ("record", "label", "amend"):
        command = sub.add_parser(name)
        command.add_argument("file")
        command.add_argument("--pass", dest="pass_name", required=True)
        command.add_argument("--topics", default=",".join(DEFAULT_TOPICS))
        if name != "label":
            command.add_argument("answers", help="a file of answer lines, or - for stdin")
    sub.add_parser("status")
    args = parser.parse_args(argv)
    if args.command == "show":
        text = (pool_dir() / args.file).read_text(encoding="utf-8")
        labels = read_labels(label_path(args.pass_name, args.file)) if args.pass_name else []
        print(render(args.file, text, labels), end="")
        return 0
    if args.command == "status":
        print(status())
        return 0
    topics = tuple(args.topics.split(","))
    try:
        if args.command == "label":
            path = label_interactively(args.file, args.pass_name, topics, default_place())
        else:
            if args.answers == "-":
                lines = sys.stdin.read().splitlines()
            else:
                lines = Path(args.answers).read_text(encoding="utf-8").splitlines()
            write = amend if args.command == "amend" else record
            path = write(args.file, args.pass_name, lines, topics, default_place())
    except AnswerError as exc:
        print(f"labeltool: {exc}", file=sys.stderr)
        return 2
    print(f"recorded {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
