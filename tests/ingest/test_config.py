"""Every configuration error gets one line naming the file, the key path and the problem,
and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.runtime import cli

GOOD = "  - {name: a, feed: 'https://example.org/feed.xml', every: 30m}\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "sources:\n" + GOOD * 0 + "  - {name: a, feed: 'ftp://x/feed'}\n",
            "sources.yaml: sources[0].feed: not an http(s) URL",
        ),
        (
            "sources:\n" + GOOD + "  - {name: b, feed: 'https://x.org/f', every: soon}\n",
            "sources.yaml: sources[1].every: not a duration like 30m, 2h or 7d: 'soon'",
        ),
        (
            "sources:\n" + GOOD + "  - {name: a, feed: 'https://x.org/other'}\n",
            "sources.yaml: sources[1].name: duplicate source name 'a'",
        ),
        ("sources:\n" + GOOD + "colour: blue\n", "sources.yaml: colour: unknown key"),
        (
            "sources:\n  - {name: a, feed: 'https://x.org/f', enabeld: true}\n",
            "sources.yaml: sources[0].enabeld: unknown key",
        ),
        ("sources:\n  - {name: a}\n", "sources.yaml: sources[0].feed: required key missing"),
        (
            "fetch:\n  timeout_s: -1\n",
            "sources.yaml: fetch.timeout_s: Input should be greater than 0",
        ),
        (
            "storage:\n  database: claimwatch.db\n",
            "sources.yaml: storage.database: not an SQLAlchemy URL"
            " (e.g. sqlite:///data/claimwatch.db)",
        ),
        ("sources: [\n", "sources.yaml: invalid YAML: line 2: expected the node content"),
        ("- just\n- a list\n", "sources.yaml: (top level): expected a mapping of keys"),
        ("fetch: {}\nfetch: {}\n", "sources.yaml: invalid YAML: line 2: duplicate key 'fetch'"),
        (
            "sources:\n  - {name: a, feed: 'https://x.org/f', every: 0s}\n",
            "sources.yaml: sources[0].every: duration must be positive: '0s'",
        ),
        (  # was accepted, and the digest then stopped with a traceback when it mailed
            "digest:\n  email:\n    smtp: {username_env: SMTP_USER}\n",
            "sources.yaml: digest.email.smtp: username_env and password_env must be given together",
        ),
    ],
)
def test_config_error_is_one_line_with_exit_code_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    expected: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("sources.yaml").write_text(text, encoding="utf-8")
    assert cli.main(["--config", "sources.yaml", "ingest"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"claimwatch: {expected}")


def test_missing_file_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--config", "nowhere.yaml", "ingest"]) == 2
    assert capsys.readouterr().err.startswith("claimwatch: nowhere.yaml: cannot read:")


def test_config_comes_from_the_environment_when_not_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "elsewhere.yaml"
    path.write_text("sources:\n" + GOOD, encoding="utf-8")
    monkeypatch.setenv("CLAIMWATCH_CONFIG", str(path))
    assert cli.main(["check-config"]) == 0
    assert "elsewhere.yaml: OK (1 sources)" in capsys.readouterr().out


def test_unknown_source_for_dash_dash_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("sources.yaml").write_text("sources:\n" + GOOD, encoding="utf-8")
    assert cli.main(["ingest", "--source", "nope"]) == 2
    assert "no source named 'nope'" in capsys.readouterr().err


def test_the_shipped_sources_yaml_is_valid_and_lists_six_real_feeds() -> None:
    from digest.runtime.settings import load_settings

    settings = load_settings(Path(__file__).resolve().parents[2] / "sources.yaml")
    feeds = [s.feed for s in settings.enabled_sources()]
    assert len(feeds) >= 6 and all(f.startswith("https://") for f in feeds)
    assert not settings.fetch.allow_private_networks
