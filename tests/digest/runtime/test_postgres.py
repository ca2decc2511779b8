"""The digest side on PostgreSQL (the same code as on SQLite): the demo site ingested with its
claims, a digest recorded with every claim it carries and delivered once to each reader over
a real SMTP server, then nothing sent again; status and verify read the same database."""

from __future__ import annotations

import json
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
READERS = ["ann@example.net", "bob@example.net"]

pytestmark = pytest.mark.postgres


class Inbox:
    def __init__(self) -> None:
        self.recipients: list[str] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"


def test_claims_and_an_exactly_once_digest_on_postgresql(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    config = tmp_path / "sources.yaml"
    try:
        with DemoSite(ROOT / "examples" / "demo-site") as site:
            settings = digest_settings(
                [{"name": "demo", "feed": f"{site.base_url}/feed.xml"}],
                to=READERS,
                smtp_port=port,
                database=pg_url,
            )
            config.write_text(yaml.safe_dump(settings), encoding="utf-8")
            assert cli.main(["--config", str(config), "ingest", "--json"]) == 0
        first = cli.main(["--config", str(config), "digest"])
        second = cli.main(["--config", str(config), "digest"])
        out = capsys.readouterr().out
        assert cli.main(["--config", str(config), "claims", "--format", "jsonl"]) == 0
        exported = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert cli.main(["--config", str(config), "verify"]) == 0
        assert cli.main(["--config", str(config), "status"]) == 0
        status = capsys.readouterr().out
    finally:
        controller.stop()

    assert (first, second) == (0, 0) and "no new claims" in out
    assert sorted(inbox.recipients) == READERS  # once each, not again on the second run
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        claims = {r[0] for r in conn.exec_driver_sql("select id from claims where kind='claim'")}
        carried = {r[0] for r in conn.exec_driver_sql("select claim_id from digest_claims")}
        counts = conn.exec_driver_sql("select claim_count from digests").scalars().all()
        sent = conn.exec_driver_sql("select status from deliveries").scalars().all()
    engine.dispose()
    assert claims and carried == claims and counts == [len(claims)]
    assert sent == ["sent", "sent"]
    assert {c["id"] for c in exported if c["kind"] == "claim"} == claims
    assert "outbox: 0 pending, 0 failed, 2 sent" in status
