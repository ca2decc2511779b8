"""What the worker processes run for a page: extraction and, in the same call, the claims of
the text it found (one round trip and one pickled page instead of two). Imported by the
workers' fork server (app.WORKER_PRELOAD); holds no state.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from digest.claims.claim import Claim
from digest.claims.topics import Topic
from ingest.context import ExtractResult, extract_in_process
from ingest.extract import ExtractedDocument, ExtractSettings

ClaimFinder = Callable[[str, tuple[Topic, ...]], tuple[Claim, ...]]
# (body, charset, URL, settings) -> the article: ingest.context.extract_in_process, or in the
# scaling benchmark an extractor that only sleeps.
PageExtractor = Callable[[bytes, str | None, str, ExtractSettings], ExtractResult]


def extract_and_find_claims(
    content: bytes,
    charset: str | None,
    url: str,
    settings: ExtractSettings,
    finder: ClaimFinder,
    topics: tuple[Topic, ...],
    extractor: PageExtractor = extract_in_process,
) -> ExtractResult:
    """The page's article, carrying its claims (`finder`: claims.finder.find_claims, a
    top-level function, pickled by name) as the attachment `service` stores with it."""
    result = extractor(content, charset, url, settings)
    if not isinstance(result, ExtractedDocument):
        return result
    return dataclasses.replace(result, attachment=finder(result.text, topics))
