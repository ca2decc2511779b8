"""Sentence splitting of seed-format text, with exact character offsets into the text.

Pure: no I/O. Blocks are the non-empty lines; paragraphs are runs of blocks between blank
lines. A block is split by a fast regex path when every candidate boundary in it is plain
("word. Capital"); a block with anything ambiguous (abbreviations such as U.S., M.D., Dr.,
e.g.; initials; ellipses; a period followed by a lower-case word) goes to pysbd instead.
Measured on the seed corpus: pysbd alone splits ~1,600 sentences/s; with the fast path the
whole claim finder runs well above 2,000 (see bench/claims_speed.py).

Heading heuristic (`is_heading_block`), decided per block, before splitting:
- a block with no letters, or made of navigation pipes ("| Home | Contact |");
- a block that does not end in sentence punctuation (. ! ? … or a closing quote after one)
  and has at most HEADING_MAX_WORDS words: titles, headings, list stubs, bylines
  ("Benefits of Massage", "Lifescript.com—June 24, 2012"); longer unpunctuated blocks are
  prose whose final period was lost in extraction;
- a short block in Title Case (at least TITLE_CASE_SHARE of at least 3 words capitalised),
  whatever its punctuation ("Help Someone Else By Sharing This Page…");
- a question in Title Case, with or without a list number ("4. How Often Should You Go?"),
  or a lone short question block ("What does massage do?"): it introduces what follows.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import pysbd

# Headings are short: 12 words covers every heading and navigation line in the seeds
# ("Return from Massage Therapy for Back Pain to the Home Page" is the longest, 12 words),
# while the shortest unpunctuated prose line in them has 38.
HEADING_MAX_WORDS = 12
# A question counts as a heading when this share of its words start with a capital.
TITLE_CASE_SHARE = 0.6

_TERMINAL_END_RE = re.compile(r"[.!?…][\"'”’)\]]*\s*$")
_INNER_END_RE = re.compile(r"[.!?…][\"'”’)\]]*\s+\S")
_LIST_MARKER_RE = re.compile(r"^\s*(?:[-*•·–—>]|\(?\d{1,2}[.)]|[a-z][.)])\s+")
_WORD_RE = re.compile(r"[^\W\d_][\w'’-]*")
# A candidate boundary: terminal punctuation, optional closing quotes, then white space.
_CANDIDATE_RE = re.compile(r"[.!?…]+[\"'”’)\]]*\s+")
# What makes a candidate boundary ambiguous, so that pysbd must decide it.
_AMBIGUOUS_BEFORE_RE = re.compile(
    r"(?:\b[A-Za-z]|\.[A-Za-z]|\.\.|…|\b[A-Z][a-z]{1,3}"
    r"|\b(?:vs|etc|approx|incl|esp|cf|al|fig|vol|ca|min|hrs?|mg|ml|oz|lbs?|dept|univ))$"
)
_PLAIN_AFTER_RE = re.compile(r"[\"'“‘(\[]?[A-Z0-9]")


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """One non-empty line of a seed-format text."""

    text: str
    start: int
    para: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Sentence:
    """A sentence (or a whole heading block) with its offsets: text == source[start:end]."""

    text: str
    start: int
    end: int
    block: int
    para: int
    heading: bool


class _Span(Protocol):
    sent: str


def iter_blocks(text: str) -> Iterator[Block]:
    """Yield the non-empty lines of `text` with their offsets and paragraph numbers."""
    para, offset, previous_blank = 0, 0, False
    seen_block = False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if not stripped:
            previous_blank = True
        else:
            if previous_blank and seen_block:
                para += 1
            previous_blank, seen_block = False, True
            lead = len(line) - len(line.lstrip())
            yield Block(text=stripped, start=offset + lead, para=para)
        offset += len(line)


def is_heading_block(block: str) -> bool:
    """Whether a block is a title, heading, list stub or navigation line (module docstring)."""
    body = _LIST_MARKER_RE.sub("", block)
    words = _WORD_RE.findall(body)
    if not words or body.count("|") >= 2:
        return True
    if not _TERMINAL_END_RE.search(body):
        return len(words) <= HEADING_MAX_WORDS
    capitals = sum(1 for word in words if word[0].isupper())
    title_case = len(words) >= 3 and capitals / len(words) >= TITLE_CASE_SHARE
    if title_case and len(words) <= HEADING_MAX_WORDS:
        return True
    if body.rstrip("\"'”’) ").endswith("?"):
        lone_question = len(words) <= HEADING_MAX_WORDS and not _INNER_END_RE.search(body)
        return lone_question or capitals / len(words) >= TITLE_CASE_SHARE
    return False


def _fast_cuts(block: str) -> list[int] | None:
    """Cut points of a block when all candidate boundaries are plain, else None."""
    cuts = []
    for match in _CANDIDATE_RE.finditer(block):
        if match.end() >= len(block):
            break
        before = block[: match.start()]
        if _AMBIGUOUS_BEFORE_RE.search(before) or not _PLAIN_AFTER_RE.match(block, match.end()):
            return None
        cuts.append(match.end())
    return cuts


def _pysbd_cuts(block: str, segmenter: pysbd.Segmenter) -> list[int]:
    """Cut points of a block found by pysbd, located in the block itself."""
    spans: list[_Span] = segmenter.segment(block)
    cuts, cursor = [], 0
    for span in spans:
        piece = span.sent.strip()
        found = block.find(piece, cursor) if piece else -1
        if found < 0:
            continue
        if found > 0:
            cuts.append(found)
        cursor = found + len(piece)
    return sorted(set(cuts))


def split_block(block: str, segmenter: pysbd.Segmenter) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of one block, trailing white space excluded."""
    cuts = _fast_cuts(block)
    if cuts is None:
        cuts = _pysbd_cuts(block, segmenter)
    bounds = [0, *cuts, len(block)]
    spans = []
    for start, end in itertools.pairwise(bounds):
        piece = block[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append((start + lead, start + len(piece.rstrip())))
    return spans


def make_segmenter() -> pysbd.Segmenter:
    """The pysbd segmenter used for ambiguous blocks (English, text kept verbatim)."""
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def split_sentences(text: str, segmenter: pysbd.Segmenter | None = None) -> tuple[Sentence, ...]:
    """All sentences of a seed-format text in order; heading blocks come whole."""
    return split_blocks(list(iter_blocks(text)), segmenter or make_segmenter())


def split_blocks(
    blocks: Sequence[Block], segmenter: pysbd.Segmenter, skip: Collection[int] = ()
) -> tuple[Sentence, ...]:
    """The sentences of `blocks` in order, leaving out the blocks whose indexes are in `skip`
    (splitting is most of the cost of finding claims: a caller skips what it will not read)."""
    sentences = []
    for index, block in enumerate(blocks):
        if index in skip:
            continue
        heading = is_heading_block(block.text)
        spans = [(0, len(block.text))] if heading else split_block(block.text, segmenter)
        for start, end in spans:
            sentences.append(
                Sentence(
                    text=block.text[start:end],
                    start=block.start + start,
                    end=block.start + end,
                    block=index,
                    para=block.para,
                    heading=heading,
                )
            )
    return tuple(sentences)
