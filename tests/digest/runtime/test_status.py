"""`claimwatch status` after real runs: the demo site and a dead feed on 127.0.0.1, a mail
server that is down. What it prints comes from the database alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from demo_server import DemoSite
from support.digest_config import digest_settings
from support.ports import free_port

from digest.runtime import cli

ROOT = Path(__file__).resolve().parents[3]


def status(config: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(["--config", str(config), "status"]) == 0
    return capsys.readouterr().out


def row(out: str, name: str) -> list[str]:
    """The cells of one source's row in the table (rich draws cells between │ bars)."""
    line = next(line for line in out.splitlines() if re.match(rf"^\W*{name}\s", line))
    return [cell.strip() for cell in line.strip("│┃ ").split("│")]


def test_status_shows_sources_corpus_last_digest_and_outbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # one table row per line
    dead = f"http://127.0.0.1:{free_port()}/feed.xml"  # nothing listens there
    config = tmp_path / "sources.yaml"
    with DemoSite(ROOT / "examples" / "demo-site") as site:
        settings = digest_settings(
            [
                {"name": "demo", "feed": f"{site.base_url}/feed.xml"},
                {"name": "dead", "feed": dead},
            ],
            to=["ann@example.net"],
            smtp_port=free_port(),
        )
        config.write_text(yaml.safe_dump(settings), encoding="utf-8")
        before = status(config, capsys)
        assert cli.main(["--config", str(config), "ingest", "--json"]) == 1  # one source failed
        assert cli.main(["--config", str(config), "digest"]) == 3  # the mail server is down
    capsys.readouterr()

    assert "last digest: none yet" in before and "corpus: 0 documents" in before

    out = status(config, capsys)
    files = sorted((tmp_path / "corpus").glob("*.txt"))
    demo, broken = row(out, "demo"), row(out, "dead")
    assert demo[1] == "enabled" and demo[4] == "0" and demo[6] == str(len(files))
    assert demo[2] != "never" and demo[3] == ""  # a success, no error
    assert broken[2] == "never" and broken[4] == "1" and broken[6] == "0"
    assert "connect" in broken[3].lower()  # the error says what went wrong
    assert f"corpus: {len(files)} documents" in out
    page = sorted((tmp_path / "digests").glob("????-??-??-????.html"))[-1]
    assert f"last digest: {page.stem}" in out
    assert "outbox: 1 pending, 0 failed, 0 sent" in out

    config.write_text(  # a source removed from the configuration is still shown, as such
        yaml.safe_dump({**settings, "sources": settings["sources"][:1]}), encoding="utf-8"
    )
    assert row(status(config, capsys), "dead")[1] == "removed from config"
