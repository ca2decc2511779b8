"""The `Claim` value that claim finding produces, and its vocabularies (kinds, types,
evidence cues) as `Literal`s shared by the finder, the store and the digest.

Pure data: no I/O, no logic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

Kind = Literal["claim", "anecdote"]
KINDS: Final = frozenset(get_args(Kind))

ClaimType = Literal[
    "efficacy",
    "mechanism",
    "safety",
    "dosage",
    "cost_access",
    "practice_training",
    "cause_prevalence",
]
CLAIM_TYPES: Final = frozenset(get_args(ClaimType))

Evidence = Literal["study", "expert", "statistic"]
EVIDENCE: Final = frozenset(get_args(Evidence))


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """A claim (or an anecdote) found in a document; quote == text[start:end]."""

    kind: Kind
    quote: str
    start: int
    end: int
    topics: tuple[str, ...]
    type: ClaimType
    hedged: bool
    negated: bool
    evidence: tuple[Evidence, ...]
    confidence: float = 1.0  # P(form) x P(topic) from the detector, 0..1
