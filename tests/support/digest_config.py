"""The configuration the digest tests share: sources on 127.0.0.1, everything since the start
digested, mail to a local SMTP server with no TLS."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def digest_settings(
    sources: list[dict[str, Any]],
    *,
    to: Sequence[str],
    smtp_port: int,
    database: str = "sqlite:///cw.db",
    **email: Any,
) -> dict[str, Any]:
    """`email` adds to (or overrides) `digest.email`, e.g. `retry_backoff="1s"`."""
    return {
        "storage": {"corpus_dir": "corpus", "database": database},
        "fetch": {"allow_private_networks": True, "host_delay_s": 0, "retries": 0},
        "extract": {"workers": 1},
        "sources": sources,
        "digest": {
            "html_dir": "digests",
            "first_run": "all",
            "email": {
                "from": "claimwatch <digest@claims.example.org>",
                "to": list(to),
                "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none"},
                **email,
            },
        },
    }
