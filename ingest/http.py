"""Polite, bounded HTTP fetching with httpx: conditional GET, at most N redirects followed by
hand (each hop re-checked by the address guard), a total deadline per fetch, a body cap counted
after decompression, retries with backoff for timeouts and 5xx, Retry-After for 429/503, and a
delay between requests to one host.

Every httpx object stays in this module; callers get `Fetched`, `NotModified` or `Unwanted`
values, or a `FetchError`. Does not parse feeds or pages.
"""

from __future__ import annotations

import email.utils
import logging
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from ingest.config import FetchConfig
from ingest.errors import (
    BlockedAddress,
    BodyTooLarge,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    TooManyRedirects,
    TransportError,
)
from ingest.netguard import AddressPolicy, GuardedBackend

log = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True, kw_only=True)
class Validators:
    """What a previous answer said, for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Fetched:
    url: str
    final_url: str
    status: int
    content: bytes
    media_type: str  # lower-case, no parameters; "" when the server sent none
    charset: str | None
    validators: Validators
    permanent_url: str | None  # where consecutive 301/308 hops from `url` led, if any


@dataclass(frozen=True, slots=True, kw_only=True)
class NotModified:
    url: str
    validators: Validators


@dataclass(frozen=True, slots=True, kw_only=True)
class Unwanted:
    """The server answered with a media type the caller does not want; the body was not read."""

    url: str
    final_url: str
    media_type: str


FetchResult = Fetched | NotModified | Unwanted


class Pacer(Protocol):
    """Decides when a request to a host may start; `wait_turn` returns when it may (or raises
    an `IngestError` the caller handles, e.g. the distributed mode's busy host gate)."""

    def wait_turn(self, host: str) -> None: ...


@dataclass(slots=True)
class HostPacer:
    """Keeps at least `delay_s` between the starts of two requests to one host (thread-safe)."""

    delay_s: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _next: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_turn(self, host: str) -> None:
        with self._lock:
            now = self.clock()
            start = max(now, self._next.get(host, now))
            self._next[host] = start + self.delay_s
        if start > now:
            self.sleep(start - now)


def build_client(
    config: FetchConfig,
    transport: httpx.BaseTransport | None = None,
    backend: GuardedBackend | None = None,
) -> httpx.Client:
    """An httpx client whose every connection goes through the address guard (`backend`
    replaces the default guard, e.g. with an injected resolver in tests)."""
    if transport is None:
        policy = AddressPolicy(
            allow_private_networks=config.allow_private_networks,
            allow_hosts=frozenset(h.lower() for h in config.allow_hosts),
        )
        transport = httpx.HTTPTransport(retries=0)
        # httpx has no public hook for the network backend; httpcore's pool has one.
        transport._pool._network_backend = backend or GuardedBackend(policy)
    return httpx.Client(
        transport=transport,
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": config.user_agent, "Accept-Encoding": "gzip, deflate"},
    )


class Fetcher:
    """Fetches one URL at a time per call; safe to share between threads."""

    def __init__(
        self,
        config: FetchConfig,
        client: httpx.Client,
        *,
        pacer: Pacer | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._config = config
        self._client = client
        self._pacer: Pacer = pacer or HostPacer(config.host_delay_s, clock=clock, sleep=sleep)
        self._clock = clock
        self._sleep = sleep

    def fetch(
        self,
        url: str,
        validators: Validators | None = None,
        *,
        accept: Callable[[str], bool] | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> FetchResult:
        """GET `url` with retries; raises a FetchError subclass when every attempt failed."""
        attempt = 0
        while True:
            try:
                return self._fetch_once(url, validators, accept, extra_headers or {})
            except FetchError as exc:
                delay = self._retry_delay(exc, attempt)
                if delay is None:
                    raise
                log.info("retrying %s in %.1fs after %s", url, delay, exc)
                self._sleep(delay)
                attempt += 1

    def _retry_delay(self, exc: FetchError, attempt: int) -> float | None:
        if attempt >= self._config.retries:
            return None
        if isinstance(exc, HTTPStatusError):
            if exc.status not in RETRY_STATUSES:
                return None
            if exc.retry_after is not None:
                return (
                    exc.retry_after if exc.retry_after <= self._config.max_retry_after_s else None
                )
        elif not isinstance(exc, FetchTimeout | TransportError):
            return None
        return float(self._config.backoff_s * (2**attempt))

    def _fetch_once(
        self,
        url: str,
        validators: Validators | None,
        accept: Callable[[str], bool] | None,
        extra_headers: dict[str, str],
    ) -> FetchResult:
        deadline = self._clock() + self._config.timeout_s
        headers = {**conditional_headers(validators), **extra_headers}
        current, permanent, hops = url, None, 0
        chain_is_permanent = True
        visited = {url}
        while True:
            with self._open(current, headers, deadline) as response:
                status = response.raw.status_code
                if status not in REDIRECT_STATUSES:
                    return self._finish(url, current, response, deadline, permanent, accept)
                target = redirect_target(current, response)
            hops += 1
            if hops > self._config.max_redirects or target in visited:
                why = "a redirect loop" if target in visited else f"more than {hops - 1} redirects"
                raise TooManyRedirects(f"{why} from {url}", url=url)
            visited.add(target)
            chain_is_permanent = chain_is_permanent and status in PERMANENT_REDIRECTS
            permanent = target if chain_is_permanent else permanent
            current = target

    def _open(self, url: str, headers: dict[str, str], deadline: float) -> _Response:
        remaining = deadline - self._clock()
        if remaining <= 0:
            raise FetchTimeout(f"deadline of {self._config.timeout_s:g}s passed", url=url)
        host = urlsplit(url).hostname or ""
        self._pacer.wait_turn(host)
        try:
            request = self._client.build_request(
                "GET", url, headers=headers, timeout=httpx.Timeout(remaining)
            )
            return _Response(self._client.send(request, stream=True), url)
        except BlockedAddress as exc:
            raise BlockedAddress(str(exc), url=url) from exc
        except httpx.TimeoutException as exc:
            raise FetchTimeout(f"timed out: {exc or type(exc).__name__}", url=url) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}", url=url) from exc

    def _finish(
        self,
        url: str,
        final_url: str,
        response: _Response,
        deadline: float,
        permanent: str | None,
        accept: Callable[[str], bool] | None,
    ) -> FetchResult:
        raw = response.raw
        new_validators = Validators(
            etag=raw.headers.get("etag"), last_modified=raw.headers.get("last-modified")
        )
        if raw.status_code == 304:
            return NotModified(url=url, validators=new_validators)
        if raw.status_code >= 400 or raw.status_code < 200:
            raise status_error(final_url, raw)
        media_type, charset = parse_content_type(raw.headers.get("content-type", ""))
        if accept is not None and not accept(media_type):
            return Unwanted(url=url, final_url=final_url, media_type=media_type)
        content = read_body(response, self._config.max_bytes, deadline, self._clock)
        return Fetched(
            url=url,
            final_url=final_url,
            status=raw.status_code,
            content=content,
            media_type=media_type,
            charset=charset,
            validators=new_validators,
            permanent_url=permanent,
        )


class _Response:
    """An open streamed response; closing it returns the connection to the pool."""

    def __init__(self, raw: httpx.Response, url: str) -> None:
        self.raw = raw
        self.url = url

    def __enter__(self) -> _Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.raw.close()


def conditional_headers(validators: Validators | None) -> dict[str, str]:
    if validators is None:
        return {}
    headers = {}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


def redirect_target(url: str, response: _Response) -> str:
    location = response.raw.headers.get("location")
    if not location:
        raise TransportError(f"redirect {response.raw.status_code} without Location", url=url)
    try:
        target = str(httpx.URL(url).join(location.strip()))
    except httpx.InvalidURL as exc:
        raise TransportError(f"bad redirect Location {location!r}", url=url) from exc
    if urlsplit(target).scheme not in ("http", "https"):
        raise BlockedAddress(f"redirect to a non-http(s) URL: {target[:200]}", url=url)
    return target


def status_error(url: str, raw: httpx.Response) -> HTTPStatusError:
    retry_after = None
    if raw.status_code in (429, 503):
        retry_after = parse_retry_after(raw.headers.get("retry-after"))
    return HTTPStatusError(
        f"HTTP {raw.status_code}", url=url, status=raw.status_code, retry_after=retry_after
    )


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def parse_content_type(value: str) -> tuple[str, str | None]:
    """('text/html', 'utf-8') from 'text/html; charset=UTF-8'."""
    media_type, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset" and val.strip():
            charset = val.strip().strip("\"'").lower()
    return media_type.strip().lower(), charset


def read_body(
    response: _Response, max_bytes: int, deadline: float, clock: Callable[[], float]
) -> bytes:
    """The decoded body, refusing more than `max_bytes` after decompression and any read
    that ends after the deadline. Decompression is ours, bounded per step."""
    encoding = response.raw.headers.get("content-encoding", "identity").strip().lower()
    # iter_raw() without a size: each network read as it comes, so the deadline is checked
    # after every read (a size makes httpx buffer reads until it has that many bytes).
    # A transport may hand over a response it already read (and decoded): take it as it is.
    if response.raw.is_stream_consumed:
        raw_chunks: Iterator[bytes] = iter([response.raw.content])
        encoding = "identity"
    else:
        raw_chunks = response.raw.iter_raw()
    parts: list[bytes] = []
    size = 0
    try:
        for chunk in decoded_chunks(raw_chunks, encoding, max_bytes, response):
            size += len(chunk)
            if size > max_bytes:
                raise BodyTooLarge(f"body larger than {max_bytes} bytes", url=response.url)
            if clock() > deadline:
                raise FetchTimeout("total deadline passed while reading the body", url=response.url)
            parts.append(chunk)
    except httpx.TimeoutException as exc:
        raise FetchTimeout("timed out reading the body", url=response.url) from exc
    except httpx.HTTPError as exc:
        raise TransportError(
            f"{type(exc).__name__} reading the body: {exc}", url=response.url
        ) from exc
    return b"".join(parts)


def decoded_chunks(
    raw: Iterator[bytes], encoding: str, max_bytes: int, response: _Response
) -> Iterator[bytes]:
    """Decompress gzip/deflate step by step, never producing more than max_bytes + 1 at once."""
    if encoding in ("identity", ""):
        yield from raw
        return
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise TransportError(f"unsupported Content-Encoding {encoding!r}", url=response.url)
    # 47 = 32 + 15: zlib or gzip header, auto-detected; raw deflate is tried if that fails.
    decoder = zlib.decompressobj(47)
    limit = max_bytes + 1
    started = False
    for chunk in raw:
        data = chunk
        while data:
            try:
                out = decoder.decompress(data, limit)
            except zlib.error:
                if encoding != "deflate" or started:
                    raise TransportError("corrupt compressed body", url=response.url) from None
                decoder = zlib.decompressobj(-15)  # "deflate" sent as a raw stream
                out = decoder.decompress(data, limit)
            started = True
            yield out
            data = decoder.unconsumed_tail
    yield decoder.flush()
