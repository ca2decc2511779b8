"""What an ingest pass is given (`IngestContext`: the database, the fetcher, the extraction and
feed-parsing functions, the clock and the limits, built by the composition root and read by
`ingest.pipeline` and `ingest.pages`), and the two functions the root runs in worker
processes for it. No I/O here.

A library failing on one page or feed is caught here, in the worker, where it is called, and
comes back as a value (`ExtractionFailed`; feeds: `feeds.parse_feed` does the same); anything
else a call raises is our bug and comes back as `ingest.workers.WorkerCrash`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from sqlalchemy.engine import Connection

from ingest.charset import decode_html, looks_like_html
from ingest.db import Database
from ingest.documents import StoredDocument
from ingest.extract import ExtractedDocument, ExtractionSkipped, ExtractSettings, extract_document
from ingest.feeds import ParsedFeed, parse_feed
from ingest.http import Fetcher

# The extractor and the libraries it runs. trafilatura turns its own ValueError and TypeError
# into "nothing found", but not what its parts raise: reported are AttributeError
# (adbar/trafilatura#28, #319), lxml's XMLSyntaxError (#375) and ValueError (#681).
EXTRACTION_LIBRARIES: Final = frozenset(
    {"trafilatura", "lxml", "lxml_html_clean", "htmldate", "justext", "courlan", "dateparser"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtractionFailed:
    """The extraction library raised on this page (recorded like a page that gave no answer,
    and retried on later passes)."""

    url: str
    reason: str  # "AttributeError: …"


ExtractResult = ExtractedDocument | ExtractionSkipped | ExtractionFailed
# (body bytes, charset the server declared, canonical URL) -> ExtractResult. The page goes to
# the worker as bytes (pickling a str costs ten times more) and is decoded there.
Extract = Callable[[bytes, str | None, str], ExtractResult]
# Called in the transaction that stores a new document, with what the worker attached.
OnStored = Callable[[Connection, StoredDocument, object], None]
# (content, final URL, content type) -> ParsedFeed; may raise ExtractionError (time limit):
# feedparser has pathological inputs (its author regular expression) and no time limit.
ParseFeed = Callable[[bytes, str, str], ParsedFeed]


def parse_in_process(content: bytes, url: str, content_type: str) -> ParsedFeed:
    return parse_feed(content, url=url, content_type=content_type)


def extract_in_process(
    content: bytes, charset: str | None, url: str, settings: ExtractSettings
) -> ExtractResult:
    """The page decoded (its declared charset, else detected) and `extract_document` run on it,
    with an exception raised inside the extraction libraries returned as `ExtractionFailed`;
    one raised in our own code propagates (a bug)."""
    html = decode_html(content, charset)
    if not looks_like_html(html):
        return ExtractionSkipped(url=url, reason="not HTML: no markup found")
    try:
        return extract_document(html, url=url, settings=settings)
    except Exception as exc:
        if not raised_by(exc, EXTRACTION_LIBRARIES):
            raise
        return ExtractionFailed(url=url, reason=f"{type(exc).__name__}: {exc}"[:1000])


def raised_by(exc: BaseException, packages: frozenset[str]) -> bool:
    """Whether `exc` is one of the packages' own exception types, or was raised in their code
    (the innermost Python frame of its traceback is theirs)."""
    if type(exc).__module__.split(".")[0] in packages:
        return True
    frame = exc.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    module = frame.tb_frame.f_globals.get("__name__", "") if frame is not None else ""
    return str(module).split(".")[0] in packages


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestContext:
    """What a pass needs; built by the composition root."""

    db: Database
    fetcher: Fetcher
    extract: Extract  # may raise ExtractionError (time limit, worker killed)
    corpus_dir: Path
    parse: ParseFeed = parse_in_process
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    max_page_attempts: int = 3
    # Asked between pages and sources; True ends the pass early (a signal to stop). The page
    # in hand is finished first; nothing is half-recorded.
    should_stop: Callable[[], bool] = lambda: False
    concurrency: int = 4  # feeds polled and pages in hand at once (threads, not processes)
    on_stored: OnStored | None = None
