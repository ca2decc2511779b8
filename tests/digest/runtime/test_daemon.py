"""`claimwatch run` as a real subprocess, against a feed server and an SMTP server on
127.0.0.1: it ingests and delivers on a schedule of seconds, survives SIGKILL in the middle of
an ingest with nothing lost or duplicated, stops on SIGTERM within 10 s, refuses a second
instance, and sends a digest missed while it was down exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pytest_httpserver import HTTPServer
from support.database import db_rows
from support.pages import LOREM, article, rss
from support.ports import free_port
from werkzeug import Request, Response

from digest.runtime import cli
from ingest import corpus

ROOT = Path(__file__).resolve().parents[3]
ARTICLES = 8
PAGE_DELAY_S = 0.6

pytestmark = pytest.mark.slow


@dataclass
class Inbox:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        self.messages.append(BytesParser(policy=policy.default).parsebytes(raw))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def slow_page(index: int) -> Callable[[Request], Response]:
    def handle(request: Request) -> Response:
        time.sleep(PAGE_DELAY_S)
        paragraphs = [f"Study number {index}: " + LOREM, LOREM.replace("weekly", f"{index} weekly")]
        return Response(article(f"Massage trial {index}", paragraphs), content_type="text/html")

    return handle


@pytest.fixture
def site(httpserver: HTTPServer) -> HTTPServer:
    items = [(f"g{i}", httpserver.url_for(f"/a{i}.html"), f"Trial {i}") for i in range(ARTICLES)]
    httpserver.expect_request("/feed.xml").respond_with_data(rss(items), content_type="text/xml")
    for i in range(ARTICLES):
        httpserver.expect_request(f"/a{i}.html").respond_with_handler(slow_page(i))
    return httpserver


def write_config(tmp_path: Path, site: HTTPServer, smtp_port: int, **digest: Any) -> Path:
    config = {
        "storage": {"corpus_dir": "corpus", "database": "sqlite:///cw.db"},
        # One page at a time, each served slowly: a wide window to kill the daemon mid-ingest.
        "fetch": {
            "allow_private_networks": True,
            "host_delay_s": 0,
            "retries": 0,
            "concurrency": 1,
        },
        "extract": {"workers": 1, "timeout_s": 20},
        "sources": [{"name": "trials", "feed": site.url_for("/feed.xml"), "every": "3s"}],
        "digest": {
            "html_dir": "digests",
            "first_run": "all",
            "schedule": "*/4 * * * * *",
            "email": {
                "from": "claimwatch@claims.example.org",
                "to": ["reader@example.net"],
                "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none"},
            },
            **digest,
        },
        "daemon": {"jitter_s": 0},
    }
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "digest.runtime", "--config", str(config), "run"],
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def wait_for(condition: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}; daemon log:\n{log.read_text()[-4000:]}")


def documents(tmp_path: Path) -> list[tuple[int, str, str]]:
    db = tmp_path / "cw.db"
    if not db.exists():
        return []
    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("select seq, hash, file from documents order by seq").all()
    except sa.exc.OperationalError:
        rows = []
    engine.dispose()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def stop(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()  # never leave a daemon behind, even when the test fails
        process.wait(timeout=10)
        raise
    return code, time.monotonic() - started


def test_daemon_ingests_delivers_survives_sigkill_and_stops_on_sigterm(
    tmp_path: Path, site: HTTPServer, inbox: tuple[Inbox, int]
) -> None:
    handler, smtp_port = inbox
    config, log = write_config(tmp_path, site, smtp_port), tmp_path / "daemon.log"
    daemon = start(config, log)
    try:
        wait_for(lambda: 1 <= len(documents(tmp_path)) < ARTICLES, 60, "a first document", log)
        daemon.send_signal(signal.SIGKILL)  # in the middle of the ingest
        daemon.wait(timeout=10)
        stored_at_kill = len(documents(tmp_path))
        assert stored_at_kill < ARTICLES

        daemon = start(config, log)
        wait_for(lambda: len(documents(tmp_path)) == ARTICLES, 90, "every document", log)
        wait_for(lambda: len(handler.messages) >= 1, 60, "a digest by mail", log)

        second = subprocess.run(
            [sys.executable, "-m", "digest.runtime", "--config", str(config), "run"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 2
        assert "another daemon is already running" in second.stderr
    finally:
        code, took = stop(daemon)
    assert code == 0 and took < 10, f"SIGTERM took {took:.1f} s (exit {code})"

    rows = documents(tmp_path)
    files = sorted(p.name for p in (tmp_path / "corpus").iterdir())
    assert [seq for seq, _, _ in rows] == list(range(ARTICLES))  # numbering intact
    assert sorted(name for _, _, name in rows) == files  # corpus and database agree
    assert len({digest for _, digest, _ in rows}) == ARTICLES  # nothing duplicated
    for _, digest, name in rows:
        assert corpus.hash16((tmp_path / "corpus" / name).read_text()) == digest
    ids = [m["Message-ID"] for m in handler.messages]
    assert len(ids) == len(set(ids))  # no digest mailed twice


def test_a_digest_missed_while_stopped_is_sent_once_at_start(
    tmp_path: Path,
    site: HTTPServer,
    inbox: tuple[Inbox, int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    handler, smtp_port = inbox
    config = write_config(tmp_path, site, smtp_port, schedule="0 0 1 1 *", timezone="UTC")
    assert cli.main(["--config", str(config), "ingest", "--json"]) == 0  # claims ready
    capsys.readouterr()
    log = tmp_path / "daemon.log"

    # The daemon runs with a daily digest due a few seconds from now (set by a reload, so
    # that a slow start cannot eat the margin), and is stopped before it is due.
    daemon = start(config, log)
    wait_for(lambda: "daemon started" in log.read_text(), 60, "the start", log)
    due = datetime.now(UTC) + timedelta(seconds=5)
    settings = yaml.safe_load(config.read_text())
    settings["digest"]["schedule"] = f"{due.second} {due.minute} {due.hour} * * *"
    config.write_text(yaml.safe_dump(settings))
    daemon.send_signal(signal.SIGHUP)
    wait_for(lambda: "reloaded" in log.read_text(), 30, "the reload", log)
    stop(daemon)
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 1)
    assert handler.messages == [], "sent before it was due: the test lost its margin"

    for run in range(2):  # the first start sends it; a restart must not send it again
        daemon = start(config, log)
        try:
            if run == 0:
                wait_for(lambda: len(handler.messages) == 1, 60, "the missed digest", log)
            else:
                wait_for(
                    lambda: log.read_text().count("daemon started") == 3, 60, "the restart", log
                )
            time.sleep(3)  # room for a wrong second send
        finally:
            stop(daemon)
        assert len(handler.messages) == 1, log.read_text()[-3000:]
    assert log.read_text().count("was missed while stopped") == 1


def test_sighup_reloads_and_a_broken_file_keeps_the_running_configuration(
    tmp_path: Path, site: HTTPServer, inbox: tuple[Inbox, int]
) -> None:
    _, smtp_port = inbox
    config, log = write_config(tmp_path, site, smtp_port), tmp_path / "daemon.log"
    daemon = start(config, log)
    try:
        wait_for(lambda: "daemon started" in log.read_text(), 30, "the start", log)
        good = config.read_text()
        config.write_text(good + "\nbogus_key: 1\n")
        daemon.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload refused" in log.read_text(), 20, "the refusal", log)
        assert "bogus_key: unknown key" in log.read_text()
        settings = yaml.safe_load(good)
        settings["sources"].append(
            {"name": "more", "feed": site.url_for("/feed.xml"), "every": "1h"}
        )
        config.write_text(yaml.safe_dump(settings))
        daemon.send_signal(signal.SIGHUP)
        wait_for(lambda: "reloaded" in log.read_text(), 20, "the reload", log)
        assert "2 sources" in log.read_text().split("reloaded")[-1]
        assert daemon.poll() is None
    finally:
        stop(daemon)


@dataclass
class HeldInbox:
    """Accepts mail for everyone but `held`: that recipient's DATA is left unanswered (the
    server 'hangs') until `hold` is turned off, so the daemon can be killed mid-delivery."""

    held: str
    hold: bool = True
    waiting: bool = False  # a held DATA is in progress
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.hold and self.held in envelope.rcpt_tos:
            self.waiting = True
            while self.hold:
                await asyncio.sleep(0.05)
            return "421 4.3.0 the client went away"  # never recorded: nothing was accepted
        raw = envelope.original_content or b""
        self.messages.append(BytesParser(policy=policy.default).parsebytes(raw))  # type: ignore[arg-type]
        return "250 OK"

    def received_by(self, recipient: str) -> list[str]:
        return [m["Message-ID"] for m in self.messages if m["To"] == recipient]


def test_sigkill_in_the_middle_of_a_digest_skips_no_claim_and_mails_no_one_twice(
    tmp_path: Path, site: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    ann, bob = "ann@example.net", "bob@example.net"
    server, smtp_port = HeldInbox(held=bob), free_port()
    controller = Controller(server, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    config = write_config(tmp_path, site, smtp_port, schedule="*/2 * * * * *")
    settings = yaml.safe_load(config.read_text())
    settings["digest"]["email"].update(to=[ann, bob], retry_backoff="1s")
    settings["digest"]["email"]["smtp"]["timeout_s"] = 60  # the daemon waits; we kill it
    config.write_text(yaml.safe_dump(settings))
    assert cli.main(["--config", str(config), "ingest", "--json"]) == 0  # claims ready
    capsys.readouterr()
    log = tmp_path / "daemon.log"
    try:
        daemon = start(config, log)
        try:
            wait_for(lambda: server.waiting, 60, "the digest's delivery to bob", log)
            assert server.received_by(ann) and not server.received_by(bob)
        finally:
            daemon.send_signal(signal.SIGKILL)  # in the middle of the digest
            daemon.wait(timeout=10)
        states = db_rows(
            tmp_path, "select recipient, status from deliveries order by id", database="cw.db"
        )
        assert states == [(ann, "sent"), (bob, "pending")]  # accepted: sent; in flight: pending

        server.hold = False
        daemon = start(config, log)
        try:
            wait_for(lambda: len(server.received_by(bob)) == 1, 60, "bob's delivery", log)
            time.sleep(4)  # two more digest runs: room for a wrong second send
        finally:
            stop(daemon)
    finally:
        controller.stop()

    assert len(server.received_by(ann)) == 1 and len(server.received_by(bob)) == 1
    assert server.received_by(ann) != server.received_by(bob)  # one Message-ID per recipient
    digests = db_rows(tmp_path, "select id, watermark_seq from digests", database="cw.db")
    assert len(digests) == 1  # nothing new after the ingest: one digest, made once
    assert (
        digests[0][1] == db_rows(tmp_path, "select max(seq) from documents", database="cw.db")[0][0]
    )
    carried = {
        row[0] for row in db_rows(tmp_path, "select claim_id from digest_claims", database="cw.db")
    }
    found = {
        row[0]
        for row in db_rows(tmp_path, "select id from claims where kind = 'claim'", database="cw.db")
    }
    assert found and carried == found  # no claim skipped
