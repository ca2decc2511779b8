"""The distributed mode's switch: `queue: {engine: procrastinate}` with a PostgreSQL database;
anything else is a one-line configuration error (exit 2), and the modes do not mix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from digest.runtime import cli


def _config(tmp_path: Path, **sections: object) -> str:
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": [], **sections}), encoding="utf-8")
    return str(path)


def test_a_queue_on_sqlite_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, queue={"engine": "procrastinate"})
    assert cli.main(["--config", config, "check-config"]) == 2
    error = capsys.readouterr().err.strip()
    assert "queue.engine" in error and "PostgreSQL" in error and "\n" not in error


def test_an_unknown_engine_and_a_sweep_that_does_not_divide_a_minute_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    postgres = {"database": "postgresql+psycopg://u@127.0.0.1/db"}
    config = _config(tmp_path, storage=postgres, queue={"engine": "celery"})
    assert cli.main(["--config", config, "check-config"]) == 2
    config = _config(
        tmp_path, storage=postgres, queue={"engine": "procrastinate", "sweep_every_s": 7}
    )
    assert cli.main(["--config", config, "check-config"]) == 2
    assert "queue.sweep_every_s: must divide a minute" in capsys.readouterr().err


def test_worker_and_schedule_need_the_queue_and_ingest_refuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = _config(tmp_path)
    assert cli.main(["--config", plain, "worker", "--burst"]) == 2
    assert cli.main(["--config", plain, "schedule", "--once"]) == 2
    assert "queue: {engine: procrastinate}" in capsys.readouterr().err
    queued = _config(
        tmp_path,
        storage={"database": "postgresql+psycopg://u@127.0.0.1/db"},
        queue={"engine": "procrastinate"},
    )
    assert cli.main(["--config", queued, "ingest"]) == 2
    assert "claimwatch schedule" in capsys.readouterr().err


def test_unknown_queue_names_are_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--config", _config(tmp_path), "worker", "--queues", "pages,nope"])
    assert exited.value.code == 2
