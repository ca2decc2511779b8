"""The mail edge: build a digest message and send it over SMTP, reporting the outcome as data.

`build_message` and `make_message_id` are pure. `send_message` is the only I/O: one SMTP
session per call, no module-level connections or state. Does not decide what to send or
when to retry (the outbox does, from the outcome).

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

Exceptions, raised only for bad input from our own code or configuration:

    MailError
     └── InvalidHeaderError     an address, Message-ID, List-Id or unsubscribe value that
                                is not a single clean header value
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from pathlib import Path
from typing import Final, Literal

from digest.compose.model import RenderedDigest, is_digest_key
from digest.compose.render import clean_text

SUBJECT_LIMIT: Final = 200  # well under the 998-octet line limit once RFC 2047-encoded
_HOST_RE: Final = re.compile(r"\A[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?\Z")
_HEADER_BAD_RE: Final = re.compile(r"[\x00-\x1f\x7f]")


class MailError(Exception):
    """Base of the mail exceptions (bad input from our own code or configuration)."""


class InvalidHeaderError(MailError, ValueError):
    """A header value that is not one clean line of the expected shape."""

    def __init__(self, header: str, value: str) -> None:
        super().__init__(f"invalid {header} header value: {value!r}")
        self.header = header
        self.value = value


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


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpSettings:
    """How to reach the SMTP server. Credentials are never stored here, only the names of the
    environment variables that hold them (both or neither)."""

    host: str
    port: int
    security: Literal["none", "starttls", "ssl"] = "starttls"
    username_env: str | None = None
    password_env: str | None = None
    timeout_s: float = 30.0
    ca_file: Path | None = None  # trust this CA (PEM) instead of the system's

    def __post_init__(self) -> None:
        if (self.username_env is None) != (self.password_env is None):
            raise ValueError("SMTP username_env and password_env must be given together")


def make_message_id(digest_key: str, recipient: str, domain: str) -> str:
    """`<claimwatch.{key}.{sha256(recipient)[:16]}@{domain}>`: the same for a digest and
    recipient however often it is built, so a resend is recognisable as the same message."""
    if not is_digest_key(digest_key):
        raise InvalidHeaderError("Message-ID", digest_key)
    if not _HOST_RE.match(domain):
        raise InvalidHeaderError("Message-ID", domain)
    tag = hashlib.sha256(recipient.strip().lower().encode("utf-8")).hexdigest()[:16]
    return f"<claimwatch.{digest_key}.{tag}@{domain}>"


def build_message(
    rendered: RenderedDigest,
    *,
    sender: str,
    recipient: str,
    message_id: str,
    list_id: str,
    unsubscribe: str | None,
    date: datetime,
) -> EmailMessage:
    """A multipart/alternative message (text, then HTML) with list headers (RFC 2369, 2919)."""
    message = EmailMessage()
    message["From"] = checked_address("From", sender)
    message["To"] = checked_address("To", recipient)
    message["Subject"] = clean_text(rendered.subject, SUBJECT_LIMIT)
    message["Date"] = format_datetime(checked_date(date))
    message["Message-ID"] = checked_line("Message-ID", message_id, r"<[^<>@\s]+@[^<>@\s]+>")
    message["List-Id"] = checked_line("List-Id", list_id, r"(?:[^<>]*\s)?<[^<>\s]+\.[^<>\s]+>")
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to digests
    add_unsubscribe(message, unsubscribe)
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def checked_line(header: str, value: str, pattern: str) -> str:
    """`value` if it is one line matching `pattern` exactly, else InvalidHeaderError."""
    if _HEADER_BAD_RE.search(value) or not re.fullmatch(pattern, value):
        raise InvalidHeaderError(header, value)
    return value


def checked_address(header: str, value: str) -> str:
    """`value` if it holds exactly one plausible address (`a@b` or `Name <a@b>`)."""
    parsed = getaddresses([value]) if not _HEADER_BAD_RE.search(value) else []
    if len(parsed) != 1 or "@" not in parsed[0][1]:
        raise InvalidHeaderError(header, value)
    return value


def checked_date(date: datetime) -> datetime:
    """`date` if it has a time zone (a mail Date must say its offset)."""
    if date.tzinfo is None or date.utcoffset() is None:
        raise InvalidHeaderError("Date", repr(date))
    return date


def add_unsubscribe(message: EmailMessage, unsubscribe: str | None) -> None:
    """List-Unsubscribe for a mailto: address (or a bare one); for an https URL also
    List-Unsubscribe-Post, since RFC 8058 one-click only works over HTTPS POST."""
    if unsubscribe is None:
        return
    target = unsubscribe if ":" in unsubscribe else f"mailto:{unsubscribe}"
    pattern = r"(?:mailto:[^<>\s@]+@[^<>\s@]+|https://[^<>\s]+)"
    message["List-Unsubscribe"] = f"<{checked_line('List-Unsubscribe', target, pattern)}>"
    if target.startswith("https://"):
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"


def send_message(
    message: EmailMessage, settings: SmtpSettings, *, environ: Mapping[str, str]
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
    settings: SmtpSettings, environ: Mapping[str, str]
) -> tuple[str, str] | ConfigurationFailure | None:
    """(username, password) from the environment, None without login, or why not."""
    if settings.username_env is None or settings.password_env is None:
        return None
    missing = [n for n in (settings.username_env, settings.password_env) if not environ.get(n)]
    if missing:
        return ConfigurationFailure(reason=f"SMTP credentials missing: set {', '.join(missing)}")
    return environ[settings.username_env], environ[settings.password_env]


def open_session(settings: SmtpSettings, context: ssl.SSLContext | None) -> smtplib.SMTP:
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


def tls_context(settings: SmtpSettings) -> ssl.SSLContext | ConfigurationFailure | None:
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
