"""Reading a test's SQLite database directly, to check what a command recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa


def db_rows(folder: Path, query: str, *, database: str = "data/cw.db") -> list[tuple[Any, ...]]:
    """The rows of `query` over `folder/database` (the `write_config` fixture's layout)."""
    engine = sa.create_engine(f"sqlite:///{folder / database}")
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.exec_driver_sql(query)]
    finally:
        engine.dispose()
