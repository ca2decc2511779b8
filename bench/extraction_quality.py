"""Extraction quality and speed over the article-extraction benchmark, one table row per variant.

Standalone: `python bench/extraction_quality.py [--shared PATH] [--repeat N]`. Reads the 181 pages
of `shared/fixtures/article-extraction-benchmark` (CLAIMWATCH_SHARED, default `../shared` from
the repo root); prints mean bag-of-words precision, recall and F1 against the gold `articleBody`
(tokens `\\w+`, lower-cased, with multiplicity; F1 per page) and the time per page on one core.
Compares trafilatura's own text output with ours (`extract_document`) under several settings.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trafilatura

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from ingest.extract import ExtractedDocument, ExtractSettings, extract_document  # noqa: E402

TOKEN_RE = re.compile(r"\w+")
Extractor = Callable[[str, str], str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Page:
    page_id: str
    url: str
    html: str
    gold: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    name: str
    precision: float
    recall: float
    f1: float
    ms_per_page: float


def load_pages(shared: Path) -> list[Page]:
    """Every benchmark page with its gold text, sorted by id."""
    root = shared / "fixtures" / "article-extraction-benchmark"
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    return [
        Page(
            page_id=page_id,
            url=gold["url"],
            html=gzip.decompress((root / "html" / f"{page_id}.html.gz").read_bytes()).decode(),
            gold=gold["articleBody"],
        )
        for page_id, gold in sorted(truth.items())
    ]


def score(extracted: str, gold: str) -> tuple[float, float, float]:
    """Bag-of-words precision, recall and F1 of one page."""
    got, want = (
        Counter(TOKEN_RE.findall(extracted.lower())),
        Counter(TOKEN_RE.findall(gold.lower())),
    )
    common = sum((got & want).values())
    precision = common / sum(got.values()) if got else 0.0
    recall = common / sum(want.values()) if want else 0.0
    f1 = 2 * precision * recall / (precision + recall) if common else 0.0
    return precision, recall, f1


def measure(name: str, extractor: Extractor, pages: list[Page], repeat: int) -> Row:
    """Mean scores over the pages, and the best of `repeat` timings."""
    timings, texts = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        texts = [extractor(page.html, page.url) for page in pages]
        timings.append(time.perf_counter() - start)
    scores = [score(text, page.gold) for text, page in zip(texts, pages, strict=True)]
    return Row(
        name=name,
        precision=statistics.fmean(s[0] for s in scores),
        recall=statistics.fmean(s[1] for s in scores),
        f1=statistics.fmean(s[2] for s in scores),
        ms_per_page=1000 * min(timings) / len(pages),
    )


def trafilatura_text(**options: bool) -> Extractor:
    """trafilatura's own txt output, without our block conversion."""

    def run(html: str, url: str) -> str:
        text = trafilatura.extract(html, url=url, include_comments=False, **options)
        return text or ""

    return run


def ours(settings: ExtractSettings, *, with_title: bool = True) -> Extractor:
    """Our seed-format text (title line unless the body starts with it), or only its blocks."""

    def run(html: str, url: str) -> str:
        result = extract_document(html, url=url, settings=settings)
        if not isinstance(result, ExtractedDocument):
            return ""
        return result.text if with_title else "\n".join(result.blocks)

    return run


def variants() -> list[tuple[str, Extractor]]:
    balanced = ExtractSettings(favor_precision=False)
    return [
        ("trafilatura.extract, defaults (txt)", trafilatura_text()),
        ("trafilatura.extract, favor_precision", trafilatura_text(favor_precision=True)),
        ("trafilatura.extract, favor_recall", trafilatura_text(favor_recall=True)),
        ("trafilatura.extract, include_tables=False", trafilatura_text(include_tables=False)),
        ("trafilatura.extract, fast=True", trafilatura_text(fast=True)),
        ("extract_document, blocks only, balanced", ours(balanced, with_title=False)),
        ("extract_document, blocks only, precision", ours(ExtractSettings(), with_title=False)),
        ("extract_document, balanced", ours(balanced)),
        ("extract_document, favor_precision (default)", ours(ExtractSettings())),
        (
            "extract_document, favor_recall",
            ours(ExtractSettings(favor_precision=False, favor_recall=True)),
        ),
        ("extract_document, precision, no tables", ours(ExtractSettings(include_tables=False))),
        ("extract_document, fast", ours(ExtractSettings(favor_precision=False, fast=True))),
        ("extract_document, precision + fast", ours(ExtractSettings(fast=True))),
        ("extract_document, precision, no metadata", ours(ExtractSettings(with_metadata=False))),
        (
            "extract_document, precision, extensive dates",
            ours(ExtractSettings(extensive_date_search=True)),
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_shared = os.environ.get("CLAIMWATCH_SHARED", str(REPO_ROOT.parent / "shared"))
    parser.add_argument("--shared", type=Path, default=Path(default_shared))
    parser.add_argument("--repeat", type=int, default=1, help="timing runs per variant (best)")
    args = parser.parse_args(argv)
    pages = load_pages(args.shared)
    print(f"{len(pages)} pages, trafilatura {trafilatura.__version__}\n")
    print(f"{'variant':46}  {'P':>5}  {'R':>5}  {'F1':>5}  {'ms/page':>7}  {'page/s':>6}")
    for name, extractor in variants():
        row = measure(name, extractor, pages, args.repeat)
        print(
            f"{row.name:46}  {row.precision:.3f}  {row.recall:.3f}  {row.f1:.3f}"
            f"  {row.ms_per_page:7.1f}  {1000 / row.ms_per_page:6.1f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
