"""Configuration for ingest: the `storage`, `fetch`, `extract` and `sources` parts of
sources.yaml as strict pydantic models, and the YAML loader that turns any problem into one
`ConfigError` line naming the file, the key path and the problem.

Reads one file; holds no state. The whole-file schema (which adds the digest's keys) lives in
`digest.runtime.settings`; this module only knows the parts ingest uses.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from ingest.errors import ConfigError

DEFAULT_USER_AGENT = (
    "claimwatch/0.1 (+https://github.com/claimwatch/claimwatch; feed reader for health digests)"
)
_DURATION_RE = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: object) -> timedelta:
    """`30m`, `2h`, `90s`, `7d`, `1w` (or a number of seconds) as a positive timedelta."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str) and (match := _DURATION_RE.match(value)):
        seconds = int(match[1]) * _DURATION_UNITS[match[2]]
    else:
        raise ValueError(f"not a duration like 30m, 2h or 7d: {value!r}")
    if seconds <= 0:
        raise ValueError(f"duration must be positive: {value!r}")
    return timedelta(seconds=seconds)


def check_http_url(value: str) -> str:
    """An absolute http(s) URL with a host, else ValueError('not an http(s) URL')."""
    try:
        parts = urlsplit(value.strip())
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError("not an http(s) URL")
    return value.strip()


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
HttpUrl = Annotated[str, AfterValidator(check_http_url)]


class StrictModel(BaseModel):
    """Unknown keys are errors; values are never silently coerced from the wrong type."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class StorageConfig(StrictModel):
    corpus_dir: Path = Path("data/corpus")
    database: str = ""  # empty: sqlite file `data/claimwatch.db` beside the config

    @field_validator("database")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value and "://" not in value:
            raise ValueError("not an SQLAlchemy URL (e.g. sqlite:///data/claimwatch.db)")
        return value


class FetchConfig(StrictModel):
    user_agent: str = Field(default=DEFAULT_USER_AGENT, min_length=1)
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    max_bytes: int = Field(default=10_000_000, gt=0)
    allow_private_networks: bool = False
    allow_hosts: tuple[str, ...] = ()
    max_redirects: int = Field(default=5, ge=0, le=5)
    retries: int = Field(default=2, ge=0, le=10)
    backoff_s: float = Field(default=1.0, ge=0, le=60)
    host_delay_s: float = Field(default=1.0, ge=0, le=60)
    concurrency: int = Field(default=8, ge=1, le=64)  # feeds polled / pages in hand at once
    max_retry_after_s: float = Field(default=120.0, ge=0, le=3600)


class ExtractConfig(StrictModel):
    min_chars: int = Field(default=200, ge=0)
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    workers: int = Field(default=0, ge=0, le=64)  # 0: one per core


class SourceConfig(StrictModel):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w.@+-][\w .@+-]*$")
    feed: HttpUrl
    every: Duration = timedelta(hours=1)
    enabled: bool = True


M = TypeVar("M", bound=BaseModel)


def load_yaml_config(path: Path, model: type[M]) -> M:
    """Read and validate `path`; any problem raises ConfigError with one line of text."""
    data = _read_yaml(path)
    try:
        return model.model_validate(data, context={"base_dir": path.parent})
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, exc)) from exc


def format_validation_error(path: Path, exc: ValidationError) -> str:
    errors = exc.errors()
    first = errors[0]
    line = f"{path}: {format_loc(first['loc'])}: {_problem(first)}"
    if len(errors) > 1:
        line += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return line


def format_loc(loc: tuple[int | str, ...]) -> str:
    """('sources', 3, 'feed') -> 'sources[3].feed'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _problem(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "required key missing"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping with the same key twice (PyYAML keeps the last)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {_yaml_problem(exc)}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: (top level): expected a mapping of keys")
    return data


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return f"line {mark.line + 1}: {problem}" if mark is not None else str(problem)
