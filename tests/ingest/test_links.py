from __future__ import annotations

import pytest

from ingest.links import canonical_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://Example.org/a?utm_source=x&utm_medium=y#top", "https://example.org/a"),
        ("https://example.org/a?fbclid=abc&id=3", "https://example.org/a?id=3"),
        ("https://example.org/a?b=2&a=1", "https://example.org/a?a=1&b=2"),
        ("http://example.org:80/a", "http://example.org/a"),
        ("https://example.org/a?gclid=1", "https://example.org/a"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected
