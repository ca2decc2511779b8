"""The `claimwatch` command: parses arguments, configures logging, loads the settings, builds
the App and calls one service function. Exit codes: 0 ok; 1 ran but some sources failed;
2 configuration or usage error; 3 delivery failed.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

from digest.claims import store as claimstore
from digest.compose import compiler
from digest.runtime import service
from digest.runtime.app import open_app, prepare_database
from digest.runtime.daemon import run_daemon
from digest.runtime.lock import WRITER_LOCK, LockBusy, held, lock_dir
from digest.runtime.logs import configure_logging
from digest.runtime.progress import IngestProgress
from digest.runtime.settings import Settings, config_path, load_settings
from digest.runtime.status import print_status
from ingest import verify
from ingest.errors import ConfigError, StorageError
from ingest.reports import IngestReport

log = logging.getLogger(__name__)

EXIT_OK, EXIT_SOURCES_FAILED, EXIT_CONFIG, EXIT_DELIVERY = 0, 1, 2, 3


def parse_since(value: str) -> datetime:
    """YYYY-MM-DD or an ISO 8601 time; naive values are taken as UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
        return EXIT_CONFIG
    handlers: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
        "check-config": run_check_config,
        "ingest": run_ingest,
        "claims": run_claims,
        "digest": run_digest,
        "status": run_status,
        "run": run_daemon_command,
        "verify": run_verify,
    }
    if args.command in WRITING_COMMANDS or getattr(args, "repair", False):
        try:
            with writer_lock(settings, f"claimwatch {args.command}"):
                return run_handler(handlers[args.command], settings, args)
        except LockBusy as exc:
            print(f"claimwatch: gave up waiting for the writer lock: {exc}", file=sys.stderr)
            return EXIT_CONFIG
    return run_handler(handlers[args.command], settings, args)


def run_handler(
    handler: Callable[[Settings, argparse.Namespace], int],
    settings: Settings,
    args: argparse.Namespace,
) -> int:
    """Run one command; storage that stops working under it (a full disk or database, a lock
    held past the busy timeout, an I/O error) ends it with one line and exit code 1. What was
    committed stays; a file whose row was refused is removed (see `ingest.documents`)."""
    try:
        return handler(settings, args)
    except StorageError as exc:
        print(f"claimwatch: {args.command} stopped: storage failed: {exc}", file=sys.stderr)
        return EXIT_SOURCES_FAILED


WRITING_COMMANDS = frozenset({"ingest", "claims", "digest"})
LOCK_WAIT_S = 600.0


def writer_lock(settings: Settings, holder: str) -> AbstractContextManager[None]:
    """The lock the daemon's jobs also take: a one-shot command waits (saying so) while the
    daemon is in the middle of a job, for up to ten minutes."""
    path = lock_dir(settings.database_url, settings.corpus_dir) / WRITER_LOCK

    def tell(holder_text: str) -> None:
        print(
            f"claimwatch: waiting for {holder_text or 'another process'} to finish…",
            file=sys.stderr,
        )

    return held(path, holder, wait_s=LOCK_WAIT_S, on_wait=tell)


def run_daemon_command(settings: Settings, args: argparse.Namespace) -> int:
    return run_daemon(config_path(args.config), settings)


def _check_source_name(settings: Settings, name: str | None) -> None:
    if name is not None and name not in {s.name for s in settings.sources}:
        raise ConfigError(f"--source: no source named {name!r} in the configuration")


def run_check_config(settings: Settings, args: argparse.Namespace) -> int:
    print(f"{config_path(args.config)}: OK ({len(settings.sources)} sources)")
    return EXIT_OK


def run_ingest(settings: Settings, args: argparse.Namespace) -> int:
    show_progress = not args.json and sys.stderr.isatty()
    with open_app(settings) as app, IngestProgress(enabled=show_progress) as progress:
        report = service.ingest(app, only=args.source, observer=progress)
    if args.json:
        print(json.dumps(report_json(report, settings.corpus_dir), indent=2))
    else:
        IngestProgress.print_summary(report, settings.corpus_dir)
    return EXIT_SOURCES_FAILED if report.failed else EXIT_OK


def run_claims(settings: Settings, args: argparse.Namespace) -> int:
    with open_app(settings) as app:
        report = service.extract_claims(app, redo_all=args.all)
        if args.format == "jsonl":
            with app.db.read() as conn:
                for row in claimstore.claim_rows(conn, since=args.since):
                    print(json.dumps(claim_json(row), ensure_ascii=False))
            return EXIT_OK
    print(
        f"{report.documents} documents read: {report.claims} claims, {report.anecdotes} anecdotes"
    )
    for failure in report.failures:
        print(f"error: {failure}", file=sys.stderr)
    return EXIT_OK


def run_digest(settings: Settings, args: argparse.Namespace) -> int:
    with open_app(settings) as app:
        if args.dry_run:
            service.extract_claims(app)
            page = compiler.dry_run(app, Path(args.dry_run))
            print(f"dry run: rendered {page} (and .txt); nothing recorded, nothing sent")
            return EXIT_OK
        result, delivery = service.digest(app, send_email=not args.no_email)
    if result.key is None:
        print("no new claims since the previous digest: no digest made")
    else:
        print(f"digest {result.key}: {result.claims} claims; page {result.page}")
    print(f"archive: {settings.html_dir / 'index.html'}")
    print(
        f"mail: {delivery.sent} sent, {delivery.postponed} to retry later, {delivery.failed} failed"
    )
    for problem in delivery.problems:
        print(f"  {problem}", file=sys.stderr)
    if delivery.configuration_problem:
        return EXIT_CONFIG
    return EXIT_DELIVERY if delivery.failed or delivery.postponed else EXIT_OK


def run_status(settings: Settings, args: argparse.Namespace) -> int:
    with open_app(settings) as app:
        print_status(app)
    return EXIT_OK


def run_verify(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 when files and rows agree (after any repair), 1 when problems remain."""
    db = prepare_database(settings)
    try:
        result = verify.verify_corpus(db, settings.corpus_dir, repair=args.repair)
    finally:
        db.dispose()
    for line in verify_lines(result):
        print(line)
    return EXIT_OK if result.clean else EXIT_SOURCES_FAILED


def verify_lines(result: verify.Verification) -> list[str]:
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


def claim_json(row: claimstore.ClaimRow) -> dict[str, object]:
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
