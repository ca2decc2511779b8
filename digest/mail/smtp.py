"""The SMTP edge: send one message in one session and report the outcome as data; the
mailer the composition root builds from `digest.email.smtp`, and those settings.

`send_message` is the only I/O: one SMTP session per call, no module-level connections or
state. Does not build messages (`message`) nor decide what to send or when to retry
(`delivery` does, from the outcome).

Outcomes of `send_message` (a value, never an exception, for anything the network does):

    DeliveryOutcome
     ├── Accepted               the server took the message (250 after DATA)
     ├── TemporaryFailure       retry later: refused/reset/timed-out connection, TLS error,
     │                          disconnect (even after DATA), any 4xx reply
     ├── PermanentFailure       do not retry this message: a 5xx reply (for refused
     │                          recipients, the code given for our recipient)
     └── ConfigurationFailure   our settings are wrong: credentials missing from the
                                environment or rejected (5xx to AUTH), STARTTLS or AUTH not
                                offered by the server, certificate not trusted. Keep the
                                message; it will go once the settings are fixed.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from ingest.config import StrictModel


@dataclass(frozen=True, slots=True, kw_only=True)
class Accepted:
    """The server accepted the message."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TemporaryFailure:
    """Delivery failed in a way that may pass: retry later."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PermanentFailure:
    """The server refused the message for good (5xx); `code` is its reply code."""

    code: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigurationFailure:
    """Our SMTP settings or credentials are wrong; nothing was sent."""

    reason: str


DeliveryOutcome = Accepted | TemporaryFailure | PermanentFailure | ConfigurationFailure


class SmtpConfig(StrictModel):
    """How to reach the SMTP server (`digest.email.smtp`). Credentials are never held here,
    only the names of the environment variables that hold them (both or neither)."""

    host: str = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] = "starttls"
    username_env: str | None = None  # name of the env var holding the login, never the login
    password_env: str | None = None
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    ca_file: Path | None = None  # PEM file of a private CA to trust instead of the system's

    @model_validator(mode="after")
    def _login_names_together(self) -> SmtpConfig:
        if (self.username_env is None) != (self.password_env is None):
            raise ValueError("username_env and password_env must be given together")
        return self


class SmtpMailer:
    """Sends each message in its own SMTP session, with the login read from `environ` at
    send time (so a fixed environment takes effect without a restart)."""

    def __init__(self, config: SmtpConfig, environ: Mapping[str, str]) -> None:
        self.config = config
        self._environ = environ

    def send(self, message: EmailMessage) -> DeliveryOutcome:
        return send_message(message, self.config, environ=self._environ)


def send_message(
    message: EmailMessage, settings: SmtpConfig, *, environ: Mapping[str, str]
) -> DeliveryOutcome:
    """Send one message in one SMTP session; classify whatever happens as an outcome.

    Credentials come only from the environment variables named in `settings`. A STARTTLS
    setting never falls back to plain text: a server that does not offer STARTTLS gives a
    ConfigurationFailure (it may be misconfigured, or someone may be stripping the offer).
    """
    credentials = read_credentials(settings, environ)
    if isinstance(credentials, ConfigurationFailure):
        return credentials
    context = tls_context(settings)
    if isinstance(context, ConfigurationFailure):
        return context
    try:
        with closing(open_session(settings, context)) as session:
            if credentials is not None:
                session.login(*credentials)
            session.send_message(message)
            close_quietly(session)
    except (smtplib.SMTPException, OSError) as exc:
        return classify(exc, message)
    return Accepted()


def read_credentials(
    settings: SmtpConfig, environ: Mapping[str, str]
) -> tuple[str, str] | ConfigurationFailure | None:
    """(username, password) from the environment, None without login, or why not."""
    if settings.username_env is None or settings.password_env is None:
        return None
    missing = [n for n in (settings.username_env, settings.password_env) if not environ.get(n)]
    if missing:
        return ConfigurationFailure(reason=f"SMTP credentials missing: set {', '.join(missing)}")
    return environ[settings.username_env], environ[settings.password_env]


def open_session(settings: SmtpConfig, context: ssl.SSLContext | None) -> smtplib.SMTP:
    """A connected SMTP session, encrypted as the settings ask, EHLO done."""
    timeout = settings.timeout_s
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout, context=context)
    session = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
    try:
        session.ehlo()
        if settings.security == "starttls":
            session.starttls(context=context)
            session.ehlo()
    except BaseException:
        session.close()
        raise
    return session


def tls_context(settings: SmtpConfig) -> ssl.SSLContext | ConfigurationFailure | None:
    """Certificate and host name verified, against `ca_file` when given; None without TLS."""
    if settings.security == "none":
        return None
    try:
        return ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file else None
        )
    except (OSError, ssl.SSLError) as exc:  # SSLError: a ca_file that is not PEM certificates
        return ConfigurationFailure(reason=f"cannot load SMTP ca_file {settings.ca_file}: {exc}")


def close_quietly(session: smtplib.SMTP) -> None:
    """QUIT after the message was accepted; a failure here does not undo the delivery."""
    try:
        session.quit()
    except (smtplib.SMTPException, OSError):
        session.close()


def classify(exc: smtplib.SMTPException | OSError, message: EmailMessage) -> DeliveryOutcome:
    """The outcome an SMTP or network error stands for (see the module docstring)."""
    match exc:
        case smtplib.SMTPNotSupportedError():
            return ConfigurationFailure(reason=f"server does not support it: {exc}")
        case smtplib.SMTPRecipientsRefused():
            return refused_recipient(exc, str(message["To"]))
        case smtplib.SMTPAuthenticationError() if 500 <= exc.smtp_code < 600:
            return ConfigurationFailure(
                reason=f"SMTP login rejected: {exc.smtp_code} {reply_text(exc)}"
            )
        case smtplib.SMTPResponseException():
            return by_code(exc.smtp_code, reply_text(exc))
        case ssl.SSLCertVerificationError():
            return ConfigurationFailure(reason=f"TLS certificate not trusted: {exc}")
        case _:  # disconnects, refused/reset connections, timeouts, DNS and TLS errors
            return TemporaryFailure(reason=f"{type(exc).__name__}: {exc}")


def refused_recipient(exc: smtplib.SMTPRecipientsRefused, to: str) -> DeliveryOutcome:
    """The outcome for our recipient's refusal (the first refusal if it is not listed)."""
    replies = exc.recipients
    address = getaddresses([to])[0][1]
    code, text = replies.get(address) or next(iter(replies.values()), (550, b"refused"))
    return by_code(code, text.decode("utf-8", "replace") if isinstance(text, bytes) else text)


def by_code(code: int, reason: str) -> DeliveryOutcome:
    """5xx is permanent; 4xx and anything odd (a reply code of -1 means a broken reply) is
    temporary."""
    if 500 <= code < 600:
        return PermanentFailure(code=code, reason=reason)
    return TemporaryFailure(reason=f"{code} {reason}")


def reply_text(exc: smtplib.SMTPResponseException) -> str:
    """The server's reply text, decoded."""
    error = exc.smtp_error
    return error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
