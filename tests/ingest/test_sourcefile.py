"""sources.yaml edited in place: comments and order kept, duplicates refused, and a change the
loader refuses leaves the file as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ingest.errors import ConfigError
from ingest.sourcefile import NewSource, add_source, remove_source, source_names, unique_name

CONFIG = """\
# my sources, hand-written
fetch:
  host_delay_s: 2      # be gentle

sources:
  # the first one
  - name: alpha
    feed: https://alpha.example.org/feed
    every: 2h          # busy feed
  - name: beta
    feed: https://beta.example.org/rss.xml
"""


def _load_ok(path: Path) -> object:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for source in data["sources"]:
        if not source["feed"].startswith("https://"):
            raise ConfigError(f"{path}: sources: feed: not an http(s) URL")
    return data


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_adding_keeps_comments_order_and_layout(config: Path) -> None:
    add_source(
        config,
        NewSource(name="gamma", feed="https://gamma.example.org/atom.xml", every="6h"),
        _load_ok,
    )
    text = config.read_text(encoding="utf-8")
    assert text.startswith(CONFIG.rstrip("\n"))  # every original line, comments included
    assert text.endswith(
        "  - name: gamma\n    feed: https://gamma.example.org/atom.xml\n    every: 6h\n"
    )
    assert source_names(config) == [
        ("alpha", "https://alpha.example.org/feed"),
        ("beta", "https://beta.example.org/rss.xml"),
        ("gamma", "https://gamma.example.org/atom.xml"),
    ]


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        (NewSource(name="alpha", feed="https://other.example.org/feed"), "already listed"),
        (
            NewSource(name="new", feed="https://ALPHA.example.org/feed/"),
            "already listed, as 'alpha'",
        ),
        (NewSource(name="bad", feed="http://plain.example.org/feed"), "not an http"),
    ],
)
def test_a_refused_addition_leaves_the_file_untouched(
    config: Path, source: NewSource, problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem):
        add_source(config, source, _load_ok)
    assert config.read_text(encoding="utf-8") == CONFIG
    assert [p.name for p in config.parent.iterdir()] == ["sources.yaml"]  # no temporary left


def test_removing_takes_out_one_source_and_keeps_the_rest(config: Path) -> None:
    remove_source(config, "beta", _load_ok)
    text = config.read_text(encoding="utf-8")
    assert "beta" not in text and "# busy feed" in text and "# be gentle" in text
    with pytest.raises(ConfigError, match="no source named 'beta'"):
        remove_source(config, "beta", _load_ok)


def test_a_file_without_sources_gets_a_list(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text("# nothing yet\nfetch:\n  retries: 1\n", encoding="utf-8")
    add_source(path, NewSource(name="first", feed="https://first.example.org/feed"), _load_ok)
    assert source_names(path) == [("first", "https://first.example.org/feed")]
    assert path.read_text(encoding="utf-8").startswith("# nothing yet\n")


def test_names_come_from_titles_and_stay_unique() -> None:
    assert unique_name("Spine-health Blog!", "https://x.org/feed", []) == "spine-health-blog"
    assert unique_name("", "https://www.example.org/feed", []) == "www.example.org"
    assert unique_name("News", "https://x.org", ["news", "news-2"]) == "news-3"
