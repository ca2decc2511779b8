"""Rendering a digest: golden HTML and text, subject wording, hostile content made inert.

Golden files are compared exactly; set CLAIMWATCH_REGEN_GOLDEN=1 to rewrite them.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jinja2
import pytest

from digest.compose.model import Digest, DigestItem, SourceFailure
from digest.compose.render import clean_text, is_http_url, make_environment, render, truncate

GOLDEN = Path(__file__).parents[3] / "tests" / "data" / "golden"
CREATED = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
INVISIBLES = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u200c\u200d\u2060\ufeff"


def item(**changes: object) -> DigestItem:
    values: dict[str, object] = {
        "quote": "Massage effectively relieved persistent back pain in the trial.",
        "doc_title": "Massage and back pain",
        "url": "https://example.org/a",
        "source": "Example Health",
        "published": CREATED - timedelta(days=2),
        "type": "efficacy",
        "hedged": False,
        "negated": False,
        "evidence": (),
        "also_in": 0,
    }
    values.update(changes)
    return DigestItem(**values)  # type: ignore[arg-type]


def digest(*items: DigestItem, failures: tuple[SourceFailure, ...] = ()) -> Digest:
    return Digest(
        key="2026-11-23-0800",
        created_at=CREATED,
        since=CREATED - timedelta(days=7),
        topics=("massage", "back-pain"),
        items=items,
        failures=failures,
        article_count=3,
        source_count=2,
    )


def sample() -> Digest:
    """A digest with every feature: several types, badges, also-in, a failure."""
    return digest(
        item(evidence=("study",), also_in=2),
        item(
            quote="It also could help relieve chronic back pain.",
            doc_title="Five things to know about massage",
            url="https://news.example.com/massage?id=5&ref=feed",
            source="News Example",
            hedged=True,
        ),
        item(
            quote="Massage just doesn't go far enough to give you long term relief.",
            negated=True,
            published=None,
        ),
        item(
            type="practice_training",
            quote="Most states require at least 500 hours of formal training.",
            evidence=("statistic", "expert"),
            also_in=1,
        ),
        item(type="cause_prevalence", quote="Stress can be a major contributing factor."),
        failures=(
            SourceFailure(
                source="Broken Feed",
                url="https://broken.example.net/feed.xml",
                kind="http_status",
                message="HTTP 503 Service Unavailable",
                last_at=CREATED - timedelta(hours=3),
                count=4,
            ),
        ),
    )


@pytest.fixture
def env() -> jinja2.Environment:
    return make_environment(None)


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("CLAIMWATCH_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from the golden file"


def test_sample_digest_html_matches_golden(env: jinja2.Environment) -> None:
    check_golden("digest_sample.html", render(sample(), env).html)


def test_sample_digest_text_matches_golden(env: jinja2.Environment) -> None:
    check_golden("digest_sample.txt", render(sample(), env).text)


def test_golden_html_is_email_safe(env: jinja2.Environment) -> None:
    html = render(sample(), env).html
    assert '<meta name="color-scheme" content="light dark">' in html
    assert "max-width: 640px" in html
    assert "<img" not in html
    # CSS is inlined: classes carry their rules as style attributes; only @media stays.
    assert 'class="quote" style="border-left: 4px solid #2563eb' in html
    style_blocks = re.findall(r"<style>(.*?)</style>", html, flags=re.DOTALL)
    assert all(
        block.strip().startswith("@media (prefers-color-scheme: dark)") for block in style_blocks
    )


def test_chart_has_one_bar_per_type_with_relative_widths(env: jinja2.Environment) -> None:
    html = render(sample(), env).html
    assert re.findall(r'class="bar" width="(\d+)%"', html) == ["100", "33", "33"]


def test_types_grouped_under_readable_headings_in_fixed_order(env: jinja2.Environment) -> None:
    text = render(sample(), env).text
    headings = re.findall(r"^== (.+) ==$", text, flags=re.MULTILINE)
    assert headings == [
        "Does it work? Efficacy (3)",
        "Practice, training and guidelines (1)",
        "Causes and prevalence of back pain (1)",
        "Sources that failed",
    ]


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, "No new massage & back-pain claims — 23 Nov 2026"),
        (1, "1 new massage & back-pain claim — 23 Nov 2026"),
        (12, "12 new massage & back-pain claims — 23 Nov 2026"),
    ],
)
def test_subject_wording(env: jinja2.Environment, count: int, expected: str) -> None:
    rendered = render(digest(*[item() for _ in range(count)]), env)
    assert rendered.subject == expected
    assert rendered.text.splitlines()[0] == expected


def test_subject_uses_the_date_in_created_at_own_zone(env: jinja2.Environment) -> None:
    late = Digest(
        key="2026-11-23-2330",
        created_at=datetime(2026, 11, 23, 23, 30, tzinfo=UTC),
        since=None,
        topics=("massage",),
        items=(item(),),
        failures=(),
        article_count=1,
        source_count=1,
    )
    assert render(late, env).subject == "1 new massage claim — 23 Nov 2026"


def test_header_counts_claims_articles_and_sources(env: jinja2.Environment) -> None:
    rendered = render(sample(), env)
    for body in (rendered.html, rendered.text):
        assert "5 claims from 3 articles in 2 sources" in body


def test_singular_also_in_and_author_word_badge(env: jinja2.Environment) -> None:
    rendered = render(digest(item(also_in=1), item(also_in=0, evidence=("study",))), env)
    assert rendered.text.count("also in 1 source\n") == 1
    assert "also in 0" not in rendered.text
    assert "[author's word] · also in 1 source" in rendered.text
    assert ">author's word</span>" in rendered.html


HOSTILE_TITLE = "Bad\r\nBcc: victim@example.com\r\n<script>alert(1)</script>"


def hostile_digest() -> Digest:
    return digest(
        item(
            quote="<script>alert('q')</script><img src=x onerror=alert(2)> massage heals",
            doc_title=HOSTILE_TITLE,
            url="javascript:alert(3)",
        ),
        item(doc_title="Data link", url="data:text/html;base64,PHNjcmlwdD4="),
        item(doc_title="Relative link", url="/relative/path"),
        item(doc_title="Tab-split scheme", url="java\tscript:alert(4)"),
        item(doc_title=f"Bidi{INVISIBLES}title", quote=f"evil\u202eefil{INVISIBLES} quote"),
        item(quote="massage " * 150_000, doc_title="T" * 100_000),
        failures=(
            SourceFailure(
                source="<b>feed</b>\r\nX-Injected: 1",
                url="javascript:alert(5)",
                kind="parse",
                message="<script>alert(6)</script>" * 1000,
                last_at=CREATED,
                count=1,
            ),
        ),
    )


def test_hostile_html_is_escaped(env: jinja2.Environment) -> None:
    html = render(hostile_digest(), env).html
    assert "<script" not in html
    assert "<img src=x" not in html
    assert "<b>feed" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_only_http_links_are_rendered(env: jinja2.Environment) -> None:
    rendered = render(hostile_digest(), env)
    hrefs = re.findall(r'href="([^"]*)"', rendered.html)
    assert hrefs == ["https://example.org/a", "https://example.org/a"]
    for body in (rendered.html, rendered.text):
        assert "javascript" not in body.lower()
        assert "data:text" not in body
        assert "/relative/path" not in body
    assert "Data link" in rendered.html  # the title stays, unlinked


def test_no_control_bidi_or_zero_width_characters_survive(env: jinja2.Environment) -> None:
    rendered = render(hostile_digest(), env)
    for body in (rendered.html, rendered.text, rendered.subject):
        assert not set(INVISIBLES) & set(body)
        assert "\r" not in body
    assert "Bidititle" in rendered.text
    assert "evilefil quote" in rendered.text
    assert "Bad Bcc: victim@example.com <script>" in rendered.text  # one line, inert
    assert "\nBcc:" not in rendered.text
    assert "\nX-Injected" not in rendered.text


def test_huge_quote_and_title_are_truncated(env: jinja2.Environment) -> None:
    rendered = render(hostile_digest(), env)
    assert len(rendered.html) < 60_000
    assert len(rendered.text) < 30_000
    assert "massage massage…”" in rendered.text
    assert "T" * 199 + "…" in rendered.text
    assert "T" * 200 not in rendered.text


def test_hostile_topic_labels_are_cleaned_in_the_subject(env: jinja2.Environment) -> None:
    labels = ("mass\r\nage", "<b>" + "x" * 100, "\u202e")
    hostile = Digest(
        key="2026-11-23-0800",
        created_at=CREATED,
        since=None,
        topics=labels,
        items=(item(),),
        failures=(),
        article_count=1,
        source_count=1,
    )
    subject = render(hostile, env).subject
    assert subject == f"1 new mass age & <b>{'x' * 36}… claim — 23 Nov 2026"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a?b=c", True),
        ("HTTP://EXAMPLE.ORG/", True),
        ("javascript:alert(1)", False),
        ("JavaScript://example.org/%0aalert(1)", False),
        ("data:text/html,x", False),
        ("/relative", False),
        ("//example.org/protocol-relative", False),
        ("https://", False),
        ("https://exa mple.org/", False),
        ("http://[::1", False),
        ("mailto:a@example.org", False),
        (None, False),
    ],
)
def test_http_url_test(url: object, expected: bool) -> None:
    assert is_http_url(url) is expected


def test_clean_text_and_truncate() -> None:
    assert clean_text(" a\r\n\tb\u200b\u202ec\x00 ", 10) == "a bc"
    assert clean_text("e\u0301", 5) == "\u00e9"  # NFC
    assert truncate("one two three four five six", 20) == "one two three four…"
    assert truncate("x" * 30, 10) == "x" * 9 + "…"
    assert len(truncate("word " * 100, 50)) <= 50


def test_user_templates_override_package_templates(tmp_path: Path) -> None:
    (tmp_path / "digest.txt.j2").write_text("custom {{ d.claim_count }}\n", encoding="utf-8")
    rendered = render(sample(), make_environment(tmp_path))
    assert rendered.text == "custom 5\n"
    assert "Does it work? Efficacy" in rendered.html  # the package's HTML template still used


def test_undefined_names_in_templates_are_errors(tmp_path: Path) -> None:
    (tmp_path / "digest.txt.j2").write_text("{{ d.no_such_field }}\n", encoding="utf-8")
    with pytest.raises(jinja2.UndefinedError):
        render(sample(), make_environment(tmp_path))


def test_user_html_templates_are_autoescaped(tmp_path: Path) -> None:
    (tmp_path / "digest.html.j2").write_text("<p>{{ d.groups[0].items[0].title }}</p>")
    rendered = render(digest(item(doc_title="<i>x</i>")), make_environment(tmp_path))
    assert "&lt;i&gt;x&lt;/i&gt;" in rendered.html
