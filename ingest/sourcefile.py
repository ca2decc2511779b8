"""Changing the `sources:` list of sources.yaml in place: adding and removing feeds while the
file keeps its comments, order and layout (a round-trip YAML editor), so that people can both
edit the file by hand and use `claimwatch sources`.

Edge module: reads and writes one file. Every change is checked before it replaces the file:
the new text is written beside it, validated by the caller's loader (the whole-file schema),
and only then renamed over the original; a refused change leaves the file untouched.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from ingest.errors import ConfigError

Validate = Callable[[Path], object]
_NAME_CHARS_RE = re.compile(r"[^\w.@+-]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class NewSource:
    name: str
    feed: str
    every: str | None = None  # a duration like "2h"; None keeps the default


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long lines (user agents, comments)
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _load(path: Path) -> tuple[YAML, CommentedMap]:
    yaml = _yaml()
    try:
        data = yaml.load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read it ({exc})".splitlines()[0]) from exc
    if data is None:
        data = CommentedMap()
    if not isinstance(data, CommentedMap):
        raise ConfigError(f"{path}: the top level is not a mapping of sections")
    return yaml, data


def _sources(data: CommentedMap, path: Path) -> CommentedSeq:
    sources = data.get("sources")
    if sources is None:
        sources = CommentedSeq()
        data["sources"] = sources
    if not isinstance(sources, CommentedSeq):
        raise ConfigError(f"{path}: sources: is not a list")
    return sources


def source_names(path: Path) -> list[tuple[str, str]]:
    """(name, feed) of every listed source, in file order (not validated)."""
    _, data = _load(path)
    return [
        (str(item.get("name", "")), str(item.get("feed", "")))
        for item in _sources(data, path)
        if isinstance(item, dict)
    ]


def add_source(path: Path, source: NewSource, validate: Validate) -> None:
    """Append `source` to the list; a name or feed URL already listed is refused."""
    yaml, data = _load(path)
    sources = _sources(data, path)
    for item in sources:
        if not isinstance(item, dict):
            continue
        if str(item.get("name")) == source.name:
            raise ConfigError(f"{path}: a source named {source.name!r} is already listed")
        if _same_url(str(item.get("feed", "")), source.feed):
            raise ConfigError(f"{path}: {source.feed} is already listed, as {item.get('name')!r}")
    entry = CommentedMap(name=source.name, feed=source.feed)
    if source.every:
        entry["every"] = source.every
    sources.append(entry)
    _replace(path, yaml, data, validate)


def remove_source(path: Path, name: str, validate: Validate) -> None:
    """Take the source named `name` out of the list (its comments go with it)."""
    yaml, data = _load(path)
    sources = _sources(data, path)
    index = next(
        (
            i
            for i, item in enumerate(sources)
            if isinstance(item, dict) and item.get("name") == name
        ),
        None,
    )
    if index is None:
        raise ConfigError(f"{path}: no source named {name!r}")
    del sources[index]
    _replace(path, yaml, data, validate)


def _named(item: object, name: str) -> bool:
    return isinstance(item, dict) and item.get("name") == name


def _same_url(a: str, b: str) -> bool:
    return a.strip().rstrip("/").lower() == b.strip().rstrip("/").lower()


def _replace(path: Path, yaml: YAML, data: Any, validate: Validate) -> None:
    """Write beside `path`, validate, then rename over it (atomic; the original is kept on any
    refusal)."""
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(buffer.getvalue(), encoding="utf-8")
        validate(temporary)
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def unique_name(title: str, url: str, taken: Sequence[str]) -> str:
    """A source name from a feed's title (or its host), made unique among `taken`."""
    base = _NAME_CHARS_RE.sub("-", title.strip().lower()).strip("-.") or _host(url)
    base = base[:60] or "feed"
    name, counter = base, 2
    while name in taken:
        name, counter = f"{base}-{counter}", counter + 1
    return name


def _host(url: str) -> str:
    host = url.split("://", 1)[-1].split("/", 1)[0]
    return _NAME_CHARS_RE.sub("-", host.lower()).strip("-.")
