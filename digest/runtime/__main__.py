"""The `claimwatch` command's entry point (also `python -m digest.runtime`): imports the CLI
only when called.

Kept tiny on purpose: a worker process started with "spawn" imports the main module again,
and must not pay for (or run) the CLI and everything it imports.
"""

from __future__ import annotations

import sys


def main() -> int:
    from digest.runtime.cli import main as run

    return run()


if __name__ == "__main__":
    sys.exit(main())
