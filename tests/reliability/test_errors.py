"""The three error paths, end to end:

- a library failing on its input is data: caught where the library is called (in the worker
  process), recorded against the source or page, and the pass goes on;
- a bug in our own code is raised: a call that raises in a worker comes back as WorkerCrash,
  which is not an IngestError, so the command fails and nothing is recorded as done;
- storage failing under a command is reported in one line (`test_storage.py`, which fills the
  database up under `ingest` and under `claims`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import lxml.etree
import pytest
import trafilatura
from pytest_httpserver import HTTPServer
from support.database import db_rows
from support.faults import finder_with_a_bug
from support.pages import LOREM, article, rss, serve_one_article

from digest.runtime import cli, service
from digest.runtime.app import open_app
from digest.runtime.settings import load_settings
from ingest.context import ExtractionFailed, extract_in_process
from ingest.errors import IngestError
from ingest.extract import ExtractedDocument, ExtractSettings
from ingest.workers import WorkerCrash

WriteConfig = Callable[..., Path]

# feedparser 6.0.x raises KeyError('psc_chapters') on Podlove chapters outside an item.
FEED_THAT_CRASHES_FEEDPARSER = (
    b"<rss version='2.0'><channel><psc:chapters><source><psc:chapter start='1' /></source>"
    b"</psc:chapters></channel></rss>"
)


@pytest.fixture
def two_articles(httpserver: HTTPServer, write_config: WriteConfig) -> Path:
    pages = []
    for n in range(2):
        pages.append((f"g{n}", httpserver.url_for(f"/a{n}.html"), f"Trial {n}"))
        httpserver.expect_request(f"/a{n}.html").respond_with_data(
            article(f"Massage trial {n}", [f"Trial {n}: " + LOREM, LOREM[::-1]]),
            content_type="text/html",
        )
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss(pages), content_type="application/rss+xml"
    )
    return write_config([{"name": "trials", "feed": httpserver.url_for("/feed.xml")}])


# --- a library failing on its input is data ---------------------------------------------------


def test_a_feed_that_crashes_feedparser_fails_its_source_and_the_pass_goes_on(
    httpserver: HTTPServer,
    write_config: WriteConfig,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    # The feed is parsed in a worker process (App.workers.parse); feeds.parse_feed catches
    # feedparser's crash there and returns the feed as unparseable, a value.
    httpserver.expect_request("/broken.xml").respond_with_data(
        FEED_THAT_CRASHES_FEEDPARSER, content_type="application/rss+xml"
    )
    config = write_config(
        [
            {"name": "broken", "feed": httpserver.url_for("/broken.xml")},
            {"name": "fine", "feed": serve_one_article(httpserver)},
        ]
    )

    code = cli.main(["--config", str(config), "ingest", "--json"])
    report = json.loads(capsys.readouterr().out)

    broken, fine = report["sources"]
    assert code == 1 and report["failed"] == ["broken"]
    assert broken["status"] == "failed" and "feedparser failed: KeyError" in broken["error"]
    assert fine["status"] == "ok" and fine["new_documents"] == 1
    assert db_rows(tmp_path, "select stage, kind from errors") == [("feed", "feed")]


def test_an_exception_raised_inside_trafilatura_comes_back_as_a_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # trafilatura is reported to pass on lxml's parser errors (adbar/trafilatura#375); no page
    # here makes the installed version raise, so the library is made to.
    def fails(*args: object, **kwargs: object) -> None:
        raise lxml.etree.ParserError("Document is empty")

    page = article("Massage and back pain", [LOREM, LOREM[::-1]]).encode()
    url = "https://news.example.org/a"
    assert isinstance(extract_in_process(page, "utf-8", url, ExtractSettings()), ExtractedDocument)

    monkeypatch.setattr(trafilatura, "bare_extraction", fails)
    failed = extract_in_process(page, "utf-8", url, ExtractSettings())

    assert failed == ExtractionFailed(url=url, reason="ParserError: Document is empty")


def test_an_exception_raised_in_our_own_extraction_code_propagates() -> None:
    # The same call with a bug on our side (settings of the wrong type): not the library's
    # failure, so not turned into a value.
    page = article("A", [LOREM]).encode()
    with pytest.raises(AttributeError, match="has no attribute"):
        extract_in_process(page, None, "https://e.org/a", settings=None)  # type: ignore[arg-type]


# --- a bug in our own code is raised ----------------------------------------------------------


def test_a_bug_in_claim_finding_fails_the_command_and_records_nothing_as_done(
    two_articles: Path, tmp_path: Path
) -> None:
    settings = load_settings(two_articles)
    with (
        open_app(settings, claim_finder=finder_with_a_bug) as app,
        pytest.raises(WorkerCrash, match="TypeError") as raised,
    ):
        service.ingest(app)

    assert not isinstance(raised.value, IngestError)
    assert "finder_with_a_bug" in raised.value.remote_traceback  # where it went wrong
    # Claims are found in the worker call that extracts the page: the pass stops there,
    # before any document is stored without its claims.
    assert db_rows(tmp_path, "select id from documents") == []
    assert db_rows(tmp_path, "select document_id from claim_state") == []  # nothing "done"
    assert db_rows(tmp_path, "select stage from errors") == []  # and no bug recorded as data
    assert {row[0] for row in db_rows(tmp_path, "select status from pages")} == {"pending"}

    with open_app(settings) as app:  # the bug fixed: the pages are still to do
        service.ingest(app)
    stored = db_rows(tmp_path, "select count(*) from claim_state")
    assert stored == [(2,)] and db_rows(tmp_path, "select count(*) from claims")[0][0] > 0


def test_claim_extraction_asked_to_stop_leaves_its_documents_to_do(
    two_articles: Path, tmp_path: Path
) -> None:
    # A daemon stopping kills the workers: a document whose claims were in hand must not be
    # recorded as done with no claims (it used to be: "worker process died" was recorded).
    settings = load_settings(two_articles)
    with open_app(settings, claim_finder=finder_with_a_bug) as app, pytest.raises(WorkerCrash):
        service.ingest(app)  # two documents stored, their claims still to do

    with open_app(settings, should_stop=lambda: True) as app:
        report = service.extract_claims(app)

    assert report.documents == 0
    assert db_rows(tmp_path, "select document_id from claim_state") == []
    assert db_rows(tmp_path, "select stage from errors") == []
