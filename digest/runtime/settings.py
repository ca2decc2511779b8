"""The whole of sources.yaml as one strict, typed value: ingest's parts (storage, fetch,
extract, sources) plus topics, the digest and the daemon. Relative paths are resolved against
the folder of the configuration file.

Loads and validates; builds nothing.
"""

from __future__ import annotations

import importlib.util
import os
from datetime import timedelta
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from pydantic import Field, PrivateAttr, field_validator

from digest.claims.topics import DEFAULT_TOPICS, Topic, TopicConfig, topics_from_configs
from digest.mail.smtp import SmtpConfig
from ingest.config import (
    Duration,
    ExtractConfig,
    FetchConfig,
    SourceConfig,
    StorageConfig,
    StrictModel,
    load_yaml_config,
    parse_duration,
)
from ingest.errors import ConfigError

CONFIG_ENV = "CLAIMWATCH_CONFIG"
DEFAULT_CONFIG = Path("sources.yaml")


class EmailConfig(StrictModel):
    from_: str = Field(default="claimwatch@localhost", alias="from", min_length=3)
    to: tuple[str, ...] = ()
    list_id: str = "claimwatch digest <digest.claimwatch.localhost>"
    unsubscribe: str | None = None  # a mailto: address for List-Unsubscribe
    smtp: SmtpConfig = SmtpConfig()
    retry_backoff: Duration = timedelta(minutes=5)  # doubles per failed attempt, at most 6 h

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            if "@" not in address or any(c in address for c in "\r\n,;<> "):
                raise ValueError(f"not an email address: {address!r}")
        return value

    @field_validator("unsubscribe")
    @classmethod
    def _mailto(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("mailto:"):
            raise ValueError("must be a mailto: URL")
        return value


class DigestConfig(StrictModel):
    html_dir: Path = Path("data/digests")
    templates_dir: Path | None = None
    schedule: str = "0 7 * * *"  # cron: minute hour day month day-of-week
    timezone: str = "UTC"
    first_run: str = "7d"  # all | none | a duration
    send_empty: bool = False
    max_claims: int = Field(default=200, ge=1, le=100_000)  # shown; the rest counted
    site_url: str | None = None  # public URL of html_dir, for links in the Atom feed
    email: EmailConfig = EmailConfig()

    @field_validator("first_run")
    @classmethod
    def _first_run(cls, value: str) -> str:
        if value not in ("all", "none"):
            parse_duration(value)
        return value


class DaemonConfig(StrictModel):
    jitter_s: float = Field(default=30.0, ge=0)
    misfire_grace: Duration = timedelta(days=1)
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"


# Sweeps every N seconds run as a cron with a seconds column, so N must divide a minute.
SWEEP_PERIODS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)


class QueueConfig(StrictModel):
    """The distributed mode (`claimwatch worker`, `claimwatch schedule`): Procrastinate, with
    PostgreSQL (`storage.database`) as the queue. Absent: the single-machine modes only."""

    engine: Literal["procrastinate"]
    concurrency: int = Field(default=4, ge=1, le=64)  # jobs one worker runs at once (threads)
    # An idle worker is woken at once by a new job (LISTEN/NOTIFY); one scheduled for later
    # (a busy host's page) is looked for this often.
    poll_interval_s: float = Field(default=1.0, gt=0, le=60)
    heartbeat_s: float = Field(default=10.0, gt=0, le=600)
    # A worker silent this long is taken for dead: the sweeper retries the jobs it held.
    stalled_after_s: float = Field(default=60.0, gt=0)
    sweep_every_s: int = 30
    number_batch: int = Field(default=50, ge=1, le=10_000)  # documents numbered per commit

    @field_validator("sweep_every_s")
    @classmethod
    def _divides_a_minute(cls, value: int) -> int:
        if value not in SWEEP_PERIODS:
            raise ValueError(f"must divide a minute: one of {', '.join(map(str, SWEEP_PERIODS))}")
        return value


class Settings(StrictModel):
    storage: StorageConfig = StorageConfig()
    fetch: FetchConfig = FetchConfig()
    extract: ExtractConfig = ExtractConfig()
    sources: tuple[SourceConfig, ...] = ()
    topics: tuple[TopicConfig, ...] | None = None  # None: the built-in vocabularies
    digest: DigestConfig = DigestConfig()
    daemon: DaemonConfig = DaemonConfig()
    queue: QueueConfig | None = None
    _base_dir: Path = PrivateAttr(default=Path("."))

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    def path(self, value: Path) -> Path:
        """A configured path, relative ones taken from the configuration file's folder."""
        return value if value.is_absolute() else (self.base_dir / value)

    @property
    def corpus_dir(self) -> Path:
        return self.path(self.storage.corpus_dir)

    @property
    def html_dir(self) -> Path:
        return self.path(self.digest.html_dir)

    @property
    def database_url(self) -> str:
        if not self.storage.database:
            return f"sqlite:///{self.path(Path('data/claimwatch.db'))}"
        url = sa.make_url(self.storage.database)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            return str(url.set(database=str(self.path(Path(url.database)))))
        return self.storage.database

    @property
    def topic_list(self) -> tuple[Topic, ...]:
        return DEFAULT_TOPICS if self.topics is None else topics_from_configs(self.topics)

    def enabled_sources(self, only: str | None = None) -> tuple[SourceConfig, ...]:
        return tuple(s for s in self.sources if s.enabled and (only is None or s.name == only))


def config_path(cli_value: str | None) -> Path:
    """--config, else $CLAIMWATCH_CONFIG, else ./sources.yaml."""
    return Path(cli_value or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_settings(path: Path) -> Settings:
    """The validated settings of `path`; ConfigError (one line) for any problem."""
    settings = load_yaml_config(path, Settings)
    seen: set[str] = set()
    for index, source in enumerate(settings.sources):
        if source.name in seen:
            raise ConfigError(
                f"{path}: sources[{index}].name: duplicate source name {source.name!r}"
            )
        seen.add(source.name)
    settings._base_dir = path.resolve().parent
    if settings.queue is not None:
        _check_queue(path, settings)
    return settings


def _check_queue(path: Path, settings: Settings) -> None:
    if not is_postgresql(settings.database_url):
        raise ConfigError(
            f"{path}: queue.engine: procrastinate keeps its queue in PostgreSQL: "
            "storage.database must be a PostgreSQL URL (postgresql+psycopg://user@host/db)"
        )
    if importlib.util.find_spec("procrastinate") is None:
        raise ConfigError(
            f"{path}: queue.engine: procrastinate is not installed "
            "(pip install 'claimwatch[queue]')"
        )


def is_postgresql(database_url: str) -> bool:
    return sa.make_url(database_url).get_backend_name() == "postgresql"


__all__ = ["ConfigError", "Settings", "config_path", "load_settings"]
