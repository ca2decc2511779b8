"""Server-side request forgery: article links, feed redirects and page redirects that lead to
loopback, private, link-local, shared, multicast, unspecified or IPv4-in-IPv6 addresses are
refused before any connection is made, unless `fetch.allow_private_networks` is on or the host
is listed in `fetch.allow_hosts`.

The guard (`ingest.netguard.GuardedBackend`) is given a fake resolver that maps names such as
`evil.test` to chosen addresses, and a recording inner backend that opens real sockets only to
loopback (the test server) and refuses anything else without touching the network. So a
"blocked" verdict is proven twice: the fetch raises BlockedAddress, and the recorder saw no
connection attempt. `tests/ingest/test_guarded_fetch.py` covers the literal-address basics.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpcore
import pytest
from pytest_httpserver import HTTPServer
from support.database import db_rows
from support.pages import LOREM, article, rss

from digest.runtime import cli, service
from digest.runtime.app import open_app
from digest.runtime.settings import load_settings
from ingest.config import FetchConfig
from ingest.errors import BlockedAddress, TransportError
from ingest.http import Fetched, Fetcher, build_client
from ingest.netguard import AddressPolicy, GuardedBackend, IPAddress

WriteConfig = Callable[..., Path]

# Every kind of address a fetch must not reach by default, by name or literally.
BLOCKED = [
    "127.0.0.1",  # loopback
    "127.8.9.10",
    "10.0.0.1",  # private 10/8
    "10.255.255.254",
    "172.16.0.1",  # private 172.16/12
    "172.31.255.254",
    "192.168.0.1",  # private 192.168/16
    "169.254.169.254",  # link-local: the cloud metadata service
    "100.64.0.1",  # shared address space 100.64/10 (carrier-grade NAT)
    "100.127.255.254",
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "0.0.0.0",  # unspecified
    "::1",
    "::",
    "fc00::1",  # unique-local fc00::/7
    "fd00:ec2::254",  # ... the IPv6 metadata service
    "fe80::1",  # link-local fe80::/10
    "febf::1",
    "ff02::1",  # IPv6 multicast
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
]


@dataclass
class FakeNetwork:
    """Names resolve from `names` (IP literals to themselves); every connect the guard lets
    through is recorded, and only loopback is actually connected."""

    names: dict[str, list[str]]
    connects: list[str] = field(default_factory=list)

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(host.strip("[]"))]
        except ValueError:
            pass
        if host not in self.names:
            raise httpcore.ConnectError(f"fake resolver: unknown name {host}")
        return [ipaddress.ip_address(a) for a in self.names[host]]


class RecordingBackend(httpcore.NetworkBackend):
    def __init__(self, network: FakeNetwork) -> None:
        self._network = network
        self._real = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        self._network.connects.append(host)
        if host not in ("127.0.0.1", "::1"):  # never touch the network beyond loopback
            raise httpcore.ConnectError(f"test network: {host} is out of reach")
        return self._real.connect_tcp(host, port, timeout, local_address, socket_options)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise AssertionError("the guard must refuse unix sockets itself")

    def sleep(self, seconds: float) -> None:
        self._real.sleep(seconds)


def guarded_fetcher(network: FakeNetwork, config: FetchConfig) -> Fetcher:
    policy = AddressPolicy(
        allow_private_networks=config.allow_private_networks,
        allow_hosts=frozenset(h.lower() for h in config.allow_hosts),
    )
    backend = GuardedBackend(policy, inner=RecordingBackend(network), resolver=network.resolve)
    return Fetcher(config, build_client(config, backend=backend))


def fetch_config(**overrides: Any) -> FetchConfig:
    return FetchConfig(
        **{"host_delay_s": 0, "retries": 0, "timeout_s": 5, "allow_private_networks": False}
        | overrides
    )


def host_of(address: str) -> str:
    return f"[{address}]" if ":" in address else address


# --- one fetch ------------------------------------------------------------------------------


@pytest.mark.parametrize("address", BLOCKED)
def test_a_name_or_literal_leading_to_a_blocked_address_is_never_connected(
    address: str, httpserver: HTTPServer
) -> None:
    # Protection: GuardedBackend.connect_tcp drops every address the policy refuses (after
    # resolving, before connecting) and raises BlockedAddress when none is left.
    network = FakeNetwork({"evil.test": [address]})
    fetcher = guarded_fetcher(network, fetch_config())
    port = httpserver.port
    for url in (f"http://evil.test:{port}/x", f"http://{host_of(address)}:{port}/x"):
        with pytest.raises(BlockedAddress, match="non-public"):
            fetcher.fetch(url)
    assert network.connects == []
    assert httpserver.log == []


@pytest.mark.parametrize("address", ["10.0.0.1", "169.254.169.254", "fd00::1", "64:ff9b::a00:1"])
def test_a_redirect_hop_to_a_blocked_address_is_refused_at_that_hop(
    address: str, httpserver: HTTPServer
) -> None:
    # Protection: the guard sits under every connection, so each redirect hop (followed by
    # hand in Fetcher._fetch_once) is checked on the address it would connect to.
    httpserver.expect_request("/go").respond_with_data(
        "", status=302, headers={"Location": "http://evil.test/latest/meta-data/"}
    )
    network = FakeNetwork({"evil.test": [address], "feed.test": ["127.0.0.1"]})
    fetcher = guarded_fetcher(network, fetch_config(allow_hosts=("feed.test",)))
    with pytest.raises(BlockedAddress):
        fetcher.fetch(f"http://feed.test:{httpserver.port}/go")
    assert network.connects == ["127.0.0.1"]  # the first hop only
    assert [request.path for request, _ in httpserver.log] == ["/go"]


def test_an_allowed_host_redirecting_to_loopback_by_another_name_is_refused(
    httpserver: HTTPServer,
) -> None:
    # Protection: allow_hosts is per host name, checked per hop (AddressPolicy.allows_host on
    # the hop's own host): listing one name does not open loopback to other names.
    port = httpserver.port
    httpserver.expect_request("/a").respond_with_data(
        "", status=302, headers={"Location": f"http://127.0.0.1:{port}/b"}
    )
    httpserver.expect_request("/b").respond_with_data("secret")
    network = FakeNetwork({"evil.test": ["127.0.0.1"]})
    fetcher = guarded_fetcher(network, fetch_config(allow_hosts=("evil.test",)))
    with pytest.raises(BlockedAddress):
        fetcher.fetch(f"http://evil.test:{port}/a")
    with pytest.raises(BlockedAddress):
        fetcher.fetch(f"http://[::ffff:127.0.0.1]:{port}/b")
    assert [request.path for request, _ in httpserver.log] == ["/a"]


@pytest.mark.parametrize(
    "overrides",
    [{"allow_hosts": ("EVIL.test",)}, {"allow_private_networks": True}],
    ids=["allow_hosts", "allow_private_networks"],
)
def test_the_two_switches_let_a_name_reach_the_local_server(
    overrides: dict[str, Any], httpserver: HTTPServer
) -> None:
    # Protection: AddressPolicy.allows_host, and the guard connecting to the address it checked
    # (the inner backend gets 127.0.0.1, never the name a second resolution could change).
    httpserver.expect_request("/feed").respond_with_data("<rss/>", content_type="text/xml")
    network = FakeNetwork({"evil.test": ["127.0.0.1"]})
    fetcher = guarded_fetcher(network, fetch_config(**overrides))
    result = fetcher.fetch(f"http://evil.test:{httpserver.port}/feed")
    assert isinstance(result, Fetched) and result.content == b"<rss/>"
    assert network.connects == ["127.0.0.1"]


def test_without_a_switch_the_same_name_is_refused(httpserver: HTTPServer) -> None:
    # Protection: the default policy (both switches off). Counterpart of the test above.
    network = FakeNetwork({"evil.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    fetcher = guarded_fetcher(network, fetch_config(allow_hosts=("other.test",)))
    with pytest.raises(BlockedAddress):
        fetcher.fetch(f"http://evil.test:{httpserver.port}/feed")
    assert network.connects == [] and httpserver.log == []


def test_of_a_name_with_mixed_addresses_only_the_public_ones_are_tried() -> None:
    # Protection: the guard filters each resolved address (not "any address is public").
    # 93.184.216.34 is public; the recorder refuses it without opening a socket.
    network = FakeNetwork({"mixed.test": ["10.0.0.1", "93.184.216.34", "169.254.169.254"]})
    fetcher = guarded_fetcher(network, fetch_config())
    with pytest.raises(TransportError, match="out of reach"):
        fetcher.fetch("http://mixed.test/")
    assert network.connects == ["93.184.216.34"]


# --- end to end -------------------------------------------------------------------------------


def test_article_links_to_blocked_addresses_are_recorded_as_failed_by_the_cli(
    httpserver: HTTPServer,
    write_config: WriteConfig,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Protection: the guard under the CLI's own client (build_client's default backend with
    # the real resolver; numeric hosts need no DNS). Without it the page fetches would try to
    # connect and pytest-socket would stop the run.
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss(
            [
                ("meta", "http://169.254.169.254/latest/meta-data/iam/", "Cloud keys"),
                ("intranet", "http://10.0.0.1/admin", "Intranet"),
                ("ok", httpserver.url_for("/a.html"), "Fine"),
            ]
        ),
        content_type="application/rss+xml",
    )
    httpserver.expect_request("/a.html").respond_with_data(
        article("Massage and back pain", [LOREM, LOREM.upper()]), content_type="text/html"
    )
    config = write_config(
        [{"name": "local", "feed": httpserver.url_for("/feed.xml")}],
        fetch={"allow_private_networks": False, "allow_hosts": ["127.0.0.1"]},
    )
    code = cli.main(["--config", str(config), "ingest", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["new_documents"] == 1
    assert report["sources"][0]["errors"] == 2
    failed = db_rows(
        tmp_path, "select canonical_url, status, reason from pages where status != 'stored'"
    )
    assert sorted(url for url, _, _ in failed) == [
        "http://10.0.0.1/admin",
        "http://169.254.169.254/latest/meta-data/iam/",
    ]
    assert all(s == "failed" and r.startswith("blocked_address:") for _, s, r in failed)
    kinds = db_rows(tmp_path, "select stage, kind from errors")
    assert kinds == [("page", "blocked_address")] * 2


def test_feed_and_page_redirects_by_name_are_refused_end_to_end(
    httpserver: HTTPServer, write_config: WriteConfig, tmp_path: Path
) -> None:
    # Protection: the guard on every hop of every fetch of a pass (feeds and pages), with the
    # resolver's answer checked, not the name. Nothing but loopback is ever connected.
    port = httpserver.port
    base = f"http://feed.test:{port}"
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss(
            [
                ("name", "http://evil.test/private", "Private by name"),
                ("hop", f"{base}/hop.html", "Redirected"),
                ("mapped", f"http://[::ffff:127.0.0.1]:{port}/a.html", "Mapped loopback"),
                ("ok", f"{base}/a.html", "Fine"),
            ]
        ),
        content_type="application/rss+xml",
    )
    httpserver.expect_request("/hop.html").respond_with_data(
        "", status=302, headers={"Location": "http://nat64.test/"}
    )
    httpserver.expect_request("/moved.xml").respond_with_data(
        "", status=301, headers={"Location": "http://evil.test/feed.xml"}
    )
    httpserver.expect_request("/a.html").respond_with_data(
        article("Massage and back pain", [LOREM, LOREM.upper()]), content_type="text/html"
    )
    config = write_config(
        [
            {"name": "local", "feed": f"{base}/feed.xml"},
            {"name": "moved", "feed": f"{base}/moved.xml"},
        ],
        fetch={"allow_private_networks": False, "allow_hosts": ["feed.test"]},
    )
    settings = load_settings(config)
    network = FakeNetwork(
        {"feed.test": ["127.0.0.1"], "evil.test": ["192.168.1.1"], "nat64.test": ["64:ff9b::a00:1"]}
    )
    with open_app(settings) as app:
        app = dataclasses.replace(app, fetcher=guarded_fetcher(network, settings.fetch))
        report = service.ingest(app)

    by_name = {s.name: s for s in report.sources}
    assert by_name["moved"].status == "failed" and "blocked_address" in (
        by_name["moved"].error or ""
    )
    assert len(by_name["local"].new_documents) == 1 and by_name["local"].errors == 3
    assert set(network.connects) == {"127.0.0.1"}
    paths = sorted(request.path for request, _ in httpserver.log)
    assert paths == ["/a.html", "/feed.xml", "/hop.html", "/moved.xml"]
    failed = db_rows(tmp_path, "select status, reason from pages where status != 'stored'")
    assert len(failed) == 3
    assert all(s == "failed" and r.startswith("blocked_address:") for s, r in failed)
    stages = sorted(db_rows(tmp_path, "select stage, kind from errors"))
    assert stages == [("feed", "blocked_address")] + [("page", "blocked_address")] * 3
