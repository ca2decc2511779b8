"""Delivering digests from the outbox: every due pending delivery is built into a message from
the digest's stored content and sent; the outcome moves the row to sent, failed, or a later
attempt. A row is marked sent only after the server accepted the message.

The SMTP conversation itself is `digest.mail`; this module only decides what to do with its
outcomes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

from digest.compose import outbox
from digest.compose.model import RenderedDigest
from digest.mail.smtp import (
    Accepted,
    ConfigurationFailure,
    DeliveryOutcome,
    PermanentFailure,
    SmtpSettings,
    TemporaryFailure,
    build_message,
    send_message,
)
from digest.runtime.app import App
from digest.runtime.settings import EmailConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReport:
    sent: int = 0
    postponed: int = 0
    failed: int = 0
    problems: tuple[str, ...] = ()
    configuration_problem: bool = False


def smtp_settings(email: EmailConfig) -> SmtpSettings:
    smtp = email.smtp
    return SmtpSettings(
        host=smtp.host,
        port=smtp.port,
        security=smtp.security,
        username_env=smtp.username_env,
        password_env=smtp.password_env,
        timeout_s=smtp.timeout_s,
        ca_file=smtp.ca_file,
    )


def send_due(app: App, environ: Mapping[str, str] | None = None) -> DeliveryReport:
    """Try every pending delivery whose time has come, once."""
    email = app.settings.digest.email
    settings = smtp_settings(email)
    now = app.clock()
    with app.db.read() as conn:
        due = outbox.due_deliveries(conn, now)
    counts = {"sent": 0, "postponed": 0, "failed": 0}
    problems: list[str] = []
    config_problem = False
    for delivery in due:
        outcome = send_message(
            _message(delivery, email), settings, environ=os.environ if environ is None else environ
        )
        result = _record(app, delivery, outcome, email.retry_backoff)
        counts[result] += 1
        if not isinstance(outcome, Accepted):
            problems.append(f"{delivery.recipient}: {_describe(outcome)}")
            config_problem = config_problem or isinstance(outcome, ConfigurationFailure)
    return DeliveryReport(
        sent=counts["sent"],
        postponed=counts["postponed"],
        failed=counts["failed"],
        problems=tuple(problems),
        configuration_problem=config_problem,
    )


def _message(delivery: outbox.PendingDelivery, email: EmailConfig) -> EmailMessage:
    digest = delivery.digest
    return build_message(
        RenderedDigest(subject=digest.subject, html=digest.html, text=digest.text),
        sender=email.from_,
        recipient=delivery.recipient,
        message_id=delivery.message_id,
        list_id=email.list_id,
        unsubscribe=email.unsubscribe,
        date=digest.created_at,
    )


def _record(
    app: App,
    delivery: outbox.PendingDelivery,
    outcome: DeliveryOutcome,
    backoff: timedelta,
) -> str:
    now = app.clock()
    with app.db.write() as conn:
        if isinstance(outcome, Accepted):
            outbox.mark_sent(conn, delivery.id, now)
            log.info("digest %s sent to %s", delivery.digest.key, delivery.recipient)
            return "sent"
        if isinstance(outcome, PermanentFailure):
            outbox.mark_failed(conn, delivery.id, _describe(outcome))
            log.error(
                "digest %s to %s failed: %s",
                delivery.digest.key,
                delivery.recipient,
                _describe(outcome),
            )
            return "failed"
        retry_at = outbox.postpone(conn, delivery, _describe(outcome), now, backoff)
    log.warning(
        "digest %s to %s not sent (%s); next attempt after %s",
        delivery.digest.key,
        delivery.recipient,
        _describe(outcome),
        retry_at.isoformat(timespec="seconds"),
    )
    return "postponed"


def _describe(outcome: DeliveryOutcome) -> str:
    if isinstance(outcome, PermanentFailure):
        return f"permanent failure {outcome.code}: {outcome.reason}"
    if isinstance(outcome, TemporaryFailure):
        return f"temporary failure: {outcome.reason}"
    if isinstance(outcome, ConfigurationFailure):
        return f"configuration problem: {outcome.reason}"
    return "accepted"
