"""The labelling tool and the labels: answers parsed strictly, recorded as pointers into the
pool (never its text), amended in place, and every shipped label still pointing at the
sentence it was made for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from digest.claims.training import labeltool
from digest.claims.training.labels import (
    LABELS_DIR,
    StaleLabel,
    iter_pass,
    label_path,
    read_labels,
    resolve,
    span_hash,
)

TOPICS = ("massage", "back_pain")
ARTICLE = (
    "Massage eases back pain, trial finds\n\n"
    "A trial of 400 adults found that massage eased chronic low back pain for six months. "
    "Does it work for everyone?\n\n"
    "I tried it and felt better.\n"
)


@pytest.fixture
def place(tmp_path: Path) -> labeltool.Place:
    pool = tmp_path / "pool"
    pool.mkdir()
    (pool / "0001_aaaaaaaaaaaaaaaa.txt").write_text(ARTICLE, encoding="utf-8")
    return labeltool.Place(pool=pool, labels=tmp_path / "labels")


def test_the_tool_shows_numbered_sentences_with_their_paragraphs() -> None:
    shown = labeltool.render("x.txt", ARTICLE)
    assert "# title: Massage eases back pain, trial finds" in shown
    assert "[paragraph 1]" in shown and "[paragraph 2]" in shown
    assert "  1 A trial of 400 adults" in shown
    assert "  2 Does it work for everyone?" in shown


def test_answers_are_recorded_as_pointers_and_shown_back(place: labeltool.Place) -> None:
    file = "0001_aaaaaaaaaaaaaaaa.txt"
    answers = ["0 n", "1 c eff ev=study,stat t=m,bp", "2 n", "3 a t=m"]
    path = labeltool.record(file, "x", answers, TOPICS, place)
    labels = read_labels(path)
    assert [label.label for label in labels] == ["none", "claim", "none", "anecdote"]
    claim = labels[1]
    assert ARTICLE[claim.start : claim.end].startswith("A trial of 400 adults")
    assert claim.sha == span_hash(ARTICLE[claim.start : claim.end])
    assert (claim.type, claim.evidence, claim.topics) == (
        "efficacy",
        ("statistic", "study"),
        ("massage", "back_pain"),
    )
    stored = path.read_text(encoding="utf-8")
    assert "A trial of 400" not in stored  # the pool's text is never copied
    assert set(json.loads(stored.splitlines()[1])) == {
        "file", "start", "end", "sha", "form", "topics", "type", "evidence", "hedged",
        "negated", "label",
    }  # fmt: skip
    shown = labeltool.render(file, ARTICLE, labels)
    assert "  1 [c eff ev=stat,study t=m,bp] A trial" in shown


def test_an_amendment_changes_only_the_sentences_it_names(place: labeltool.Place) -> None:
    file = "0001_aaaaaaaaaaaaaaaa.txt"
    labeltool.record(file, "x", ["0 n", "1 c eff t=bp", "2 n", "3 a t=m"], TOPICS, place)
    path = labeltool.amend(file, "x", ["3 n", "1 c eff h neg t=bp"], TOPICS, place)
    labels = read_labels(path)
    assert [label.form for label in labels] == ["none", "claim", "none", "none"]
    assert labels[1].hedged and labels[1].negated


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        (["0 x", "1-3 n"], "unknown form"),
        (["0 c t=bp", "1-3 n"], "needs a type"),
        (["0 c eff", "1-3 n"], "t=…"),
        (["0 n eff", "1-3 n"], "claims only"),
        (["0 c eff t=knee", "1-3 n"], "is not one of"),
        (["0-2 n"], "no answer for sentences [3]"),
        (["0-3 n", "2 n"], "answered twice"),
        (["0-4 n"], "out of range"),
    ],
)
def test_bad_answers_are_refused_with_a_reason(
    place: labeltool.Place, lines: list[str], problem: str
) -> None:
    with pytest.raises(labeltool.AnswerError, match=problem.replace("[", r"\[")):
        labeltool.record("0001_aaaaaaaaaaaaaaaa.txt", "x", lines, TOPICS, place)
    assert not (place.labels / "x").exists()


def test_a_changed_pool_file_is_noticed(place: labeltool.Place) -> None:
    file = "0001_aaaaaaaaaaaaaaaa.txt"
    path = labeltool.record(file, "x", ["0-3 n"], TOPICS, place)
    (place.pool / file).write_text(ARTICLE.replace("400", "500"), encoding="utf-8")
    with pytest.raises(StaleLabel):
        list(resolve(read_labels(path), place.pool))


def _pool(shared_dir: Path) -> Path:
    pool = shared_dir / "claims" / "pool"
    if not pool.is_dir():
        pytest.skip(f"the labelling pool is not at {pool}")
    return pool


def test_every_shipped_label_still_points_at_its_sentence(shared_dir: Path) -> None:
    pool = _pool(shared_dir)
    counts = {}
    for pass_name in ("a", "b", "t2"):
        resolved = list(resolve(iter_pass(pass_name), pool))
        counts[pass_name] = len(resolved)
        assert all(r.text.strip() for r in resolved)
    print(f"\nlabels: {counts}")
    assert counts["a"] >= 3000 and counts["b"] >= 400 and counts["t2"] >= 150


def test_every_shipped_label_reads_back_through_the_answer_grammar(shared_dir: Path) -> None:
    """What `show --pass` prints is what `record` would read: the round trip is exact."""
    pool = _pool(shared_dir)
    for pass_name, topics in (("a", TOPICS), ("b", TOPICS), ("t2", ("acupuncture",))):
        for path in sorted((LABELS_DIR / pass_name).glob("*.jsonl")):
            labels = read_labels(path)
            file = labels[0].file
            text = (pool / file).read_text(encoding="utf-8")
            lines = [f"{n} {labeltool.answer_code(label)}" for n, label in enumerate(labels)]
            answers = labeltool.parse_answers(lines, len(labels), topics)
            again = list(labeltool.to_labels(file, text, [answers[n] for n in range(len(labels))]))
            assert again == labels, path.name
            assert label_path(pass_name, file) == path
