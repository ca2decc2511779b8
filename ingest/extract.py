"""Article extraction: one HTML page in, the article's title, blocks and seed-format text out.

The trafilatura adapter: no trafilatura or lxml object leaves this module (`pagemeta` reads the
same parsed tree for the title and date). Pure CPU, no I/O: it never fetches (the page is given
as a string) and keeps no cache between calls (trafilatura's ``deduplicate`` would use a
process-global one), so it is safe to run in a worker process. It does not time itself out;
the caller that runs it in a worker process does. The page is parsed once.

How the settings were chosen: ``bench/extraction_quality.py`` over the 181 pages of
``shared/fixtures/article-extraction-benchmark`` (trafilatura 2.3.1; bag-of-words precision and
recall against the gold ``articleBody``, tokens ``\\w+`` lower-cased with multiplicity, mean over
pages, F1 per page; ms/page is the best of 3 runs on one core of a busy 2-core machine, ±20 %)::

    variant                                          P      R      F1    ms/page
    trafilatura.extract (txt), defaults            0.947  0.983  0.959    20.0
    trafilatura.extract (txt), favor_precision     0.964  0.975  0.965    20.6
    trafilatura.extract (txt), favor_recall        0.946  0.983  0.959    14.8
    trafilatura.extract (txt), include_tables=0    0.948  0.977  0.956    26.1
    trafilatura.extract (txt), fast=True           0.951  0.984  0.961    16.1
    ours, blocks only, balanced                    0.947  0.983  0.959    26.2
    ours, blocks only, favor_precision             0.964  0.975  0.965    27.7
    ours, text (title + blocks), balanced          0.929  0.983  0.949    44.0
    ours, text, favor_precision  <- DEFAULT        0.944  0.976  0.955    33.6
    ours, text, favor_recall                       0.927  0.984  0.949    19.3
    ours, text, favor_precision, no tables         0.938  0.964  0.945    26.0
    ours, text, fast                               0.932  0.984  0.952    19.8
    ours, text, favor_precision + fast             0.929  0.952  0.936    18.3
    ours, text, favor_precision, no metadata       0.964  0.975  0.965    22.8
    ours, text, favor_precision, extensive dates   0.944  0.976  0.955    38.8

Readings. Our block conversion loses nothing: its blocks give the same token bags as
trafilatura's own text output on every page (after dropping invisible format characters, as
trafilatura does). The title line costs about 2 points of precision only because the gold text
has no title. favor_precision is the best F1 (+0.6 over balanced) and, on index pages, skips
where balanced mode falls back to the whole page as one block. fast=True drops that fallback,
which is a loss with favor_precision (3 pages come out empty). Tables stay: without them recall
falls 1 point. Metadata (title and date, needed for the seed format's title line) costs about
a quarter of the time (cProfile over the 181 pages: 1.3 of 5.4 s); most of that is fields we
do not use (author 0.47 s, categories and tags 0.30 s, licence 0.15 s), htmldate only 0.10 s,
but trafilatura computes them all or none. htmldate's extensive search (free-text date scan)
found a date on 2 more of 181 pages for a few more ms, and guesses, so it is off. The other
large share is trafilatura's fallback comparison with readability/jusText (1.7 s), which
fast=True drops at the cost above.

Since this table, the title and date come from `ingest.pagemeta`, read from the same parsed
tree (about 1.5 ms a page instead of the metadata pass's 10; its docstring has the rules and
their measurement), and trafilatura runs without its metadata pass.
"""

from __future__ import annotations

import datetime
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ingest.corpus import clean_block, format_document
from ingest.pagemeta import Tree, page_head

# trafilatura's output tree: these tags start a block of their own; everything else is inline.
_BLOCK_TAGS = frozenset(
    {"p", "head", "list", "item", "quote", "table", "row", "cell", "div", "code"}
)
_BULLET = "• "  # how seed 003 shows list items
_CELL_SEPARATOR = " | "


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtractSettings:
    """How to extract. The trafilatura options were calibrated as the module docstring shows."""

    min_chars: int = 200  # body text shorter than this is skipped: a teaser, an error page
    favor_precision: bool = True
    favor_recall: bool = False
    fast: bool = False
    include_tables: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtractedDocument:
    """The article found on a page; `text` is `format_document(title, blocks)`."""

    url: str
    title: str | None
    blocks: tuple[str, ...]
    published: datetime.date | None
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtractionSkipped:
    """A page with no usable article, and why (a status, not an error)."""

    url: str
    reason: str


def extract_document(
    html: str, *, url: str, settings: ExtractSettings, feed_title: str | None = None
) -> ExtractedDocument | ExtractionSkipped:
    """The article of one HTML page as seed-format blocks, or the reason there is none.
    `feed_title` (the feed entry's title) is used only when the page declares none."""
    tree = _parse(html)
    if tree is None:
        return ExtractionSkipped(url=url, reason="no article text found")
    blocks = _run_trafilatura(tree, url=url, settings=settings)
    if not blocks:
        return ExtractionSkipped(url=url, reason="no article text found")
    body_chars = sum(len(block) for block in blocks)
    if body_chars < settings.min_chars:
        reason = f"too short: {body_chars} < {settings.min_chars} characters"
        return ExtractionSkipped(url=url, reason=reason)
    today = datetime.datetime.now(tz=datetime.UTC).date()
    head = page_head(tree, url=url, today=today, feed_title=feed_title)
    return ExtractedDocument(
        url=url,
        title=head.title,
        blocks=blocks,
        published=head.published,
        text=format_document(head.title, blocks),
    )


def load_trafilatura() -> ModuleType:
    """trafilatura, imported on first use: only the worker processes extract (their fork server
    imports it once, see `ingest.extract_preload`), and trafilatura with lxml, htmldate and
    justext costs the main process memory it would never use. Its import of urllib3's SOCKS
    support warns that PySocks is missing: we never fetch through it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="SOCKS support in urllib3", category=Warning)
        import trafilatura
    return trafilatura


def _parse(html: str) -> Tree | None:
    """The page as trafilatura parses it (its encoding and markup repairs), parsed once for the
    extraction and for the title and date; None when there is no HTML tree at all."""
    load_trafilatura()
    from trafilatura.utils import load_html

    return load_html(html) if html.strip() else None


def _run_trafilatura(tree: Tree, *, url: str, settings: ExtractSettings) -> tuple[str, ...]:
    trafilatura = load_trafilatura()
    document = trafilatura.bare_extraction(
        tree,  # copied by trafilatura: the tree stays as parsed for `pagemeta`
        url=url,
        favor_precision=settings.favor_precision,
        favor_recall=settings.favor_recall,
        fast=settings.fast,
        include_comments=False,
        include_tables=settings.include_tables,
        deduplicate=False,  # True would share one process-global cache between pages
        with_metadata=False,  # the title and date come from `pagemeta`, at a tenth of the cost
        output_format="txt",  # leaves the text unrendered: we read the tree, `document.body`
    )
    # None: trafilatura found nothing (it turns its own ValueError into None)
    if document is None or isinstance(document, dict) or document.body is None:
        return ()
    return tuple(_blocks_of_body(document.body))


def _blocks_of_body(body: Any) -> Iterator[str]:
    for block in _element_blocks(body):
        cleaned = clean_block(_printable(block))
        if cleaned and cleaned != _BULLET.strip():
            yield cleaned


def _printable(text: str) -> str:
    """Without invisible format characters (soft hyphens, zero-width spaces …), as trafilatura's
    own text output: "regis\xadtriertem" is one word, not two."""
    if text.isprintable():
        return text
    return "".join(char for char in text if char.isprintable() or char.isspace())


def _element_blocks(element: Any) -> Iterator[str]:
    """The blocks inside one element of trafilatura's tree, in reading order."""
    if element.tag == "table":
        yield from (_row_text(row) for row in element if row.tag == "row")
        return
    inline: list[str] = [element.text or ""]
    for child in element:
        if child.tag in _BLOCK_TAGS:
            yield "".join(inline)
            inline = []
            yield from _child_blocks(child)
        else:
            inline.append(_inline_text(child))
        inline.append(child.tail or "")
    yield "".join(inline)


def _child_blocks(child: Any) -> Iterator[str]:
    if child.tag != "item":
        yield from _element_blocks(child)
        return
    blocks = (block for block in _element_blocks(child) if block.strip())
    yield _BULLET + next(blocks, "")
    yield from blocks


def _inline_text(element: Any) -> str:
    """Text of an inline element (hi, ref, lb, del …) and everything inside it."""
    if element.tag == "lb":
        return " "
    parts = [element.text or ""]
    for child in element:
        parts.append(_inline_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _row_text(row: Any) -> str:
    cells = (" ".join(clean_block(b) for b in _element_blocks(cell)) for cell in row)
    return _CELL_SEPARATOR.join(text for cell_text in cells if (text := cell_text.strip()))
