"""Faults for the error-path tests, as top-level functions a worker process can import."""

from __future__ import annotations

from collections.abc import Sequence

from digest.claims.claim import Claim
from digest.claims.topics import Topic


def finder_with_a_bug(text: str, topics: Sequence[Topic]) -> tuple[Claim, ...]:
    """A claim finder with a bug in it: what a typo in `digest.claims` would do."""
    return tuple(len(text) + topic for topic in topics)  # type: ignore[operator, misc]
