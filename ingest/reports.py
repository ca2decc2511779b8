"""The typed outcome of an ingest pass, per page, per source and in all, and the observer that
hears about progress (progress bars, logs, metrics). Values only: no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

PageStatus = Literal["stored", "duplicate", "skipped", "failed", "retry"]
SourceStatus = Literal["ok", "not_modified", "failed", "disabled"]


class Observer(Protocol):
    """Hears about progress (progress bars, logs, metrics). Must not raise."""

    def source_started(self, name: str, url: str) -> None: ...
    def page_done(self, name: str, url: str, status: PageStatus, detail: str) -> None: ...
    def source_done(self, report: SourceReport) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class PageOutcome:
    status: PageStatus
    detail: str = ""
    document_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceReport:
    name: str
    status: SourceStatus
    url: str
    entries_seen: int = 0
    new_entries: int = 0
    new_documents: tuple[int, ...] = ()
    duplicates: int = 0
    skipped: int = 0
    errors: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestReport:
    started_at: datetime
    finished_at: datetime
    sources: tuple[SourceReport, ...] = field(default_factory=tuple)

    @property
    def failed(self) -> tuple[SourceReport, ...]:
        return tuple(s for s in self.sources if s.status == "failed")

    @property
    def new_documents(self) -> tuple[int, ...]:
        return tuple(doc for s in self.sources for doc in s.new_documents)


class SilentObserver:
    """The observer used when none is given."""

    def source_started(self, name: str, url: str) -> None:
        pass

    def page_done(self, name: str, url: str, status: PageStatus, detail: str) -> None:
        pass

    def source_done(self, report: SourceReport) -> None:
        pass
