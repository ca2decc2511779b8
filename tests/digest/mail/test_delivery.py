"""`claimwatch digest` end to end: the demo site ingested over HTTP on 127.0.0.1, a real SMTP
server (aiosmtpd) on 127.0.0.1 that can accept, defer (451), refuse (550) or hang up after
DATA, and the outbox checked after each run and the next."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from demo_server import DemoSite
from support.digest_config import digest_settings
from support.ports import free_port

from digest.runtime import cli

ROOT = Path(__file__).resolve().parents[3]
READERS = ("ann@example.net", "bob@example.net")


@dataclass
class Switchboard:
    """An SMTP handler whose answer to DATA the test changes between runs."""

    mode: str = "accept"
    received: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.mode == "disconnect":
            assert isinstance(server.transport, asyncio.Transport)
            server.transport.abort()
            return "250 OK"
        if self.mode == "451":
            return "451 4.3.0 try again later"
        if self.mode == "550":
            return "550 5.7.1 message refused"
        if self.mode == "451-for-bob" and "bob@example.net" in envelope.rcpt_tos:
            return "451 4.3.0 bob's mailbox is busy"
        raw = envelope.original_content or b""
        self.received.append(BytesParser(policy=policy.default).parsebytes(raw))  # type: ignore[arg-type]
        return "250 2.0.0 OK"


@dataclass
class Setup:
    config: Path
    data: Path
    smtp: Switchboard
    port: int
    controller: Controller | None = None

    def start_smtp(self) -> None:
        self.controller = Controller(self.smtp, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop_smtp(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def digest(self, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
        code = cli.main(["--config", str(self.config), "digest", *args])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    def deliveries(self) -> list[tuple[str, str, int]]:
        engine = sa.create_engine(f"sqlite:///{self.data / 'cw.db'}")
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "select recipient, status, attempts from deliveries order by id"
            ).all()
        engine.dispose()
        return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.fixture
def setup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Setup]:
    port = free_port()
    config = tmp_path / "sources.yaml"
    with DemoSite(ROOT / "examples" / "demo-site") as site:
        settings = digest_settings(
            [{"name": "demo", "feed": f"{site.base_url}/feed.xml"}],
            to=READERS,
            smtp_port=port,
            unsubscribe="mailto:leave@claims.example.org",
            retry_backoff="1s",
        )
        settings["digest"]["email"]["smtp"]["timeout_s"] = 5
        config.write_text(yaml.safe_dump(settings), encoding="utf-8")
        assert cli.main(["--config", str(config), "ingest", "--json"]) == 0
        capsys.readouterr()
    result = Setup(config=config, data=tmp_path, smtp=Switchboard(), port=port)
    yield result
    result.stop_smtp()


def test_the_digest_arrives_once_with_both_parts_and_the_right_headers(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    setup.start_smtp()
    code, out = setup.digest(capsys)
    assert code == 0, out
    assert [m["To"] for m in setup.smtp.received] == list(READERS)
    message = setup.smtp.received[0]
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert message["From"] == "claimwatch <digest@claims.example.org>"
    assert " new massage & back-pain claims — " in message["Subject"]
    assert message["Date"] and message["List-Id"]
    assert message["List-Unsubscribe"] == "<mailto:leave@claims.example.org>"
    assert message["Message-ID"].startswith("<claimwatch.") and message["Message-ID"].endswith(
        "@claims.example.org>"
    )
    ids = {m["Message-ID"] for m in setup.smtp.received}
    assert len(ids) == 2  # one per recipient, stable per digest and recipient
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "massage" in text.lower()
    assert setup.deliveries() == [(READERS[0], "sent", 1), (READERS[1], "sent", 1)]

    code, out = setup.digest(capsys)
    assert code == 0 and "no new claims" in out
    assert len(setup.smtp.received) == 2  # nothing new, nothing sent


@pytest.mark.parametrize("failure", ["down", "451", "disconnect"])
def test_a_temporary_failure_stays_pending_and_the_next_run_delivers_once(
    setup: Setup, capsys: pytest.CaptureFixture[str], failure: str
) -> None:
    if failure != "down":
        setup.smtp.mode = failure
        setup.start_smtp()
    code, out = setup.digest(capsys)
    assert code == 3, out
    assert [status for _, status, _ in setup.deliveries()] == ["pending", "pending"]
    pages = list((setup.data / "digests").glob("????-??-??-????.html"))
    assert len(pages) == 1  # the digest itself is recorded and archived

    setup.smtp.mode = "accept"
    if setup.controller is None:
        setup.start_smtp()
    time.sleep(1.2)  # the configured backoff is 1 s
    code, out = setup.digest(capsys)
    assert code == 0, out
    assert "no new claims" in out
    assert sorted(m["To"] for m in setup.smtp.received) == sorted(READERS)
    assert [(s, a) for _, s, a in setup.deliveries()] == [("sent", 2), ("sent", 2)]

    time.sleep(1.2)
    setup.digest(capsys)
    assert len(setup.smtp.received) == 2


def test_a_permanent_failure_is_recorded_reported_and_not_retried(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    setup.smtp.mode = "550"
    setup.start_smtp()
    code, out = setup.digest(capsys)
    assert code == 3
    assert [s for _, s, _ in setup.deliveries()] == ["failed", "failed"]
    assert "permanent failure 550" in out

    setup.smtp.mode = "accept"
    time.sleep(1.2)
    code, _ = setup.digest(capsys)
    assert code == 0 and setup.smtp.received == []


def test_a_recipient_already_accepted_is_not_mailed_again(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    setup.smtp.mode = "451-for-bob"
    setup.start_smtp()
    code, _ = setup.digest(capsys)
    assert code == 3
    assert [(r, s) for r, s, _ in setup.deliveries()] == [
        (READERS[0], "sent"),
        (READERS[1], "pending"),
    ]
    setup.smtp.mode = "accept"
    time.sleep(1.2)
    assert setup.digest(capsys)[0] == 0
    assert [m["To"] for m in setup.smtp.received] == list(READERS)  # ann once, bob once


def test_a_crash_after_recording_loses_nothing_pending(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    # `--no-email` stands in for a run that died between recording and sending: here the
    # digest is recorded with no deliveries at all, so build one that has them instead.
    from digest.compose import compiler
    from digest.runtime.app import open_app
    from digest.runtime.settings import load_settings

    settings = load_settings(setup.config)
    with open_app(settings) as app:
        result = compiler.make_digest(app.compose_context(), send_email=True)  # never sent
    assert result.key is not None
    assert [s for _, s, _ in setup.deliveries()] == ["pending", "pending"]

    setup.start_smtp()
    code, out = setup.digest(capsys)
    assert code == 0 and "no new claims" in out
    assert sorted(m["To"] for m in setup.smtp.received) == sorted(READERS)


def test_dry_run_records_nothing_and_no_email_archives_only(
    setup: Setup, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    setup.start_smtp()
    code, out = setup.digest(capsys, "--dry-run", str(tmp_path / "preview"))
    assert code == 0 and "nothing recorded" in out
    assert len(list((tmp_path / "preview").glob("*.html"))) == 1
    assert setup.deliveries() == [] and setup.smtp.received == []

    code, out = setup.digest(capsys, "--no-email")
    assert code == 0 and setup.deliveries() == [] and setup.smtp.received == []
    assert len(list((setup.data / "digests").glob("????-??-??-????.html"))) == 1
