"""The exit codes of `claimwatch`, one enum for the CLI and the daemon (README, "Command line")."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    # The command ran but some sources failed, storage failed under it (a full disk or
    # database), or `verify` found problems.
    FAILED = 1
    # A configuration or usage error, a second daemon, a writer lock never freed, or an SMTP
    # configuration problem: running again changes nothing until a person does something.
    USAGE = 2
    DELIVERY = 3  # a delivery failed or is waiting for a retry
