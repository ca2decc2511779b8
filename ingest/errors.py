"""The ingest exception tree. Errors from the outside world are wrapped once, at the edge that
met them, into one of these; the pipeline records them as data per source and per entry, and
a storage failure ends the command with one line (exit code 1).

    IngestError                      anything the outside world did to an ingest step
    ├── ConfigError                  sources.yaml unreadable or invalid (exit code 2)
    ├── FetchError                   one HTTP fetch failed        .url .kind
    │   ├── BlockedAddress           the host resolves to an address we may not connect to
    │   ├── FetchTimeout             the total deadline passed
    │   ├── BodyTooLarge             more than fetch.max_bytes after decompression
    │   ├── TooManyRedirects         more than 5 hops, or a loop
    │   ├── HTTPStatusError          a 4xx/5xx answer                .status
    │   └── TransportError           connection refused, reset, TLS, DNS …
    ├── FeedError                    a feed could not be parsed into entries
    ├── ExtractionError              a worker process gave no answer: the extractor (or a feed
    │   │                            parser, or claim finding) failed on its input, or the
    │   │                            worker died (killed at shutdown)
    │   └── ExtractionTimeout        it ran out of time
    └── StorageError                 the database or the corpus folder refused a read or write:
                                     a full disk, a database locked past its busy timeout, an
                                     I/O error

Not here, on purpose: a call that raised in a worker process comes back as
`ingest.workers.WorkerCrash`, a bug (ours, or a library failure nobody has caught where the
library is called), which no step records; it propagates.
"""

from __future__ import annotations


class IngestError(Exception):
    """Base of every error the ingest package raises on purpose."""

    kind = "error"


class ConfigError(IngestError):
    """The configuration is invalid. `str()` is the one line shown to the user."""

    kind = "config"


class FetchError(IngestError):
    """One fetch failed; `kind` is a short stable label for status pages and metrics."""

    kind = "fetch"

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


class BlockedAddress(FetchError):
    kind = "blocked_address"


class FetchTimeout(FetchError):
    kind = "timeout"


class BodyTooLarge(FetchError):
    kind = "too_large"


class TooManyRedirects(FetchError):
    kind = "redirects"


class HTTPStatusError(FetchError):
    kind = "http_status"

    def __init__(
        self, message: str, *, url: str, status: int, retry_after: float | None = None
    ) -> None:
        super().__init__(message, url=url)
        self.status = status
        self.retry_after = retry_after  # seconds the server asked us to wait (429/503)


class TransportError(FetchError):
    kind = "transport"


class FeedError(IngestError):
    kind = "feed"


class ExtractionError(IngestError):
    kind = "extraction"


class ExtractionTimeout(ExtractionError):
    kind = "extraction_timeout"


class StorageError(IngestError):
    """The database or the corpus folder failed under us; `str()` is the reason."""

    kind = "storage"
