"""`make demo`'s script, end to end, in a temporary folder: five seed articles as corpus files
equal to the seed bodies block for block, a digest, claims anchored in the files; the second
run adds nothing and says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.ports import free_port

from ingest import corpus

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "examples" / "demo-site"


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    data = tmp_path_factory.mktemp("demo")
    env = {
        **os.environ,
        "CLAIMWATCH_DEMO_DIR": str(data),
        "CLAIMWATCH_DEMO_PORT": str(free_port()),
    }
    outputs = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, str(ROOT / "examples" / "demo.py")],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        outputs.append(done.stdout)
    return data, outputs[0], outputs[1]


def test_demo_writes_the_five_seed_bodies_block_for_block(
    demo_runs: tuple[Path, str, str],
) -> None:
    data, first, _ = demo_runs
    files = sorted((data / "corpus").glob("*.txt"))
    assert [f.name[:4] for f in files] == ["000_", "001_", "002_", "003_", "004_"]
    expected = json.loads((SITE / "expected.json").read_text(encoding="utf-8"))
    wanted = sorted(tuple(entry["blocks"]) for entry in expected.values())
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert path.name == corpus.file_name(int(path.name[:3]), corpus.hash16(text))
        found.append(tuple(corpus.blocks_of(text)))
    assert sorted(found) == wanted
    assert "5 new documents" in first


def test_second_demo_run_adds_nothing_and_says_so(demo_runs: tuple[Path, str, str]) -> None:
    data, _, second = demo_runs
    assert "Nothing new" in second and "unchanged" in second
    assert "no new claims since the previous digest" in second
    assert len(list((data / "corpus").glob("*.txt"))) == 5
    assert len(list((data / "digests").glob("????-??-??-????.html"))) == 1


def test_demo_digest_page_and_index_exist(demo_runs: tuple[Path, str, str]) -> None:
    data, first, _ = demo_runs
    index = (data / "digests" / "index.html").read_text(encoding="utf-8")
    (page,) = (data / "digests").glob("????-??-??-????.html")
    assert page.name in index
    html = page.read_text(encoding="utf-8")
    assert "massage" in html.lower() and "<script" not in html.lower()
    assert str(data / "digests" / "index.html") in first


def test_claims_jsonl_covers_all_five_articles_and_quotes_slice_exactly(
    demo_runs: tuple[Path, str, str],
) -> None:
    data, _, _ = demo_runs
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "digest.runtime",
            "--config",
            str(data / "sources.yaml"),
            "claims",
            "--format",
            "jsonl",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=ROOT,
    )
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    claims = [c for c in lines if c["kind"] == "claim"]
    assert {c["seq"] for c in claims} == {0, 1, 2, 3, 4}
    for claim in lines:
        text = (data / "corpus" / claim["file"]).read_text(encoding="utf-8")
        assert text[claim["start"] : claim["end"]] == claim["quote"]
        assert claim["hash"] == claim["file"][4:20]
        for key in ("url", "title", "topics", "type", "hedged", "negated", "evidence", "group"):
            assert key in claim
