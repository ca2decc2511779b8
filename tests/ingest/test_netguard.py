"""Which addresses the fetcher may connect to."""

from __future__ import annotations

import ipaddress

import pytest

from ingest.netguard import AddressPolicy, is_public_address


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "224.0.0.1",
        "0.0.0.0",
        "255.255.255.255",
        "::1",
        "::",
        "fc00::1",
        "fe80::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "64:ff9b::7f00:1",
        "64:ff9b::a9fe:a9fe",
        "2002:7f00:1::",
        "2002:a00:1::",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


def test_policy_allows_listed_hosts_and_private_networks_only_when_told() -> None:
    loopback = ipaddress.ip_address("127.0.0.1")
    assert not AddressPolicy().allows("localhost", loopback)
    assert AddressPolicy(allow_hosts=frozenset({"intranet.local"})).allows(
        "Intranet.Local.", loopback
    )
    assert AddressPolicy(allow_private_networks=True).allows("anything", loopback)
