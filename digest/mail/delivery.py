"""Delivering digests from the outbox: every due pending delivery is built into a message from
the digest's stored content and handed to the mailer; the outcome moves the row to sent,
failed, or a later attempt. A row is marked sent only after the server accepted the message.

Given a `DeliveryContext`, never the App. The SMTP conversation itself is `smtp`; this module
only decides what to do with its outcomes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Literal, Protocol

from sqlalchemy.engine import Connection

from digest.compose import outbox
from digest.compose.model import RenderedDigest
from digest.mail.message import Letterhead, build_message
from digest.mail.smtp import (
    Accepted,
    ConfigurationFailure,
    DeliveryOutcome,
    PermanentFailure,
    TemporaryFailure,
)
from ingest.db import Database

log = logging.getLogger(__name__)

Result = Literal["sent", "postponed", "failed"]


class Mailer(Protocol):
    """Sends one message; whatever happens comes back as an outcome, never an exception."""

    def send(self, message: EmailMessage) -> DeliveryOutcome: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryContext:
    """What delivering is given; built by the composition root."""

    db: Database
    mailer: Mailer
    letterhead: Letterhead
    retry_backoff: timedelta  # doubles per failed attempt (at most outbox.MAX_BACKOFF)
    clock: Callable[[], datetime]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryProblem:
    """A delivery that did not go through this time, and what the mailer said."""

    recipient: str
    outcome: TemporaryFailure | PermanentFailure | ConfigurationFailure

    def __str__(self) -> str:
        return f"{self.recipient}: {describe(self.outcome)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReport:
    sent: int = 0
    postponed: int = 0
    failed: int = 0
    problems: tuple[DeliveryProblem, ...] = ()

    @property
    def configuration_problem(self) -> bool:
        """Whether a problem was our SMTP settings (exit code 2, not 3)."""
        return any(isinstance(p.outcome, ConfigurationFailure) for p in self.problems)


def send_due(ctx: DeliveryContext) -> DeliveryReport:
    """Try every pending delivery whose time has come, once."""
    with ctx.db.read() as conn:
        due = outbox.due_deliveries(conn, ctx.clock())
    counts: dict[Result, int] = {"sent": 0, "postponed": 0, "failed": 0}
    problems: list[DeliveryProblem] = []
    for delivery in due:
        outcome = ctx.mailer.send(_message(delivery, ctx.letterhead))
        counts[_record(ctx, delivery, outcome)] += 1
        if not isinstance(outcome, Accepted):
            problems.append(DeliveryProblem(recipient=delivery.recipient, outcome=outcome))
    return DeliveryReport(
        sent=counts["sent"],
        postponed=counts["postponed"],
        failed=counts["failed"],
        problems=tuple(problems),
    )


def send_claimed(ctx: DeliveryContext) -> DeliveryReport:
    """Every due delivery, each claimed by this process alone (the distributed mode's delivery
    job): a transaction takes one row (`outbox.claim_due_delivery`), sends it and records the
    outcome before it lets the row go, so two senders never mail one row. A crash after the
    server accepted and before the commit resends that message (same Message-ID)."""
    counts: dict[Result, int] = {"sent": 0, "postponed": 0, "failed": 0}
    problems: list[DeliveryProblem] = []
    while True:
        with ctx.db.write() as conn:
            delivery = outbox.claim_due_delivery(conn, ctx.clock())
            if delivery is None:
                break
            outcome = ctx.mailer.send(_message(delivery, ctx.letterhead))
            counts[_record_in(conn, ctx, delivery, outcome)] += 1
        if not isinstance(outcome, Accepted):
            problems.append(DeliveryProblem(recipient=delivery.recipient, outcome=outcome))
    return DeliveryReport(
        sent=counts["sent"],
        postponed=counts["postponed"],
        failed=counts["failed"],
        problems=tuple(problems),
    )


def _message(delivery: outbox.PendingDelivery, letterhead: Letterhead) -> EmailMessage:
    digest = delivery.digest
    return build_message(
        RenderedDigest(subject=digest.subject, html=digest.html, text=digest.text),
        letterhead,
        recipient=delivery.recipient,
        message_id=delivery.message_id,
        date=digest.created_at,
    )


def _record(
    ctx: DeliveryContext, delivery: outbox.PendingDelivery, outcome: DeliveryOutcome
) -> Result:
    with ctx.db.write() as conn:
        return _record_in(conn, ctx, delivery, outcome)


def _record_in(
    conn: Connection,
    ctx: DeliveryContext,
    delivery: outbox.PendingDelivery,
    outcome: DeliveryOutcome,
) -> Result:
    now = ctx.clock()
    key, to = delivery.digest.key, delivery.recipient
    if isinstance(outcome, Accepted):
        outbox.mark_sent(conn, delivery.id, now)
        log.info("digest %s sent to %s", key, to)
        return "sent"
    if isinstance(outcome, PermanentFailure):
        outbox.mark_failed(conn, delivery.id, describe(outcome))
        log.error("digest %s to %s failed: %s", key, to, describe(outcome))
        return "failed"
    retry_at = outbox.postpone(conn, delivery, describe(outcome), now, ctx.retry_backoff)
    log.warning(
        "digest %s to %s not sent (%s); next attempt after %s",
        key,
        to,
        describe(outcome),
        retry_at.isoformat(timespec="seconds"),
    )
    return "postponed"


def describe(outcome: DeliveryOutcome) -> str:
    if isinstance(outcome, PermanentFailure):
        return f"permanent failure {outcome.code}: {outcome.reason}"
    if isinstance(outcome, TemporaryFailure):
        return f"temporary failure: {outcome.reason}"
    if isinstance(outcome, ConfigurationFailure):
        return f"configuration problem: {outcome.reason}"
    return "accepted"
