"""`claimwatch verify [--repair]`: the pure decision over files and rows, then the command on a
real corpus that was ingested over HTTP and damaged in every way the checker knows."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from support.pages import LOREM, article, rss

from digest.runtime import cli
from ingest import corpus
from ingest.verify import (
    DocumentRow,
    FileFacts,
    Finding,
    Inventory,
    Verification,
    find_problems,
)

WriteConfig = Callable[..., Path]
H = ["0" * 16, "1" * 16, "2" * 16, "3" * 16]


def facts(seq: int, name_hash: str, content_hash: str | None = "same") -> FileFacts:
    name = corpus.file_name(seq, name_hash)
    text_hash = name_hash if content_hash == "same" else content_hash
    return FileFacts(name=name, seq=seq, name_hash=name_hash, content_hash=text_hash)


def row(seq: int, hash16: str, file: str | None = None) -> DocumentRow:
    return DocumentRow(seq=seq, hash16=hash16, file=file or corpus.file_name(seq, hash16))


def kinds(inventory: Inventory) -> list[tuple[str, str, bool]]:
    return [(f.kind, f.name, f.removable) for f in find_problems(inventory)]


# --- the pure decision ------------------------------------------------------------------------


def test_files_and_rows_that_agree_are_clean() -> None:
    inventory = Inventory(
        files=(facts(0, H[0]), facts(1, H[1])), temporaries=(), rows=(row(0, H[0]), row(1, H[1]))
    )
    assert find_problems(inventory) == ()
    assert find_problems(Inventory(files=(), temporaries=(), rows=())) == ()


def test_every_disagreement_is_found_and_only_leftovers_are_removable() -> None:
    # Protection: each branch of find_problems, and REMOVABLE holding only what an
    # interrupted write leaves (removing anything else would lose or hide data).
    inventory = Inventory(
        files=(
            facts(0, H[0], content_hash="f" * 16),  # edited after it was stored
            facts(1, H[1], content_hash=None),  # unreadable
            facts(2, H[3]),  # within the stored range, no row: a second file for seq 2
            facts(4, H[3]),  # past the last row: an interrupted write
        ),
        temporaries=(".tmp-x1.part",),
        rows=(row(0, H[0]), row(1, H[1]), row(2, H[2]), row(3, H[2], corpus.file_name(3, H[3]))),
    )
    assert kinds(inventory) == [
        ("temporary", ".tmp-x1.part", True),
        ("hash_mismatch", corpus.file_name(0, H[0]), False),
        ("unreadable", corpus.file_name(1, H[1]), False),
        ("orphan_file", corpus.file_name(2, H[3]), False),
        ("unfinished_write", corpus.file_name(4, H[3]), True),
        ("missing_file", corpus.file_name(2, H[2]), False),
        ("missing_file", corpus.file_name(3, H[3]), False),
        ("row_mismatch", corpus.file_name(3, H[3]), False),
    ]


def test_a_removed_file_takes_its_other_findings_with_it() -> None:
    # Protection: Verification.remaining: an unfinished write whose text is also damaged is
    # fully repaired by removing it (else verify --repair would exit 1 for a file now gone).
    inventory = Inventory(
        files=(facts(0, H[0]), facts(1, H[1], content_hash=H[2])),
        temporaries=(),
        rows=(row(0, H[0]),),
    )
    findings = find_problems(inventory)
    assert [f.kind for f in findings] == ["hash_mismatch", "unfinished_write"]
    removed = tuple(f for f in findings if f.removable)
    result = Verification(files=2, rows=1, findings=findings, removed=removed)
    assert result.clean and result.remaining == ()
    assert not Verification(files=2, rows=1, findings=findings).clean


def test_findings_are_plain_values() -> None:
    finding = Finding(kind="temporary", name=".tmp-a.part", detail="x")
    assert finding == Finding(kind="temporary", name=".tmp-a.part", detail="x")
    with pytest.raises(AttributeError):
        finding.name = "other"  # type: ignore[misc]


# --- the command ------------------------------------------------------------------------------


@pytest.fixture
def ingested(
    httpserver: HTTPServer, write_config: WriteConfig, capsys: pytest.CaptureFixture[str]
) -> Path:
    """A config whose corpus holds documents 000, 001 and 002."""
    items = []
    for n in range(3):
        httpserver.expect_request(f"/{n}.html").respond_with_data(
            article(f"Massage report {n}", [f"{LOREM} ({n})", LOREM.upper()]),
            content_type="text/html",
        )
        items.append((f"g{n}", httpserver.url_for(f"/{n}.html"), f"Report {n}"))
    httpserver.expect_request("/feed.xml").respond_with_data(rss(items), content_type="text/xml")
    config = write_config([{"name": "reports", "feed": httpserver.url_for("/feed.xml")}])
    assert cli.main(["--config", str(config), "ingest", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["new_documents"] == 3
    return config


def verify(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli.main(["--config", str(config), "verify", *args])
    return code, capsys.readouterr().out


def test_a_clean_corpus_verifies_with_exit_code_0(
    ingested: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = verify(ingested, capsys)
    assert code == 0
    assert out.strip() == "verify: 3 files, 3 documents: clean"


def test_damage_is_reported_and_repair_removes_only_leftovers(
    ingested: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Protection: the whole check (hashes recomputed with corpus.hash16, files against rows)
    # and the repair's limits: --repair deletes the temporary file and the unfinished write,
    # and leaves the edited file, the missing one and the stray one for a person.
    corpus_dir = tmp_path / "corpus"
    first, second, third = sorted(corpus_dir.glob("*.txt"))
    original = {path: path.read_text(encoding="utf-8") for path in (first, second, third)}
    second.write_text(original[second] + "\nAn edited line.\n", encoding="utf-8")
    third.unlink()
    stray_text = "A stray file within the stored range.\n"
    stray = corpus_dir / corpus.file_name(1, corpus.hash16(stray_text))
    stray.write_text(stray_text, encoding="utf-8")
    unfinished_text = "Written, but its row never committed.\n"
    unfinished = corpus_dir / corpus.file_name(3, corpus.hash16(unfinished_text))
    unfinished.write_text(unfinished_text, encoding="utf-8")
    temporary = corpus_dir / ".tmp-k2j3.part"
    temporary.write_text("half", encoding="utf-8")
    before = sorted(p.name for p in corpus_dir.iterdir())

    code, out = verify(ingested, capsys)

    assert code == 1
    assert sorted(p.name for p in corpus_dir.iterdir()) == before  # reporting changes nothing
    lines = out.splitlines()
    assert lines[-1] == "verify: 4 files, 3 documents: 5 problems remain"
    assert f"problem: {temporary.name}: temporary: " in out
    assert f"problem: {second.name}: hash_mismatch: text hashes to " in out
    assert f"problem: {stray.name}: orphan_file: " in out
    assert f"problem: {unfinished.name}: unfinished_write: " in out
    assert f"problem: {third.name}: missing_file: " in out

    code, out = verify(ingested, capsys, "--repair")

    assert code == 1
    assert f"removed: {temporary.name}: temporary" in out
    assert f"removed: {unfinished.name}: unfinished_write" in out
    assert out.splitlines()[-1] == (
        "verify: 4 files, 3 documents: 3 problems remain (2 files removed)"
    )
    assert not temporary.exists() and not unfinished.exists()
    assert stray.exists() and second.exists()

    second.write_text(original[second], encoding="utf-8")  # a person restores and tidies
    third.write_text(original[third], encoding="utf-8")
    stray.unlink()
    code, out = verify(ingested, capsys, "--repair")
    assert code == 0 and out.strip() == "verify: 3 files, 3 documents: clean"
