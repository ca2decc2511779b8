"""The deployment files: the systemd unit passes `systemd-analyze verify` where that exists,
and carries the hardening the README promises; the Dockerfile is non-root with a healthcheck
(it is built only where a Docker engine runs, which is not the case on our CI machines)."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "claimwatch.service")
    return parser


def test_systemd_unit_is_hardened() -> None:
    service = unit()["Service"]
    assert service["User"] == "claimwatch"
    assert service["ProtectSystem"] == "strict"
    assert service["NoNewPrivileges"] == "yes"
    assert service["Restart"] == "on-failure"
    assert service["EnvironmentFile"].startswith("/etc/claimwatch/")
    assert service["ExecReload"].endswith("-HUP $MAINPID")
    assert "run" in service["ExecStart"]


def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    analyzer = shutil.which("systemd-analyze")
    if analyzer is None:
        pytest.skip("systemd-analyze is not installed on this machine")
    # verify checks that ExecStart exists: point it at this checkout's command.
    claimwatch = shutil.which("claimwatch") or str(ROOT / ".venv" / "bin" / "claimwatch")
    text = (DEPLOY / "claimwatch.service").read_text()
    copy = tmp_path / "claimwatch.service"
    copy.write_text(text.replace("/opt/claimwatch/.venv/bin/claimwatch", claimwatch))
    done = subprocess.run(
        [analyzer, "verify", str(copy)], capture_output=True, text=True, timeout=60, check=False
    )
    problems = [line for line in done.stderr.splitlines() if "claimwatch.service" in line]
    assert done.returncode == 0 and problems == [], done.stderr


def test_dockerfile_runs_as_non_root_with_a_healthcheck() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert "\nUSER claimwatch\n" in text
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert "-slim" in text


def test_compose_file_has_the_daemon_and_a_mail_catcher() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    assert set(compose["services"]) == {"claimwatch", "mail"}
    from digest.runtime.settings import load_settings

    settings = load_settings(DEPLOY / "sources.compose.yaml")
    assert settings.digest.email.smtp.host == "mail"
    assert settings.digest.email.smtp.password_env == "CLAIMWATCH_SMTP_PASSWORD"


def test_docker_image_builds_where_docker_runs() -> None:
    docker = shutil.which("docker")
    if (
        docker is None
        or subprocess.run([docker, "info"], capture_output=True, check=False).returncode
    ):
        pytest.skip("no Docker engine on this machine: the image is not built here")
    done = subprocess.run(
        [docker, "build", "-f", str(DEPLOY / "Dockerfile"), "-t", "claimwatch:test", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / name)
    return parser


@pytest.mark.parametrize("name", ["claimwatch-worker@.service", "claimwatch-scheduler.service"])
def test_distributed_mode_units_are_hardened_like_the_daemon(name: str, tmp_path: Path) -> None:
    service = _unit(name)["Service"]
    daemon = unit()["Service"]
    for key in ("User", "ProtectSystem", "NoNewPrivileges", "RestrictAddressFamilies", "UMask"):
        assert service[key] == daemon[key], key
    command = "worker" if "worker" in name else "schedule"
    assert f" {command}" in service["ExecStart"] and service["RestartPreventExitStatus"] == "2"
    analyzer = shutil.which("systemd-analyze")
    if analyzer is None:
        return
    claimwatch = shutil.which("claimwatch") or str(ROOT / ".venv" / "bin" / "claimwatch")
    copy = tmp_path / (name.replace("@", "@1") if "@" in name else name)
    text = (DEPLOY / name).read_text().replace("/opt/claimwatch/.venv/bin/claimwatch", claimwatch)
    copy.write_text(text)
    done = subprocess.run(
        [analyzer, "verify", str(copy)], capture_output=True, text=True, timeout=60, check=False
    )
    problems = [line for line in done.stderr.splitlines() if copy.name in line]
    assert problems == [], done.stderr


def test_distributed_compose_file_runs_postgresql_a_scheduler_and_n_workers() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.distributed.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "scheduler", "worker", "mail"}
    assert services["worker"]["command"][0] == "worker"
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert services["scheduler"]["command"] == ["schedule"]
    shared = {v for v in services["worker"]["volumes"] if v.startswith("corpus:")}
    assert shared and shared <= set(services["scheduler"]["volumes"])  # one corpus for all
    from digest.runtime.settings import load_settings

    settings = load_settings(DEPLOY / "sources.distributed.yaml")
    assert settings.queue is not None and settings.queue.engine == "procrastinate"
    assert settings.database_url.startswith("postgresql+psycopg://")
