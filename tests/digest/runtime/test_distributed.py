"""The distributed mode on the real PostgreSQL: three `claimwatch worker` processes share a local
feed site's pages; one is killed (SIGKILL) in the middle of an extraction and another in the
middle of numbering; after the sweeper, every page is stored once, `seq` is contiguous, no stray
file is left, and the site never saw two requests closer than the configured delay."""

from __future__ import annotations

import itertools
import os
import signal
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from support.cluster import alive, cluster, queue_config, rows, wait_until
from support.feedsite import FeedSite

from ingest.corpus import file_name, hash16, scan_corpus_dir

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ARTICLES = 16
DELAY_S = 0.25
PIPELINE = ("feeds", "pages", "numbering", "claims")


def test_three_workers_two_killed_nothing_lost_nothing_doubled_hosts_paced(
    pg_url: str, tmp_path: Path
) -> None:
    engine = sa.create_engine(pg_url)
    with (
        FeedSite(ARTICLES, long_blocks=12_000) as site,
        cluster(
            queue_config(
                tmp_path,
                pg_url,
                [{"name": "reports", "feed": f"{site.base_url}/feed.xml"}],
                fetch={"allow_private_networks": True, "retries": 0, "host_delay_s": DELAY_S},
            )
        ) as run,
    ):
        assert run.command("schedule", "--once").returncode == 0
        polled = run.command("worker", "--queues", "feeds", "--burst")
        assert polled.returncode == 0, polled.stderr[-2000:]
        pages = dict(rows(engine, "SELECT canonical_url, id FROM pages"))
        assert len(pages) == ARTICLES
        long_page = pages[f"{site.base_url}/a/0.html"]
        held_page = pages[f"{site.base_url}/a/6.html"]

        # Numbering will stop at this page's row until the test lets go: the moment to kill.
        holder = engine.connect()
        hold = holder.begin()
        holder.execute(
            sa.text("SELECT 1 FROM pages WHERE id = :id FOR NO KEY UPDATE"), {"id": held_page}
        )
        workers = [run.start("worker", name=f"worker-{n}") for n in range(3)]

        # 1. SIGKILL the worker extracting the long page, once the site has served it.
        wait_until(lambda: any(p == "/a/0.html" for _, p in site.requests), timeout=30)
        job = wait_until(
            lambda: _running_job(engine, "claimwatch.fetch_page", long_page), timeout=5
        )
        extracting = wait_until(lambda: _worker_running(run, workers, job), timeout=5)
        extracting.send_signal(signal.SIGKILL)
        killed_at = time.time()
        assert rows(
            engine, "SELECT count(*) FROM staged_documents WHERE page_id = :p", p=long_page
        ) == [(0,)]
        assert rows(engine, "SELECT status FROM pages WHERE id = :p", p=long_page) == [("pending",)]

        # 2. SIGKILL the worker whose numbering transaction waits on the held page, after it
        #    wrote that page's file: a file no committed row names.
        blocked = wait_until(lambda: _numbering_blocked(engine), timeout=60)
        counter = rows(engine, "SELECT next_seq FROM corpus_counter")[0][0]
        stray = [f for f in scan_corpus_dir(tmp_path / "corpus") if f.seq >= counter]
        assert stray, "the numbering transaction wrote its files before committing"
        numbering_pid = int(blocked.rsplit("-", 1)[1])
        if alive(numbering_pid):
            os.kill(numbering_pid, signal.SIGKILL)
        hold.rollback()
        holder.close()
        run.start("worker", name="worker-3")  # a replacement, as systemd or compose would start

        wait_until(lambda: _all_done(engine), timeout=120, every=0.5)
        logs = run.logs()
        requests = list(site.requests)

    documents = rows(engine, "SELECT seq, file, hash FROM documents ORDER BY seq")
    statuses = rows(engine, "SELECT status, count(*) FROM pages GROUP BY status")
    engine.dispose()
    assert statuses == [("stored", ARTICLES)]
    assert [seq for seq, _, _ in documents] == list(range(ARTICLES))  # contiguous, each once
    on_disk = {f.path.name for f in scan_corpus_dir(tmp_path / "corpus")}
    assert on_disk == {file for _, file, _ in documents}  # no stray file, none missing
    for seq, file, digest in documents:
        text = (tmp_path / "corpus" / file).read_text(encoding="utf-8")
        assert file == file_name(seq, hash16(text)) and hash16(text) == digest
    assert not list((tmp_path / "corpus").glob(".tmp-*"))
    assert "stalled jobs retried" in logs and "left by an interrupted numbering" in logs
    assert time.time() > killed_at

    starts = sorted(at for at, _ in requests)
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    print(f"{len(starts)} requests to one host; closest two {min(gaps) * 1000:.0f} ms apart")
    assert min(gaps) >= DELAY_S


def _running_job(engine: sa.Engine, task: str, page_id: int) -> int | None:
    found = rows(
        engine,
        "SELECT id FROM procrastinate_jobs WHERE task_name = :t AND status = 'doing' "
        "AND (args->>'page_id')::int = :p",
        t=task,
        p=page_id,
    )
    return found[0][0] if found else None


def _worker_running(run, workers, job_id: int):  # type: ignore[no-untyped-def]
    for worker in workers:
        if f"[{job_id}](" in run.log_of(worker) and worker.poll() is None:
            return worker
    return None


def _numbering_blocked(engine: sa.Engine) -> str | None:
    found = rows(
        engine,
        "SELECT application_name FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND application_name LIKE 'claimwatch-worker-%' AND query LIKE 'UPDATE pages%'",
    )
    return found[0][0] if found else None


def _all_done(engine: sa.Engine) -> bool:
    left = rows(
        engine,
        "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing') "
        "AND queue_name = ANY(:queues)",
        queues=list(PIPELINE),
    )[0][0]
    pending = rows(engine, "SELECT count(*) FROM pages WHERE status = 'pending'")[0][0]
    staged = rows(engine, "SELECT count(*) FROM staged_documents")[0][0]
    return left == 0 and pending == 0 and staged == 0


READERS = ["ann@example.net", "bob@example.net"]


def test_two_schedulers_one_digest_per_period_mailed_once_to_each_reader(
    pg_url: str, tmp_path: Path
) -> None:
    from aiosmtpd.controller import Controller
    from support.ports import free_port

    class Inbox:
        def __init__(self) -> None:
            self.recipients: list[str] = []

        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            self.recipients.extend(envelope.rcpt_tos)  # type: ignore[attr-defined]
            return "250 OK"

    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    engine = sa.create_engine(pg_url)

    def config(schedule: str, grace: str) -> Path:
        email = {
            "from": "claimwatch <digest@claims.example.org>",
            "to": READERS,
            "smtp": {"host": "127.0.0.1", "port": port, "security": "none"},
        }
        digest = {"html_dir": "digests", "first_run": "all", "schedule": schedule, "email": email}
        return queue_config(
            tmp_path,
            pg_url,
            [{"name": "reports", "feed": f"{site.base_url}/feed.xml"}],
            digest=digest,
            daemon={"misfire_grace": grace},
        )

    try:
        with FeedSite(4) as site:
            # Ingest first, with no digest due (none fell due within the last second).
            with cluster(config("0 0 1 1 *", "1s")) as run:
                assert run.command("schedule", "--once").returncode == 0
                assert run.command("worker", "--burst").returncode == 0
            # Then a period falls due (every minute) and two schedulers see it at once.
            with cluster(config("* * * * *", "1d")) as run:
                for round_ in range(2):
                    schedulers = [
                        run.start("schedule", "--once", name=f"schedule-{round_}-{n}")
                        for n in range(2)
                    ]
                    workers = [
                        run.start("worker", "--burst", name=f"worker-{round_}-{n}")
                        for n in range(2)
                    ]
                    for process in schedulers + workers:
                        assert process.wait(timeout=120) == 0, run.logs()[-3000:]
        digests = rows(engine, "SELECT count(*) FROM digests")[0][0]
        periods = rows(engine, "SELECT count(*) FROM digest_periods")[0][0]
        sent = rows(engine, "SELECT recipient, status FROM deliveries ORDER BY recipient")
    finally:
        controller.stop()
        engine.dispose()
    assert digests == 1 and periods >= 1
    assert sent == [(reader, "sent") for reader in READERS]
    assert sorted(inbox.recipients) == READERS  # each reader once
