"""Sentence splitting: abbreviations, quotes, ellipses, headings, exact offsets."""

from __future__ import annotations

import pytest

from digest.claims.sentences import is_heading_block, iter_blocks, split_sentences


def _texts(text: str) -> list[str]:
    return [s.text for s in split_sentences(text) if not s.heading]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "In 1997, one-third of U.S. adults with low back pain visited a provider. It helped.",
            [
                "In 1997, one-third of U.S. adults with low back pain visited a provider.",
                "It helped.",
            ],
        ),
        (
            "It can add to what your doctor knows, says Paul Cooke, M.D., a physiatrist in "
            "New York. Reyes agrees.",
            [
                "It can add to what your doctor knows, says Paul Cooke, M.D., a physiatrist in "
                "New York.",
                "Reyes agrees.",
            ],
        ),
        (
            "Dr. Smith treats sciatica with massage. Some techniques, e.g. shiatsu, are gentle.",
            [
                "Dr. Smith treats sciatica with massage.",
                "Some techniques, e.g. shiatsu, are gentle.",
            ],
        ),
        (
            "Massage works on the tissue, i.e. the muscles and fascia. It is safe.",
            ["Massage works on the tissue, i.e. the muscles and fascia.", "It is safe."],
        ),
        (
            "“Many therapists mix approaches,” Reyes says. “They use what fits your case.”",
            ["“Many therapists mix approaches,” Reyes says.", "“They use what fits your case.”"],
        ),
        (
            "You just need to get it right… Then it works.",
            ["You just need to get it right…", "Then it works."],
        ),
    ],
)
def test_splits_at_sentence_ends_only(text: str, expected: list[str]) -> None:
    assert _texts(text) == expected


@pytest.mark.parametrize(
    "block",
    [
        "Benefits of Massage",
        "A Doctor's Recommendation",
        "Does Massage Therapy Really Help Back Pain?",
        "4. How Often Should You Get A Massage?",
        "What is massage therapy?",
        "| Homepage | Site Map | Contact Us |",
        "Lifescript.com—June 24, 2012",
        "• Deep tissue massage",
    ],
)
def test_headings_and_list_stubs_are_not_prose(block: str) -> None:
    assert is_heading_block(block)


@pytest.mark.parametrize(
    "block",
    [
        "Massages have benefits beyond relieving back pain.",
        "Is it safe? Most therapists say yes, for most people.",
        "Massage helps relieve back pain in most adults who try it for several weeks and "
        "keeps helping long after the sessions end",
    ],
)
def test_prose_blocks_are_not_headings(block: str) -> None:
    assert not is_heading_block(block)


def test_offsets_point_into_the_text_and_paragraphs_are_counted() -> None:
    text = "Title Here\n\n  First one. Second one!\nSame paragraph.\n\n\nNew paragraph.\n"
    sentences = split_sentences(text)
    assert [(s.text, s.para, s.heading) for s in sentences] == [
        ("Title Here", 0, True),
        ("First one.", 1, False),
        ("Second one!", 1, False),
        ("Same paragraph.", 1, False),
        ("New paragraph.", 2, False),
    ]
    assert all(text[s.start : s.end] == s.text for s in sentences)


def test_blocks_are_the_non_empty_lines() -> None:
    blocks = list(iter_blocks("a\n\nb\nc\n"))
    assert [(b.text, b.start, b.para) for b in blocks] == [("a", 0, 0), ("b", 3, 1), ("c", 5, 1)]
