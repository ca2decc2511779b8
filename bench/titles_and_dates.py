"""Title and date rules against WCXB's gold `title` and `publish_date`, dev and test halves.

Used by `bench/extraction_quality.py --titles`. Each page is parsed once in a worker process;
the rules compared are orderings of the titles the page declares (`ingest.pagemeta`), the rule
`pagemeta` applies, and trafilatura's own metadata pass, which claimwatch used before.
"""

from __future__ import annotations

import datetime
import re
import statistics
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

from support import extraction_benchmarks as eb

from ingest.pagemeta import TitleCandidates, choose_title, page_head, title_candidates

TitleRule = Callable[["Found"], str | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Found:
    page: eb.Page
    candidates: TitleCandidates
    title: str | None  # pagemeta's rule
    date: str | None  # pagemeta's date
    trafilatura_title: str | None
    trafilatura_date: str | None


def read_page(page: eb.Page) -> Found:
    eb.load_trafilatura()
    from trafilatura.metadata import extract_metadata
    from trafilatura.utils import load_html

    tree = load_html(page.html())
    today = datetime.datetime.now(tz=datetime.UTC).date()
    head = page_head(tree, url=page.url, today=today)
    params = {"original_date": True, "extensive_search": False, "max_date": today.isoformat()}
    theirs = extract_metadata(tree, page.url, params)
    return Found(
        page=page,
        candidates=title_candidates(tree, url=page.url),
        title=head.title,
        date=head.published.isoformat() if head.published else None,
        trafilatura_title=theirs.title,
        trafilatura_date=theirs.date,
    )


def first(*titles: str | None) -> str | None:
    return next((t for t in titles if t), None)


TITLE_RULES: list[tuple[str, TitleRule]] = [
    ("trafilatura's metadata title (before)", lambda f: f.trafilatura_title),
    ("og:title", lambda f: f.candidates.og),
    ("<title> without the site name", lambda f: f.candidates.title_element),
    (
        "JSON-LD headline, og:title, <title>, <h1>",
        lambda f: first(*f.candidates.declared, f.candidates.h1),
    ),
    (
        "og:title, JSON-LD, <title>, <h1>",
        lambda f: first(
            f.candidates.og, f.candidates.json_ld, f.candidates.title_element, f.candidates.h1
        ),
    ),
    (
        "<h1>, then JSON-LD, og:title, <title>",
        lambda f: first(f.candidates.h1, *f.candidates.declared),
    ),
    ("<h1> if it agrees, else ...  <- pagemeta", lambda f: choose_title(f.candidates)),
]


def _key(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())


def _date(value: str | None) -> str | None:
    match = re.search(r"\d{4}-\d{2}-\d{2}", value or "")
    return match[0] if match else None


def report(pages: Sequence[eb.Page], workers: int) -> None:
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        found = list(pool.map(read_page, pages, chunksize=8))
    halves = {name: [f for f in found if f.page.half == name] for name in ("dev", "test")}
    print("\ntitles: exact matches with WCXB's gold title (case, spacing ignored); token F1")
    for name, rule in TITLE_RULES:
        cells = []
        for rows in halves.values():
            exact = sum(_key(rule(f)) == _key(f.page.gold_title) for f in rows)
            f1 = statistics.fmean(eb.score(rule(f) or "", f.page.gold_title or "").f1 for f in rows)
            cells.append(f"{exact:3d}/{len(rows)} {f1:.3f}")
        print(f"  {name:44} dev {cells[0]}   test {cells[1]}")
    print("dates: pages with a gold date, right / wrong / none; a date where the gold has none")
    for name, get in (
        ("trafilatura's metadata (before)", lambda f: _date(f.trafilatura_date)),
        ("pagemeta: declared, then htmldate", lambda f: f.date),
    ):
        cells = []
        for rows in halves.values():
            dated = [f for f in rows if f.page.gold_date]
            right = sum(get(f) == f.page.gold_date for f in dated)
            none = sum(get(f) is None for f in dated)
            extra = sum(get(f) is not None for f in rows if not f.page.gold_date)
            cells.append(f"{right:3d}/{len(dated) - right - none:2d}/{none:2d} +{extra}")
        print(f"  {name:44} dev {cells[0]}   test {cells[1]}")
