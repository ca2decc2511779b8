"""The address guard applies to the address actually connected, on every hop."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from ingest.config import FetchConfig
from ingest.errors import BlockedAddress
from ingest.http import Fetched, Fetcher, build_client


def guarded(**overrides: object) -> Fetcher:
    config = FetchConfig(host_delay_s=0, retries=0, timeout_s=5, **overrides)  # type: ignore[arg-type]
    return Fetcher(config, build_client(config))


def test_loopback_is_refused_by_default(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data("<rss/>")
    with pytest.raises(BlockedAddress, match="non-public"):
        guarded().fetch(httpserver.url_for("/feed"))
    assert httpserver.log == []


def test_a_hostname_resolving_to_loopback_is_refused(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data("<rss/>")
    url = httpserver.url_for("/feed").replace("127.0.0.1", "localhost")
    with pytest.raises(BlockedAddress):
        guarded().fetch(url)
    assert httpserver.log == []


def test_allowed_hosts_and_the_private_network_switch(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data("<rss/>")
    url = httpserver.url_for("/feed")
    assert isinstance(guarded(allow_hosts=("127.0.0.1",)).fetch(url), Fetched)
    assert isinstance(guarded(allow_private_networks=True).fetch(url), Fetched)


def test_a_redirect_to_a_blocked_address_is_refused_at_that_hop(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/go").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    fetcher = guarded(allow_hosts=("127.0.0.1",))
    with pytest.raises(BlockedAddress):
        fetcher.fetch(httpserver.url_for("/go"))


def test_redirect_to_a_non_http_scheme_is_refused(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/go").respond_with_data(
        "", status=302, headers={"Location": "file:///etc/passwd"}
    )
    with pytest.raises(BlockedAddress, match="non-http"):
        guarded(allow_private_networks=True).fetch(httpserver.url_for("/go"))
