"""A small threaded HTTP server for the bundled demo site, on 127.0.0.1 only.

Serves the files of one folder, replacing `__BASE_URL__` in them with the server's own URL,
with ETag and Last-Modified so that a second poll gets 304 Not Modified. Used by `make demo`
and by tests; nothing here is part of the installed service.
"""

from __future__ import annotations

import hashlib
import mimetypes
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

PLACEHOLDER = "__BASE_URL__"
LAST_MODIFIED = formatdate(1_700_000_000, usegmt=True)  # fixed: the site never changes
TYPES = {".xml": "application/rss+xml", ".html": "text/html; charset=utf-8"}


class DemoSite:
    """Serve `root` on 127.0.0.1:`port` (0: any free port) in a background thread."""

    def __init__(self, root: Path, port: int = 0) -> None:
        self.root = root
        self.requests: list[tuple[str, int]] = []  # (path, status), for tests
        handler = _make_handler(self)
        try:
            self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        except OSError:
            self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> DemoSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def body(self, path: str) -> tuple[bytes, str] | None:
        relative = urlsplit(path).path.lstrip("/") or "index.html"
        file = (self.root / relative).resolve()
        if not file.is_file() or self.root.resolve() not in file.parents:
            return None
        content = file.read_bytes().replace(PLACEHOLDER.encode(), self.base_url.encode())
        ctype = TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] or "text/plain"
        if file.name == "atom.xml":
            ctype = "application/atom+xml"
        return content, ctype


def _make_handler(site: DemoSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = site.body(self.path)
            if found is None:
                self._reply(404, b"not found", "text/plain")
                return
            content, ctype = found
            etag = '"' + hashlib.sha256(content).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag:
                self._reply(304, b"", ctype, etag)
                return
            self._reply(200, content, ctype, etag)

        def _reply(self, status: int, body: bytes, ctype: str, etag: str | None = None) -> None:
            site.requests.append((self.path, status))
            self.send_response(status)
            self.send_header("Content-Type", ctype)
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
