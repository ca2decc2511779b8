"""Prometheus metrics and a health endpoint for the daemon, on a local port: documents
ingested, duplicates, fetch errors by kind, fetch and extraction durations (per page),
digests made, deliveries sent, outbox pending.

One registry per daemon (no module-level state); an `ingest.reports.Observer` feeds it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app

from ingest.reports import PageStatus, SourceReport

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.documents = Counter(
            "claimwatch_documents_ingested", "New corpus documents", registry=r
        )
        self.duplicates = Counter(
            "claimwatch_duplicates", "Pages or entries already in the corpus", registry=r
        )
        self.skipped = Counter(
            "claimwatch_pages_skipped", "Pages skipped (not HTML, too short…)", registry=r
        )
        self.fetch_errors = Counter(
            "claimwatch_fetch_errors", "Failed feed or page fetches", ["kind"], registry=r
        )
        self.page_seconds = Histogram(
            "claimwatch_page_seconds", "Fetch + extraction + store time per page", registry=r
        )
        self.pass_seconds = Histogram(
            "claimwatch_source_pass_seconds", "Time of one source's ingest pass", registry=r
        )
        self.digests = Counter("claimwatch_digests", "Digests recorded", registry=r)
        self.sent = Counter("claimwatch_deliveries_sent", "Digest e-mails accepted", registry=r)
        self.pending = Gauge("claimwatch_outbox_pending", "Deliveries waiting", registry=r)
        self.last_success = Gauge(
            "claimwatch_last_success_timestamp", "Unix time of the last successful job", registry=r
        )
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()

    # --- ingest.reports.Observer -----------------------------------------------------------

    def source_started(self, name: str, url: str) -> None:
        with self._lock:
            self._started[name] = time.monotonic()
            self._started[f"page:{name}"] = time.monotonic()

    def page_done(self, name: str, url: str, status: PageStatus, detail: str) -> None:
        with self._lock:
            begun = self._started.get(f"page:{name}", time.monotonic())
            self._started[f"page:{name}"] = time.monotonic()
        self.page_seconds.observe(time.monotonic() - begun)
        if status == "stored":
            self.documents.inc()
        elif status == "duplicate":
            pass  # counted with the source's report, which also has feed-level duplicates
        elif status == "skipped":
            self.skipped.inc()
        else:
            self.fetch_errors.labels(kind=detail.split(":", 1)[0] or "page").inc()

    def source_done(self, report: SourceReport) -> None:
        with self._lock:
            begun = self._started.pop(report.name, None)
        if begun is not None:
            self.pass_seconds.observe(time.monotonic() - begun)
        self.duplicates.inc(report.duplicates if report.status == "ok" else 0)
        if report.status == "failed":
            kind = (report.error or "feed").split(":", 1)[0]
            self.fetch_errors.labels(kind=kind).inc()
        else:
            self.last_success.set(time.time())


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class MetricsServer:
    """`/metrics` (Prometheus text format) and `/healthz` ("ok" while `healthy()` says so)."""

    def __init__(self, metrics: Metrics, host: str, port: int, healthy: Callable[[], bool]) -> None:
        metrics_app = make_wsgi_app(metrics.registry)

        def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            if environ.get("PATH_INFO") == "/healthz":
                ok = healthy()
                start_response(
                    "200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain")]
                )
                return [b"ok\n" if ok else b"stopping\n"]
            return metrics_app(environ, start_response)  # type: ignore[no-any-return]

        self._server: WSGIServer = make_server(host, port, app, handler_class=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
