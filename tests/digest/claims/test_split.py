"""The split by article: made once and recorded, reproducible from the pool, and honest (no
study on both sides, a test split large enough to report on, held-out topics apart)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from digest.claims.training import split
from digest.claims.training.labels import iter_pass


@pytest.fixture
def pool(shared_dir: Path) -> Path:
    pool = shared_dir / "claims" / "pool"
    if not pool.is_dir():
        pytest.skip(f"the labelling pool is not at {pool}")
    return pool


def test_split_json_is_what_the_seeded_procedure_makes(pool: Path) -> None:
    recorded = json.loads(split.SPLIT_FILE.read_text(encoding="utf-8"))
    assert split.make_split(pool) == recorded


def test_the_test_split_is_a_quarter_of_the_articles_with_enough_on_the_topics(pool: Path) -> None:
    assignment = split.load_split()
    topical = {a.file for a in split.read_pool(pool) if a.mentions > 0}
    counts = Counter(assignment.values())
    on_topic = Counter(assignment[f] for f in topical)
    print(f"\nsplit: {dict(counts)}; on the topics: {dict(on_topic)}")
    assert len(assignment) >= 120
    assert counts["test"] >= 0.25 * len(assignment)
    assert on_topic["test"] >= 15
    assert topical <= set(assignment)  # every one of the 57 articles on the topics


def test_no_near_duplicate_group_straddles_the_split() -> None:
    assignment = split.load_split()
    for group in split.load_groups():
        assert len({assignment[f] for f in group}) == 1, group


def test_held_out_topic_and_agreement_articles_are_where_they_belong() -> None:
    assignment = split.load_split()
    _, topic2 = split.load_topic2()
    agreement = json.loads(split.SPLIT_FILE.read_text(encoding="utf-8"))["agreement"]
    assert not set(topic2) & set(assignment)
    assert set(agreement) <= set(assignment)


def test_every_labelled_article_of_pass_a_is_in_the_split_and_all_are_labelled() -> None:
    labelled = {label.file for label in iter_pass("a")}
    assert labelled == set(split.load_split())
    _, topic2 = split.load_topic2()
    assert {label.file for label in iter_pass("t2")} == set(topic2)
