"""The digest schema's migrations: a database made by an older release is brought up to date
in place, and a fresh one is made at the current shape, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from digest.claims.schema import claims
from digest.runtime import migrations
from ingest.db import migrate, open_database

# The claims table as releases before the learned detector made it (schema version 2).
_V2_CLAIMS = """
CREATE TABLE claims (
    id INTEGER PRIMARY KEY, document_id INTEGER NOT NULL, version VARCHAR(40) NOT NULL,
    kind VARCHAR(10) NOT NULL, quote TEXT NOT NULL, start_offset INTEGER NOT NULL,
    end_offset INTEGER NOT NULL, topics TEXT NOT NULL, type VARCHAR(20) NOT NULL,
    hedged BOOLEAN NOT NULL, negated BOOLEAN NOT NULL, evidence TEXT NOT NULL,
    group_id INTEGER NOT NULL
)"""


def _columns(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return {c["name"] for c in sa.inspect(engine).get_columns("claims")}
    finally:
        engine.dispose()


def _upgrade_a_version_2_database(url: str) -> None:
    db = open_database(url)
    try:
        migrate(db, migrations.COMPONENT, migrations.MIGRATIONS[:0])  # creates the version table
        with db.write() as conn:
            conn.exec_driver_sql(_V2_CLAIMS)
            conn.exec_driver_sql(
                "INSERT INTO claims VALUES (1, 1, 'rules-2025.1', 'claim', 'q', 0, 1, "
                "'massage', 'efficacy', false, false, '', 1)"
            )
            conn.exec_driver_sql(
                "INSERT INTO schema_version (component, version) VALUES ('digest', 2)"
            )
        assert migrate(db, migrations.COMPONENT, migrations.MIGRATIONS) == 4
        with db.read() as conn:
            rows = conn.execute(sa.select(claims.c.id, claims.c.confidence))
            assert [tuple(row) for row in rows] == [(1, 1.0)]  # older claims: confidence 1
        assert migrate(db, migrations.COMPONENT, migrations.MIGRATIONS) == 4  # again: nothing to do
    finally:
        db.dispose()


def test_a_version_2_sqlite_database_gains_the_confidence_column(tmp_path: Path) -> None:
    _upgrade_a_version_2_database(f"sqlite:///{tmp_path / 'old.db'}")


@pytest.mark.postgres
def test_a_version_2_postgres_database_gains_the_confidence_column(pg_url: str) -> None:
    _upgrade_a_version_2_database(pg_url)


def test_a_fresh_database_has_the_current_shape(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    db = open_database(url)
    try:
        migrate(db, migrations.COMPONENT, migrations.MIGRATIONS)
    finally:
        db.dispose()
    assert "confidence" in _columns(url)
