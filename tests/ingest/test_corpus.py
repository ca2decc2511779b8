"""The corpus format, hash and atomic writes (SEED_FORMAT.md)."""

from __future__ import annotations

import hashlib
import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest import corpus


def reference_hash16(text: str) -> str:
    """SEED_FORMAT.md's function, verbatim."""
    lines = (" ".join(line.split()) for line in unicodedata.normalize("NFC", text).splitlines())
    normalized = "\n".join(line for line in lines if line)
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()[:16]


def test_hash_matches_the_spec_on_the_seeds(shared_dir: Path) -> None:
    for seed in sorted((shared_dir / "seeds").glob("*.txt")):
        text = seed.read_text(encoding="utf-8")
        assert corpus.hash16(text) == reference_hash16(text)


def test_file_name_pads_to_three_digits_and_grows() -> None:
    assert corpus.file_name(7, "0123456789abcdef") == "007_0123456789abcdef.txt"
    assert corpus.file_name(1234, "0123456789abcdef") == "1234_0123456789abcdef.txt"
    assert corpus.parse_file_name("1234_0123456789abcdef.txt") == (1234, "0123456789abcdef")
    assert corpus.parse_file_name("12_0123456789abcdef.txt") is None


def test_format_puts_title_first_unless_the_body_starts_with_it() -> None:
    text = corpus.format_document("Massage  works", ["First   para.", "", "Second\npara."])
    assert text == "Massage works\n\nFirst para.\n\nSecond para.\n"
    same = corpus.format_document("Does massage help?", ["Does massage help? Yes, it does."])
    assert same == "Does massage help? Yes, it does.\n"
    assert corpus.format_document(None, []) == ""


WORDS = st.lists(
    st.lists(
        st.text(st.characters(blacklist_categories=("Zs", "Cc", "Zl", "Zp", "Cs")), min_size=1),
        min_size=1,
        max_size=6,
    ),
    min_size=1,
    max_size=5,
)
SPACES = st.text(alphabet=" \t\u00a0\u2003", min_size=1, max_size=4)


@given(WORDS, st.data())
def test_hash_is_insensitive_to_white_space_within_lines_and_blank_lines(
    lines: list[list[str]], data: st.DataObject
) -> None:
    plain = "\n".join(" ".join(words) for words in lines)
    spaced = "\n\n \t\n".join(
        data.draw(SPACES) + data.draw(SPACES).join(words) + data.draw(SPACES) for words in lines
    )
    assert corpus.hash16(spaced) == corpus.hash16(plain)
    assert corpus.hash16(plain) == reference_hash16(spaced)


@given(st.lists(st.text(min_size=1), max_size=8), st.one_of(st.none(), st.text()))
def test_formatting_is_idempotent(blocks: list[str], title: str | None) -> None:
    text = corpus.format_document(title, blocks)
    again = corpus.format_document(None, corpus.blocks_of(text))
    assert again == text or (text == "" and again == "")
    assert corpus.hash16(again) == corpus.hash16(text)
    if text:
        assert text.endswith("\n") and not text.endswith("\n\n") and "\n\n\n" not in text


def test_atomic_write_leaves_no_partial_file_on_error(tmp_path: Path) -> None:
    target = tmp_path / "000_0123456789abcdef.txt"
    with pytest.raises(UnicodeEncodeError):
        corpus.write_atomically(target, "half \ud800 written")
    assert os.listdir(tmp_path) == []
    corpus.write_atomically(target, "whole\n")
    assert target.read_text() == "whole\n" and os.listdir(tmp_path) == [target.name]
