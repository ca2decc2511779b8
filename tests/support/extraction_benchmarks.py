"""The two extraction benchmarks and the project's metric, shared by the quality gate
(tests/ingest/test_extraction_quality.py) and the full table (bench/extraction_quality.py).

- "aeb": the 181 pages of shared/fixtures/article-extraction-benchmark (2019); gold text only.
- "wcxb": the 642 scored pages of shared/fixtures/wcxb-articles (2025); gold text, title and
  (for 528 pages) date. Split once by a seeded hash of the page id into a "dev" half (332 pages,
  where extraction and title rules were chosen) and a "test" half (310, reported, not tuned on).

Metric: per page, bag-of-words precision and recall of the extracted text against the gold
text (tokens `\\w+`, lower-cased, with multiplicity), F1 per page; means over pages. The pages
are read from the shared folder (never copied into the project) by the worker processes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from ingest.extract import ExtractedDocument, ExtractSettings, extract_document, load_trafilatura

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKEN_RE = re.compile(r"\w+")
SPLIT_SEED = "claimwatch-wcxb-split-1"
LOW_F1 = 0.5


def shared_root() -> Path:
    return Path(os.environ.get("CLAIMWATCH_SHARED", REPO_ROOT.parent / "shared"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Page:
    """One benchmark page: where its HTML is, and its gold values."""

    benchmark: str  # "aeb" or "wcxb"
    page_id: str
    url: str
    html_path: Path
    gold: str
    gold_title: str | None = None
    gold_date: str | None = None

    @property
    def half(self) -> str:
        """ "dev" or "test" for WCXB pages (see the module docstring); "" for AEB."""
        return half(self.page_id) if self.benchmark == "wcxb" else ""

    def html(self) -> str:
        return gzip.decompress(self.html_path.read_bytes()).decode("utf-8", errors="replace")


def half(page_id: str) -> str:
    digest = hashlib.sha256(f"{SPLIT_SEED}:{page_id}".encode()).digest()
    return "dev" if digest[-1] % 2 == 0 else "test"


def aeb_dir(shared: Path) -> Path:
    return shared / "fixtures" / "article-extraction-benchmark"


def wcxb_dir(shared: Path) -> Path:
    return shared / "fixtures" / "wcxb-articles"


def load_aeb(shared: Path) -> list[Page]:
    root = aeb_dir(shared)
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    return [
        Page(
            benchmark="aeb",
            page_id=page_id,
            url=gold["url"],
            html_path=root / "html" / f"{page_id}.html.gz",
            gold=gold["articleBody"],
        )
        for page_id, gold in sorted(truth.items())
    ]


def load_wcxb(shared: Path) -> list[Page]:
    """The scored pages: two of the 644 have no `main_content` and are left out."""
    root = wcxb_dir(shared)
    pages = []
    for path in sorted((root / "ground-truth").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        truth = data["ground_truth"]
        if not truth.get("main_content"):
            continue
        pages.append(
            Page(
                benchmark="wcxb",
                page_id=path.stem,
                url=data["url"],
                html_path=root / "html" / f"{path.stem}.html.gz",
                gold=truth["main_content"],
                gold_title=truth.get("title"),
                gold_date=truth.get("publish_date"),
            )
        )
    return pages


@dataclass(frozen=True, slots=True, kw_only=True)
class Score:
    precision: float
    recall: float
    f1: float


def score(extracted: str, gold: str) -> Score:
    """Bag-of-words precision, recall and F1 of one page."""
    got = Counter(TOKEN_RE.findall(extracted.lower()))
    want = Counter(TOKEN_RE.findall(gold.lower()))
    common = sum((got & want).values())
    precision = common / sum(got.values()) if got else 0.0
    recall = common / sum(want.values()) if want else 0.0
    f1 = 2 * precision * recall / (precision + recall) if common else 0.0
    return Score(precision=precision, recall=recall, f1=f1)


# An extractor: (html, url) -> (text, how it was found). Top-level functions (with
# functools.partial) only, so that worker processes can receive them.
Extractor = Callable[[str, str], tuple[str, str]]


def stored_text(
    html: str, url: str, *, settings: ExtractSettings, title: bool = True
) -> tuple[str, str]:
    """What claimwatch stores for the page (title line + blocks; only the blocks with
    `title=False`) and `ExtractedDocument.method`; "" and the reason when it skips the page."""
    result = extract_document(html, url=url, settings=settings)
    if not isinstance(result, ExtractedDocument):
        return "", f"skipped: {result.reason}"
    return (result.text if title else "\n".join(result.blocks)), result.method


def ours(settings: ExtractSettings | None = None, *, title: bool = True) -> Extractor:
    return partial(stored_text, settings=settings or ExtractSettings(), title=title)


def trafilatura_text(
    html: str, url: str, *, options: tuple[tuple[str, bool], ...]
) -> tuple[str, str]:
    """trafilatura's own txt output with the given options (comments off, as ours)."""
    text = load_trafilatura().extract(html, url=url, include_comments=False, **dict(options))
    return (text if isinstance(text, str) else ""), ""


def trafilatura(**options: bool) -> Extractor:
    return partial(trafilatura_text, options=tuple(sorted(options.items())))


@dataclass(frozen=True, slots=True, kw_only=True)
class PageResult:
    page: Page
    score: Score
    cpu_ms: float
    method: str


def _run_one(extractor: Extractor, page: Page) -> PageResult:
    html = page.html()
    start = time.process_time()
    text, method = extractor(html, page.url)
    cpu_ms = 1000 * (time.process_time() - start)
    return PageResult(page=page, score=score(text, page.gold), cpu_ms=cpu_ms, method=method)


def run_pages(
    extractors: Sequence[Extractor], pages: Sequence[Page], *, workers: int
) -> list[list[PageResult]]:
    """Every extractor over every page, in `workers` processes; CPU time measured per page in
    the process that extracted it. Results in the order of `extractors`, then of `pages`."""
    tasks = [(extractor, page) for extractor in extractors for page in pages]
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        results = list(pool.map(_run_task, tasks, chunksize=8))
    return [results[i * len(pages) : (i + 1) * len(pages)] for i in range(len(extractors))]


def _run_task(task: tuple[Extractor, Page]) -> PageResult:
    return _run_one(*task)


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    pages: int
    precision: float
    recall: float
    f1: float
    low: int  # pages below F1 0.5
    cpu_ms: float  # mean per page


def summarize(results: Sequence[PageResult]) -> Summary:
    return Summary(
        pages=len(results),
        precision=statistics.fmean(r.score.precision for r in results),
        recall=statistics.fmean(r.score.recall for r in results),
        f1=statistics.fmean(r.score.f1 for r in results),
        low=sum(r.score.f1 < LOW_F1 for r in results),
        cpu_ms=statistics.fmean(r.cpu_ms for r in results),
    )


def select(results: Sequence[PageResult], benchmark: str, half_: str = "") -> list[PageResult]:
    return [
        r for r in results if r.page.benchmark == benchmark and (not half_ or r.page.half == half_)
    ]


def as_json(summary: Summary) -> dict[str, Any]:
    return {
        "pages": summary.pages,
        "precision": round(summary.precision, 4),
        "recall": round(summary.recall, 4),
        "f1": round(summary.f1, 4),
        "low": summary.low,
        "cpu_ms": round(summary.cpu_ms, 1),
    }
