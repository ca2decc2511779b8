"""Hostile and broken bodies: a server that never stops sending, pages whose charset label
lies (or is missing), and a redirect loop met by an ingest pass.

Covered elsewhere, not repeated here (tests/ingest/test_http.py): gzip and deflate bombs, a
plain body over the cap, the one-byte-a-second trickle against the total deadline, and the
redirect limit and loop refusal of a single fetch.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from support.database import db_rows
from support.pages import rss

from digest.runtime import cli
from ingest.charset import decode_html
from ingest.config import FetchConfig
from ingest.errors import BodyTooLarge
from ingest.http import Fetcher, build_client

WriteConfig = Callable[..., Path]
StartRawServer = Callable[[Callable[[Any], None]], Any]

STREAM_SECONDS = 20  # how long an endless server keeps going if nobody stops reading


def endless(chunked: bool) -> Callable[[Any], None]:
    """A handler that sends an HTML body without end (until the client hangs up)."""
    framing = b"Transfer-Encoding: chunked\r\n" if chunked else b"Connection: close\r\n"
    piece = b"<p>" + b"massage " * 1020 + b"</p>\n"
    if chunked:
        piece = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"

    def handle(conn: Any) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + framing + b"\r\n")
        stop = time.monotonic() + STREAM_SECONDS
        while time.monotonic() < stop:
            conn.sendall(piece)

    return handle


@pytest.mark.parametrize("chunked", [False, True], ids=["until-close", "chunked"])
def test_an_endless_body_is_cut_at_max_bytes(raw_server: StartRawServer, chunked: bool) -> None:
    # Protection: read_body's running count against fetch.max_bytes. Without it the read
    # would go on until the total deadline (a FetchTimeout after 10 s, not BodyTooLarge).
    server = raw_server(endless(chunked))
    config = FetchConfig(
        allow_private_networks=True, host_delay_s=0, retries=0, timeout_s=10, max_bytes=300_000
    )
    fetcher = Fetcher(config, build_client(config))
    started = time.monotonic()
    with pytest.raises(BodyTooLarge, match="300000"):
        fetcher.fetch(f"{server.url}/forever.html")
    assert time.monotonic() - started < 5


# --- charsets -------------------------------------------------------------------------------

GERMAN = (
    "Ärzte empfehlen Massage bei Rückenschmerzen. Eine Sitzung kostet 60 € – „günstig“, "
    "sagen Ärzte, und die Krankenkasse übernimmt häufig einen Teil der Kosten."
)
FRENCH = "À Genève, la thérapie par massage coûte 60 € ; très efficace, disent les médecins."


def page_bytes(title: str, paragraphs: list[str], encoding: str, meta: str | None = None) -> bytes:
    head = f"<meta charset='{meta}'>" if meta else ""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    html = (
        f"<!DOCTYPE html><html><head>{head}<title>{title}</title></head><body>"
        f"<article><h1>{title}</h1>{body}</article></body></html>"
    )
    return html.encode(encoding)


@pytest.mark.parametrize(
    ("encoding", "declared", "meta"),
    [
        ("utf-8", "iso-8859-1", None),  # UTF-8 page labelled latin-1 by the server
        ("utf-8", "windows-1252", "windows-1252"),  # ... and by its own <meta>
        ("cp1252", "utf-8", None),  # windows-1252 page labelled UTF-8
        ("cp1252", None, "utf-8"),  # ... by its <meta> only
        ("cp1252", None, None),  # no label at all
        ("cp1252", "iso-8859-1", None),  # latin-1 label: 0x80 is "€" in browsers too
    ],
)
def test_a_lying_or_missing_charset_is_decoded_right(
    encoding: str, declared: str | None, meta: str | None
) -> None:
    # Protection: decode_html preferring valid UTF-8 over any label, ignoring a UTF-8 label
    # on bytes that are not UTF-8, reading latin-1 as windows-1252, and preferring
    # windows-1252 among the detector's equally clean guesses.
    content = page_bytes("Massage", [GERMAN, FRENCH], encoding, meta)
    text = decode_html(content, declared)
    assert GERMAN in text and FRENCH in text


def test_a_correct_label_and_other_legacy_encodings_still_win() -> None:
    # Protection: the fixes above must not turn every unlabelled page into windows-1252.
    russian = "Массаж помогает при боли в спине, говорят врачи; сеанс стоит 2000 рублей."
    content = page_bytes("Массаж", [russian, russian.upper()], "cp1251")
    assert russian in decode_html(content, None)
    assert russian in decode_html(content, "windows-1251")
    assert FRENCH in decode_html(page_bytes("M", [FRENCH], "iso-8859-15"), "iso-8859-15")


def ingest(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = cli.main(["--config", str(config), "ingest", "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_wrong_charsets_reach_the_corpus_as_the_right_text(
    httpserver: HTTPServer,
    write_config: WriteConfig,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Protection: the pipeline decoding with decode_html (and its fixes above) before
    # extraction; the corpus file keeps "Ärzte", "€", "è" and the German quotes.
    cases = {
        "/utf8-labelled-latin1.html": ("utf-8", "text/html; charset=iso-8859-1", "eins"),
        "/cp1252-labelled-utf8.html": ("cp1252", "text/html; charset=utf-8", "zwei"),
        "/cp1252-unlabelled.html": ("cp1252", "text/html", "drei"),
    }
    items = []
    for path, (encoding, content_type, word) in cases.items():
        paragraphs = [f"Fall {word}: {GERMAN}", FRENCH, f"{GERMAN} ({word})"]
        httpserver.expect_request(path).respond_with_data(
            page_bytes(f"Ärzte und Massage {word}", paragraphs, encoding),
            headers={"Content-Type": content_type},
        )
        items.append((word, httpserver.url_for(path), f"Fall {word}"))
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss(items), content_type="application/rss+xml"
    )
    config = write_config([{"name": "charsets", "feed": httpserver.url_for("/feed.xml")}])

    code, report = ingest(config, capsys)

    assert code == 0 and report["new_documents"] == 3
    texts = [p.read_text(encoding="utf-8") for p in sorted((tmp_path / "corpus").glob("*.txt"))]
    for text in texts:
        assert GERMAN in text and FRENCH in text, text
        assert "Ã" not in text and "\ufffd" not in text
    titles = sorted(title for (title,) in db_rows(tmp_path, "select title from documents"))
    assert titles == [f"Ärzte und Massage {w}" for w in ("drei", "eins", "zwei")]


def test_a_redirect_loop_met_by_a_pass_is_recorded_as_a_failed_page(
    httpserver: HTTPServer,
    write_config: WriteConfig,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Protection: Fetcher's loop detection (a target already visited ends the fetch at once)
    # and the pipeline treating TooManyRedirects as permanent (failed, not retried forever).
    httpserver.expect_request("/a.html").respond_with_data(
        "", status=302, headers={"Location": "/b.html"}
    )
    httpserver.expect_request("/b.html").respond_with_data(
        "", status=301, headers={"Location": "/a.html"}
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss([("loop", httpserver.url_for("/a.html"), "Round and round")]),
        content_type="application/rss+xml",
    )
    config = write_config([{"name": "loop", "feed": httpserver.url_for("/feed.xml")}])

    code, report = ingest(config, capsys)

    assert code == 0 and report["sources"][0]["errors"] == 1
    assert [r.path for r, _ in httpserver.log] == ["/feed.xml", "/a.html", "/b.html"]
    ((status, reason),) = db_rows(tmp_path, "select status, reason from pages")
    assert status == "failed" and reason.startswith("redirects: a redirect loop")
    assert db_rows(tmp_path, "select stage, kind from errors") == [("page", "redirects")]

    httpserver.clear_log()
    code, report = ingest(config, capsys)  # not fetched again: the failure is final
    assert code == 0 and [r.path for r, _ in httpserver.log] == ["/feed.xml"]
