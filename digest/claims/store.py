"""Storing and reading claims: one extraction per document and extractor version, groups
kept across runs, and the rows behind `claimwatch claims --format jsonl`.

Each function runs inside a transaction the caller holds. Does not find claims.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.selectable import NamedFromClause

from digest.claims.claim import CLAIM_TYPES, EVIDENCE, KINDS, ClaimType, Evidence, Kind
from digest.claims.finder import Claim
from digest.claims.grouping import ClaimIndex
from digest.claims.schema import claim_state, claims
from ingest.schema import documents, sources

L = TypeVar("L", bound=str)


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentRef:
    id: int
    seq: int
    file: str
    hash16: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimRow:
    """A stored claim with its document: one line of the JSONL export."""

    id: int
    kind: Kind
    quote: str
    start: int
    end: int
    topics: tuple[str, ...]
    type: ClaimType
    hedged: bool
    negated: bool
    evidence: tuple[Evidence, ...]
    confidence: float
    group: int
    file: str
    seq: int
    hash: str
    url: str
    title: str
    published: datetime | None
    first_seen_at: datetime
    source: str


def documents_needing_claims(
    conn: Connection, version: str, *, redo_all: bool = False
) -> list[DocumentRef]:
    """Documents with no claims yet, or claims from another extractor version; in seq order."""
    query = sa.select(documents.c.id, documents.c.seq, documents.c.file, documents.c.hash)
    if not redo_all:
        query = query.outerjoin(claim_state, claim_state.c.document_id == documents.c.id).where(
            sa.or_(claim_state.c.version.is_(None), claim_state.c.version != version)
        )
    return [
        DocumentRef(id=r.id, seq=r.seq, file=r.file, hash16=r.hash)
        for r in conn.execute(query.order_by(documents.c.seq))
    ]


def load_index(conn: Connection, exclude: Sequence[int] = ()) -> ClaimIndex:
    """The grouping index of every stored claim (except those of `exclude` documents), each
    with the group it was given when stored."""
    index = ClaimIndex()
    skip = frozenset(exclude)  # filtered here: a NOT IN list can exceed a backend's parameters
    query = sa.select(claims.c.id, claims.c.quote, claims.c.group_id, claims.c.document_id).where(
        claims.c.kind == "claim"
    )
    for row in conn.execute(query.order_by(claims.c.id)):
        if row.document_id not in skip:
            index.restore(row.id, row.quote, row.group_id)
    return index


def replace_claims(
    conn: Connection,
    document_id: int,
    found: Sequence[Claim],
    *,
    version: str,
    index: ClaimIndex,
    now: datetime,
) -> int:
    """Store the claims found in one document (dropping older ones) and mark it done.
    A few statements per document, not two per claim: the rows go in together, and each
    takes its own id as its group unless the index puts it in an older one."""
    conn.execute(claims.delete().where(claims.c.document_id == document_id))
    if found:
        inserted = conn.execute(
            claims.insert().returning(claims.c.id, sort_by_parameter_order=True),
            [_row(claim, document_id, version) for claim in found],
        )
        ids = [int(row.id) for row in inserted]
        joined = [
            {"claim": claim_id, "group": group}
            for claim_id, claim in zip(ids, found, strict=True)
            if claim.kind == "claim" and (group := index.add(claim_id, claim.quote)) != claim_id
        ]
        if joined:
            conn.execute(
                claims.update()
                .where(claims.c.id == sa.bindparam("claim"))
                .values(group_id=sa.bindparam("group")),
                joined,
            )
        conn.execute(
            claims.update()
            .where(claims.c.document_id == document_id, claims.c.group_id == 0)
            .values(group_id=claims.c.id)
        )
    conn.execute(claim_state.delete().where(claim_state.c.document_id == document_id))
    conn.execute(
        claim_state.insert().values(
            document_id=document_id, version=version, extracted_at=now, claims=len(found)
        )
    )
    return len(found)


def _row(claim: Claim, document_id: int, version: str) -> dict[str, object]:
    return {
        "document_id": document_id,
        "version": version,
        "kind": claim.kind,
        "quote": claim.quote,
        "start_offset": claim.start,
        "end_offset": claim.end,
        "topics": " ".join(claim.topics),
        "type": claim.type,
        "hedged": claim.hedged,
        "negated": claim.negated,
        "evidence": " ".join(sorted(claim.evidence)),
        "confidence": claim.confidence,
        "group_id": 0,  # set right after, once the row has its id
    }


def _with_documents() -> sa.Select[Any]:
    """Claims joined with their documents and source names: what a ClaimRow is built from."""
    return sa.select(claims, documents, sources.c.name.label("source_name")).select_from(
        claims.join(documents, documents.c.id == claims.c.document_id).join(
            sources, sources.c.id == documents.c.source_id
        )
    )


def claim_rows(conn: Connection, *, since: datetime | None = None) -> Iterator[ClaimRow]:
    """Every stored claim and anecdote with its document, in corpus order; with `since`,
    only those of documents that entered the corpus since then."""
    query = _with_documents().order_by(documents.c.seq, claims.c.start_offset)
    if since is not None:
        query = query.where(documents.c.first_seen_at >= since)
    for row in conn.execute(query).mappings():
        yield _claim_row(row)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimRef:
    """Just enough of a stored claim to choose what a digest shows."""

    id: int
    group: int
    evidence: int  # how many evidence cues
    confidence: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimWindow:
    """The claims (not anecdotes) a digest carries: those of documents numbered in
    (after_seq, up_to_seq] that entered since `since` (None: whenever)."""

    since: datetime | None
    after_seq: int
    up_to_seq: int


def _in_window(window: ClaimWindow, *columns: Any, of: NamedFromClause = claims) -> sa.Select[Any]:
    query = (
        sa.select(*columns)
        .select_from(of.join(documents, documents.c.id == of.c.document_id))
        .where(
            of.c.kind == "claim",
            documents.c.seq > window.after_seq,
            documents.c.seq <= window.up_to_seq,
        )
    )
    if window.since is not None:
        query = query.where(documents.c.first_seen_at >= window.since)
    return query


def claim_refs(conn: Connection, window: ClaimWindow) -> list[ClaimRef]:
    """The window's claims, in corpus order."""
    columns = (claims.c.id, claims.c.group_id, claims.c.evidence, claims.c.confidence)
    query = _in_window(window, *columns).order_by(documents.c.seq, claims.c.start_offset)
    return [
        ClaimRef(
            id=row.id,
            group=row.group_id,
            evidence=len(row.evidence.split()),
            confidence=row.confidence,
        )
        for row in conn.execute(query)
    ]


def claim_ids_in(window: ClaimWindow, *leading: Any) -> sa.Select[Any]:
    """A query of the window's claim ids, after the `leading` columns: for a caller that
    records them in the database itself (at 100,000 claims, sending the ids back row by row
    took most of a second)."""
    return _in_window(window, *leading, claims.c.id)


def claim_rows_by_id(conn: Connection, ids: Sequence[int]) -> list[ClaimRow]:
    """Full rows of the given claims, in corpus order (ids in batches, as for group sizes)."""
    rows: list[ClaimRow] = []
    wanted = list(ids)
    for start in range(0, len(wanted), IN_BATCH):
        query = _with_documents().where(claims.c.id.in_(wanted[start : start + IN_BATCH]))
        rows.extend(_claim_row(row) for row in conn.execute(query).mappings())
    return sorted(rows, key=lambda row: (row.seq, row.start))


def _claim_row(row: sa.RowMapping) -> ClaimRow:
    return ClaimRow(
        id=row[claims.c.id],
        kind=_checked(row["kind"], _KINDS),
        quote=row["quote"],
        start=row["start_offset"],
        end=row["end_offset"],
        topics=tuple(row["topics"].split()),
        type=_checked(row["type"], _TYPES),
        hedged=row["hedged"],
        negated=row["negated"],
        evidence=tuple(_checked(cue, _CUES) for cue in row["evidence"].split()),
        confidence=row["confidence"],
        group=row["group_id"],
        file=row["file"],
        seq=row["seq"],
        hash=row["hash"],
        url=row["url"],
        title=row["title"],
        published=row["published"],
        first_seen_at=row["first_seen_at"],
        source=row["source_name"],
    )


# The stored words as the `Literal`s they were written from.
_KINDS: Final[Mapping[str, Kind]] = {word: word for word in KINDS}
_TYPES: Final[Mapping[str, ClaimType]] = {word: word for word in CLAIM_TYPES}
_CUES: Final[Mapping[str, Evidence]] = {word: word for word in EVIDENCE}


def _checked(value: str, vocabulary: Mapping[str, L]) -> L:
    """Rows hold only what the finder wrote, so a word outside its vocabulary is a damaged
    database: refused, never shown as something else."""
    try:
        return vocabulary[value]
    except KeyError:
        raise ValueError(f"claims table: {value!r} is not one of {sorted(vocabulary)}") from None


def count_claims(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(claims)).scalar_one())


def group_sizes(conn: Connection, window: ClaimWindow) -> dict[int, int]:
    """How many distinct documents carry each group that has a claim in the window (one
    query: the groups are chosen in the database, not sent to it as a list of ids)."""
    mine = claims.alias("mine")
    groups = _in_window(window, mine.c.group_id, of=mine)
    query = (
        sa.select(claims.c.group_id, sa.func.count(sa.distinct(claims.c.document_id)))
        .where(claims.c.group_id.in_(groups), claims.c.kind == "claim")
        .group_by(claims.c.group_id)
    )
    return {int(g): int(n) for g, n in conn.execute(query)}


IN_BATCH = 10_000


# --- for the distributed mode's claims and digest jobs -----------------------------------------


def has_claims(conn: Connection, document_id: int, version: str) -> bool:
    """Whether the document's claims were found by this extractor version."""
    query = sa.select(claim_state.c.version).where(claim_state.c.document_id == document_id)
    return conn.execute(query).scalar() == version


def claims_done_through(conn: Connection, version: str) -> int:
    """The largest seq up to which every document has its claims from `version` (-1: none):
    what a digest may carry without passing over a document whose claims are still to come."""
    missing = (
        sa.select(sa.func.min(documents.c.seq))
        .select_from(documents.outerjoin(claim_state, claim_state.c.document_id == documents.c.id))
        .where(sa.or_(claim_state.c.version.is_(None), claim_state.c.version != version))
    )
    first_missing = conn.execute(missing).scalar()
    if first_missing is not None:
        return int(first_missing) - 1
    last = conn.execute(sa.select(sa.func.max(documents.c.seq))).scalar()
    return -1 if last is None else int(last)


def claims_after(conn: Connection, after_id: int) -> list[tuple[int, str, int]]:
    """(id, quote, group) of the claims (not anecdotes) stored after claim `after_id`."""
    query = (
        sa.select(claims.c.id, claims.c.quote, claims.c.group_id)
        .where(claims.c.kind == "claim", claims.c.id > after_id)
        .order_by(claims.c.id)
    )
    return [(int(row.id), row.quote, int(row.group_id)) for row in conn.execute(query)]


def count_claims_through(conn: Connection, last_id: int) -> int:
    """How many claims (not anecdotes) with ids up to `last_id` are stored."""
    query = sa.select(sa.func.count()).where(claims.c.kind == "claim", claims.c.id <= last_id)
    return int(conn.execute(query).scalar_one())
