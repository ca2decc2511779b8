"""The database edge: an SQLAlchemy 2 Core engine for SQLite (the embedded default: WAL, a busy
timeout, write transactions that take the lock up front) or PostgreSQL, through the same code,
and a small versioned-migration runner.

Holds no module-level state; the `Database` value is built by the composition root.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from ingest.errors import StorageError

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000


@dataclass(frozen=True, slots=True)
class Database:
    engine: Engine
    # One writer per process: threads queue here instead of in SQLite's busy handler, whose
    # sleeps (up to 100 ms each) would stall a busy pass. Other processes still meet at
    # BEGIN IMMEDIATE and the busy timeout.
    _writer: threading.RLock = field(default_factory=threading.RLock, compare=False)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction; on SQLite it takes the write lock at BEGIN (IMMEDIATE)."""
        with storage_errors(), self._writer, self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction that never takes the write lock."""
        with storage_errors(), self.engine.connect() as conn:
            conn = conn.execution_options(claimwatch_read_only=True)
            with conn.begin():
                yield conn

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def storage_errors() -> Iterator[None]:
    """The database failing under us (SQLite: full, locked past the busy timeout, an I/O
    error, a file it cannot open; PostgreSQL: the connection lost), wrapped once, here, as
    `StorageError`. Anything else the database raises is a bug in our SQL and propagates."""
    try:
        yield
    except OperationalError as exc:
        raise StorageError(str(exc.orig)) from exc


def open_database(url: str, *, application_name: str | None = None) -> Database:
    """Create the engine (and the SQLite file's folder); migrations are run separately.
    `application_name` names the connections in PostgreSQL's `pg_stat_activity`."""
    sa_url = sa.make_url(url)
    if sa_url.get_backend_name() == "sqlite":
        return Database(_sqlite_engine(sa_url))
    connect_args = {"application_name": application_name} if application_name else {}
    engine = sa.create_engine(sa_url, pool_pre_ping=True, connect_args=connect_args)
    return Database(engine)


def _sqlite_engine(url: sa.URL) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read_only = conn.get_execution_options().get("claimwatch_read_only", False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


# ---------------------------------------------------------------------------------------------
# Migrations: each component (ingest, digest) keeps its own numbered list of steps.

Migration = Callable[[Connection], None]


def schema_version_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "schema_version",
        metadata,
        sa.Column("component", sa.String(50), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
    )


# pg_advisory_lock key held while migrating: workers started together migrate one at a time.
MIGRATION_LOCK = 0x6D696772617465  # "migrate"


@contextmanager
def migration_lock(db: Database) -> Iterator[None]:
    """Hold PostgreSQL's session advisory lock for migrations (nothing on SQLite, whose
    write transactions already take the database lock)."""
    if db.is_sqlite:
        yield
        return
    with storage_errors(), db.engine.connect() as conn:
        conn.execute(sa.select(sa.func.pg_advisory_lock(MIGRATION_LOCK)))
        conn.commit()
        try:
            yield
        finally:
            conn.execute(sa.select(sa.func.pg_advisory_unlock(MIGRATION_LOCK)))
            conn.commit()


def migrate(db: Database, component: str, steps: Sequence[Migration]) -> int:
    """Apply the steps of `component` not yet applied, each in its own transaction, and
    return the version reached. Running it again does nothing."""
    versions = schema_version_table(sa.MetaData())
    with db.write() as conn:
        versions.create(conn, checkfirst=True)
    current = _current_version(db, versions, component)
    if current > len(steps):
        raise RuntimeError(
            f"database schema of {component} is version {current}, newer than this "
            f"claimwatch knows ({len(steps)}): upgrade claimwatch"
        )
    for number, step in enumerate(steps[current:], start=current + 1):
        with db.write() as conn:
            step(conn)
            _set_version(conn, versions, component, number)
        log.info("migrated %s schema to version %d", component, number)
    return len(steps)


def _current_version(db: Database, versions: sa.Table, component: str) -> int:
    with db.read() as conn:
        row = conn.execute(
            sa.select(versions.c.version).where(versions.c.component == component)
        ).first()
    return int(row[0]) if row else 0


def _set_version(conn: Connection, versions: sa.Table, component: str, number: int) -> None:
    updated = conn.execute(
        versions.update().where(versions.c.component == component).values(version=number)
    )
    if updated.rowcount == 0:
        conn.execute(versions.insert().values(component=component, version=number))
