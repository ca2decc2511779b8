"""The test suite itself cannot reach beyond loopback: pytest-socket, switched on for every test
by `--allow-hosts=127.0.0.1,::1,localhost` in pyproject's addopts, refuses any other address
before a packet leaves. Protection: that addopts line; without it the connects below would be
attempted (and time out or be refused) instead of raising SocketConnectBlockedError."""

from __future__ import annotations

import socket
import threading

import pytest
from pytest_socket import SocketConnectBlockedError


@pytest.mark.parametrize(
    ("family", "address"),
    [
        (socket.AF_INET, ("10.255.255.1", 9)),  # private
        (socket.AF_INET, ("192.0.2.1", 80)),  # TEST-NET-1 documentation range
        (socket.AF_INET, ("8.8.8.8", 53)),  # public
        (socket.AF_INET, ("169.254.169.254", 80)),  # cloud metadata
        (socket.AF_INET6, ("2001:db8::1", 80)),  # IPv6 documentation range
    ],
)
def test_connecting_beyond_loopback_is_blocked(
    family: socket.AddressFamily, address: tuple[str, int]
) -> None:
    # pytest-socket also warns (UserWarning) as it refuses; under `filterwarnings = error`
    # that warning would replace the error, so it is expected here explicitly.
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        with (
            pytest.warns(UserWarning, match=f'host "{address[0]}"'),
            pytest.raises(SocketConnectBlockedError),
        ):
            sock.connect(address)


def test_loopback_is_allowed() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        accepted: list[bytes] = []

        def accept() -> None:
            conn, _ = server.accept()
            with conn:
                accepted.append(conn.recv(5))

        thread = threading.Thread(target=accept)
        thread.start()
        with socket.create_connection(server.getsockname(), timeout=5) as client:
            client.sendall(b"hello")
        thread.join(5)
    assert accepted == [b"hello"]
