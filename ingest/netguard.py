"""Which addresses a fetch may connect to, checked on the address actually connected, on every
hop: an httpcore network backend that resolves the host itself and refuses non-public
addresses unless the policy allows them.

Does not know about URLs or redirects; `ingest.http` plugs it under httpx.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpcore

from ingest.errors import BlockedAddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# ipaddress.is_global alone is not enough: it calls 100.64/10 non-private, and addresses
# wrapped in IPv6 (mapped, NAT64, 6to4) are judged as IPv6, not by the IPv4 inside.
_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried inside an IPv4-mapped, NAT64 or 6to4 IPv6 address."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or ip in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(ip: IPAddress) -> bool:
    """True only for globally routable unicast addresses (and what they wrap)."""
    if isinstance(ip, ipaddress.IPv6Address) and (inner := embedded_ipv4(ip)) is not None:
        return is_public_address(inner)
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED_ADDRESS_SPACE:
        return False
    special = (
        ip.is_private,
        ip.is_loopback,
        ip.is_link_local,
        ip.is_multicast,
        ip.is_reserved,
        ip.is_unspecified,
        isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local,
    )
    return ip.is_global and not any(special)


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressPolicy:
    allow_private_networks: bool = False
    allow_hosts: frozenset[str] = frozenset()

    def allows_host(self, host: str) -> bool:
        return self.allow_private_networks or host.lower().rstrip(".") in self.allow_hosts

    def allows(self, host: str, ip: IPAddress) -> bool:
        return self.allows_host(host) or is_public_address(ip)


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to, in the resolver's order, without duplicates."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    seen: dict[IPAddress, None] = {}
    for *_, sockaddr in infos:
        seen.setdefault(ipaddress.ip_address(str(sockaddr[0]).split("%")[0]), None)
    return list(seen)


class GuardedBackend(httpcore.NetworkBackend):
    """Resolve, drop the addresses the policy forbids, connect to the first allowed one."""

    def __init__(
        self,
        policy: AddressPolicy,
        inner: httpcore.NetworkBackend | None = None,
        resolver: Callable[[str, int], list[IPAddress]] = resolve,
    ):
        self._policy = policy
        self._inner = inner or httpcore.SyncBackend()
        self._resolve = resolver  # tests inject one that answers with chosen addresses

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._resolve(host, port)
        allowed = [ip for ip in addresses if self._policy.allows(host, ip)]
        if not allowed:
            shown = ", ".join(str(ip) for ip in addresses)
            raise BlockedAddress(
                f"{host} resolves only to non-public addresses ({shown})", url=host
            )
        error: httpcore.ConnectError | None = None
        for ip in allowed:
            try:
                return self._inner.connect_tcp(
                    str(ip), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                error = error or exc
        assert error is not None
        raise error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise BlockedAddress("unix sockets are never fetched", url=path)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
