"""claimwatch end-to-end benchmark: `make bench` (full size) or `python bench/run.py --quick`.

Standalone; prints a table and asserts nothing. Needs the shared fixtures (CLAIMWATCH_SHARED,
default `<repo>/../shared`). Every server listens on a loopback address (127.0.0.x) only.

What it measures, in one run, over the same synthetic web (see `bench/benchsite.py`): the
article extraction benchmark's pages, each copied under distinct URLs with a unique sentence
inserted into its article body, to about 1,000 distinct documents, listed in RSS feeds spread
over four loopback hosts and served with ETag/304 and gzip:

  (a)  bare `trafilatura.extract` over the same HTML in one process, no network (the floor);
       and, for reference, claimwatch's own `extract_document` the same way
  (b)  trafilatura's command line fetching the same feeds (`--feed`, `--parallel N`)
  (c)  `claimwatch ingest` (claims included), fresh database, host_delay_s: 0, workers: 0
  (d)  a re-poll of 1,000 unchanged feeds (all 304), after a priming run
  (e)  claim extraction, sentences per second on one core
  (f)  `claimwatch digest --no-email` over a database of 100,000 stored claims

Every command runs under a small wrapper (this script with `--_measure`) that makes itself the
child subreaper, so that orphaned descendants (multiprocessing's fork server and its workers)
are reaped by it and their CPU time lands in RUSAGE_CHILDREN; the wrapper reports its
children's user+sys and max RSS (the largest single process). Meanwhile this process samples
the wrapper's process tree in /proc (RSS and PSS summed over the tree) for the whole-run peak.
"""

from __future__ import annotations

import argparse
import configparser
import ctypes
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(1, str(REPO))

import benchsite  # noqa: E402

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1
HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4")

TARGETS = {
    "c_vs_a": 1.4,  # c >= 1.4 x a pages/s (issue 11: a = bare trafilatura, defaults, 1 process)
    "c_vs_b": 1.2,  # c >= 1.2 x b pages/s
    "peak_mb": 400.0,
    "repoll_s": 5.0,
    "claims_sps_core": 2000.0,
    "digest_s": 2.0,
}


# ───────────────────────────── measuring a command ─────────────────────────────


@dataclass(slots=True)
class Measured:
    name: str
    rc: int | None
    wall_s: float
    cpu_s: float  # user+sys of the wrapper's reaped tree (RUSAGE_CHILDREN delta)
    max_rss_mb: float  # largest single process (ru_maxrss of the children)
    tree_rss_mb: float  # peak of RSS summed over the live tree (/proc samples; shared pages
    tree_pss_mb: float  # counted once per process) and of PSS (shared pages split)
    sampled_cpu_s: float  # user+sys summed per pid from /proc (cross-check of cpu_s)
    stdout: str
    stderr: str
    note: str = ""
    processes: str = ""  # peak RSS per process of the tree, largest first
    cpu_by_kind: str = ""  # CPU seconds per kind of process (main, workers, …), from /proc


class TreeSampler(threading.Thread):
    """Samples the process tree under `root` every `interval` seconds."""

    def __init__(self, root: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.interval = interval
        self.peak_rss = 0
        self.peak_pss = 0
        self.cpu_ticks: dict[int, int] = {}
        self.peak_by_pid: dict[int, tuple[int, str]] = {}  # pid -> (max RSS, what it is)
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def sample(self) -> None:
        stats: dict[int, list[str]] = {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    raw = f.read().decode("ascii", "replace")
            except OSError:
                continue
            stats[int(name)] = raw[raw.rfind(")") + 2 :].split()
        children: dict[int, list[int]] = {}
        for pid, fields in stats.items():
            children.setdefault(int(fields[1]), []).append(pid)
        tree, todo = [], list(children.get(self.root, []))  # the wrapper itself excluded
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo.extend(children.get(pid, []))
        rss = pss = 0
        for pid in tree:
            fields = stats[pid]
            one = int(fields[21]) * PAGE_SIZE
            rss += one
            if one > self.peak_by_pid.get(pid, (0, ""))[0]:
                what = self.peak_by_pid.get(pid, (0, ""))[1] or _what(pid)
                if what == "forkserver" and _what(int(fields[1])) == "forkserver":
                    what = "worker"  # forked by the fork server: same command line
                self.peak_by_pid[pid] = (one, what)
            self.cpu_ticks[pid] = int(fields[11]) + int(fields[12])
            try:
                with open(f"/proc/{pid}/smaps_rollup") as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            pss += int(line.split()[1]) * 1024
                            break
            except OSError:
                pass
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_pss = max(self.peak_pss, pss)


def _what(pid: int) -> str:
    """A short name for a process of the tree, from its command line."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    text = " ".join(a.decode(errors="replace") for a in argv if a)
    for key, label in (
        ("forkserver import main", "forkserver"),
        ("resource_tracker", "resource tracker"),
        ("claimwatch", "claimwatch main"),
        ("digest.runtime", "claimwatch main"),
        ("trafilatura", "trafilatura main"),
    ):
        if key in text:
            return label
    return Path(argv[0].decode(errors="replace")).name if argv and argv[0] else "?"


def measure(
    name: str,
    cmd: list[str],
    workdir: Path,
    *,
    timeout: float,
    env: dict[str, str] | None = None,
) -> Measured:
    """Run `cmd` under the measuring wrapper; never raises for the command's failure."""
    out_json = workdir / f"{name}.rusage.json"
    stdout_path, stderr_path = workdir / f"{name}.stdout", workdir / f"{name}.stderr"
    wrapper = [sys.executable, str(Path(__file__).resolve()), "--_measure", str(out_json), "--"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    note = ""
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        proc = subprocess.Popen(
            wrapper + cmd,
            stdout=out,
            stderr=err,
            cwd=workdir,
            env=env,
            start_new_session=True,
        )
        sampler = TreeSampler(proc.pid)
        sampler.start()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            note = f"killed after {timeout:.0f} s"
            os.killpg(proc.pid, 9)  # the session this script started for it
            proc.wait()
        sampler.stop()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    try:
        report = json.loads(out_json.read_text())
    except (OSError, ValueError):
        report = {"rc": None, "wall_s": wall, "maxrss_kb": 0, "leftover": []}
    if report.get("leftover"):
        note += f" unreaped after 15 s: {report['leftover']}"
    return Measured(
        name=name,
        rc=report["rc"],
        wall_s=report["wall_s"],
        cpu_s=cpu,
        max_rss_mb=report["maxrss_kb"] / 1024,
        tree_rss_mb=sampler.peak_rss / 2**20,
        tree_pss_mb=sampler.peak_pss / 2**20,
        sampled_cpu_s=sum(sampler.cpu_ticks.values()) / TICKS,
        processes=", ".join(
            f"{what} {rss / 2**20:.0f}"
            for rss, what in sorted(sampler.peak_by_pid.values(), reverse=True)[:8]
        ),
        cpu_by_kind=_cpu_by_kind(sampler),
        stdout=stdout_path.read_text(errors="replace"),
        stderr=stderr_path.read_text(errors="replace"),
        note=note.strip(),
    )


def _cpu_by_kind(sampler: TreeSampler) -> str:
    """CPU seconds summed per kind of process ("claimwatch main 9.1, worker 27.5, …")."""
    totals: Counter[str] = Counter()
    for pid, ticks in sampler.cpu_ticks.items():
        what = sampler.peak_by_pid.get(pid, (0, "?"))[1]
        totals[what] += ticks / TICKS
    return ", ".join(f"{what} {seconds:.1f}" for what, seconds in totals.most_common())


def _measure_main(out_json: str, cmd: list[str]) -> int:
    """The wrapper: child subreaper, run `cmd`, reap every descendant, report rusage."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    started = time.perf_counter()
    proc = subprocess.Popen(cmd)
    rc = proc.wait()
    wall = time.perf_counter() - started
    deadline = time.monotonic() + 15
    leftover: list[int] = []
    while True:  # orphans re-parented to us: the fork server, its workers
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            if time.monotonic() > deadline:
                leftover = [
                    int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(p) == os.getpid()
                ]
                break
            time.sleep(0.02)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    Path(out_json).write_text(
        json.dumps({"rc": rc, "wall_s": wall, "maxrss_kb": usage.ru_maxrss, "leftover": leftover})
    )
    return 0


def _ppid(pid: str) -> int:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
        return int(raw[raw.rfind(")") + 2 :].split()[1])
    except (OSError, ValueError):
        return -1


# ───────────────────────────── the synthetic web ─────────────────────────────


@dataclass(slots=True)
class Web:
    hosts: list[benchsite.Host]
    port_note: str | None  # why port 80 was not used (trafilatura then cannot take the URLs)
    feeds: list[str] = field(default_factory=list)  # the article feeds' URLs
    page_urls: list[str] = field(default_factory=list)
    repoll_feeds: list[str] = field(default_factory=list)

    def counts(self) -> Counter[tuple[str, int]]:
        total: Counter[tuple[str, int]] = Counter()
        for host in self.hosts:
            total.update(host.statuses)
        return total

    def reset_counts(self) -> None:
        for host in self.hosts:
            host.statuses.clear()


def build_web(
    shared: Path, offsets: dict[str, int], docs: int, feeds_per_host: int, repoll_feeds: int
) -> Web:
    hosts = [benchsite.Host(address) for address in HOSTS]
    problems = [p for p in (h.start(want_port_80=True) for h in hosts) if p]
    web = Web(hosts, "; ".join(problems) or None)
    base = [p for p in benchsite.load_base_pages(shared, offsets) if p.insert_at >= 0]
    documents = benchsite.iter_documents(base, docs)
    feeds: dict[tuple[int, int], list[tuple[str, str]]] = {}
    for i, doc in enumerate(documents):
        host = hosts[i % len(hosts)]
        host.add(doc.path, doc.html.encode("utf-8"), benchsite.HTML_TYPE)
        feed_key = (i % len(hosts), (i // len(hosts)) % feeds_per_host)
        feeds.setdefault(feed_key, []).append(
            (doc.path, f"Article {doc.page_id[:8]} copy {doc.copy}")
        )
        web.page_urls.append(host.base_url + doc.path)
    for (h, f), items in sorted(feeds.items()):
        host = hosts[h]
        path = f"/feeds/news-{f}.xml"
        host.add(path, benchsite.rss(f"news {h}-{f}", host.base_url, items), benchsite.RSS_TYPE)
        web.feeds.append(host.base_url + path)
    # (d): many small feeds whose entries share a pool of 40 pages (fetched once, when priming)
    pool = benchsite.make_documents(base, 40, first_copy=90)
    for i, doc in enumerate(pool):
        hosts[i % len(hosts)].add(doc.path, doc.html.encode("utf-8"), benchsite.HTML_TYPE)
    for i in range(repoll_feeds):
        host = hosts[i % len(hosts)]
        items = [
            (pool[j].path, f"Pool article {j}")
            for j in range(len(pool))
            if pool[j].path in host.resources and (j + i) % 3 == 0
        ][:3]
        path = f"/small/feed-{i}.xml"
        host.add(path, benchsite.rss(f"small feed {i}", host.base_url, items), benchsite.RSS_TYPE)
        web.repoll_feeds.append(host.base_url + path)
    return web


# ───────────────────────────── in-process measurements (child modes) ─────────────────────────────


def _floor_main(out_json: str, shared: str, offsets_file: str, docs: int) -> int:
    """(a): bare trafilatura.extract, then claimwatch's extract_document, over the same HTML."""
    import trafilatura

    from ingest.extract import ExtractedDocument, ExtractSettings, extract_document

    offsets = json.loads(Path(offsets_file).read_text())
    base = [p for p in benchsite.load_base_pages(Path(shared), offsets) if p.insert_at >= 0]
    first = benchsite.make_documents(base, 1)[0]
    trafilatura.extract(first.html)  # warm caches and lazy imports
    extract_document(first.html, url="http://127.0.0.1/", settings=ExtractSettings())
    results = {}
    for name in ("trafilatura", "ours"):
        # one copy made at a time (a few microseconds; in the timing, as a fetch would be)
        r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        found = pages = 0
        for doc in benchsite.iter_documents(base, docs):
            pages += 1
            url = "http://127.0.0.1" + doc.path
            if name == "trafilatura":
                text = trafilatura.extract(doc.html, url=url) or ""
            else:
                result = extract_document(doc.html, url=url, settings=ExtractSettings())
                text = result.text if isinstance(result, ExtractedDocument) else ""
            found += doc.marker[:40] in text
        t1, r1 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
        results[name] = {
            "pages": pages,
            "wall_s": t1 - t0,
            "cpu_s": (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime),
            "maxrss_kb": r1.ru_maxrss,
            "marker_found": found,
        }
    Path(out_json).write_text(json.dumps(results))
    return 0


def _claims_main(out_json: str, shared: str, corpus: str, repeats: int) -> int:
    """(e): bench/claims_speed.py's loop (seeds x repeats), and once over a real corpus."""
    from digest.claims.finder import find_claims
    from digest.claims.sentences import split_sentences
    from digest.claims.topics import DEFAULT_TOPICS

    def run(texts: list[str], repeats: int) -> dict[str, float]:
        sentences = sum(len(split_sentences(t)) for t in texts) * repeats
        find_claims(texts[0], DEFAULT_TOPICS)  # warm the regex cache
        r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        claims = 0
        for _ in range(repeats):
            for text in texts:
                claims += len(find_claims(text, DEFAULT_TOPICS))
        t1, r1 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
        t2 = time.perf_counter()
        for _ in range(repeats):
            for text in texts:
                split_sentences(text)
        split_s = time.perf_counter() - t2
        return {
            "documents": len(texts) * repeats,
            "sentences": sentences,
            "claims": claims,
            "wall_s": t1 - t0,
            "cpu_s": (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime),
            "split_only_s": split_s,
        }

    seeds = [p.read_text("utf-8") for p in sorted((Path(shared) / "seeds").glob("*.txt"))]
    results = {"seeds": run(seeds, repeats)}
    corpus_texts = [p.read_text("utf-8") for p in sorted(Path(corpus).glob("*.txt"))]
    if corpus_texts:
        results["corpus"] = run(corpus_texts, 1)
    Path(out_json).write_text(json.dumps(results))
    return 0


def _digest_phases_main(out_json: str, config: str) -> int:
    """(f), in-process: the phases of `claimwatch digest --no-email`, timed one by one."""
    from digest.claims import store as claimstore
    from digest.claims.finder import EXTRACTOR_VERSION
    from digest.compose import compiler
    from digest.runtime import service
    from digest.runtime.app import open_app
    from digest.runtime.settings import load_settings
    from ingest import documents

    settings = load_settings(Path(config))
    phases: dict[str, float] = {}
    t0 = time.perf_counter()
    with open_app(settings) as app:
        phases["open_app"] = time.perf_counter() - t0
        t = time.perf_counter()
        with app.db.read() as conn:
            todo = claimstore.documents_needing_claims(conn, EXTRACTOR_VERSION)
        phases["documents_needing_claims"] = time.perf_counter() - t
        t = time.perf_counter()
        with app.db.read() as conn:
            claimstore.load_index(conn, exclude=[d.id for d in todo])
        phases["load_index (grouping index of every claim)"] = time.perf_counter() - t
        t = time.perf_counter()
        service.extract_claims(app)  # what digest() runs first (repeats the two above)
        phases["extract_claims (as digest() runs it)"] = time.perf_counter() - t
        ctx = app.compose_context()
        with app.db.read() as conn:
            t = time.perf_counter()
            last_seq = documents.next_seq(conn) - 1
            window = claimstore.ClaimWindow(since=None, after_seq=-1, up_to_seq=last_seq)
            rows = claimstore.claim_refs(conn, window)
            phases[f"claim_refs ({len(rows)} light rows)"] = time.perf_counter() - t
            t = time.perf_counter()
            try:
                claimstore.group_sizes(conn, window)
                phases["group_sizes"] = time.perf_counter() - t
            except Exception as exc:  # noqa: BLE001 - a finding, printed
                phases[f"group_sizes FAILED: {type(exc).__name__}: {str(exc)[:80]}"] = (
                    time.perf_counter() - t
                )
            t = time.perf_counter()
            try:
                draft = compiler.next_draft(conn, ctx)
                phases[f"next_draft total ({len(draft.digest.items)} items)"] = (
                    time.perf_counter() - t
                )
                from digest.compose.render import render

                t = time.perf_counter()
                rendered = render(draft.digest, ctx.templates)
                phases[f"render alone (html {len(rendered.html) / 1e6:.1f} MB)"] = (
                    time.perf_counter() - t
                )
            except Exception as exc:  # noqa: BLE001
                phases[f"next_draft FAILED: {type(exc).__name__}: {str(exc)[:80]}"] = (
                    time.perf_counter() - t
                )
        t = time.perf_counter()
        try:
            compiler.make_digest(ctx, send_email=False)
            phases["make_digest (draft + record + archive)"] = time.perf_counter() - t
        except Exception as exc:  # noqa: BLE001
            phases[f"make_digest FAILED: {type(exc).__name__}: {str(exc)[:80]}"] = (
                time.perf_counter() - t
            )
    Path(out_json).write_text(json.dumps(phases))
    return 0


# ───────────────────────────── configurations and databases ─────────────────────────────


def claimwatch_config(folder: Path, feeds: list[str], prefix: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        "# generated by bench/run.py",
        "storage:",
        "  corpus_dir: corpus",
        "  database: sqlite:///claimwatch.db",
        "fetch:",
        "  allow_private_networks: true   # the benchmark's servers are on 127.0.0.x",
        "  host_delay_s: 0                # no pacing: the benchmark measures throughput",
        "  timeout_s: 30",
        "extract:",
        "  workers: 0                     # one per core",
        "digest:",
        "  html_dir: digests",
        "  first_run: all",
        "sources:",
    ]
    for i, url in enumerate(feeds):
        lines += [f"  - name: {prefix}-{i}", f"    feed: {url}"]
    path = folder / "sources.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


PROFILE_DIR: Path | None = None  # --profile: claimwatch runs under pyinstrument
PYSPY_DIR: Path | None = None  # --py-spy: claimwatch runs under py-spy (every thread and process)


def claimwatch_cmd(name: str = "") -> list[str]:
    if PYSPY_DIR is not None and name:
        out = PYSPY_DIR / f"{name}.py-spy.txt"
        pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        record = [pyspy, "record", "--subprocesses", "--threads", "-r", "200", "--format", "raw"]
        return [*record, "-o", str(out), "--", sys.executable, "-m", "digest.runtime"]
    if PROFILE_DIR is not None and name:
        out = PROFILE_DIR / f"{name}.pyinstrument.txt"
        return [
            sys.executable,
            "-m",
            "pyinstrument",
            "-r",
            "text",
            "--show-all",
            "-o",
            str(out),
            "-m",
            "digest.runtime",
        ]
    script = Path(sys.executable).parent / "claimwatch"
    if script.exists():
        return [str(script)]
    return [
        sys.executable,
        "-c",
        "import sys; from digest.runtime.__main__ import main; sys.exit(main())",
    ]


def trafilatura_cmd() -> list[str]:
    script = Path(sys.executable).parent / "trafilatura"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "trafilatura.cli"]


def claim_quotes(shared: Path) -> list[str]:
    """Realistic claim sentences: the labelled claims and the seeds' topical sentences."""
    from digest.claims.sentences import split_sentences
    from digest.claims.topics import DEFAULT_TOPICS

    quotes = []
    for line in (shared / "claims" / "dev.jsonl").read_text("utf-8").splitlines():
        row = json.loads(line)
        if row.get("label") in ("claim", "anecdote"):
            quotes.append(row["text"])
    words = [t.lower() for topic in DEFAULT_TOPICS for t in getattr(topic, "terms", ())] or [
        "massage",
        "back",
    ]
    for path in sorted((shared / "seeds").glob("*.txt")):
        for sentence in split_sentences(path.read_text("utf-8")):
            text = getattr(sentence, "text", str(sentence))
            if 40 < len(text) < 400 and any(w in text.lower() for w in words):
                quotes.append(text)
    return quotes or ["Massage may ease lower back pain for some patients."]


def build_claims_db(folder: Path, shared: Path, claims: int, per_doc: int) -> Path:
    """A database of `claims` stored claims over claims/per_doc documents, rows inserted
    directly (SQLAlchemy Core) into the project's tables; no corpus files needed (every
    document is marked as extracted by the current extractor version)."""
    import sqlalchemy as sa

    from digest.claims import schema as dschema
    from digest.claims.finder import EXTRACTOR_VERSION
    from digest.runtime.app import prepare_database
    from digest.runtime.settings import load_settings
    from ingest import schema

    config = claimwatch_config(folder, [], "none")
    config.write_text(config.read_text().replace("sources:\n", "sources: []\n"))
    settings = load_settings(config)
    db = prepare_database(settings)
    rng = random.Random(7)
    quotes = claim_quotes(shared)
    openers = ["", "", "According to the authors, ", "Researchers say ", "In short, ", "Notably, "]
    closers = ["", "", " in adults", " for office workers", " within weeks", " in older patients"]
    types = [
        "efficacy",
        "mechanism",
        "safety",
        "dosage",
        "cost_access",
        "practice_training",
        "cause_prevalence",
    ]
    evidence = ["", "", "study", "statistic", "expert", "expert study", "statistic study"]
    now = datetime.now(UTC)
    n_docs = max(1, claims // per_doc)
    n_sources = 50
    with db.write() as conn:
        conn.execute(
            schema.sources.insert(),
            [
                {
                    "name": f"source-{s}",
                    "feed_url": f"http://127.0.0.1/f/{s}.xml",
                    "current_url": f"http://127.0.0.1/f/{s}.xml",
                    "consecutive_failures": 0,
                    "created_at": now - timedelta(days=30),
                }
                for s in range(n_sources)
            ],
        )
        source_ids = [r.id for r in conn.execute(sa.select(schema.sources.c.id))]
        docs = []
        for d in range(n_docs):
            seen = now - timedelta(days=6) + timedelta(seconds=d * 6 * 86400 / n_docs)
            docs.append(
                {
                    "seq": d,
                    "hash": f"{d:016x}",
                    "file": f"{d:03d}_{d:016x}.txt",
                    "title": f"{rng.choice(quotes)[:70]} ({d})",
                    "url": f"http://127.0.0.{1 + d % 4}/articles/{d}.html",
                    "published": seen - timedelta(hours=rng.randint(0, 48)),
                    "first_seen_at": seen,
                    "source_id": source_ids[d % n_sources],
                    "chars": rng.randint(2000, 12000),
                }
            )
        conn.execute(schema.documents.insert(), docs)
        doc_ids = [
            r.id
            for r in conn.execute(sa.select(schema.documents.c.id).order_by(schema.documents.c.seq))
        ]
        conn.execute(
            dschema.claim_state.insert(),
            [
                {
                    "document_id": i,
                    "version": EXTRACTOR_VERSION,
                    "extracted_at": now,
                    "claims": per_doc,
                }
                for i in doc_ids
            ],
        )
        rows = []
        groups_by_quote: dict[str, int] = {}
        next_id = 1
        for doc_id in doc_ids:
            offset = rng.randint(0, 200)
            for _ in range(per_doc):
                base = rng.choice(quotes)
                variant = rng.random()
                if variant < 0.25 and base in groups_by_quote:
                    quote, group = base, groups_by_quote[base]  # the same claim syndicated
                else:
                    quote = (
                        rng.choice(openers)
                        + base.rstrip(".")
                        + rng.choice(closers)
                        + (f" ({rng.randint(1, 10**6)})." if variant > 0.5 else ".")
                    )
                    group = next_id
                    groups_by_quote.setdefault(base, next_id)
                kind = "anecdote" if rng.random() < 0.1 else "claim"
                rows.append(
                    {
                        "id": next_id,
                        "document_id": doc_id,
                        "version": EXTRACTOR_VERSION,
                        "kind": kind,
                        "quote": quote,
                        "start_offset": offset,
                        "end_offset": offset + len(quote),
                        "topics": rng.choice(["massage back_pain", "massage", "back_pain"]),
                        "type": rng.choice(types),
                        "hedged": rng.random() < 0.3,
                        "negated": rng.random() < 0.05,
                        "evidence": rng.choice(evidence),
                        "group_id": group if kind == "claim" else next_id,
                    }
                )
                offset += len(quote) + rng.randint(2, 300)
                next_id += 1
            if len(rows) >= 20_000:
                conn.execute(dschema.claims.insert(), rows)
                rows = []
        if rows:
            conn.execute(dschema.claims.insert(), rows)
    db.dispose()
    return config


# ───────────────────────────── the run ─────────────────────────────


def fmt_rate(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def main(argv: list[str]) -> int:
    if argv[:1] == ["--_measure"]:
        return _measure_main(argv[1], argv[3:])
    if argv[:1] == ["--_floor"]:
        return _floor_main(argv[1], argv[2], argv[3], int(argv[4]))
    if argv[:1] == ["--_claims"]:
        return _claims_main(argv[1], argv[2], argv[3], int(argv[4]))
    if argv[:1] == ["--_digest"]:
        return _digest_phases_main(argv[1], argv[2])

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_shared = os.environ.get("CLAIMWATCH_SHARED") or str(REPO.parent / "shared")
    parser.add_argument("--shared", type=Path, default=Path(default_shared))
    parser.add_argument("--quick", action="store_true", help="a small run (about a minute)")
    parser.add_argument("--docs", type=int, help="distinct documents (default 1000; quick 150)")
    parser.add_argument("--repoll-feeds", type=int, help="(d) feeds (default 1000; quick 150)")
    parser.add_argument(
        "--claims", type=int, help="(f) stored claims (default 100000; quick 10000)"
    )
    parser.add_argument(
        "--workdir", type=Path, help="keep everything here (default: a temp dir, removed)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run claimwatch under pyinstrument (pip install pyinstrument), reports in DIR; "
        "slows the runs it profiles",
    )
    parser.add_argument(
        "--py-spy",
        type=Path,
        metavar="DIR",
        dest="pyspy",
        help="run claimwatch under py-spy (pip install py-spy): collapsed stacks of every "
        "thread and worker process in DIR; for where the CPU goes, not for the figures",
    )
    parser.add_argument("--skip", default="", help="comma-separated sections to skip: a,b,c,d,e,f")
    args = parser.parse_args(argv)
    docs = args.docs or (150 if args.quick else 1000)
    repoll = args.repoll_feeds or (150 if args.quick else 1000)
    n_claims = args.claims or (10_000 if args.quick else 100_000)
    skip = set(filter(None, args.skip.split(",")))
    if args.pyspy:
        global PYSPY_DIR
        PYSPY_DIR = args.pyspy.resolve()
        PYSPY_DIR.mkdir(parents=True, exist_ok=True)
    if args.profile:
        global PROFILE_DIR
        PROFILE_DIR = args.profile.resolve()
        PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    shared = args.shared.resolve()
    if not (benchsite.benchmark_dir(shared) / "ground-truth.json").exists():
        print(f"shared fixtures not found under {shared} (set CLAIMWATCH_SHARED)", file=sys.stderr)
        return 2
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="claimwatch-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        return run(args, shared, workdir, docs, repoll, n_claims, skip)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(
    args: argparse.Namespace,
    shared: Path,
    workdir: Path,
    docs: int,
    repoll: int,
    n_claims: int,
    skip: set[str],
) -> int:
    begun = time.perf_counter()
    notes: list[str] = []
    load = os.getloadavg()[0]
    log(f"workdir {workdir}; load average {load:.2f} on {CORES} cores")
    log("finding where a sentence can be inserted in each benchmark page (~25 s)")
    offsets = benchsite.find_offsets(shared)
    offsets_file = workdir / "offsets.json"
    offsets_file.write_text(json.dumps(offsets))
    usable = sum(v >= 0 for v in offsets.values())
    notes.append(
        f"{usable} of {len(offsets)} benchmark pages have a place where an inserted sentence "
        f"comes out in the extracted text; the other {len(offsets) - usable} are left out (their "
        "copies would be duplicates by content hash)."
    )
    web = build_web(shared, offsets, docs, feeds_per_host=5, repoll_feeds=repoll)
    log(
        f"serving {len(web.page_urls)} pages in {len(web.feeds)} feeds and {repoll} small feeds on "
        + ", ".join(h.base_url for h in web.hosts)
    )
    if web.port_note:
        notes.append(f"port 80 not available ({web.port_note}): servers on ephemeral ports")
    results: dict[str, dict[str, float | str | None]] = {}

    # (a) the floor
    if "a" not in skip:
        log("(a) trafilatura.extract in one process")
        m = measure(
            "a_floor",
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--_floor",
                str(workdir / "floor.json"),
                str(shared),
                str(offsets_file),
                str(docs),
            ],
            workdir,
            timeout=600,
        )
        floor = json.loads((workdir / "floor.json").read_text()) if m.rc == 0 else None
        if floor:
            for key, label in (("trafilatura", "a"), ("ours", "a'")):
                f = floor[key]
                results[label] = {
                    "pages": f["pages"],
                    "wall_s": f["wall_s"],
                    "pps": f["pages"] / f["wall_s"],
                    "cpu_s": f["cpu_s"],
                    "rss": f["maxrss_kb"] / 1024,
                    "tree_rss": None,
                    "tree_pss": None,
                    "extra": f"marker in text {f['marker_found']}/{f['pages']}",
                }
        else:
            notes.append(f"(a) failed: rc {m.rc}: {m.stderr[-500:]}")

    # (b) trafilatura's command line
    if "b" not in skip:
        results["b"] = run_trafilatura(web, workdir, notes)

    # (c) claimwatch ingest
    if "c" not in skip:
        results["c"] = run_claimwatch_ingest(web, workdir, notes)

    # (d) re-poll of unchanged feeds
    if "d" not in skip:
        results.update(run_repoll(web, workdir, notes))

    # (e) claims speed
    if "e" not in skip:
        log("(e) claim extraction")
        corpus = workdir / "c" / "corpus"
        m = measure(
            "e_claims",
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--_claims",
                str(workdir / "claims.json"),
                str(shared),
                str(corpus),
                "5" if args.quick else "20",
            ],
            workdir,
            timeout=300,
        )
        if m.rc == 0:
            results["e"] = json.loads((workdir / "claims.json").read_text())
        else:
            notes.append(f"(e) failed: rc {m.rc}: {m.stderr[-500:]}")

    # (f) digest over many claims
    if "f" not in skip:
        results.update(run_digest(shared, workdir, n_claims, notes))

    for host in web.hosts:
        host.stop()
    total = time.perf_counter() - begun
    print_table(results, docs, repoll, n_claims, notes, total, load)
    return 0


def run_trafilatura(web: Web, workdir: Path, notes: list[str]) -> dict[str, float | str | None]:
    log("(b) trafilatura --feed")
    import trafilatura
    from courlan import check_url
    from trafilatura.downloads import fetch_url

    # Why it cannot take the URLs as they are: say it exactly, from trafilatura itself.
    sample = web.feeds[0]
    with_port = (
        sample
        if web.port_note
        else sample.replace(web.hosts[0].address, f"{web.hosts[0].address}:{web.hosts[0].port}")
    )
    if check_url(with_port) is None:
        notes.append(
            f"(b) trafilatura {trafilatura.__version__} / courlan refuse an IP-address URL with a "
            f"port (courlan.check_url({with_port!r}) is None: 'rejected, domain name'), so its "
            "--feed finds no links on 127.0.0.1:<port>; the servers listen on port 80 of "
            "127.0.0.1-4 to give it URLs without a port."
        )
    if fetch_url(web.page_urls[0]) is None:
        notes.append(
            "(b) with its default settings trafilatura fetches nothing from 127.0.0.x: "
            "SSRF_PROTECTION = on ('connection to non-public address blocked'); the run uses "
            "--config-file with SSRF_PROTECTION = off and SLEEP_TIME = 0 (default 5 s per host)."
        )
    if web.port_note:
        notes.append("(b) not run: no port-80 servers, and trafilatura refuses URLs with a port.")
        return {"error": "cannot take 127.0.0.1:<port> URLs (see notes)"}
    cfg = configparser.ConfigParser()
    cfg.read(Path(trafilatura.__file__).parent / "settings.cfg")
    cfg["DEFAULT"]["SSRF_PROTECTION"] = "off"
    cfg["DEFAULT"]["SLEEP_TIME"] = "0"
    cfg_path = workdir / "trafilatura.cfg"
    with cfg_path.open("w") as f:
        cfg.write(f)
    feeds_file = workdir / "feeds.txt"
    feeds_file.write_text("\n".join(web.feeds) + "\n")
    out_dir = workdir / "b-out"
    web.reset_counts()
    m = measure(
        "b_trafilatura",
        [
            *trafilatura_cmd(),
            "-i",
            str(feeds_file),
            "--feed",
            "--parallel",
            str(CORES),
            "--output-dir",
            str(out_dir),
            "--config-file",
            str(cfg_path),
        ],
        workdir,
        timeout=900,
    )
    counts = web.counts()
    pages_fetched = counts[("page", 200)]
    written = sum(1 for p in out_dir.rglob("*") if p.is_file()) if out_dir.exists() else 0
    if m.rc != 0 or written == 0:
        notes.append(f"(b) trafilatura exit {m.rc}, {written} files: {m.stderr.strip()[-600:]}")
    warnings = [line for line in m.stderr.splitlines() if line.strip()]
    if warnings:
        notes.append(f"(b) trafilatura stderr ({len(warnings)} lines), last: {warnings[-1][:200]}")
    return {
        "pages": pages_fetched,
        "wall_s": m.wall_s,
        "pps": pages_fetched / m.wall_s if m.wall_s else None,
        "cpu_s": m.cpu_s,
        "rss": m.max_rss_mb,
        "tree_rss": m.tree_rss_mb,
        "tree_pss": m.tree_pss_mb,
        "extra": f"{pages_fetched} pages fetched, {written} distinct output files (files are named"
        " by a bag-of-words hash of sampled tokens: copies one sentence apart share a name);"
        f"\n      feed fetches {counts[('feed', 200)]} (it also extracts the feed URLs as pages)"
        + (f"; {m.note}" if m.note else ""),
    }


def run_claimwatch_ingest(
    web: Web, workdir: Path, notes: list[str]
) -> dict[str, float | str | None]:
    log("(c) claimwatch ingest")
    config = claimwatch_config(workdir / "c", web.feeds, "news")
    web.reset_counts()
    m = measure(
        "c_ingest",
        [*claimwatch_cmd("c_ingest"), "--config", str(config), "ingest", "--json"],
        workdir,
        timeout=1200,
    )
    counts = web.counts()
    try:
        report = json.loads(m.stdout)
        stored = report["new_documents"]
        dup = sum(s["duplicates"] for s in report["sources"])
        skipped = sum(s["skipped"] for s in report["sources"])
        errors = sum(s["errors"] for s in report["sources"])
    except (ValueError, KeyError):
        stored = dup = skipped = errors = 0
        notes.append(f"(c) claimwatch exit {m.rc}: {m.stderr.strip()[-600:]}")
    pages = counts[("page", 200)]
    if abs(m.cpu_s - m.sampled_cpu_s) > max(1.0, 0.1 * m.cpu_s):
        notes.append(
            f"(c) CPU by RUSAGE_CHILDREN {m.cpu_s:.1f} s vs /proc samples {m.sampled_cpu_s:.1f} s"
        )
    return {
        "pages": pages,
        "wall_s": m.wall_s,
        "pps": pages / m.wall_s if m.wall_s else None,
        "cpu_s": m.cpu_s,
        "rss": m.max_rss_mb,
        "tree_rss": m.tree_rss_mb,
        "tree_pss": m.tree_pss_mb,
        "extra": f"stored {stored}, duplicates {dup}, skipped {skipped}, errors {errors}"
        + (f"; {m.note}" if m.note else "")
        + f"\n      peak RSS per process, MB: {m.processes}"
        + f"\n      CPU s by process: {m.cpu_by_kind}",
    }


def run_repoll(
    web: Web, workdir: Path, notes: list[str]
) -> dict[str, dict[str, float | str | None]]:
    out: dict[str, dict[str, float | str | None]] = {}
    config = claimwatch_config(workdir / "d", web.repoll_feeds, "small")
    for label, name in (("d0", "prime"), ("d", "repoll")):
        log(f"(d) claimwatch ingest over {len(web.repoll_feeds)} small feeds: {name}")
        web.reset_counts()
        m = measure(
            f"d_{name}",
            [*claimwatch_cmd(f"d_{name}"), "--config", str(config), "ingest", "--json"],
            workdir,
            timeout=900,
        )
        counts = web.counts()
        try:
            report = json.loads(m.stdout)
            statuses = Counter(s["status"] for s in report["sources"])
        except (ValueError, KeyError):
            statuses = Counter()
            notes.append(f"(d) {name}: claimwatch exit {m.rc}: {m.stderr.strip()[-400:]}")
        out[label] = {
            "pages": len(web.repoll_feeds),
            "wall_s": m.wall_s,
            "pps": len(web.repoll_feeds) / m.wall_s if m.wall_s else None,
            "cpu_s": m.cpu_s,
            "rss": m.max_rss_mb,
            "tree_rss": m.tree_rss_mb,
            "tree_pss": m.tree_pss_mb,
            "extra": f"server: feeds 200×{counts[('small-feed', 200)]}"
            f" 304×{counts[('small-feed', 304)]}, pages {counts[('page', 200)]};"
            f" sources {dict(statuses)}",
        }
    return out


def run_digest(
    shared: Path, workdir: Path, n_claims: int, notes: list[str]
) -> dict[str, dict[str, float | str | None]]:
    log(f"(f) building a database of {n_claims:,} claims")
    t0 = time.perf_counter()
    folder = workdir / "f"
    config = build_claims_db(folder, shared, n_claims, per_doc=20)
    build_s = time.perf_counter() - t0
    copy_dir = workdir / "f2"
    shutil.copytree(folder, copy_dir)
    log(f"(f) built in {build_s:.1f} s; claimwatch digest --no-email")
    m = measure(
        "f_digest",
        [*claimwatch_cmd("f_digest"), "--config", str(config), "digest", "--no-email"],
        workdir,
        timeout=900,
    )
    if m.rc not in (0,):
        notes.append(f"(f) claimwatch digest exit {m.rc}: {m.stderr.strip()[-600:]}")
    out: dict[str, dict[str, float | str | None]] = {
        "f": {
            "pages": n_claims,
            "wall_s": m.wall_s,
            "pps": None,
            "cpu_s": m.cpu_s,
            "rss": m.max_rss_mb,
            "tree_rss": m.tree_rss_mb,
            "tree_pss": m.tree_pss_mb,
            "extra": (m.stdout.strip().splitlines() or [""])[-1][:100]
            + (f"; {m.note}" if m.note else "")
            + f"\n      peak RSS per process, MB: {m.processes}",
        }
    }
    log("(f) the same, phase by phase, in one process (on a copy of the database)")
    pm = measure(
        "f_phases",
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--_digest",
            str(workdir / "phases.json"),
            str(copy_dir / "sources.yaml"),
        ],
        workdir,
        timeout=900,
    )
    if pm.rc == 0:
        phases = json.loads((workdir / "phases.json").read_text())
        out["f_phases"] = {"phases": json.dumps(phases)}  # type: ignore[dict-item]
    else:
        notes.append(f"(f) phases failed: rc {pm.rc}: {pm.stderr.strip()[-400:]}")
    notes.append(f"(f) database built in {build_s:.1f} s (not timed in the figure)")
    return out


def print_table(
    results: dict[str, dict[str, float | str | None]],
    docs: int,
    repoll: int,
    n_claims: int,
    notes: list[str],
    total: float,
    load: float,
) -> None:
    def num(key: str, field_: str) -> float | None:
        value = results.get(key, {}).get(field_)
        return value if isinstance(value, (int, float)) else None

    def mb(value: float | None) -> str:
        return "—" if value is None else f"{value:,.0f}"

    print()
    print(
        f"claimwatch benchmark: {docs} documents, {CORES} cores, load average at start {load:.2f}"
    )
    print()
    head = (
        f"{'run':52} {'pages':>6} {'wall s':>7} {'pages/s':>8} {'CPU s':>7} {'maxRSS':>7}"
        f" {'treeRSS':>8} {'treePSS':>8}"
    )
    print(head)
    print("-" * len(head))
    labels = {
        "a": "(a) trafilatura.extract, 1 process, no network",
        "a'": "(a') claimwatch extract_document, same way",
        "b": f"(b) trafilatura --feed --parallel {CORES}",
        "c": "(c) claimwatch ingest (claims included)",
        "d0": f"(d0) claimwatch ingest, {repoll} small feeds, priming",
        "d": f"(d) claimwatch ingest, {repoll} feeds re-polled (304)",
        "f": f"(f) claimwatch digest --no-email, {n_claims:,} claims",
    }
    for key, label in labels.items():
        row = results.get(key)
        if row is None:
            continue
        if "error" in row:
            print(f"{label:52} {'not measured: ' + str(row['error'])}")
            continue
        print(
            f"{label:52} {row['pages']:>6} {row['wall_s']:>7.1f} {fmt_rate(num(key, 'pps')):>8} "
            f"{row['cpu_s']:>7.1f} {mb(num(key, 'rss')):>7} {mb(num(key, 'tree_rss')):>8} "
            f"{mb(num(key, 'tree_pss')):>8}"
        )
        if row.get("extra"):
            print(f"{'':6}{row['extra']}")
    print(
        "(memory in MB; maxRSS = largest single process; treeRSS/treePSS = peak summed over the"
        " live process tree, sampled every 0.2 s)"
    )
    print()

    print(f"{'target':48} {'measured':>14} {'target':>12}  ok")
    print("-" * 82)

    def check(name: str, value: float | None, target: float, higher: bool, unit: str) -> None:
        if value is None:
            print(f"{name:48} {'—':>14} {target:>10,.1f}{unit}  —")
            return
        ok = value >= target if higher else value <= target
        sign = "≥" if higher else "≤"
        print(
            f"{name:48} {value:>12,.2f}{unit} {sign}{target:>9,.1f}{unit}  {'yes' if ok else 'NO'}"
        )

    a, b, c = num("a", "pps"), num("b", "pps"), num("c", "pps")
    check("c / a pages per second", c / a if a and c else None, TARGETS["c_vs_a"], True, "×")
    check("c / b pages per second", c / b if b and c else None, TARGETS["c_vs_b"], True, "×")
    peak = max(filter(None, [num("c", "rss"), num("c", "tree_pss")]), default=None)
    check("peak memory of (c), MB (max of maxRSS, treePSS)", peak, TARGETS["peak_mb"], False, "")
    check(
        "peak memory of (c), MB (treeRSS, shared counted n×)",
        num("c", "tree_rss"),
        TARGETS["peak_mb"],
        False,
        "",
    )
    check(
        f"re-poll of {repoll} unchanged feeds, s",
        num("d", "wall_s"),
        TARGETS["repoll_s"],
        False,
        "",
    )
    e = results.get("e", {})
    for part in ("seeds", "corpus"):
        r = e.get(part) if isinstance(e, dict) else None
        if isinstance(r, dict):
            sps = r["sentences"] / r["cpu_s"] if r["cpu_s"] else None
            check(
                f"claim extraction, sentences/s per core ({part})",
                sps,
                TARGETS["claims_sps_core"],
                True,
                "",
            )
    check(f"digest over {n_claims:,} claims, s", num("f", "wall_s"), TARGETS["digest_s"], False, "")
    print()
    if isinstance(e, dict) and e:
        for part, r in e.items():
            print(
                f"(e) {part}: {r['documents']} documents, {r['sentences']} sentences, "
                f"{r['claims']} claims in {r['wall_s']:.2f} s wall / {r['cpu_s']:.2f} s CPU; "
                f"sentence splitting alone {r['split_only_s']:.2f} s"
            )
    phases = results.get("f_phases", {}).get("phases")
    if isinstance(phases, str):
        print("(f) phases, in one process:")
        for name, seconds in json.loads(phases).items():
            print(f"      {seconds:8.2f} s  {name}")
    if notes:
        print("notes:")
        for note in notes:
            print(f"  - {note}")
    print(f"whole run {total:.0f} s")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
