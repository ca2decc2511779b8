"""Deciding what a digest carries: the window after the previous digest (or the first-run
setting), claims collapsed by group with "also in N", and the failures to report.

Pure: no I/O. The compiler reads the rows and hands them in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from digest.claims.store import ClaimRef, ClaimRow, ClaimWindow
from digest.compose.model import Digest, DigestItem, SourceFailure
from ingest.config import parse_duration
from ingest.store import ErrorRecord


def window_for(
    *, previous_watermark: int | None, first_run: str, now: datetime, max_seq: int
) -> ClaimWindow:
    """The claims the next digest carries: those of documents after the previous digest's
    watermark, or on a first run as `first_run` says (all, none, or entered in a duration
    back from now); up to the last document stored (`max_seq`)."""
    if previous_watermark is not None:
        return ClaimWindow(
            since=None, after_seq=previous_watermark, up_to_seq=max(max_seq, previous_watermark)
        )
    if first_run == "all":
        return ClaimWindow(since=None, after_seq=-1, up_to_seq=max_seq)
    if first_run == "none":
        return ClaimWindow(since=now, after_seq=max_seq, up_to_seq=max_seq)
    return ClaimWindow(since=now - parse_duration(first_run), after_seq=-1, up_to_seq=max_seq)


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice:
    shown: tuple[int, ...]  # claim ids to show, one per group, in corpus order
    carried: tuple[int, ...]  # every claim id the digest accounts for
    omitted: int  # groups not shown (over the limit)


def choose_claims(
    refs: Sequence[ClaimRef], documents_per_group: dict[int, int], limit: int
) -> Choice:
    """One claim per group (its first in corpus order); at most `limit` of them, the most
    repeated first, then the surest (the detector's confidence), then those resting on
    evidence (a digest of 70,000 claims helps no reader and takes seconds to build)."""
    firsts: dict[int, int] = {}
    for index, ref in enumerate(refs):
        firsts.setdefault(ref.group, index)
    order = sorted(
        firsts.values(),
        key=lambda i: (
            -documents_per_group.get(refs[i].group, 1),
            -refs[i].confidence,
            -refs[i].evidence,
            i,
        ),
    )
    shown = tuple(refs[i].id for i in sorted(order[:limit]))
    return Choice(
        shown=shown,
        carried=tuple(ref.id for ref in refs),
        omitted=max(0, len(firsts) - limit),
    )


def digest_items(
    rows: Sequence[ClaimRow], documents_per_group: dict[int, int]
) -> tuple[DigestItem, ...]:
    """The shown claims as digest items, the surest first (corpus order among equals)."""
    ordered = sorted(rows, key=lambda row: -row.confidence)
    return tuple(to_item(row, documents_per_group.get(row.group, 1) - 1) for row in ordered)


def to_item(row: ClaimRow, also_in: int) -> DigestItem:
    return DigestItem(
        quote=row.quote,
        doc_title=row.title,
        url=row.url,
        source=row.source,
        published=row.published or row.first_seen_at,
        type=row.type,
        hedged=row.hedged,
        negated=row.negated,
        evidence=row.evidence,
        also_in=max(0, also_in),
    )


def source_failures(records: Sequence[ErrorRecord]) -> tuple[SourceFailure, ...]:
    """One line per (source, kind): how often, the last time, the last URL and message."""
    counts: Counter[tuple[str, str]] = Counter()
    last: dict[tuple[str, str], ErrorRecord] = {}
    for record in records:
        key = (record.source or "(corpus)", record.kind)
        counts[key] += 1
        last[key] = record
    return tuple(
        SourceFailure(
            source=key[0],
            url=rec.url,
            kind=rec.kind,
            message=rec.message,
            last_at=rec.at,
            count=counts[key],
        )
        for key, rec in sorted(last.items())
    )


def assemble(
    *,
    key: str,
    created_at: datetime,
    since: datetime | None,
    topics: tuple[str, ...],
    items: tuple[DigestItem, ...],
    failures: tuple[SourceFailure, ...],
    omitted: int = 0,
) -> Digest:
    return Digest(
        key=key,
        created_at=created_at,
        since=since,
        topics=topics,
        items=items,
        failures=failures,
        article_count=len({item.url for item in items}),
        source_count=len({item.source for item in items}),
        omitted=omitted,
    )
