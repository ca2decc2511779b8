"""Extraction quality and cost over both benchmarks, one row per variant; titles and dates.

Standalone: `python bench/extraction_quality.py [--shared PATH] [--workers N] [--repeat N]
[--titles]`. Reads the 181 pages of the 2019 article-extraction benchmark ("AEB") and the 642
scored pages of WCXB (2025) from `shared/fixtures` (CLAIMWATCH_SHARED, default `../shared`),
and prints, per variant, mean precision, recall and F1 against the gold text, the pages below
F1 0.5, F1 on WCXB's dev and test halves, and CPU ms per page (measured in the worker process
that extracted it; the best of `--repeat` runs). The metric and the split are those of
`tests/support/extraction_benchmarks.py`, which the quality gate uses too. `--titles` adds
the title and date rules measured against WCXB's gold title and date; `--sweep` the
calibration of the retry threshold (`ExtractSettings.min_page_share`) on the pages it was
chosen on: AEB and WCXB dev.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))
sys.path.insert(1, str(REPO_ROOT))

from support import extraction_benchmarks as eb  # noqa: E402

from ingest.extract import BALANCED, ExtractSettings, Pass  # noqa: E402

TRAFILATURA = "trafilatura"


def variants() -> list[tuple[str, eb.Extractor]]:
    precision, recall = Pass(focus="precision"), Pass(focus="recall")
    return [
        ("trafilatura defaults", eb.trafilatura()),
        ("trafilatura favor_precision", eb.trafilatura(favor_precision=True)),
        ("trafilatura favor_recall", eb.trafilatura(favor_recall=True)),
        ("trafilatura fast", eb.trafilatura(fast=True)),
        ("trafilatura favor_recall + fast", eb.trafilatura(favor_recall=True, fast=True)),
        (
            "ours, favor_precision alone (before)",
            eb.ours(ExtractSettings(first=precision, retry=None)),
        ),
        ("ours, balanced alone", eb.ours(ExtractSettings(first=BALANCED, retry=None))),
        ("ours, favor_recall alone", eb.ours(ExtractSettings(first=recall, retry=None))),
        ("ours, recall + fast alone", eb.ours(ExtractSettings(retry=None))),
        ("ours, recall + fast, checked  <- default", eb.ours()),
        ("  the same, blocks only (no title line)", eb.ours(title=False)),
    ]


def print_table(names: Sequence[str], results: Sequence[Sequence[eb.PageResult]]) -> None:
    print(
        f"{'variant':41} {'AEB P':>6} {'R':>5} {'F1':>5} {'<.5':>3}  {'WCXB P':>6} {'R':>5}"
        f" {'F1':>5} {'<.5':>3}  {'dev F1':>6} {'<.5':>3}  {'test F1':>7} {'<.5':>3}  ms/page"
    )
    for name, rows in zip(names, results, strict=True):
        aeb, wcxb = eb.summarize(eb.select(rows, "aeb")), eb.summarize(eb.select(rows, "wcxb"))
        dev = eb.summarize(eb.select(rows, "wcxb", "dev"))
        test = eb.summarize(eb.select(rows, "wcxb", "test"))
        print(
            f"{name:41} {aeb.precision:6.3f} {aeb.recall:5.3f} {aeb.f1:5.3f} {aeb.low:3d}"
            f"  {wcxb.precision:6.3f} {wcxb.recall:5.3f} {wcxb.f1:5.3f} {wcxb.low:3d}"
            f"  {dev.f1:6.3f} {dev.low:3d}  {test.f1:7.3f} {test.low:3d}"
            f"  {eb.summarize(rows).cpu_ms:7.1f}"
        )


def print_notes(names: Sequence[str], results: Sequence[Sequence[eb.PageResult]]) -> None:
    """How often the default retried, and every page where it scores below 0.5 while one of
    trafilatura's settings scores above 0.8."""
    default = results[next(i for i, n in enumerate(names) if "<- default" in n)]
    for benchmark in ("aeb", "wcxb"):
        rows = eb.select(default, benchmark)
        retried = sum("retried" in r.method for r in rows)
        print(f"default on {benchmark}: retried {retried} of {len(rows)} pages")
    theirs = [
        rows for name, rows in zip(names, results, strict=True) if name.startswith(TRAFILATURA)
    ]
    for i, result in enumerate(default):
        best = max(rows[i].score.f1 for rows in theirs)
        if result.score.f1 < eb.LOW_F1 and best > 0.8:
            page = result.page
            print(
                f"  below 0.5 where trafilatura has {best:.2f}: {page.benchmark} {page.page_id}"
                f" F1 {result.score.f1:.3f} ({result.method}) {page.url}"
            )


SWEEP = (0.04, 0.06, 0.08, 0.10, 0.12, 0.14, 0.16, 0.18, 0.20, 0.25, 0.30)


def print_sweep(pages: Sequence[eb.Page], workers: int) -> None:
    """F1, pages below 0.5 and retries for each threshold, on AEB and WCXB dev only."""
    chosen_on = [p for p in pages if p.benchmark == "aeb" or p.half == "dev"]
    extractors = [eb.ours(ExtractSettings(min_page_share=share)) for share in SWEEP]
    results = eb.run_pages(extractors, chosen_on, workers=workers)
    print("\nretry threshold (share of the page's text), on AEB and WCXB dev:")
    for share, rows in zip(SWEEP, results, strict=True):
        cells = []
        for part in (eb.select(rows, "aeb"), eb.select(rows, "wcxb", "dev")):
            summary, retried = eb.summarize(part), sum("retried" in r.method for r in part)
            cells.append(f"F1 {summary.f1:.4f} <0.5 {summary.low:2d} retried {retried:2d}")
        print(f"  {share:4.2f}   AEB {cells[0]}   dev {cells[1]}")


def best_runs(
    extractors: Sequence[eb.Extractor], pages: Sequence[eb.Page], workers: int, repeat: int
) -> list[list[eb.PageResult]]:
    """Scores from the first run; each variant's per-page CPU times from its fastest run."""
    runs = [eb.run_pages(extractors, pages, workers=workers) for _ in range(repeat)]
    return [
        min((run[i] for run in runs), key=lambda rows: eb.summarize(rows).cpu_ms)
        for i in range(len(extractors))
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=eb.shared_root())
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="runs per variant (fastest kept)")
    parser.add_argument("--titles", action="store_true", help="also the title and date rules")
    parser.add_argument("--sweep", action="store_true", help="also the retry threshold sweep")
    args = parser.parse_args(argv)
    pages = eb.load_aeb(args.shared) + eb.load_wcxb(args.shared)
    trafilatura = eb.load_trafilatura()
    print(
        f"{len(pages)} pages (AEB 181, WCXB 642: dev 332, test 310), trafilatura"
        f" {trafilatura.__version__}, {args.workers} worker processes\n"
    )
    names, extractors = zip(*variants(), strict=True)
    results = best_runs(extractors, pages, args.workers, args.repeat)
    print_table(names, results)
    print()
    print_notes(names, results)
    if args.sweep:
        print_sweep(pages, args.workers)
    if args.titles:
        import titles_and_dates

        titles_and_dates.report([p for p in pages if p.benchmark == "wcxb"], args.workers)
    return 0


if __name__ == "__main__":
    print(f"started {datetime.datetime.now(tz=datetime.UTC):%Y-%m-%d %H:%M} UTC", flush=True)
    raise SystemExit(main())
