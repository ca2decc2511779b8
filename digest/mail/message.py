"""A rendered digest as an e-mail message: multipart/alternative (text, then HTML) with list
headers, and the Message-ID that is the same however often a message is built.

Pure: no I/O. Does not send (`smtp`) nor decide what to send (`delivery`).

Exceptions, raised only for bad input from our own code or configuration:

    MailError
     └── InvalidHeaderError     an address, Message-ID, List-Id or unsubscribe value that
                                is not a single clean header value
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr
from typing import Final

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
class Letterhead:
    """What every digest message carries besides its content: sender and list headers."""

    sender: str
    list_id: str
    unsubscribe: str | None  # a mailto: (or https:) URL for List-Unsubscribe

    @property
    def domain(self) -> str:
        """The sender's domain, which names the Message-IDs ("localhost" without one)."""
        return parseaddr(self.sender)[1].rpartition("@")[2] or "localhost"


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
    letterhead: Letterhead,
    *,
    recipient: str,
    message_id: str,
    date: datetime,
) -> EmailMessage:
    """A multipart/alternative message (text, then HTML) with list headers (RFC 2369, 2919)."""
    message = EmailMessage()
    message["From"] = checked_address("From", letterhead.sender)
    message["To"] = checked_address("To", recipient)
    message["Subject"] = clean_text(rendered.subject, SUBJECT_LIMIT)
    message["Date"] = format_datetime(checked_date(date))
    message["Message-ID"] = checked_line("Message-ID", message_id, r"<[^<>@\s]+@[^<>@\s]+>")
    list_id = checked_line("List-Id", letterhead.list_id, r"(?:[^<>]*\s)?<[^<>\s]+\.[^<>\s]+>")
    message["List-Id"] = list_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to digests
    add_unsubscribe(message, letterhead.unsubscribe)
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
