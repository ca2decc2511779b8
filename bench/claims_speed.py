"""Throughput of find_claims: sentences per second over the seed corpus, repeated.

Usage: python bench/claims_speed.py [SHARED_DIR] [REPEATS]. Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from digest.claims.finder import find_claims
from digest.claims.sentences import split_sentences
from digest.claims.topics import DEFAULT_TOPICS


def main(argv: list[str]) -> None:
    default = os.environ.get("CLAIMWATCH_SHARED") or Path(__file__).parents[1].parent / "shared"
    shared = Path(argv[1]) if len(argv) > 1 else Path(default)
    repeats = int(argv[2]) if len(argv) > 2 else 20
    texts = [path.read_text("utf-8") for path in sorted((shared / "seeds").glob("*.txt"))]
    sentences_per_pass = sum(len(split_sentences(text)) for text in texts)
    find_claims(texts[0], DEFAULT_TOPICS)  # warm the regex cache
    started = time.perf_counter()
    claims = 0
    for _ in range(repeats):
        for text in texts:
            claims += len(find_claims(text, DEFAULT_TOPICS))
    elapsed = time.perf_counter() - started
    sentences = sentences_per_pass * repeats
    print(f"{len(texts)} documents x {repeats}: {sentences} sentences, {claims} claims")
    print(
        f"{elapsed:.2f} s, {sentences / elapsed:,.0f} sentences/s, "
        f"{len(texts) * repeats / elapsed:,.1f} documents/s"
    )


if __name__ == "__main__":
    main(sys.argv)
