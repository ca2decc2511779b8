"""The page step stores the finished pages of a source several to a transaction, in entry
order; a transaction that fails leaves no corpus file behind, however many it had written."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy.exc
from support.pages import LOREM, article, rss

from digest.runtime import service
from digest.runtime.app import open_app, prepare_database
from digest.runtime.settings import load_settings

PAGES = 5


@pytest.fixture
def held_first_page() -> Iterator[str]:
    """A feed of PAGES articles whose first page is held until the others were served, so
    that when it arrives every page is ready: one batch holds them all."""
    released = threading.Event()
    served: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path == "/feed.xml":
                items = [(f"g{i}", f"{base}/p{i}.html", f"P{i}") for i in range(PAGES)]
                body, ctype = rss(items), "application/rss+xml"
            else:
                number = int(self.path[2])
                if number == 0:
                    released.wait(10)
                text = f"Page {number}: massage eased chronic low back pain in a 2019 trial."
                body, ctype = article(f"P{number}", [LOREM, text]), "text/html"
                served.append(self.path)
                if len(served) == PAGES - 1:
                    released.set()
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    server.shutdown()
    server.server_close()


def test_a_failed_transaction_removes_every_file_it_wrote(
    held_first_page: str, write_config: Callable[..., Path], tmp_path: Path
) -> None:
    # Protection: pages._finish_batch removing the files of a transaction that did not commit
    # (store_document alone removes only the file whose own insert failed: the two files the
    # same transaction wrote before it would stay, nameless, until the next pass).
    config = write_config([{"name": "one", "feed": held_first_page}], fetch={"concurrency": PAGES})
    settings = load_settings(config)
    prepare_database(settings).dispose()
    with closing(sqlite3.connect(tmp_path / "data" / "cw.db")) as conn:
        conn.execute(
            "CREATE TRIGGER third BEFORE INSERT ON documents "
            "WHEN (SELECT count(*) FROM documents) >= 2 "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    with open_app(settings) as app, pytest.raises(sqlalchemy.exc.IntegrityError, match="refused"):
        service.ingest(app)
    assert sorted(p.name for p in (tmp_path / "corpus").iterdir()) == []
    with closing(sqlite3.connect(tmp_path / "data" / "cw.db")) as conn:
        assert conn.execute("SELECT count(*) FROM documents").fetchone() == (0,)
        conn.execute("DROP TRIGGER third")

    with open_app(settings) as app:  # the next pass stores them all, numbered from 000
        service.ingest(app)
    names = sorted(p.name[:3] for p in (tmp_path / "corpus").glob("*.txt"))
    assert names == [f"{n:03d}" for n in range(PAGES)]
