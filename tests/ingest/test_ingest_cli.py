"""`claimwatch ingest` end to end: real HTTP servers on 127.0.0.1, real SQLite, real files."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from support.database import db_rows
from support.pages import LOREM, article, atom, rss
from werkzeug import Request, Response

from digest.runtime import cli
from ingest import corpus

WriteConfig = Callable[..., Path]


def run_json(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = cli.main(["--config", str(config), "ingest", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def conditional(body: str, ctype: str, etag: str = '"v1"') -> Callable[[Request], Response]:
    """A handler that answers 304 to a request carrying the current ETag."""

    def handle(request: Request) -> Response:
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(body, content_type=ctype, headers={"ETag": etag})

    return handle


def test_second_pass_gets_304_and_fetches_no_pages(
    httpserver: HTTPServer, write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = rss([("g1", httpserver.url_for("/a.html"), "A")])
    httpserver.expect_request("/feed.xml").respond_with_handler(
        conditional(feed, "application/rss+xml")
    )
    httpserver.expect_request("/a.html").respond_with_data(
        article("Massage and back pain", [LOREM, LOREM[::-1]]), content_type="text/html"
    )
    config = write_config([{"name": "one", "feed": httpserver.url_for("/feed.xml")}])

    code, first = run_json(config, capsys)
    assert code == 0 and first["new_documents"] == 1
    httpserver.clear_log()
    code, second = run_json(config, capsys)

    assert code == 0 and second["new_documents"] == 0
    assert second["sources"][0]["status"] == "not_modified"
    paths = [(req.path, resp.status_code) for req, resp in httpserver.log]
    assert paths == [("/feed.xml", 304)]
    assert httpserver.log[0][0].headers["If-None-Match"] == '"v1"'


def test_user_agent_names_a_contact_url(
    httpserver: HTTPServer, write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(rss([]), content_type="text/xml")
    config = write_config([{"name": "one", "feed": httpserver.url_for("/feed.xml")}])
    run_json(config, capsys)
    agent = httpserver.log[0][0].headers["User-Agent"]
    assert agent.startswith("claimwatch/") and "+https://" in agent


def test_one_article_in_two_feeds_under_three_urls_is_one_file(
    httpserver: HTTPServer,
    write_config: WriteConfig,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    paragraphs = [LOREM, "Reviewers found the benefit on pain lasted about six months."]
    url = httpserver.url_for("/a.html")
    tracked = url + "?utm_source=atom&utm_medium=feed&fbclid=x#comments"
    mirror = httpserver.url_for("/amp/a.html")
    httpserver.expect_request("/rss.xml").respond_with_data(
        rss([("r1", url, "A")]), content_type="application/rss+xml"
    )
    httpserver.expect_request("/atom.xml").respond_with_data(
        atom([("urn:a1", tracked, "A"), ("urn:a2", mirror, "A (AMP)")]),
        content_type="application/atom+xml",
    )
    httpserver.expect_request("/a.html").respond_with_data(
        article("Massage works", paragraphs), content_type="text/html"
    )
    httpserver.expect_request("/amp/a.html").respond_with_data(
        article("Massage works", paragraphs, clutter="<a href='/amp'>AMP home</a>"),
        content_type="text/html",
    )
    config = write_config(
        [
            {"name": "rss", "feed": httpserver.url_for("/rss.xml")},
            {"name": "atom", "feed": httpserver.url_for("/atom.xml")},
        ]
    )

    code, report = run_json(config, capsys)

    files = sorted((tmp_path / "corpus").glob("*.txt"))
    assert code == 0 and len(files) == 1 and report["new_documents"] == 1
    assert sum(s["duplicates"] for s in report["sources"]) == 2
    page_fetches = [req.path for req, _ in httpserver.log if req.path.endswith(".html")]
    assert sorted(page_fetches) == ["/a.html", "/amp/a.html"]  # the tracked URL is not fetched
    urls = {row[0] for row in db_rows(tmp_path, "select url from document_urls")}
    assert urls == {url, mirror}


def test_white_space_variant_is_a_duplicate_but_a_changed_text_is_a_new_document(
    httpserver: HTTPServer,
    write_config: WriteConfig,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    base = [LOREM, "Guidelines recommend massage for acute low back pain in adults."]
    spaced = [p.replace(" ", "   \n ") for p in base]
    changed = [base[0], base[1].replace("acute", "chronic")]
    links = [httpserver.url_for(p) for p in ("/a.html", "/b.html", "/c.html")]
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss([(f"g{i}", link, "A") for i, link in enumerate(links)]), content_type="text/xml"
    )
    pages_by_path = {"/a.html": base, "/b.html": spaced, "/c.html": changed}
    for link, paragraphs in pages_by_path.items():
        httpserver.expect_request(link).respond_with_data(
            article("Massage", paragraphs), content_type="text/html"
        )
    config = write_config([{"name": "one", "feed": httpserver.url_for("/feed.xml")}])

    code, report = run_json(config, capsys)

    files = sorted((tmp_path / "corpus").glob("*.txt"))
    assert code == 0 and [f.name[:4] for f in files] == ["000_", "001_"]
    assert report["sources"][0]["duplicates"] == 1
    texts = [f.read_text(encoding="utf-8") for f in files]
    assert "chronic low back pain in adults" in texts[1]
    for f in files:
        assert f.name == corpus.file_name(int(f.name[:3]), corpus.hash16(f.read_text()))


def test_corpus_numbers_follow_the_feed_even_when_the_first_page_arrives_last(
    write_config: WriteConfig, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Pages are fetched and extracted concurrently, but `seq` is assigned in entry order: a
    slow first page still becomes 000."""
    first_released = threading.Event()
    served: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path == "/feed.xml":
                items = [(f"g{i}", f"{base}/p{i}.html", f"P{i}") for i in range(4)]
                body, ctype = rss(items), "application/rss+xml"
            else:
                number = int(self.path[2])
                if number == 0:  # held until every other page has been served
                    first_released.wait(10)
                paragraphs = [LOREM, f"Page {number} says massage eased low back pain."]
                body, ctype = article(f"P{number}", paragraphs), "text/html"
                served.append(self.path)
                if len(served) == 3:
                    first_released.set()
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
        config = write_config([{"name": "one", "feed": url}], fetch={"concurrency": 4})
        code, report = run_json(config, capsys)
    finally:
        server.shutdown()
        server.server_close()

    assert code == 0 and report["new_documents"] == 4
    assert served[-1] == "/p0.html"  # the first entry's page really did arrive last
    files = sorted((tmp_path / "corpus").glob("*.txt"))
    numbers = [f.read_text(encoding="utf-8").split("Page ")[1][0] for f in files]
    assert [f.name[:3] for f in files] == ["000", "001", "002", "003"]
    assert numbers == ["0", "1", "2", "3"]


def test_non_html_pages_are_skipped_with_their_reason(
    httpserver: HTTPServer,
    write_config: WriteConfig,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    links = [httpserver.url_for("/paper.pdf"), httpserver.url_for("/photo.jpg")]
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss([("p", links[0], "PDF"), ("i", links[1], "Image")]), content_type="text/xml"
    )
    httpserver.expect_request("/paper.pdf").respond_with_data(
        b"%PDF-1.7 " + b"x" * 5000, content_type="application/pdf"
    )
    httpserver.expect_request("/photo.jpg").respond_with_data(
        b"\xff\xd8\xff" + b"x" * 5000, content_type="image/jpeg"
    )
    config = write_config([{"name": "one", "feed": httpserver.url_for("/feed.xml")}])

    code, report = run_json(config, capsys)

    assert code == 0 and report["sources"][0]["skipped"] == 2
    assert not list((tmp_path / "corpus").glob("*.txt"))
    reasons = {r[0] for r in db_rows(tmp_path, "select reason from pages where status='skipped'")}
    assert reasons == {"not HTML: application/pdf", "not HTML: image/jpeg"}


def test_short_pages_are_skipped_with_the_reason(
    httpserver: HTTPServer,
    write_config: WriteConfig,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss([("g", httpserver.url_for("/short.html"), "Short")]), content_type="text/xml"
    )
    httpserver.expect_request("/short.html").respond_with_data(
        article("Short", ["Massage helps."]), content_type="text/html"
    )
    config = write_config([{"name": "one", "feed": httpserver.url_for("/feed.xml")}])
    code, report = run_json(config, capsys)
    assert code == 0 and report["sources"][0]["skipped"] == 1
    (reason,) = db_rows(tmp_path, "select reason from pages")[0]
    assert "too short" in reason and "200" in reason


def test_a_broken_source_is_isolated_reported_and_sets_exit_code_1(
    httpserver: HTTPServer,
    write_config: WriteConfig,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    httpserver.expect_request("/good.xml").respond_with_data(
        rss([("g", httpserver.url_for("/a.html"), "A")]), content_type="text/xml"
    )
    httpserver.expect_request("/a.html").respond_with_data(
        article("A", [LOREM, LOREM.upper()]), content_type="text/html"
    )
    httpserver.expect_request("/error.xml").respond_with_data("boom", status=500)
    httpserver.expect_request("/notafeed.xml").respond_with_data(
        "<html><body>hello</body></html>", content_type="text/html"
    )
    config = write_config(
        [
            {"name": "error", "feed": httpserver.url_for("/error.xml")},
            {"name": "refused", "feed": "http://127.0.0.1:9/feed.xml"},
            {"name": "notafeed", "feed": httpserver.url_for("/notafeed.xml")},
            {"name": "good", "feed": httpserver.url_for("/good.xml")},
        ]
    )

    code, report = run_json(config, capsys)

    assert code == 1
    assert sorted(report["failed"]) == ["error", "notafeed", "refused"]
    by_name = {s["name"]: s for s in report["sources"]}
    assert by_name["good"]["new_documents"] == 1
    assert "HTTP 500" in by_name["error"]["error"]
    assert "not a feed" in by_name["notafeed"]["error"]
    stored = db_rows(
        tmp_path, "select s.name, e.kind from errors e join sources s on s.id=e.source_id"
    )
    assert {name for name, _ in stored} == {"error", "refused", "notafeed"}
    failures = db_rows(tmp_path, "select name, consecutive_failures from sources order by name")
    assert dict(failures) == {"error": 1, "good": 0, "notafeed": 1, "refused": 1}


def test_the_summary_table_says_when_nothing_was_added(
    httpserver: HTTPServer, write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(rss([]), content_type="text/xml")
    config = write_config([{"name": "empty", "feed": httpserver.url_for("/feed.xml")}])
    assert cli.main(["--config", str(config), "ingest"]) == 0
    out = capsys.readouterr().out
    assert "empty" in out and "Nothing new" in out


def test_410_disables_the_source_and_301_records_the_new_url(
    httpserver: HTTPServer,
    write_config: WriteConfig,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    httpserver.expect_request("/gone.xml").respond_with_data("", status=410)
    httpserver.expect_request("/old.xml").respond_with_data(
        "", status=301, headers={"Location": "/new.xml"}
    )
    httpserver.expect_request("/new.xml").respond_with_data(rss([]), content_type="text/xml")
    config = write_config(
        [
            {"name": "gone", "feed": httpserver.url_for("/gone.xml")},
            {"name": "moved", "feed": httpserver.url_for("/old.xml")},
        ]
    )
    run_json(config, capsys)
    httpserver.clear_log()
    _, report = run_json(config, capsys)

    by_name = {s["name"]: s for s in report["sources"]}
    assert by_name["gone"]["status"] == "disabled"
    assert [req.path for req, _ in httpserver.log] == ["/new.xml"]  # neither gone nor old
    rows = dict(db_rows(tmp_path, "select name, current_url from sources"))
    assert rows["moved"] == httpserver.url_for("/new.xml")


def test_gzip_feed_is_decoded(
    httpserver: HTTPServer, write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    body = gzip.compress(rss([("g", "http://127.0.0.1:9/x.html", "X")]).encode())
    httpserver.expect_request("/feed.xml").respond_with_data(
        body, content_type="text/xml", headers={"Content-Encoding": "gzip"}
    )
    config = write_config([{"name": "gz", "feed": httpserver.url_for("/feed.xml")}])
    _, report = run_json(config, capsys)
    assert report["sources"][0]["entries_seen"] == 1
