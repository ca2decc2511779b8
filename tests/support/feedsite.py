"""A local feed site for the distributed-mode tests: one RSS feed of generated articles (each
distinct, each naming the topics so claims are found), one of them long enough that its
extraction takes seconds, served on 127.0.0.1 with the time of every request logged."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SENTENCES = (
    "A randomized trial of {n} adults found that weekly massage reduced lower back pain.",
    "Researchers reported that patients who received massage therapy for back pain slept better.",
    "The study, published in a spine journal, followed participants for {n} weeks.",
    "Experts cautioned that massage may not help every kind of chronic back pain.",
    "Participants in the control group received standard care and exercise advice.",
)


def long_article(number: int, blocks: int) -> str:
    """Text in many small nested blocks: about a second of extraction per 8,000 blocks."""
    body = "".join(
        f"<div><div><span>{SENTENCES[i % len(SENTENCES)].format(n=i)}</span></div></div>"
        for i in range(blocks)
    )
    return f"<html><head><title>Long report {number}</title></head><body>{body}</body></html>"


def article(number: int, paragraphs: int = 6) -> str:
    body = "".join(
        f"<p>Report {number}, paragraph {p}: "
        + " ".join(s.format(n=number + p) for s in SENTENCES)
        + "</p>"
        for p in range(paragraphs)
    )
    return (
        f"<!doctype html><html><head><title>Massage and back pain, report {number}</title></head>"
        f"<body><nav><a href='/'>Home</a></nav><article><h1>Massage and back pain, report "
        f"{number}</h1>{body}</article><footer>Health news site</footer></body></html>"
    )


@dataclass
class FeedSite:
    """`articles` pages at /a/<n>.html (article 0 is the long one when `long_blocks`),
    listed in /feed.xml in that order."""

    articles: int
    long_blocks: int = 0
    requests: list[tuple[float, str]] = field(default_factory=list)  # (time.time(), path)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def page(self, number: int) -> str:
        if number == 0 and self.long_blocks:
            return long_article(number, self.long_blocks)
        return article(number)

    def feed(self) -> str:
        items = "".join(
            f"<item><title>Report {n}</title><link>{self.base_url}/a/{n}.html</link>"
            f"<guid>{self.base_url}/a/{n}.html</guid></item>"
            for n in range(self.articles)
        )
        return (
            "<?xml version='1.0'?><rss version='2.0'><channel><title>Reports</title>"
            f"<link>{self.base_url}/</link>{items}</channel></rss>"
        )

    def log(self, path: str) -> None:
        with self._lock:
            self.requests.append((time.time(), path))

    def __enter__(self) -> FeedSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(site: FeedSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.log(self.path)
            if self.path == "/feed.xml":
                self._reply(site.feed(), "application/rss+xml")
            elif self.path.startswith("/a/") and self.path.endswith(".html"):
                self._reply(site.page(int(self.path[3:-5])), "text/html; charset=utf-8")
            else:
                self.send_error(404)

        def _reply(self, text: str, ctype: str) -> None:
            body = text.encode()
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
