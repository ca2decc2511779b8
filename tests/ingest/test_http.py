"""The fetcher against real servers on 127.0.0.1 (and MockTransport for single-function units)."""

from __future__ import annotations

import gzip
import time
import zlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer

from ingest.config import FetchConfig
from ingest.errors import BodyTooLarge, FetchTimeout, HTTPStatusError, TooManyRedirects
from ingest.http import (
    Fetched,
    Fetcher,
    HostPacer,
    NotModified,
    Unwanted,
    Validators,
    build_client,
    parse_retry_after,
)


def fetcher(**overrides: Any) -> Fetcher:
    settings: dict[str, Any] = {
        "allow_private_networks": True,
        "host_delay_s": 0,
        "retries": 0,
        "timeout_s": 5,
        **overrides,
    }
    config = FetchConfig(**settings)
    return Fetcher(config, build_client(config))


def redirect_chain(httpserver: HTTPServer, length: int) -> str:
    for hop in range(length):
        httpserver.expect_request(f"/r{hop}").respond_with_data(
            "", status=302, headers={"Location": f"/r{hop + 1}"}
        )
    httpserver.expect_request(f"/r{length}").respond_with_data("end", content_type="text/html")
    return httpserver.url_for("/r0")


def test_five_redirects_are_followed(httpserver: HTTPServer) -> None:
    result = fetcher().fetch(redirect_chain(httpserver, 5))
    assert isinstance(result, Fetched) and result.content == b"end"
    assert result.final_url.endswith("/r5") and result.permanent_url is None


def test_a_sixth_redirect_is_refused(httpserver: HTTPServer) -> None:
    with pytest.raises(TooManyRedirects, match="more than 5 redirects"):
        fetcher().fetch(redirect_chain(httpserver, 6))


def test_a_redirect_loop_is_refused(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data("", status=302, headers={"Location": "/a"})
    with pytest.raises(TooManyRedirects, match="loop"):
        fetcher().fetch(httpserver.url_for("/a"))


def test_permanent_redirects_report_the_new_url(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old").respond_with_data(
        "", status=308, headers={"Location": "/new"}
    )
    httpserver.expect_request("/new").respond_with_data("<rss/>", content_type="text/xml")
    result = fetcher().fetch(httpserver.url_for("/old"))
    assert isinstance(result, Fetched) and result.permanent_url == httpserver.url_for("/new")


def test_gzip_bomb_is_capped_after_decompression(httpserver: HTTPServer) -> None:
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)
    assert len(bomb) < 100_000  # the wire size is far below the cap
    httpserver.expect_request("/bomb").respond_with_data(
        bomb, content_type="text/html", headers={"Content-Encoding": "gzip"}
    )
    with pytest.raises(BodyTooLarge, match="1000000 bytes"):
        fetcher(max_bytes=1_000_000).fetch(httpserver.url_for("/bomb"))


def test_deflate_bomb_is_capped_too(httpserver: HTTPServer) -> None:
    bomb = zlib.compress(b"a" * 20_000_000, 9)
    httpserver.expect_request("/bomb").respond_with_data(
        bomb, content_type="text/html", headers={"Content-Encoding": "deflate"}
    )
    with pytest.raises(BodyTooLarge):
        fetcher(max_bytes=1_000_000).fetch(httpserver.url_for("/bomb"))


def test_compressed_bodies_under_the_cap_decode(httpserver: HTTPServer) -> None:
    text = b"<p>massage</p>" * 1000
    httpserver.expect_request("/gz").respond_with_data(
        gzip.compress(text), content_type="text/html", headers={"Content-Encoding": "gzip"}
    )
    httpserver.expect_request("/raw").respond_with_data(
        zlib.compress(text)[2:-4], content_type="text/html", headers={"Content-Encoding": "deflate"}
    )
    for path in ("/gz", "/raw"):
        result = fetcher().fetch(httpserver.url_for(path))
        assert isinstance(result, Fetched) and result.content == text


def test_plain_body_over_the_cap_is_refused(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 200_000, content_type="text/html")
    with pytest.raises(BodyTooLarge):
        fetcher(max_bytes=100_000).fetch(httpserver.url_for("/big"))


def trickle(sock: Any) -> None:
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
    for _ in range(60):
        sock.sendall(b"x")
        time.sleep(1)


def test_total_deadline_stops_a_one_byte_a_second_trickle(
    raw_server: Callable[[Callable[[Any], None]], Any],
) -> None:
    server = raw_server(trickle)
    started = time.monotonic()
    with pytest.raises(FetchTimeout):
        fetcher(timeout_s=2).fetch(server.url + "/slow")
    elapsed = time.monotonic() - started
    assert elapsed < 4.5, f"deadline of 2 s took {elapsed:.1f} s"


def test_conditional_get_sends_validators_and_understands_304(httpserver: HTTPServer) -> None:
    httpserver.expect_request(
        "/feed", headers={"If-None-Match": '"e1"', "If-Modified-Since": "Mon, 01 Jan 2024"}
    ).respond_with_data("", status=304, headers={"ETag": '"e1"'})
    result = fetcher().fetch(
        httpserver.url_for("/feed"), Validators(etag='"e1"', last_modified="Mon, 01 Jan 2024")
    )
    assert isinstance(result, NotModified) and result.validators.etag == '"e1"'


def test_unwanted_media_type_is_not_read(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/doc").respond_with_data(b"%PDF", content_type="application/pdf")
    result = fetcher().fetch(httpserver.url_for("/doc"), accept=lambda t: t == "text/html")
    assert isinstance(result, Unwanted) and result.media_type == "application/pdf"


# --- retries, Retry-After and pacing: single-function units with MockTransport -------------


def mock_fetcher(
    handler: Callable[[httpx.Request], httpx.Response], sleeps: list[float], **overrides: Any
) -> Fetcher:
    config = FetchConfig(host_delay_s=0, **{"retries": 2, "backoff_s": 1.0, **overrides})
    client = build_client(config, transport=httpx.MockTransport(handler))
    return Fetcher(config, client, sleep=sleeps.append)


def test_5xx_is_retried_with_exponential_backoff() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(502) if len(calls) < 3 else httpx.Response(200, text="ok")

    sleeps: list[float] = []
    result = mock_fetcher(handler, sleeps).fetch("https://example.org/x")
    assert isinstance(result, Fetched) and result.content == b"ok"
    assert sleeps == [1.0, 2.0]


def test_retry_after_is_honoured_for_429() -> None:
    responses = [httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, text="ok")]
    sleeps: list[float] = []
    result = mock_fetcher(lambda r: responses.pop(0), sleeps).fetch("https://example.org/x")
    assert isinstance(result, Fetched) and sleeps == [7.0]


def test_retry_after_beyond_the_cap_gives_up_at_once() -> None:
    sleeps: list[float] = []
    f = mock_fetcher(
        lambda r: httpx.Response(503, headers={"Retry-After": "3600"}), sleeps, max_retry_after_s=60
    )
    with pytest.raises(HTTPStatusError) as info:
        f.fetch("https://example.org/x")
    assert info.value.status == 503 and info.value.retry_after == 3600 and sleeps == []


def test_404_is_not_retried() -> None:
    sleeps: list[float] = []
    with pytest.raises(HTTPStatusError):
        mock_fetcher(lambda r: httpx.Response(404), sleeps).fetch("https://example.org/x")
    assert sleeps == []


def test_retry_after_http_date() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 23, 8, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Mon, 23 Nov 2026 08:00:30 GMT", now) == 30.0
    assert parse_retry_after("soon") is None


def test_host_pacer_spaces_requests_to_one_host_only() -> None:
    now = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    pacer = HostPacer(2.0, clock=lambda: now[0], sleep=sleep)
    pacer.wait_turn("a.example")
    pacer.wait_turn("b.example")
    pacer.wait_turn("a.example")
    assert sleeps == [2.0]
