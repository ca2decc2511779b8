"""Storage under pressure: a database that fills up in the middle of an ingest pass or of
claim extraction, and a database locked by another writer.

A full disk is simulated with SQLite's `PRAGMA max_page_count`, set on every new connection
by a pool "connect" listener that lives only in this test (SQLAlchemy's public event API on
the `Pool` class; nothing in claimwatch is patched). The limit is the database's size when
the connection opens, so the first write that needs one more page fails with SQLITE_FULL
("database or disk is full"), exactly as on a full disk.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import event
from sqlalchemy.pool import Pool
from support.pages import LOREM, rss

from digest.runtime import cli
from digest.runtime.app import prepare_database
from digest.runtime.settings import load_settings
from ingest import corpus
from ingest.verify import verify_corpus

WriteConfig = Callable[..., Path]
PAGES = 8


def long_title_page(number: int) -> str:
    # Long titles make each `documents` row about 1 KB, so the rows outgrow their first page
    # after a few documents, inside `store_document`, after the corpus file was written.
    title = f"Massage study {number}: " + " ".join(["lower back pain and massage"] * 32)
    body = "".join(f"<p>{LOREM} ({number}.{i})</p>" for i in range(3))
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><article><h1>{title}</h1>{body}</article></body></html>"
    )


@pytest.fixture
def site(httpserver: HTTPServer, write_config: WriteConfig) -> Path:
    items = []
    for n in range(PAGES):
        httpserver.expect_request(f"/p{n}.html").respond_with_data(
            long_title_page(n), content_type="text/html"
        )
        items.append((f"g{n}", httpserver.url_for(f"/p{n}.html"), f"Study {n}"))
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss(items), content_type="application/rss+xml"
    )
    config = write_config([{"name": "studies", "feed": httpserver.url_for("/feed.xml")}])
    db = prepare_database(load_settings(config))  # the schema exists before the disk "fills"
    db.dispose()
    return config


@pytest.fixture
def full_database() -> Iterator[Callable[[bool], None]]:
    """Call with True to cap every new SQLite connection at the database's current size."""
    state = {"on": False}

    def cap(dbapi_conn: Any, _record: Any) -> None:
        if state["on"] and isinstance(dbapi_conn, sqlite3.Connection):
            (pages,) = dbapi_conn.execute("PRAGMA page_count").fetchone()
            dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(Pool, "connect", cap)
    yield lambda on: state.update(on=on)
    event.remove(Pool, "connect", cap)


def documents_and_files(config: Path) -> tuple[list[int], list[int], list[str]]:
    """(seq of every row, seq of every corpus file, temporary files)."""
    settings = load_settings(config)
    db = prepare_database(settings)
    try:
        result = verify_corpus(db, settings.corpus_dir)
        with db.read() as conn:
            rows = sorted(r.seq for r in conn.exec_driver_sql("select seq from documents"))
    finally:
        db.dispose()
    assert result.clean, result.findings
    files = sorted(f.seq for f in corpus.scan_corpus_dir(settings.corpus_dir))
    temporaries = [p.name for p in settings.corpus_dir.glob(".tmp-*")]
    return rows, files, temporaries


def test_a_database_that_fills_up_mid_pass_fails_cleanly_and_the_next_pass_recovers(
    site: Path,
    full_database: Callable[[bool], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Protection: store_document removing the file whose row the database refused (else a
    # file without a row stays behind until the next pass), and the CLI turning the refusal
    # into one line and exit code 1 (else a traceback).
    full_database(True)
    code = cli.main(["--config", str(site), "ingest", "--json"])
    captured = capsys.readouterr()

    assert code == 1
    assert "ingest stopped: storage failed: database or disk is full" in captured.err
    assert "Traceback" not in captured.err
    rows, files, temporaries = documents_and_files(site)
    assert 0 < len(rows) < PAGES  # it filled up half-way: some documents made it
    assert files == rows == list(range(len(rows)))  # no file without its row, none missing
    assert temporaries == []

    full_database(False)  # space freed
    code = cli.main(["--config", str(site), "ingest", "--json"])
    report = json.loads(capsys.readouterr().out)

    assert code == 0 and report["failed"] == []
    rows, files, temporaries = documents_and_files(site)
    assert files == rows == list(range(PAGES))  # numbering carries on without a gap
    assert temporaries == []


def test_a_database_that_fills_up_during_claim_extraction_is_reported_in_one_line(
    site: Path,
    tmp_path: Path,
    full_database: Callable[[bool], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Protection: ingest.db wrapping the database's OperationalError as StorageError, and the
    # CLI reporting it (else a traceback, or the claims step recording it as a document's
    # failure and carrying on).
    assert cli.main(["--config", str(site), "ingest", "--json"]) == 0
    # Claims to find again, in a database file no larger than what is left in it.
    with closing(sqlite3.connect(tmp_path / "data" / "cw.db", isolation_level=None)) as conn:
        conn.execute("DELETE FROM claims")
        conn.execute("DELETE FROM claim_state")
        conn.execute("VACUUM")
    capsys.readouterr()

    full_database(True)
    code = cli.main(["--config", str(site), "claims"])
    captured = capsys.readouterr()

    assert code == 1
    assert "claims stopped: storage failed: database or disk is full" in captured.err
    assert "Traceback" not in captured.err

    full_database(False)  # space freed: the documents not done are done now
    assert cli.main(["--config", str(site), "claims"]) == 0
    with closing(sqlite3.connect(tmp_path / "data" / "cw.db")) as conn:
        (done,) = conn.execute("SELECT count(*) FROM claim_state").fetchone()
    assert done == PAGES


def test_a_database_locked_by_another_writer_is_waited_for(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Protection: the SQLite busy timeout set on every connection (ingest.db) together with
    # BEGIN IMMEDIATE: without the timeout the first write fails with "database is locked".
    locked, hold_s = threading.Event(), 2.0

    def other_writer() -> None:
        conn = sqlite3.connect(tmp_path / "data" / "cw.db", isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            locked.set()
            time.sleep(hold_s)
            conn.execute("COMMIT")
        finally:
            conn.close()

    writer = threading.Thread(target=other_writer)
    writer.start()
    assert locked.wait(5)
    started = time.monotonic()
    code = cli.main(["--config", str(site), "ingest", "--json"])
    waited = time.monotonic() - started
    writer.join()

    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["new_documents"] == PAGES
    assert waited >= hold_s - 0.5  # it really waited for the other writer
    rows, files, _ = documents_and_files(site)
    assert files == rows == list(range(PAGES))
