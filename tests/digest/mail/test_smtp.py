"""The mail edge against a real SMTP server on 127.0.0.1 (aiosmtpd): headers and parts as
received, each failure classified, STARTTLS/SSL, and credentials taken from the environment."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from support.ports import free_port

from digest.compose.model import RenderedDigest
from digest.mail.message import InvalidHeaderError, Letterhead, build_message, make_message_id
from digest.mail.smtp import (
    Accepted,
    ConfigurationFailure,
    PermanentFailure,
    SmtpConfig,
    TemporaryFailure,
    send_message,
)

SENDER = "claimwatch <digest@claims.example.org>"
RECIPIENT = "reader@example.net"
DATE = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
RENDERED = RenderedDigest(
    subject="2 new massage & back-pain claims — 23 Nov 2026",
    html="<html><body><p>Massage helps — “quoted”</p></body></html>",
    text="Massage helps — “quoted”\n",
)
ENV_USER, ENV_PASS = "CW_TEST_SMTP_USER", "CW_TEST_SMTP_PASS"


def message(**changes: Any) -> EmailMessage:
    values: dict[str, Any] = {
        "sender": SENDER,
        "recipient": RECIPIENT,
        "message_id": make_message_id("2026-11-23-0800", RECIPIENT, "claims.example.org"),
        "list_id": "claimwatch digest <digest.claims.example.org>",
        "unsubscribe": "mailto:unsubscribe@claims.example.org",
        "date": DATE,
    }
    values.update(changes)
    rendered = values.pop("rendered", RENDERED)
    letterhead = Letterhead(
        sender=values.pop("sender"),
        list_id=values.pop("list_id"),
        unsubscribe=values.pop("unsubscribe"),
    )
    return build_message(rendered, letterhead, **values)


# --- servers -------------------------------------------------------------------------


@dataclass
class Recorder:
    """Accepts everything and keeps what it received."""

    envelopes: list[Envelope] = field(default_factory=list)
    logins: list[LoginPassword] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 2.0.0 OK"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        self.logins.append(data)
        ok = isinstance(data, LoginPassword) and data.password == b"s3cret"
        # handled=False: let aiosmtpd answer 535 itself on failure.
        return AuthResult(success=ok, handled=False)


@dataclass
class ReplyToData(Recorder):
    """Answers DATA with a fixed reply."""

    reply: str = "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return self.reply


@dataclass
class RefuseRecipient(Recorder):
    reply: str = "550 5.1.1 no such user"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        return self.reply


class DisconnectAfterData(Recorder):
    """Drops the connection once the message is in, before any reply to DATA."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(server.transport, asyncio.Transport)
        server.transport.abort()
        return "250 OK"  # never reaches the client


@contextmanager
def smtp_server(handler: Recorder, **kwargs: Any) -> Iterator[int]:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def settings(port: int, **changes: Any) -> SmtpConfig:
    values: dict[str, Any] = {"host": "127.0.0.1", "port": port, "security": "none"}
    values["timeout_s"] = 5.0
    values.update(changes)
    return SmtpConfig(**values)


def received(handler: Recorder) -> EmailMessage:
    (envelope,) = handler.envelopes
    assert isinstance(envelope.original_content, bytes)
    parsed = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
    assert isinstance(parsed, EmailMessage)
    return parsed


# --- delivery --------------------------------------------------------------------------


def test_message_arrives_with_both_parts_and_headers() -> None:
    handler = Recorder()
    with smtp_server(handler) as port:
        outcome = send_message(message(), settings(port), environ={})
    assert outcome == Accepted()
    (envelope,) = handler.envelopes
    assert envelope.mail_from == "digest@claims.example.org"
    assert envelope.rcpt_tos == [RECIPIENT]
    got = received(handler)
    assert got.get_content_type() == "multipart/alternative"
    parts = list(got.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    contents = [p.get_content().replace("\r\n", "\n") for p in parts]
    assert contents == [RENDERED.text, RENDERED.html + "\n"]
    assert got["From"] == SENDER
    assert got["To"] == RECIPIENT
    assert got["Subject"] == RENDERED.subject
    assert got["Date"] == "Mon, 23 Nov 2026 08:00:00 +0000"
    assert got["Message-ID"] == make_message_id("2026-11-23-0800", RECIPIENT, "claims.example.org")
    assert got["List-Id"] == "claimwatch digest <digest.claims.example.org>"
    assert got["List-Unsubscribe"] == "<mailto:unsubscribe@claims.example.org>"
    assert got["List-Unsubscribe-Post"] is None  # one-click needs an https URL
    assert got["Auto-Submitted"] == "auto-generated"


def test_server_down_is_temporary() -> None:
    outcome = send_message(message(), settings(free_port()), environ={})
    assert isinstance(outcome, TemporaryFailure)
    assert "ConnectionRefusedError" in outcome.reason


def test_server_that_never_greets_times_out_as_temporary() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        outcome = send_message(message(), settings(port, timeout_s=0.3), environ={})
    assert isinstance(outcome, TemporaryFailure)
    assert "timed out" in outcome.reason


def test_451_after_data_is_temporary() -> None:
    with smtp_server(ReplyToData(reply="451 4.3.0 try again later")) as port:
        outcome = send_message(message(), settings(port), environ={})
    assert outcome == TemporaryFailure(reason="451 4.3.0 try again later")


def test_550_after_data_is_permanent_with_its_code() -> None:
    with smtp_server(ReplyToData(reply="550 5.7.1 message rejected")) as port:
        outcome = send_message(message(), settings(port), environ={})
    assert outcome == PermanentFailure(code=550, reason="5.7.1 message rejected")


def test_refused_recipient_uses_the_recipients_code() -> None:
    with smtp_server(RefuseRecipient()) as port:
        outcome = send_message(message(), settings(port), environ={})
    assert outcome == PermanentFailure(code=550, reason="5.1.1 no such user")


def test_recipient_refused_with_4xx_is_temporary() -> None:
    with smtp_server(RefuseRecipient(reply="450 4.2.1 mailbox busy")) as port:
        outcome = send_message(message(), settings(port), environ={})
    assert outcome == TemporaryFailure(reason="450 4.2.1 mailbox busy")


def test_disconnect_after_data_is_temporary() -> None:
    with smtp_server(DisconnectAfterData()) as port:
        outcome = send_message(message(), settings(port), environ={})
    assert isinstance(outcome, TemporaryFailure)
    assert "SMTPServerDisconnected" in outcome.reason


# --- credentials ----------------------------------------------------------------------


def test_login_uses_the_credentials_from_the_environment() -> None:
    handler = Recorder()
    environ = {ENV_USER: "digest-bot", ENV_PASS: "s3cret"}
    # Plain-text AUTH is allowed here on purpose: a test server on loopback.
    with smtp_server(handler, authenticator=handler.authenticate, auth_require_tls=False) as port:
        config = settings(port, username_env=ENV_USER, password_env=ENV_PASS)
        outcome = send_message(message(), config, environ=environ)
    assert outcome == Accepted()
    assert handler.logins == [LoginPassword(login=b"digest-bot", password=b"s3cret")]
    assert len(handler.envelopes) == 1


def test_rejected_login_is_a_configuration_failure() -> None:
    handler = Recorder()
    environ = {ENV_USER: "digest-bot", ENV_PASS: "wrong"}
    with smtp_server(handler, authenticator=handler.authenticate, auth_require_tls=False) as port:
        config = settings(port, username_env=ENV_USER, password_env=ENV_PASS)
        outcome = send_message(message(), config, environ=environ)
    assert isinstance(outcome, ConfigurationFailure)
    assert "535" in outcome.reason
    assert handler.envelopes == []


def test_missing_credentials_fail_before_connecting() -> None:
    config = settings(free_port(), username_env=ENV_USER, password_env=ENV_PASS)
    outcome = send_message(message(), config, environ={ENV_USER: "digest-bot"})
    assert outcome == ConfigurationFailure(reason=f"SMTP credentials missing: set {ENV_PASS}")


def test_login_when_the_server_offers_no_auth_is_a_configuration_failure() -> None:
    handler = Recorder()
    environ = {ENV_USER: "digest-bot", ENV_PASS: "s3cret"}
    # aiosmtpd's default auth_require_tls=True hides AUTH on a plain-text connection.
    with smtp_server(handler, authenticator=handler.authenticate) as port:
        config = settings(port, username_env=ENV_USER, password_env=ENV_PASS)
        outcome = send_message(message(), config, environ=environ)
    assert isinstance(outcome, ConfigurationFailure)
    assert "AUTH" in outcome.reason
    assert handler.logins == []
    assert handler.envelopes == []


def test_username_and_password_variables_come_together() -> None:
    with pytest.raises(ValueError, match="together"):
        SmtpConfig(host="h", port=25, username_env=ENV_USER)


# --- TLS ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl command not available to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def test_starttls_with_login(certificate: tuple[Path, Path]) -> None:
    handler = Recorder()
    tls = server_context(certificate)
    environ = {ENV_USER: "digest-bot", ENV_PASS: "s3cret"}
    with smtp_server(
        handler, tls_context=tls, require_starttls=True, authenticator=handler.authenticate
    ) as port:
        config = settings(
            port,
            security="starttls",
            ca_file=certificate[0],
            username_env=ENV_USER,
            password_env=ENV_PASS,
        )
        outcome = send_message(message(), config, environ=environ)
    assert outcome == Accepted()
    assert handler.logins == [LoginPassword(login=b"digest-bot", password=b"s3cret")]
    assert received(handler)["Subject"] == RENDERED.subject


def test_starttls_against_a_server_without_it_never_falls_back() -> None:
    handler = Recorder()
    with smtp_server(handler) as port:
        outcome = send_message(message(), settings(port, security="starttls"), environ={})
    assert isinstance(outcome, ConfigurationFailure)
    assert "STARTTLS" in outcome.reason
    assert handler.envelopes == []


def test_starttls_with_an_untrusted_certificate(certificate: tuple[Path, Path]) -> None:
    handler = Recorder()
    with smtp_server(handler, tls_context=server_context(certificate)) as port:
        outcome = send_message(message(), settings(port, security="starttls"), environ={})
    assert isinstance(outcome, ConfigurationFailure)
    assert "certificate" in outcome.reason
    assert handler.envelopes == []


def test_unreadable_ca_file_is_a_configuration_failure(tmp_path: Path) -> None:
    config = settings(free_port(), security="ssl", ca_file=tmp_path / "missing.pem")
    outcome = send_message(message(), config, environ={})
    assert isinstance(outcome, ConfigurationFailure)
    assert "missing.pem" in outcome.reason


def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    handler = Recorder()
    with smtp_server(handler, ssl_context=server_context(certificate)) as port:
        config = settings(port, security="ssl", ca_file=certificate[0])
        outcome = send_message(message(), config, environ={})
    assert outcome == Accepted()
    assert received(handler)["To"] == RECIPIENT


# --- building --------------------------------------------------------------------------


def test_message_id_is_stable_per_digest_and_recipient() -> None:
    first = make_message_id("2026-11-23-0800", "Reader@Example.net", "claims.example.org")
    assert first == make_message_id("2026-11-23-0800", "reader@example.net ", "claims.example.org")
    assert first != make_message_id("2026-11-23-0800", "other@example.net", "claims.example.org")
    assert first != make_message_id("2026-11-30-0800", "reader@example.net", "claims.example.org")
    assert first.startswith("<claimwatch.2026-11-23-0800.")
    assert first.endswith("@claims.example.org>")


@pytest.mark.parametrize(
    ("key", "domain"), [("../x", "example.org"), ("2026-11-23-0800", "evil>\r\nBcc: x")]
)
def test_message_id_refuses_odd_parts(key: str, domain: str) -> None:
    with pytest.raises(InvalidHeaderError):
        make_message_id(key, RECIPIENT, domain)


def test_hostile_subject_is_one_clean_bounded_line() -> None:
    hostile = RenderedDigest(
        subject="Claims\r\nBcc: victim@example.com\u202e" + "x" * 5000,
        html="<p>" + "long line " * 1000 + "</p>",
        text="long line " * 1000,
    )
    built = message(rendered=hostile)
    subject = str(built["Subject"])
    assert subject.startswith("Claims Bcc: victim@example.com")
    assert len(subject) == 200
    assert subject.endswith("…")
    assert "\u202e" not in subject
    assert built["Bcc"] is None
    raw = built.as_bytes()
    assert b"\nBcc:" not in raw
    assert all(len(line) <= 998 for line in raw.splitlines())


@pytest.mark.parametrize(
    "changes",
    [
        {"sender": "a@example.org\r\nBcc: victim@example.com"},
        {"recipient": "a@example.org, b@example.org"},
        {"recipient": "not an address"},
        {"message_id": "no-angle-brackets@example.org"},
        {"list_id": "claimwatch\r\n <x.example.org>"},
        {"unsubscribe": "javascript:alert(1)"},
        {"unsubscribe": "http://example.org/unsub"},
        {"date": datetime(2026, 11, 23, 8, 0)},  # noqa: DTZ001 - naive on purpose
    ],
)
def test_bad_header_values_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidHeaderError):
        message(**changes)


def test_one_click_unsubscribe_only_for_https() -> None:
    built = message(unsubscribe="https://claims.example.org/unsubscribe?t=abc")
    assert built["List-Unsubscribe"] == "<https://claims.example.org/unsubscribe?t=abc>"
    assert built["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_bare_unsubscribe_address_becomes_mailto_and_none_omits_the_header() -> None:
    built = message(unsubscribe="leave@claims.example.org")
    assert built["List-Unsubscribe"] == "<mailto:leave@claims.example.org>"
    assert message(unsubscribe=None)["List-Unsubscribe"] is None
