"""The store: restart safety (orphans of an interrupted write) and the same code on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer
from support.pages import LOREM, article, rss

from digest.runtime import cli
from ingest import corpus, documents, schema
from ingest.db import migrate, open_database


def test_a_file_written_without_its_row_is_removed_and_its_number_reused(
    httpserver: HTTPServer,
    write_config: Callable[..., Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # What a kill between the file write and the commit leaves: a file numbered past the last
    # stored document, and a temporary file.
    corpus_dir = tmp_path / "corpus"
    corpus_dir.mkdir()
    orphan = corpus_dir / corpus.file_name(0, "0123456789abcdef")
    orphan.write_text("half a story\n")
    (corpus_dir / ".tmp-abc.part").write_text("partial")
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss([("g", httpserver.url_for("/a.html"), "A")]), content_type="text/xml"
    )
    httpserver.expect_request("/a.html").respond_with_data(
        article("A", [LOREM, LOREM.lower()]), content_type="text/html"
    )
    config = write_config([{"name": "one", "feed": httpserver.url_for("/feed.xml")}])

    assert cli.main(["--config", str(config), "ingest", "--json"]) == 0
    capsys.readouterr()

    names = sorted(p.name for p in corpus_dir.iterdir())
    assert len(names) == 1 and names[0].startswith("000_") and names[0] != orphan.name


def test_migrations_are_idempotent(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'x.db'}")
    assert migrate(db, schema.COMPONENT, schema.MIGRATIONS) == len(schema.MIGRATIONS)
    assert migrate(db, schema.COMPONENT, schema.MIGRATIONS) == len(schema.MIGRATIONS)
    db.dispose()


@pytest.mark.postgres
def test_ingest_on_postgresql(
    pg_url: str,
    httpserver: HTTPServer,
    write_config: Callable[..., Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    links = [httpserver.url_for("/a.html"), httpserver.url_for("/a.html?utm_source=x")]
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss([("g1", links[0], "A"), ("g2", links[1], "A again")]), content_type="text/xml"
    )
    httpserver.expect_request("/a.html").respond_with_data(
        article("A", [LOREM, LOREM.upper()]), content_type="text/html"
    )
    config = write_config(
        [{"name": "one", "feed": httpserver.url_for("/feed.xml")}],
        storage={"corpus_dir": "corpus", "database": pg_url},
    )
    for expected_new in (1, 0):
        assert cli.main(["--config", str(config), "ingest", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["new_documents"] == expected_new
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(schema.documents.c.seq, schema.documents.c.file)).all()
        assert documents.next_seq(conn) == 1
    engine.dispose()
    assert [r.seq for r in rows] == [0]
    assert (tmp_path / "corpus" / rows[0].file).is_file()
