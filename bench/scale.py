"""`make bench-scale`: throughput of the distributed mode with 1, 2, 4 and 8 worker processes.

Standalone; prints a table and asserts nothing. Needs PostgreSQL on 127.0.0.1:5432 (database
`test`); every run gets a fresh schema. A synthetic site (generated articles, four feeds on
four loopback hosts, `host_delay_s: 0`) is polled once; then N `claimwatch worker` processes
(concurrency 1, one extraction process each, queues `pages` and `numbering`: claims are not
part of this measure) fetch, extract and number every page.

- **real**: the real extraction, for 1 and 2 workers (this machine has 2 cores: the CPU
  ceiling is reached there).
- **simulated**: extraction replaced by a sleep drawn from the measured distribution of the
  real extraction's time on the same pages (seeded), for 1, 2, 4 and 8 workers: what scales
  is then the coordination (job claims, the host gate, commits, the numbering stage).

T(N) is pages per second between the first and the last document stored (worker start-up
left out); efficiency is T(N) / (N · T(1)) within a series. The numbering stage's cost is
measured from its jobs (seconds per document numbered) with the ceiling it implies.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402
import yaml  # noqa: E402

from ingest.extract import ExtractedDocument, ExtractSettings, extract_document  # noqa: E402

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4")
WORDS = [
    "massage",
    "therapy",
    "back",
    "pain",
    "trial",
    "patients",
    "study",
    "researchers",
    "lumbar",
    "spine",
    "relief",
    "chronic",
    "weeks",
    "group",
    "results",
    "exercise",
    "physical",
    "treatment",
    "clinic",
    "adults",
    "reported",
    "improvement",
]


def article(host: int, number: int) -> str:
    """A page of 8-14 paragraphs of varied text, unique per (host, number)."""
    rng = random.Random(f"{host}-{number}")
    paragraphs = "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 90))) + ".</p>"
        for _ in range(rng.randint(8, 14))
    )
    title = f"Report {host}-{number}: massage and back pain"
    nav = "".join(f"<li><a href='/x/{i}'>Section {i}</a></li>" for i in range(20))
    return (
        f"<html><head><title>{title}</title></head><body><nav><ul>{nav}</ul></nav>"
        f"<article><h1>{title}</h1>{paragraphs}</article><footer>Site footer</footer></body></html>"
    )


def feed(host: int, pages: int) -> str:
    base = f"http://{HOSTS[host]}:{{port}}"
    items = "".join(
        f"<item><title>R{n}</title><link>{base}/a/{n}.html</link></item>" for n in range(pages)
    )
    return (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>F</title>{items}</channel></rss>"
    )


def page_set(total: int) -> tuple[list[str], str]:
    """The article extraction benchmark's pages, each copy made distinct by one sentence in
    its article (`bench/benchsite.py`), when the shared fixtures are there; else generated."""
    sys.path.insert(0, str(BENCH))
    import benchsite

    shared = Path(os.environ.get("CLAIMWATCH_SHARED", REPO.parent / "shared"))
    if not benchsite.benchmark_dir(shared).is_dir():
        pages = [article(n % len(HOSTS), n) for n in range(total)]
        return pages, "generated pages (shared fixtures not found)"
    base = benchsite.load_base_pages(shared, benchsite.find_offsets(shared))
    return [doc.html for doc in benchsite.make_documents(base, total)], "the AEB pages, copied"


class Site:
    """The pages served on the four loopback hosts (one threaded server each)."""

    def __init__(self, pages_per_host: int) -> None:
        self.pages = pages_per_host
        self.html, self.kind = page_set(pages_per_host * len(HOSTS))
        self.servers = [self._serve(i) for i in range(len(HOSTS))]

    def _serve(self, host: int) -> ThreadingHTTPServer:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                port = self.server.server_address[1]
                if self.path == "/feed.xml":
                    body, ctype = (
                        feed(host, site.pages).replace("{port}", str(port)),
                        "application/rss+xml",
                    )
                else:
                    number = int(self.path.rsplit("/", 1)[1].split(".")[0])
                    body = site.html[number * len(HOSTS) + host]
                    ctype = "text/html; charset=utf-8"
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer((HOSTS[host], 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def feeds(self) -> list[str]:
        return [
            f"http://{HOSTS[i]}:{s.server_address[1]}/feed.xml" for i, s in enumerate(self.servers)
        ]


def measure_extraction(site: Site, sample: int) -> list[float]:
    """Seconds the real extraction takes on the site's pages, in this process."""
    settings = ExtractSettings()
    times = []
    for n in range(min(sample, len(site.html))):
        html = site.html[n]
        start = time.perf_counter()
        extract_document(html, url=f"http://h/a/{n}.html", settings=settings)
        times.append(time.perf_counter() - start)
    return times


def simulated_extract(
    content: bytes,
    charset: str | None,
    url: str,
    settings: ExtractSettings,
    *,
    seconds: tuple[float, ...],
) -> ExtractedDocument:
    """A stand-in for extraction in the bench's simulated series: sleeps a time drawn from the
    real distribution, returns a small document unique to the page."""
    time.sleep(random.Random(url).choice(seconds))
    text = f"Simulated article {url}\n\n" + " ".join(WORDS) * 3 + "\n"
    return ExtractedDocument(
        url=url, title=f"Simulated {url}", blocks=(), published=None, text=text
    )


def worker_main(config: str, seconds_file: str) -> int:
    """A worker whose extraction is `simulated_extract` (the bench's simulated series)."""
    from digest.runtime.logs import configure_logging
    from digest.runtime.settings import load_settings
    from digest.runtime.worker import WorkerOptions, run_worker

    configure_logging("text", 20)
    seconds = tuple(json.loads(Path(seconds_file).read_text()))
    extractor = functools.partial(simulated_extract, seconds=seconds)
    options = WorkerOptions(queues=("pages", "numbering"), concurrency=1)
    return int(run_worker(load_settings(Path(config)), options, page_extractor=extractor))


def run(
    site: Site, workers: int, simulated: bool, folder: Path, seconds_file: Path
) -> dict[str, float]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = f"{PG}?options=-csearch_path%3D{schema}"
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "sources.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "storage": {"corpus_dir": "corpus", "database": url},
                "fetch": {"allow_private_networks": True, "host_delay_s": 0, "retries": 0},
                "extract": {"workers": 1},
                "sources": [{"name": f"f{i}", "feed": f} for i, f in enumerate(site.feeds())],
                "queue": {"engine": "procrastinate", "concurrency": 1, "poll_interval_s": 0.5},
            }
        )
    )
    cw = [sys.executable, "-m", "digest.runtime", "--config", str(config)]
    subprocess.run([*cw, "schedule", "--once"], check=True, capture_output=True, cwd=REPO)
    engine = sa.create_engine(url)
    logs = [folder / f"worker-{n}.log" for n in range(workers)]
    procs = []
    for log in logs:
        command = (
            [sys.executable, str(BENCH / "scale.py"), "--_worker", str(config), str(seconds_file)]
            if simulated
            else [*cw, "worker", "--queues", "pages,numbering"]
        )
        with log.open("wb") as out:
            procs.append(subprocess.Popen(command, stdout=out, stderr=out, cwd=REPO))
    total = site.pages * len(HOSTS)
    try:
        _wait(lambda: _scalar(engine, "SELECT count(*) FROM procrastinate_workers") >= workers, 60)
        subprocess.run(
            [*cw, "worker", "--queues", "feeds", "--burst"],
            check=True,
            capture_output=True,
            cwd=REPO,
        )
        low, high = _window(engine, total)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()
    numbered, busy = _numbering(logs)
    return {
        "pages_per_s": 0.8 * total / (high - low),
        "numbering_s_per_doc": busy / numbered if numbered else float("nan"),
    }


def _numbering(logs: list[Path]) -> tuple[int, float]:
    """Documents numbered and seconds the numbering jobs lasted, from the workers' logs."""
    pattern = re.compile(
        r"claimwatch\.number\[\d+\]\(\) ended with status: Success, lasted ([\d.]+) s - Result: numbered (\d+)"  # noqa: E501
    )
    numbered, busy = 0, 0.0
    for log in logs:
        for seconds, count in pattern.findall(log.read_text(errors="replace")):
            numbered, busy = numbered + int(count), busy + float(seconds)
    return numbered, busy


THROUGH_PAGE_STEP = (
    "SELECT (SELECT count(*) FROM pages WHERE status <> 'pending') "
    "+ (SELECT count(*) FROM staged_documents)"
)


def _window(engine: sa.Engine, total: int) -> tuple[float, float]:
    """When 10 % and when 90 % of the pages were through the page step (staged for numbering
    or numbered already: start-up and tail left out, numbering's batches smoothed)."""
    marks: dict[float, float] = {}
    deadline = time.monotonic() + 900
    while len(marks) < 2:
        done = _scalar(engine, THROUGH_PAGE_STEP) / total
        for mark in (0.1, 0.9):
            if done >= mark and mark not in marks:
                marks[mark] = time.monotonic()
        if time.monotonic() > deadline:
            raise TimeoutError("the bench run did not finish")
        time.sleep(0.02)
    _wait(lambda: _scalar(engine, "SELECT count(*) FROM pages WHERE status = 'pending'") == 0, 600)
    return marks[0.1], marks[0.9]


def _scalar(engine: sa.Engine, query: str) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql(query).scalar_one())


def _wait(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the bench run did not finish")
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=100, help="pages per host (4 hosts)")
    parser.add_argument("--workers", default="1,2,4,8")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    site = Site(args.pages)
    folder = Path(tempfile.gettempdir()) / f"claimwatch-bench-scale-{os.getpid()}"
    samples = measure_extraction(site, 200)
    seconds_file = folder / "extraction-seconds.json"
    folder.mkdir(parents=True, exist_ok=True)
    seconds_file.write_text(json.dumps(samples))
    print(
        f"real extraction of the bench pages, one process: mean {statistics.mean(samples) * 1000:.1f} ms, "  # noqa: E501
        f"median {statistics.median(samples) * 1000:.1f} ms, p90 {sorted(samples)[int(0.9 * len(samples))] * 1000:.1f} ms "  # noqa: E501
        f"({len(samples)} pages: {site.kind}); {os.cpu_count()} cores; {args.pages * len(HOSTS)} pages a run"  # noqa: E501
    )
    print(f"{'series':<34} {'N':>2} {'pages/s':>8} {'T(N)/(N·T(1))':>14} {'numbering ms/doc':>17}")
    for simulated in (False, True):
        label = "simulated (sleep from the real distribution)" if simulated else "real extraction"
        base = None
        for n in counts if simulated else [c for c in counts if c <= 2]:
            result = run(
                site, n, simulated, folder / f"{'sim' if simulated else 'real'}-{n}", seconds_file
            )
            base = base or result["pages_per_s"]
            efficiency = result["pages_per_s"] / (n * base)
            print(
                f"{label[:34]:<34} {n:>2} {result['pages_per_s']:>8.1f} {efficiency:>14.2f} "
                f"{result['numbering_s_per_doc'] * 1000:>17.2f}",
                flush=True,
            )
            last = result
    cost = last["numbering_s_per_doc"]
    print(
        f"serial numbering stage: {cost * 1000:.2f} ms a document (its jobs' time / documents they "
        f"numbered, batches of up to 50): a ceiling of about {1 / cost:.0f} documents/s whatever the workers"  # noqa: E501
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--_worker":
        sys.exit(worker_main(sys.argv[2], sys.argv[3]))
    main()
