"""What an ingest pass is given: the database, the fetcher, the extraction and feed-parsing
functions (run in worker processes by the composition root), the clock and the limits. Built by
`digest.app`; read by `ingest.pipeline` and `ingest.pages`. No I/O here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ingest.db import Database
from ingest.extract import ExtractedDocument, ExtractionSkipped
from ingest.feeds import ParsedFeed, parse_feed
from ingest.http import Fetcher

Extract = Callable[[str, str], ExtractedDocument | ExtractionSkipped]
# (content, final URL, content type) -> ParsedFeed; may raise ExtractionError (time limit):
# feedparser has pathological inputs (its author regular expression) and no time limit.
ParseFeed = Callable[[bytes, str, str], ParsedFeed]


def parse_in_process(content: bytes, url: str, content_type: str) -> ParsedFeed:
    return parse_feed(content, url=url, content_type=content_type)


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestContext:
    """What a pass needs; built by the composition root."""

    db: Database
    fetcher: Fetcher
    extract: Extract  # may raise ExtractionError (time limit, crash)
    corpus_dir: Path
    parse: ParseFeed = parse_in_process
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    max_page_attempts: int = 3
    # Asked between pages and sources; True ends the pass early (a signal to stop). The page
    # in hand is finished first; nothing is half-recorded.
    should_stop: Callable[[], bool] = lambda: False
    workers: int = 4  # feeds polled and pages in hand at once
