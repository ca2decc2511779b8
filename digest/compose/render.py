"""Render a `Digest` into a subject line, email-safe HTML (CSS inlined) and plain text.

Pure: no I/O (templates are read through the Jinja loader; CSS is inlined without fetching
anything). Does not write archive files (`archive`) or build and send mail (`mail`).

Every string that came from the web is cleaned here, before any template sees it: control,
bidirectional-override and zero-width characters are removed, white space (line breaks too)
is collapsed to one space, and long values are cut with "…". Templates receive a view whose
strings are already clean; autoescaping does the HTML escaping, and only http(s) URLs pass the
`http_url` test that templates use to decide whether to make a link.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final, Literal
from urllib.parse import urlsplit

import css_inline
import jinja2

from digest.claims.claim import ClaimType
from digest.compose.model import Digest, DigestItem, RenderedDigest, SourceFailure

# Limits in characters, chosen for readability, not calibrated: a 600-character quote is
# about four long sentences (claims are single sentences; anything longer is an extraction
# accident), a 200-character title is twice a long headline.
QUOTE_LIMIT: Final = 600
TITLE_LIMIT: Final = 200
SOURCE_LIMIT: Final = 100
MESSAGE_LIMIT: Final = 300
LABEL_LIMIT: Final = 40
URL_LIMIT: Final = 2000  # longer URLs are not links but accidents or attacks

PACKAGE_TEMPLATES: Final = Path(__file__).parent / "templates"
MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# In display order: (type, heading, short label for the chart).
TYPE_HEADINGS: Final[tuple[tuple[ClaimType, str, str], ...]] = (
    ("efficacy", "Does it work? Efficacy", "Efficacy"),
    ("mechanism", "How it works: mechanism", "Mechanism"),
    ("safety", "Safety and risks", "Safety"),
    ("dosage", "How often and how long: dosage", "Dosage"),
    ("cost_access", "Cost and access", "Cost & access"),
    ("practice_training", "Practice, training and guidelines", "Practice"),
    ("cause_prevalence", "Causes and prevalence of back pain", "Causes"),
)

# C0/C1 controls, soft hyphen, Arabic letter mark, Mongolian vowel separator, zero-width
# space/joiners, LRM/RLM, bidi embeddings and overrides (U+202A-U+202E), word joiner and
# invisible operators, bidi isolates (U+2066-U+2069), BOM, interlinear annotations, lone
# surrogates, and the invisible "tag" characters used to smuggle text past readers.
_INVISIBLE_RE: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\ufeff\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f]"
)


def clean_text(value: str, limit: int) -> str:
    """One line of inert text: white space collapsed, invisible characters removed, NFC, at
    most `limit` characters (cut at a word boundary when one is near, ending in "…")."""
    # Collapse white space first so that line breaks become spaces rather than vanish.
    text = " ".join(_INVISIBLE_RE.sub("", " ".join(value.split())).split())
    text = unicodedata.normalize("NFC", text)
    return truncate(text, limit)


def truncate(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else its start (ending at a space in the last
    fifth when there is one) followed by "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 4 // 5:
        cut = cut[:space]
    return cut.rstrip() + "…"


def is_http_url(value: object) -> bool:
    """Jinja test: an absolute http or https URL with a host and no white space."""
    if not isinstance(value, str) or len(value) > URL_LIMIT or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed IPv6 bracket: not a URL we can link to
        return False
    return parts.scheme.lower() in {"http", "https"} and bool(parts.hostname)


def format_day(moment: datetime) -> str:
    """23 Nov 2026 (English, independent of the locale)."""
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def format_moment(moment: datetime) -> str:
    """23 Nov 2026 08:00 UTC (in the datetime's own zone)."""
    return f"{format_day(moment)} {moment:%H:%M} {moment.tzname() or ''}".rstrip()


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """ "1 claim", "2 claims"."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"


BadgeKind = Literal["hedged", "negated", "evidence", "none"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Badge:
    """A small label next to a claim; `kind` selects its style."""

    label: str
    kind: BadgeKind


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemView:
    """A claim with every string cleaned for display."""

    quote: str
    title: str
    url: str  # cleaned; templates link it only if it `is http_url`
    source: str
    date: str | None
    badges: tuple[Badge, ...]
    also_in: str | None  # "also in 2 sources"


@dataclass(frozen=True, slots=True, kw_only=True)
class TypeGroup:
    """The claims of one type, with their share for the bar chart."""

    type: ClaimType
    heading: str
    label: str
    count: int
    percent: int  # bar width relative to the largest group, 1..100
    items: tuple[ItemView, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class FailureView:
    """A failed source with every string cleaned for display."""

    source: str
    url: str
    kind: str
    message: str
    last_at: str
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DigestView:
    """What the digest templates receive as `d`."""

    subject: str
    headline: str
    since: str | None
    created_at: str
    topics: str
    claim_count: int
    groups: tuple[TypeGroup, ...]
    failures: tuple[FailureView, ...]
    omitted: int = 0


def make_environment(templates_dir: Path | None) -> jinja2.Environment:
    """A Jinja environment: user templates first, then the package's; autoescape on for
    HTML and XML; undefined names are errors; `clean` filter and `http_url` test."""
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(PACKAGE_TEMPLATES)]
    if templates_dir is not None:
        loaders.insert(0, jinja2.FileSystemLoader(templates_dir))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "xml", "html.j2", "xml.j2"),
            disabled_extensions=("txt", "txt.j2"),
            default_for_string=True,
            default=True,
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["clean"] = clean_text
    env.filters["plural"] = plural
    env.tests["http_url"] = is_http_url
    return env


def render(digest: Digest, env: jinja2.Environment) -> RenderedDigest:
    """Subject, HTML (CSS inlined, dark-mode rules kept) and text of one digest."""
    view = digest_view(digest)
    html = env.get_template("digest.html.j2").render(d=view)
    text = env.get_template("digest.txt.j2").render(d=view)
    inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
    return RenderedDigest(subject=view.subject, html=inliner.inline(html), text=text)


def subject_line(digest: Digest) -> str:
    """ "12 new massage & back-pain claims — 23 Nov 2026"; "1 new … claim"; "No new …"."""
    topics = topic_labels(digest)
    count = len(digest.items) + digest.omitted
    amount = "No" if count == 0 else str(count)
    noun = "claim" if count == 1 else "claims"
    words = " ".join(part for part in (amount, "new", topics, noun) if part)
    return f"{words} — {format_day(digest.created_at)}"


def topic_labels(digest: Digest) -> str:
    """The topic labels joined with " & "."""
    return " & ".join(filter(None, (clean_text(t, LABEL_LIMIT) for t in digest.topics)))


def headline(digest: Digest) -> str:
    """ "12 claims from 9 articles in 5 sources"."""
    claims = plural(len(digest.items), "claim")
    articles = plural(digest.article_count, "article")
    return f"{claims} from {articles} in {plural(digest.source_count, 'source')}"


def digest_view(digest: Digest) -> DigestView:
    """The cleaned, grouped view of a digest that the templates render."""
    return DigestView(
        subject=subject_line(digest),
        headline=headline(digest),
        since=format_moment(digest.since) if digest.since else None,
        created_at=format_moment(digest.created_at),
        topics=topic_labels(digest),
        claim_count=len(digest.items),
        groups=type_groups(digest.items),
        failures=tuple(failure_view(f) for f in digest.failures),
        omitted=digest.omitted,
    )


def type_groups(items: tuple[DigestItem, ...]) -> tuple[TypeGroup, ...]:
    """Non-empty groups in `TYPE_HEADINGS` order, items in their given order."""
    counts = Counter(item.type for item in items)
    largest = max(counts.values(), default=1)
    return tuple(
        TypeGroup(
            type=kind,
            heading=heading,
            label=label,
            count=counts[kind],
            percent=max(1, round(100 * counts[kind] / largest)),
            items=tuple(item_view(item) for item in items if item.type == kind),
        )
        for kind, heading, label in TYPE_HEADINGS
        if counts[kind]
    )


def item_view(item: DigestItem) -> ItemView:
    """One claim, cleaned for display."""
    return ItemView(
        quote=clean_text(item.quote, QUOTE_LIMIT),
        title=clean_text(item.doc_title, TITLE_LIMIT),
        url=clean_text(item.url, URL_LIMIT + 1),
        source=clean_text(item.source, SOURCE_LIMIT),
        date=format_day(item.published) if item.published else None,
        badges=badges(item),
        also_in=f"also in {plural(item.also_in, 'source')}" if item.also_in > 0 else None,
    )


def badges(item: DigestItem) -> tuple[Badge, ...]:
    """Hedged / negative, then the evidence cues, or "author's word" when there are none."""
    marks = [Badge(label="hedged", kind="hedged")] if item.hedged else []
    if item.negated:
        marks.append(Badge(label="negative", kind="negated"))
    known = [cue for cue in ("study", "expert", "statistic") if cue in item.evidence]
    marks.extend(Badge(label=cue, kind="evidence") for cue in known)
    if not known:
        marks.append(Badge(label="author's word", kind="none"))
    return tuple(marks)


def failure_view(failure: SourceFailure) -> FailureView:
    """One failed source, cleaned for display."""
    return FailureView(
        source=clean_text(failure.source, SOURCE_LIMIT),
        url=clean_text(failure.url, URL_LIMIT + 1),
        kind=clean_text(failure.kind, LABEL_LIMIT),
        message=clean_text(failure.message, MESSAGE_LIMIT),
        last_at=format_moment(failure.last_at),
        count=failure.count,
    )
