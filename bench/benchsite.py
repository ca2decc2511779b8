"""The benchmark's synthetic web: the 181 pages of the article extraction benchmark, copied
under distinct URLs with one unique sentence inserted into each copy's article body (so every
copy is a distinct document by content hash), listed in RSS feeds, and served with ETags (304
on a match) and gzip by threaded HTTP servers on loopback addresses only (127.0.0.x).

Used by `bench/run.py`; not part of the installed service. Deterministic: the same arguments
give the same pages, so a child process can regenerate exactly what the servers serve.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

LAST_MODIFIED = formatdate(1_700_000_000, usegmt=True)
RSS_TYPE = "application/rss+xml"
HTML_TYPE = "text/html; charset=utf-8"

# One of these, numbered, goes into each copy's article body: a health claim of the kind the
# service looks for, so claim extraction has real work on every page.
MARKERS = (
    "Reader note {n}: a physiotherapist told us that regular massage may ease lower back pain "
    "for some patients.",
    "Update {n}: a small trial found that weekly massage therapy reduced chronic back pain "
    "scores after ten weeks.",
    "Correction {n}: the clinic said foam rolling can relieve sciatica symptoms but does not "
    "replace medical care.",
    "Editor's note {n}: experts caution that deep tissue massage is not safe for a herniated "
    "disc without advice.",
)


@dataclass(frozen=True, slots=True)
class BasePage:
    page_id: str
    html: str
    insert_at: int  # offset in `html` where a copy's sentence goes (-1: no anchor found)


@dataclass(frozen=True, slots=True)
class Document:
    path: str  # URL path on its host, e.g. /k3/<id>.html
    page_id: str
    copy: int
    html: str
    marker: str  # the sentence unique to this copy


def benchmark_dir(shared: Path) -> Path:
    return shared / "fixtures" / "article-extraction-benchmark"


def load_base_pages(shared: Path, offsets: dict[str, int] | None = None) -> list[BasePage]:
    """The benchmark pages, sorted by id, each with where a sentence can be inserted: from
    `offsets` when given (what `find_offsets` found), else -1."""
    root = benchmark_dir(shared)
    ids = sorted(json.loads((root / "ground-truth.json").read_text(encoding="utf-8")))
    pages = []
    for page_id in ids:
        raw = gzip.decompress((root / "html" / f"{page_id}.html.gz").read_bytes())
        html = raw.decode("utf-8", errors="replace")
        pages.append(BasePage(page_id, html, (offsets or {}).get(page_id, -1)))
    return pages


_WORD = re.compile(r"[A-Za-z][A-Za-z'’,.]*")


def find_offsets(shared: Path) -> dict[str, int]:
    """Per page, an offset where an inserted sentence comes out in the article text claimwatch
    stores (`extract_document`, checked by extracting a test copy; about 200 extractions); -1
    when none was found."""
    from ingest.extract import ExtractedDocument, ExtractSettings, extract_document

    def text_of(html: str) -> str:
        found = extract_document(html, url="https://bench.example/p", settings=ExtractSettings())
        return found.text if isinstance(found, ExtractedDocument) else ""

    truth = json.loads((benchmark_dir(shared) / "ground-truth.json").read_text("utf-8"))
    offsets = {}
    probe = "Probe sentence for the benchmark copy, unique zq7."
    for page in load_base_pages(shared):
        offsets[page.page_id] = -1
        extracted = text_of(page.html)
        paragraphs = extracted.split("\n") + truth[page.page_id]["articleBody"].split("\n")
        for i, at in enumerate(_candidates(page.html, paragraphs)):
            if i >= 4:
                break
            test = page.html[:at] + " " + probe + " " + page.html[at:]
            if probe in text_of(test):
                offsets[page.page_id] = at
                break
    return offsets


def _candidates(html: str, paragraphs: list[str]) -> Iterator[int]:
    """Just before the `</p>` closing a paragraph found verbatim in the HTML (outside
    scripts), else the end of the text node holding its first words."""
    body = max(html.find("<body"), 0)
    seen = set()
    for paragraph in [p for p in paragraphs if len(p) > 80][:20]:
        words = _WORD.findall(paragraph)[:7]
        if len(words) < 5:
            continue
        pattern = re.compile(r"\s+".join(re.escape(w) for w in words))
        for match in pattern.finditer(html, body):
            start = match.start()
            if html.rfind("<script", 0, start) > html.rfind("</script", 0, start):
                continue  # JSON-LD and the like
            end = match.end()
            close = html.find("</p>", end)
            next_open = html.find("<p", end)
            if close != -1 and close - end < 20_000 and (next_open == -1 or next_open > close):
                at = close
            else:
                at = html.find("<", end)
            if at != -1 and at not in seen:
                seen.add(at)
                yield at
            break


def make_documents(base: list[BasePage], count: int, first_copy: int = 0) -> list[Document]:
    """`count` documents: copy 0 of every page, then copy 1, ... (distinct paths and text)."""
    return list(iter_documents(base, count, first_copy))


def iter_documents(base: list[BasePage], count: int, first_copy: int = 0) -> Iterator[Document]:
    """The documents of `make_documents`, made one at a time."""
    n = 0
    copy = first_copy
    while n < count:
        for page in base:
            if n >= count:
                break
            marker = MARKERS[n % len(MARKERS)].format(n=f"{copy}-{n}")
            sentence = " " + escape(marker) + " "
            if page.insert_at >= 0:
                html = page.html[: page.insert_at] + sentence + page.html[page.insert_at :]
            else:  # no anchor: the title still makes the stored text distinct
                html = page.html.replace("</title>", escape(f" ({marker})") + "</title>", 1)
            yield Document(f"/k{copy}/{page.page_id}.html", page.page_id, copy, html, marker)
            n += 1
        copy += 1


def rss(title: str, base_url: str, items: list[tuple[str, str]]) -> bytes:
    """An RSS 2.0 feed of (path, title) items on `base_url`."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>{base_url}/</link>",
        "<description>claimwatch benchmark feed</description>",
    ]
    for i, (path, item_title) in enumerate(items):
        day = 1 + i % 28
        parts.append(
            f"<item><title>{escape(item_title)}</title><link>{base_url}{path}</link>"
            f'<guid isPermaLink="true">{base_url}{path}</guid>'
            f"<pubDate>Mon, {day:02d} Nov 2025 08:00:00 GMT</pubDate></item>"
        )
    parts.append("</channel></rss>\n")
    return "".join(parts).encode("utf-8")


@dataclass(slots=True)
class Resource:
    gz: bytes  # the body, gzip-compressed (decompressed for a client that does not accept it)
    ctype: str
    etag: str


@dataclass(slots=True)
class Host:
    """One loopback address with its own threaded server; resources added before or after
    it starts (a dict assignment, atomic under the GIL)."""

    address: str
    port: int = 0  # 80 when bindable: see `start`
    resources: dict[str, Resource] = field(default_factory=dict)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)  # (kind, status)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.address}" + ("" if self.port == 80 else f":{self.port}")

    def add(self, path: str, body: bytes, ctype: str) -> None:
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        self.resources[path] = Resource(gzip.compress(body, 5), ctype, etag)

    def start(self, want_port_80: bool) -> str | None:
        """Serve; returns why port 80 was not used, or None."""
        problem = None
        ports = [80, 0] if want_port_80 else [0]
        for port in ports:
            try:
                self._server = ThreadingHTTPServer((self.address, port), _handler(self))
                break
            except OSError as exc:
                problem = f"{self.address}:80: {exc.strerror or exc}"
        assert self._server is not None
        self._server.daemon_threads = True
        self._server.request_queue_size = 128
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return problem if self.port != 80 and want_port_80 else None

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def path_kind(path: str) -> str:
    """What the benchmark serves at `path`: page, feed, small-feed (the re-poll's) or other."""
    return {"/k": "page", "/f": "feed", "/s": "small-feed"}.get(path[:2], "other")


def _handler(host: Host) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

        def do_GET(self) -> None:
            resource = host.resources.get(self.path.split("?", 1)[0])
            if resource is None:
                self._reply(404, b"not found", "text/plain", None)
                return
            if self.headers.get("If-None-Match") == resource.etag:
                self._reply(304, b"", resource.ctype, resource.etag)
                return
            accepts = "gzip" in (self.headers.get("Accept-Encoding") or "")
            body = resource.gz if accepts else gzip.decompress(resource.gz)
            self._reply(200, body, resource.ctype, resource.etag, gzipped=accepts)

        def _reply(
            self, status: int, body: bytes, ctype: str, etag: str | None, gzipped: bool = False
        ) -> None:
            host.statuses[(path_kind(self.path), status)] += 1
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            if gzipped:
                self.send_header("Content-Encoding", "gzip")
            if etag:
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", LAST_MODIFIED)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
