"""A hostile article, end to end: served by a real feed server on 127.0.0.1, ingested, made
into a digest and mailed to a real SMTP server (aiosmtpd) on 127.0.0.1. Its title and text
carry markup, `javascript:` and `data:` links, CR/LF, bidi overrides, zero-width characters
and a megabyte of text; the mail's headers, both its parts and the archive page must be inert
and of sensible size.

Protections (checked by removing each):
- Jinja autoescaping of the HTML templates: without it the <script> text becomes markup;
- digest.compose.render.truncate: without it the megabyte claim lands whole in mail and archive;
- invisible/bidi characters and CR/LF are removed twice, by ingest.extract (`_printable`,
  `clean_block`) and again by digest.compose.render.clean_text: removing one layer alone still
  passes (defence in depth); removing both fails;
- ingest.extract keeps only link text, never an article's own <a href>, <img> or <script>.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pytest_httpserver import HTTPServer
from support.ports import free_port

from digest.runtime import cli

WriteConfig = Callable[..., Path]

RLO, ZWSP, ZWJ, LRI, BOM = "\u202e", "\u200b", "\u200d", "\u2066", "\ufeff"
INVISIBLE = re.compile("[\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")
# Controls other than tab and line ends (mail parts arrive with CRLF), and any lone CR.
CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")
MARKUP = "<script>alert('massage')</script>"
JS_LINK = "javascript:alert(document.cookie)"
DATA_LINK = "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="
TITLE = (
    f"Massage {MARKUP}\r\nBcc: victim@example.org\r\n{RLO}gpj.exe{ZWSP} back pain "
    f"{JS_LINK} {DATA_LINK} " + "and more " * 40
)
# (A sentence carrying a URL is dropped as boilerplate by the claim finder, so the links
# travel in the title, which every item of the article shows.)
CLAIM = (
    f"Massage therapy reduces lower back pain{ZWSP}, a 2024 study found {MARKUP}{BOM} "
    f"{RLO}cod.exe{LRI} and patients{ZWJ} reported relief."
)
MEGABYTE = 1_000_000


def hostile_page() -> str:
    long_claim = (
        "Massage eases lower back pain, the trial found, "
        + ", ".join(["and muscle tension eased as well"] * (MEGABYTE // 34))
        + "."
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{escape(TITLE)}</title><script>alert(1)</script></head><body><article>"
        f"<h1>{escape(TITLE)}</h1>"
        f"<p>{escape(CLAIM)}</p>"
        f"<p>Read <a href='{JS_LINK}'>how massage helps back pain</a> or "
        f"<a href='{DATA_LINK}'>the data</a>; <img src='{DATA_LINK}' onerror='alert(2)'>"
        "Massage is safe for most people with back pain, experts say.</p>"
        f"<p>{escape(long_claim)}</p></article></body></html>"
    )


def hostile_feed(link: str) -> str:
    title = escape(TITLE).replace("\r", "&#13;").replace("\n", "&#10;")
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>{title}</title><link>{escape(link)}</link>"
        f"<item><guid>hostile-1</guid><link>{escape(link)}</link><title>{title}</title>"
        "<pubDate>Mon, 23 Nov 2026 08:00:00 GMT</pubDate></item></channel></rss>"
    )


@dataclass
class Inbox:
    raw: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.raw.append(envelope.original_content or b"")
        return "250 2.0.0 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    box, port = Inbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def assert_inert_html(html: str) -> None:
    assert not re.search(r"<\s*script", html, re.I)
    assert not re.search(r"""(?:href|src)\s*=\s*["']?\s*(?:javascript|data):""", html, re.I)
    assert not re.search(r"\son\w+\s*=", html, re.I)  # no event handler attributes
    assert not INVISIBLE.search(html) and not CONTROLS.search(html)


def test_a_hostile_article_yields_an_inert_sensibly_sized_digest(
    httpserver: HTTPServer,
    write_config: WriteConfig,
    tmp_path: Path,
    inbox: tuple[Inbox, int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    box, port = inbox
    httpserver.expect_request("/evil.html").respond_with_data(
        hostile_page(), content_type="text/html; charset=utf-8"
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        hostile_feed(httpserver.url_for("/evil.html")), content_type="application/rss+xml"
    )
    config = write_config(
        [{"name": "hostile", "feed": httpserver.url_for("/feed.xml")}],
        digest={
            "html_dir": "digests",
            "first_run": "all",
            "email": {
                "from": "claimwatch <digest@claims.example.org>",
                "to": ["reader@example.net"],
                "smtp": {"host": "127.0.0.1", "port": port, "security": "none"},
            },
        },
    )
    assert cli.main(["--config", str(config), "ingest", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["new_documents"] == 1
    assert cli.main(["--config", str(config), "digest"]) == 0
    capsys.readouterr()

    (raw,) = box.raw
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    names = [line.split(":", 1)[0] for line in head.split("\r\n") if not line[:1].isspace()]
    assert "Bcc" not in names and len(names) == len(set(names))  # no injected header
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    for name, value in message.items():
        assert "\r" not in value and "\n" not in value, name
        assert not INVISIBLE.search(value), name
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    (page,) = (tmp_path / "digests").glob("????-??-??-????.html")
    archive = page.read_text(encoding="utf-8")

    # The hostile claim and title did reach the digest (else this would prove nothing) ...
    for rendered in (html, archive):
        assert "study found &lt;script&gt;alert(" in rendered
        assert f"gpj.exe back pain {JS_LINK} data:text/html" in rendered  # text, not a link
    words = " ".join(text.split())  # the text part is wrapped at 68 columns
    assert "Massage therapy reduces lower back pain, a 2024 study found <script>" in words
    assert f"gpj.exe back pain {JS_LINK}" in words
    # ... but only as text: no markup, links only to http(s), no invisible characters.
    assert_inert_html(html)
    assert_inert_html(archive)
    assert not INVISIBLE.search(text) and not CONTROLS.search(text)
    # The megabyte claim is cut to a few hundred characters with "…", everywhere.
    for rendered in (html, text, archive):
        assert len(rendered) < 60_000
        assert "and muscle tension eased as well" in rendered and "…" in rendered
    assert len(raw) < 200_000
