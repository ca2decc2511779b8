"""The corpus format: seed-format text, its content hash and file names, atomic file writes.

Pure except for `write_atomically` and `scan_corpus_dir`, which touch the corpus folder.
The format and the hash are exactly those of `shared/SEED_FORMAT.md`.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import StorageError

FILE_NAME_RE = re.compile(r"^(?P<seq>\d{3,})_(?P<hash16>[0-9a-f]{16})\.txt$")


def normalized(text: str) -> str:
    """The text the content hash is computed over (SEED_FORMAT.md, verbatim)."""
    lines = (" ".join(line.split()) for line in unicodedata.normalize("NFC", text).splitlines())
    return "\n".join(line for line in lines if line)


def hash16(text: str) -> str:
    """First 16 hex digits of SHA-256 over the normalized text."""
    return hashlib.sha256(normalized(text).encode("utf-8")).hexdigest()[:16]


def file_name(seq: int, hash16: str) -> str:
    """`NNN_<hash16>.txt`, seq zero-padded to at least three digits."""
    return f"{seq:03d}_{hash16}.txt"


def clean_block(block: str) -> str:
    """One block on one line: NFC, runs of white space (line breaks too) collapsed to one space,
    lone surrogates (which UTF-8 cannot carry) replaced by U+FFFD."""
    if not block.isascii():
        block = block.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return " ".join(unicodedata.normalize("NFC", block).split())


def format_document(title: str | None, blocks: Iterable[str]) -> str:
    """Seed-format text: the title (unless the body already starts with it), then one block a
    line, blocks separated by one blank line, a single final newline. Empty blocks are dropped."""
    body = [b for b in (clean_block(block) for block in blocks) if b]
    clean_title = clean_block(title or "")
    if clean_title and not (body and _starts_with(body[0], clean_title)):
        body.insert(0, clean_title)
    return "\n\n".join(body) + "\n" if body else ""


def blocks_of(text: str) -> list[str]:
    """The blocks of a seed-format text: its non-empty lines, white space collapsed."""
    return normalized(text).split("\n") if text.strip() else []


def _starts_with(block: str, title: str) -> bool:
    return block.casefold().startswith(title.casefold())


@dataclass(frozen=True, slots=True, kw_only=True)
class CorpusFile:
    """A file found in the corpus folder whose name has the corpus shape."""

    path: Path
    seq: int
    hash16: str


def parse_file_name(name: str) -> tuple[int, str] | None:
    """(seq, hash16) for a corpus file name, None for anything else."""
    match = FILE_NAME_RE.match(name)
    return (int(match["seq"]), match["hash16"]) if match else None


def scan_corpus_dir(corpus_dir: Path) -> Iterator[CorpusFile]:
    """Every corpus-shaped file in the folder (not recursive), in no particular order."""
    if not corpus_dir.is_dir():
        return
    for entry in os.scandir(corpus_dir):
        parsed = parse_file_name(entry.name)
        if parsed and entry.is_file():
            yield CorpusFile(path=Path(entry.path), seq=parsed[0], hash16=parsed[1])


# What a file system says when it, not our code, fails a write: full, over quota, file too
# large, read-only, an I/O error.
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO})


def write_atomically(path: Path, text: str) -> None:
    """Write UTF-8 text so that readers see the old file, or the whole new one, never a part.

    A temporary file in the same folder is flushed and fsynced, then renamed over `path`, and
    the folder fsynced; on any error the temporary file is removed and the exception
    propagates, a failing file system (`STORAGE_ERRNOS`) as `StorageError`.
    """
    staged = stage(path.parent, text)
    try:
        place(staged, path)
    except BaseException:
        discard(staged)
        raise
    sync_folder(path.parent)


@dataclass(frozen=True, slots=True)
class Staged:
    """Text written and fsynced under a temporary name (`.tmp-*.part`) in the folder where it
    will live, waiting for its name (`place`). The slow part of writing a corpus file (the
    fsync) happens here, before its number is known, outside the database's write lock."""

    path: Path


def stage(folder: Path, text: str) -> Staged:
    with _storage_errors():
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(text.encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
    return Staged(Path(tmp_name))


def place(staged: Staged, path: Path) -> None:
    """Give staged text its name (an atomic rename); durable once the folder is synced."""
    with _storage_errors():
        os.replace(staged.path, path)


def discard(staged: Staged) -> None:
    staged.path.unlink(missing_ok=True)


def sync_folder(folder: Path) -> None:
    """fsync the folder, so the renames in it survive a crash (once for many files)."""
    with _storage_errors():
        _fsync_dir(folder)


@contextmanager
def _storage_errors() -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if exc.errno in STORAGE_ERRNOS:
            raise StorageError(str(exc)) from exc
        raise


def _fsync_dir(folder: Path) -> None:
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some platforms cannot open folders; the rename is still atomic
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
