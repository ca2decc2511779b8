"""Fixtures shared by every test: the shared fixtures folder, config files, local servers.

Every server here listens on 127.0.0.1; pytest-socket (see pyproject) refuses anything else.
"""

from __future__ import annotations

import logging
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))  # the demo server is reused as a test server


def shared_root() -> Path:
    return Path(os.environ.get("CLAIMWATCH_SHARED", ROOT.parent / "shared"))


def _shared_or_skip() -> Path:
    root = shared_root()
    if not (root / "seeds").is_dir():
        pytest.skip(f"shared fixtures not found at {root} (set CLAIMWATCH_SHARED)")
    return root


@pytest.fixture
def shared_dir() -> Path:
    """../shared (or $CLAIMWATCH_SHARED); the test is skipped when it is absent."""
    return _shared_or_skip()


@pytest.fixture(scope="module")
def shared_dir_module() -> Path:
    """The same, for module-scoped fixtures (work done once for several tests)."""
    return _shared_or_skip()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """`cli.main` configures the root logger with a handler on the sys.stderr of the moment,
    which under pytest is a capture stream closed after the test: put the logger back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema in PostgreSQL's `test` database; skipped when no server answers."""
    try:
        admin = sa.create_engine(PG_URL, connect_args={"connect_timeout": 2})
        with admin.connect():
            pass
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "no server here"
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432 ({type(exc).__name__})")
    name = f"cw_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {name}")
    yield f"{PG_URL}?options=-csearch_path%3D{name}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")
    admin.dispose()


WriteConfig = Callable[..., Path]


@pytest.fixture
def write_config(tmp_path: Path) -> WriteConfig:
    """Write a sources.yaml in tmp_path for local test servers and return its path."""

    def write(sources: list[dict[str, Any]], **sections: dict[str, Any]) -> Path:
        fetch = {
            "allow_private_networks": True,
            "host_delay_s": 0,
            "retries": 0,
            "timeout_s": 5,
            **sections.pop("fetch", {}),
        }
        config = {
            "storage": {"corpus_dir": "corpus", "database": "sqlite:///data/cw.db"},
            "fetch": fetch,
            "extract": {"workers": 1, "timeout_s": 20, **sections.pop("extract", {})},
            "sources": sources,
            **sections,
        }
        path = tmp_path / "sources.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def corpus_files(tmp_path: Path) -> Callable[[], list[Path]]:
    return lambda: sorted((tmp_path / "corpus").glob("*.txt"))


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    return ("127.0.0.1", 0)


class RawServer:
    """A threaded TCP server on 127.0.0.1 that hands each connection to `handle(sock)`:
    for misbehaving servers (trickles, endless bodies, broken framing) that a normal HTTP
    server library would not produce."""

    def __init__(self, handle: Callable[[Any], None]) -> None:
        import socket
        import threading

        self._handle = handle
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def _serve(self) -> None:
        import threading

        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: Any) -> None:
        try:
            conn.settimeout(10)
            conn.recv(65536)  # the request; its content does not matter here
            self._handle(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[[Callable[[Any], None]], RawServer]]:
    servers: list[RawServer] = []

    def start(handle: Callable[[Any], None]) -> RawServer:
        server = RawServer(handle)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
