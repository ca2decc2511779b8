"""The tables only the distributed mode uses (PostgreSQL; component "queue"): the host gate, the
corpus counter and the documents waiting to be numbered. Declarations and their migrations.

Declarations only: no connections, no queries. Created by the composition root only when
`queue:` is configured; the single-machine modes never touch them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ingest.db import Migration
from ingest.schema import UtcDateTime, documents, pages, sources

metadata = sa.MetaData()

# One row per host ever fetched: when the last request to it was allowed to start, by the
# database clock (so that the workers' clocks do not matter), and until when the jobs that
# found it busy have been told to come back (each gets the next slot, so they do not all
# wake at once).
host_gate = sa.Table(
    "host_gate",
    metadata,
    sa.Column("host", sa.Text, primary_key=True),
    sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("retry_until", sa.DateTime(timezone=True), nullable=False),
)

# One row: the next corpus number. Locked (FOR UPDATE) by the transaction that numbers
# documents, so numbering is one serial stage whichever worker runs it. Not a sequence:
# sequences are not gapless.
corpus_counter = sa.Table(
    "corpus_counter",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),  # always 1
    sa.Column("next_seq", sa.Integer, nullable=False),
)

# An extracted article waiting for the numbering stage (one per page; deleted when numbered).
staged_documents = sa.Table(
    "staged_documents",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),  # staging order = numbering order
    sa.Column("page_id", sa.Integer, sa.ForeignKey(pages.c.id), nullable=False, unique=True),
    sa.Column("source_id", sa.Integer, sa.ForeignKey(sources.c.id), nullable=False),
    sa.Column("hash", sa.String(16), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("final_url", sa.Text, nullable=False),
    sa.Column("title", sa.Text),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("published", UtcDateTime),
    sa.Column("staged_at", UtcDateTime, nullable=False),
)


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn)
    # The counter starts where the corpus is (a database the single-machine mode filled).
    start = sa.select(sa.literal(1), sa.func.coalesce(sa.func.max(documents.c.seq) + 1, 0))
    conn.execute(corpus_counter.insert().from_select(["id", "next_seq"], start))


MIGRATIONS: tuple[Migration, ...] = (_create_v1,)
COMPONENT = "queue"
