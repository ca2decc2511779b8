"""What an ingest pass shows a person: a rich progress display on a terminal (plain log lines
otherwise), and the closing summary table per source.

Presentation only: reads reports, changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from ingest.reports import IngestReport, PageStatus, SourceReport

STATUS_LABELS = {"not_modified": "unchanged"}


class IngestProgress:
    """An `ingest.reports.Observer` that drives a progress display when enabled."""

    def __init__(self, *, enabled: bool) -> None:
        self._progress = (
            Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TextColumn("{task.completed} pages"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            if enabled
            else None
        )
        self._task: TaskID | None = None

    def __enter__(self) -> IngestProgress:
        if self._progress is not None:
            self._progress.start()
            self._task = self._progress.add_task("starting", total=None)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def source_started(self, name: str, url: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=f"{name}: {url}")

    def page_done(self, name: str, url: str, status: PageStatus, detail: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=1, description=f"{name}: {url}")

    def source_done(self, report: SourceReport) -> None:
        pass

    @staticmethod
    def print_summary(report: IngestReport, corpus_dir: Path) -> None:
        console = Console()
        table = Table(title="ingest summary", title_justify="left")
        for column in (
            "source",
            "status",
            "entries",
            "new docs",
            "duplicates",
            "skipped",
            "errors",
        ):
            table.add_column(column, justify="left" if column in ("source", "status") else "right")
        for s in report.sources:
            table.add_row(
                s.name,
                STATUS_LABELS.get(s.status, s.status),
                str(s.entries_seen),
                str(len(s.new_documents)),
                str(s.duplicates),
                str(s.skipped),
                str(s.errors),
            )
        console.print(table)
        added = len(report.new_documents)
        console.print(
            f"{added} new document{'s' if added != 1 else ''} in {corpus_dir}"
            if added
            else f"Nothing new: no documents added; corpus unchanged in {corpus_dir}"
        )
        for s in report.failed:
            console.print(f"[red]failed[/red] {s.name}: {s.error}", markup=True, highlight=False)
