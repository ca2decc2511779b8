"""The `claimwatch` command: parses arguments, configures logging, loads the settings, opens
the App (the composition root) and calls the service layer, under the writer lock for the
commands that write; prints what came back. Exit codes: `exits.ExitCode`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from digest.runtime import service
from digest.runtime.app import App, open_app
from digest.runtime.daemon import run_daemon
from digest.runtime.engine import QUEUES
from digest.runtime.exits import ExitCode
from digest.runtime.lock import LockBusy, for_seconds, held
from digest.runtime.logs import configure_logging
from digest.runtime.progress import IngestProgress
from digest.runtime.settings import Settings, config_path, load_settings
from digest.runtime.status import print_status
from ingest.errors import ConfigError, StorageError
from ingest.reports import IngestReport

log = logging.getLogger(__name__)

LOCK_WAIT_S = 600.0  # a one-shot command waits this long for a daemon's job to finish


def parse_since(value: str) -> datetime:
    """YYYY-MM-DD or an ISO 8601 time; naive values are taken as UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_queues(value: str) -> tuple[str, ...]:
    queues = tuple(q.strip() for q in value.split(",") if q.strip())
    unknown = sorted(set(queues) - set(QUEUES))
    if unknown or not queues:
        raise argparse.ArgumentTypeError(
            f"unknown queue {', '.join(unknown) or '(none given)'}: one of {', '.join(QUEUES)}"
        )
    return queues


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="claimwatch", description="Watch health-article feeds; report new claims."
    )
    parser.add_argument(
        "--config", help="configuration file (default: $CLAIMWATCH_CONFIG or ./sources.yaml)"
    )
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every step")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    ingest = commands.add_parser("ingest", help="one pass over all enabled sources")
    ingest.add_argument("--source", metavar="NAME", help="only this source")
    ingest.add_argument("--json", action="store_true", help="print the summary as JSON")
    claims = commands.add_parser("claims", help="extract claims for new documents; list them")
    claims.add_argument("--all", action="store_true", help="re-extract every document")
    claims.add_argument("--format", choices=("summary", "jsonl"), default="summary")
    claims.add_argument(
        "--since", type=parse_since, metavar="DATE", help="only documents that entered since DATE"
    )
    digest = commands.add_parser("digest", help="compile, archive and mail the next digest")
    digest.add_argument(
        "--dry-run",
        nargs="?",
        const="digest-dry-run",
        metavar="DIR",
        help="render into DIR (default ./digest-dry-run) and record nothing",
    )
    digest.add_argument("--no-email", action="store_true", help="archive only, mail nobody")
    commands.add_parser("run", help="the daemon: poll sources and send digests on schedule")
    worker = commands.add_parser("worker", help="distributed mode: run queued jobs")
    worker.add_argument(
        "--queues",
        type=parse_queues,
        default=QUEUES,
        metavar="Q,Q",
        help=f"only these queues (default: all: {','.join(QUEUES)})",
    )
    worker.add_argument("--concurrency", type=int, metavar="N", help="jobs at once (threads)")
    worker.add_argument(
        "--burst", action="store_true", help="exit once no job waits or runs on its queues"
    )
    schedule = commands.add_parser("schedule", help="distributed mode: queue due polls, digests")
    schedule.add_argument("--once", action="store_true", help="queue what is due now and exit")
    commands.add_parser("status", help="sources, corpus, digests and outbox at a glance")
    commands.add_parser("check-config", help="validate the configuration and exit")
    check = commands.add_parser("verify", help="check that corpus files and documents agree")
    check.add_argument(
        "--repair",
        action="store_true",
        help="remove temporary files and files of interrupted writes; report the rest",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_format, logging.DEBUG if args.verbose else logging.INFO)
    try:
        settings = load_settings(config_path(args.config))
        _check_source_name(settings, getattr(args, "source", None))
    except ConfigError as exc:
        print(f"claimwatch: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    if args.command == "check-config":
        print(f"{config_path(args.config)}: OK ({len(settings.sources)} sources)")
        return ExitCode.OK
    problem = _mode_problem(settings, args.command)
    if problem:
        print(f"claimwatch: {args.command}: {problem}", file=sys.stderr)
        return ExitCode.USAGE
    if args.command == "run":
        return run_daemon(config_path(args.config), settings)
    if args.command in ("worker", "schedule"):
        return _run_distributed(settings, args)
    return run_command(COMMANDS[args.command], settings, args)


def _mode_problem(settings: Settings, command: str) -> str | None:
    """Why the command cannot run in the configured mode, if it cannot."""
    if command in ("worker", "schedule") and settings.queue is None:
        return (
            "the distributed mode is off: configure `queue: {engine: procrastinate}` with a "
            "PostgreSQL storage.database (see README, 'Scaling past one machine')"
        )
    if command in ("ingest", "run") and settings.queue is not None:
        return (
            "queue: is configured, so documents are numbered by the workers' numbering stage; "
            "use `claimwatch schedule` and `claimwatch worker` (or remove queue:)"
        )
    return None


def _run_distributed(settings: Settings, args: argparse.Namespace) -> ExitCode:
    # Imported here: Procrastinate (the `queue` extra) only where the queue is used.
    from digest.runtime.scheduler import run_scheduler
    from digest.runtime.worker import WorkerOptions, run_worker

    try:
        if args.command == "schedule":
            return run_scheduler(settings, once=args.once)
        options = WorkerOptions(queues=args.queues, concurrency=args.concurrency, burst=args.burst)
        return run_worker(settings, options)
    except StorageError as exc:
        print(f"claimwatch: {args.command} stopped: storage failed: {exc}", file=sys.stderr)
        return ExitCode.FAILED


Command = Callable[[App, argparse.Namespace], ExitCode]


def run_command(command: Command, settings: Settings, args: argparse.Namespace) -> ExitCode:
    """Run one command on a fresh App, under the writer lock when it writes. Storage that
    stops working under it (a full disk or database, a lock held past the busy timeout, an
    I/O error) ends it with one line and exit code 1: what was committed stays, and a corpus
    file whose row was refused is removed (see `ingest.documents`)."""
    try:
        with open_app(settings) as app:
            if not _writes(args):
                return command(app, args)
            holder = f"claimwatch {args.command}"
            wait = for_seconds(LOCK_WAIT_S)
            with held(app.locks.writer, holder, wait=wait, on_wait=_tell_waiting):
                return command(app, args)
    except StorageError as exc:
        print(f"claimwatch: {args.command} stopped: storage failed: {exc}", file=sys.stderr)
        return ExitCode.FAILED
    except LockBusy as exc:
        print(f"claimwatch: gave up waiting for the writer lock: {exc}", file=sys.stderr)
        return ExitCode.USAGE


def _writes(args: argparse.Namespace) -> bool:
    return args.command in ("ingest", "claims", "digest") or bool(getattr(args, "repair", False))


def _tell_waiting(holder: str) -> None:
    """A one-shot command waits for the writer lock while the daemon is in the middle of a
    job (for up to ten minutes), and says what it waits for."""
    print(f"claimwatch: waiting for {holder or 'another process'} to finish…", file=sys.stderr)


def _check_source_name(settings: Settings, name: str | None) -> None:
    if name is not None and name not in {s.name for s in settings.sources}:
        raise ConfigError(f"--source: no source named {name!r} in the configuration")


def run_ingest(app: App, args: argparse.Namespace) -> ExitCode:
    show_progress = not args.json and sys.stderr.isatty()
    with IngestProgress(enabled=show_progress) as progress:
        report = service.ingest(app, only=args.source, observer=progress)
    corpus_dir = app.settings.corpus_dir
    if args.json:
        print(json.dumps(report_json(report, corpus_dir), indent=2))
    else:
        IngestProgress.print_summary(report, corpus_dir)
    return ExitCode.FAILED if report.failed else ExitCode.OK


def run_claims(app: App, args: argparse.Namespace) -> ExitCode:
    report = service.extract_claims(app, redo_all=args.all)
    if args.format == "jsonl":
        for row in service.claim_rows(app, since=args.since):
            print(json.dumps(claim_json(row), ensure_ascii=False))
        return ExitCode.OK
    print(
        f"{report.documents} documents read: {report.claims} claims, {report.anecdotes} anecdotes"
    )
    for failure in report.failures:
        print(f"error: {failure}", file=sys.stderr)
    return ExitCode.OK


def run_digest(app: App, args: argparse.Namespace) -> ExitCode:
    if args.dry_run:
        page = service.preview(app, Path(args.dry_run))
        print(f"dry run: rendered {page} (and .txt); nothing recorded, nothing sent")
        return ExitCode.OK
    report = service.digest(app, send_email=not args.no_email)
    made, delivery = report.made, report.delivery
    if made.key is None:
        print("no new claims since the previous digest: no digest made")
    else:
        print(f"digest {made.key}: {made.claims} claims; page {made.page}")
    print(f"archive: {app.settings.html_dir / 'index.html'}")
    print(
        f"mail: {delivery.sent} sent, {delivery.postponed} to retry later, {delivery.failed} failed"
    )
    for problem in delivery.problems:
        print(f"  {problem}", file=sys.stderr)
    if delivery.configuration_problem:
        return ExitCode.USAGE
    return ExitCode.DELIVERY if delivery.failed or delivery.postponed else ExitCode.OK


def run_status(app: App, args: argparse.Namespace) -> ExitCode:
    print_status(service.status(app), app.settings.sources, app.settings.corpus_dir)
    return ExitCode.OK


def run_verify(app: App, args: argparse.Namespace) -> ExitCode:
    """Exit 0 when files and rows agree (after any repair), 1 when problems remain."""
    result = service.verify_corpus(app, repair=args.repair)
    for line in verify_lines(result):
        print(line)
    return ExitCode.OK if result.clean else ExitCode.FAILED


COMMANDS: dict[str, Command] = {
    "ingest": run_ingest,
    "claims": run_claims,
    "digest": run_digest,
    "status": run_status,
    "verify": run_verify,
}


def verify_lines(result: service.Verification) -> list[str]:
    """One line per finding ("removed" or "problem"), then a summary line."""
    gone = {f.name for f in result.removed}
    lines = [
        f"{'removed' if f.name in gone else 'problem'}: {f.name}: {f.kind}: {f.detail}"
        for f in result.findings
    ]
    state = "clean" if result.clean else f"{len(result.remaining)} problems remain"
    if result.removed:
        state += f" ({len(result.removed)} files removed)"
    lines.append(f"verify: {result.files} files, {result.rows} documents: {state}")
    return lines


def claim_json(row: service.ClaimRow) -> dict[str, object]:
    return {
        "quote": row.quote,
        "start": row.start,
        "end": row.end,
        "file": row.file,
        "seq": row.seq,
        "hash": row.hash,
        "url": row.url,
        "title": row.title,
        "published": row.published.isoformat() if row.published else None,
        "first_seen": row.first_seen_at.isoformat(),
        "source": row.source,
        "topics": list(row.topics),
        "type": row.type,
        "hedged": row.hedged,
        "negated": row.negated,
        "evidence": list(row.evidence),
        "confidence": row.confidence,
        "group": row.group,
        "kind": row.kind,
        "id": row.id,
    }


def report_json(report: IngestReport, corpus_dir: Path) -> dict[str, object]:
    return {
        "started_at": report.started_at.isoformat(),
        "finished_at": report.finished_at.isoformat(),
        "corpus_dir": str(corpus_dir),
        "new_documents": len(report.new_documents),
        "failed": [s.name for s in report.failed],
        "sources": [
            {
                "name": s.name,
                "status": s.status,
                "url": s.url,
                "entries_seen": s.entries_seen,
                "new_entries": s.new_entries,
                "new_documents": len(s.new_documents),
                "duplicates": s.duplicates,
                "skipped": s.skipped,
                "errors": s.errors,
                "error": s.error,
            }
            for s in report.sources
        ],
    }
