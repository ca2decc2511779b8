"""A page's title and publication date, read from its own markup in the tree the extractor parsed.

Pure: reads the lxml tree (never changes it) and returns plain values; no lxml object leaves.
It replaces trafilatura's metadata pass, which also computes author, categories, tags, licence
and site name that nothing here uses: about 10 ms a page of CPU, where this takes about 1.5.

How the rules were chosen: `bench/extraction_quality.py --titles` over the WCXB pages
(`shared/fixtures/wcxb-articles`, whose ground truth has a `title` and, for 528 pages, a
`publish_date`; the 2019 benchmark has neither). The WCXB pages are split by a seeded hash of
their id (tests/support/extraction_benchmarks.py): the rules were chosen on the dev half
(332 pages) and are reported on both. Titles, exact matches with the gold title (case and
spacing ignored)::

    rule                                                     dev       test
    trafilatura's metadata title (before)                  174/332   164/310
    og:title, JSON-LD headline, <title>, <h1>              236/332   220/310
    JSON-LD headline, og:title, <title>, <h1>              245/332   223/310
    <h1>, then JSON-LD headline, og:title, <title>         267/332   230/310
    <h1> if it agrees with one, else JSON-LD, og:title …   276/332   236/310   <- the rule

The gold titles are mostly the visible headline (`<h1>`), but a page's first `<h1>` is sometimes
the site's name or a section banner; agreeing with a declared title tells the two apart.
og:title and `<title>` lose the site's name ("… | Example Health") first. Dates, over the pages
whose gold has one (right / wrong / none)::

    trafilatura's metadata (htmldate)                      228/32/14  197/41/16
    declared dates, then htmldate         <- the rule      227/33/14  200/38/16

as good as htmldate alone, which now runs only on the pages that declare no date (3 in 10).
"""

from __future__ import annotations

import datetime
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ingest.corpus import clean_block

Tree = Any  # an lxml.html.HtmlElement: lxml ships no type information

# Separators between a title and the site's name: "Title | Site", "Site – Title" …
_TITLE_SEPARATOR = re.compile(r"\s+(?:[|–—·•»:]|-|::)\s+")
_NOT_ALNUM = re.compile(r"\W+")
# Site names and host labels shorter than this ("www", "com", "co", "bbc") are not looked for
# inside title parts: too many words contain them.
_MIN_NAME = 4
_MIN_CONTAINED = 11  # an <h1> agrees with a longer or shorter title only beyond this length
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_EARLIEST = datetime.date(1995, 1, 1)  # htmldate's own lower bound: no web article is older
_PUBLISHED_TIME = (
    '//time[@datetime][@pubdate or @itemprop="datePublished" '
    'or contains(@class, "publish") or contains(@class, "entry-date")]'
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PageHead:
    """What the page says about itself: its title and publication date, when it says so."""

    title: str | None
    published: datetime.date | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TitleCandidates:
    """The titles a page declares, cleaned, each None when absent; site names removed from
    og:title and <title>."""

    h1: str | None  # the first non-empty <h1>
    json_ld: str | None  # the first JSON-LD `headline`
    og: str | None
    title_element: str | None

    @property
    def declared(self) -> tuple[str | None, ...]:
        return (self.json_ld, self.og, self.title_element)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Markup:
    """What the page's <meta> elements and JSON-LD declare, read once for title and date."""

    metas: dict[str, str]
    json_ld: tuple[dict[str, Any], ...]


def page_head(
    tree: Tree, *, url: str, today: datetime.date, feed_title: str | None = None
) -> PageHead:
    """The page's title (see `choose_title`) and publication date (see `_published`)."""
    markup = _read_markup(tree)
    return PageHead(
        title=choose_title(_title_candidates(tree, markup, url), feed_title=feed_title),
        published=_published(tree, markup, url=url, today=today),
    )


def title_candidates(tree: Tree, *, url: str) -> TitleCandidates:
    """Every title the page declares (for measuring title rules against each other)."""
    return _title_candidates(tree, _read_markup(tree), url)


def choose_title(candidates: TitleCandidates, *, feed_title: str | None = None) -> str | None:
    """The first `<h1>` when it agrees with a declared title (JSON-LD headline, og:title,
    `<title>`), else the first declared one, then the `<h1>`, then the feed entry's title.

    The feed's title comes last although it is usually clean: the stored text starts with the
    title, and the same page reached through two feeds must hash the same."""
    h1 = candidates.h1
    if h1 and any(_agree(h1, title) for title in candidates.declared if title):
        return h1
    return next((t for t in (*candidates.declared, h1, _clean(feed_title)) if t), None)


def _read_markup(tree: Tree) -> _Markup:
    return _Markup(metas=_meta_values(tree), json_ld=tuple(_json_ld_objects(tree)))


def _title_candidates(tree: Tree, markup: _Markup, url: str) -> TitleCandidates:
    site_names = _site_names(markup.metas, url)
    return TitleCandidates(
        h1=_first_h1(tree),
        json_ld=_ld_headline(markup.json_ld),
        og=_without_site_name(_clean(markup.metas.get("og:title")), site_names),
        title_element=_without_site_name(_clean(_title_element(tree)), site_names),
    )


def _published(
    tree: Tree, markup: _Markup, *, url: str, today: datetime.date
) -> datetime.date | None:
    """The first date the page declares (see `_declared_dates`), else htmldate's guess from the
    rest of the page (original date, no free-text search)."""
    for value in _declared_dates(tree, markup):
        if isinstance(value, str) and (date := _iso_date(value, today)):
            return date
    return _iso_date(_htmldate(tree, url=url, today=today) or "", today)


def _declared_dates(tree: Tree, markup: _Markup) -> Iterator[object]:
    """JSON-LD datePublished, article:published_time, itemprop=datePublished, a `<time>`
    marked as the publication's, every `<time datetime>`: looked up lazily, in this order."""
    yield from (o.get("datePublished") for o in markup.json_ld)
    yield markup.metas.get("article:published_time")
    for element in tree.xpath('//*[@itemprop="datePublished"]'):
        yield element.get("content") or element.get("datetime")
    yield from (t.get("datetime") for t in tree.xpath(_PUBLISHED_TIME))
    yield from (t.get("datetime") for t in tree.iter("time"))


def _meta_values(tree: Tree) -> dict[str, str]:
    """The first non-empty content of each <meta property=…> or <meta name=…>, keys lowered."""
    values: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or "").strip().lower()
        content = (meta.get("content") or "").strip()
        if key and content:
            values.setdefault(key, content)
    return values


def _json_ld_objects(tree: Tree) -> Iterator[dict[str, Any]]:
    """Every object in the page's JSON-LD, in document order, nested graphs included."""
    scripts = (s for s in tree.iter("script") if s.get("type") == "application/ld+json")
    for script in scripts:
        try:
            data = json.loads(script.text or "", strict=False)
        except (ValueError, RecursionError):  # broken JSON-LD is common; it declares nothing
            continue
        yield from _objects_in(data)


def _objects_in(data: Any) -> Iterator[dict[str, Any]]:
    pending = [data]
    while pending:
        item = pending.pop(0)
        if isinstance(item, list):
            pending[:0] = item
        elif isinstance(item, dict):
            yield item
            pending.extend(item[k] for k in ("@graph", "mainEntity") if k in item)


def _ld_headline(ld_objects: tuple[dict[str, Any], ...]) -> str | None:
    headlines = (o.get("headline") for o in ld_objects)
    # JSON-LD is not HTML: the parser did not decode its character references
    return next((_clean(html.unescape(h)) for h in headlines if isinstance(h, str)), None)


def _title_element(tree: Tree) -> str | None:
    element = tree.find(".//head/title")
    if element is None:
        element = tree.find(".//title")
    return None if element is None else str(element.text_content())


def _first_h1(tree: Tree) -> str | None:
    return next((text for h1 in tree.iter("h1") if (text := _clean(h1.text_content()))), None)


def _site_names(metas: dict[str, str], url: str) -> list[str]:
    declared = (_key(metas.get(k) or "") for k in ("og:site_name", "application-name"))
    labels = (urlsplit(url).hostname or "").split(".")
    return [name for name in (*declared, *labels) if len(name) >= _MIN_NAME]


def _without_site_name(title: str | None, site_names: list[str]) -> str | None:
    """'Does massage help? – Healthy Back Journal' without the site's name at either end."""
    if not title:
        return title
    spans, start = [], 0
    for separator in _TITLE_SEPARATOR.finditer(title):
        spans.append((start, separator.start()))
        start = separator.end()
    spans.append((start, len(title)))
    kept = [(a, b) for a, b in spans if not _names_site(title[a:b], site_names)]
    if len(spans) == 1 or not kept:
        return title
    return title[kept[0][0] : kept[-1][1]]


def _names_site(part: str, site_names: list[str]) -> bool:
    """'The Motley Fool' names fool.com; 'Healthy Back Journal' its og:site_name."""
    key = _key(part)
    if len(key) < _MIN_NAME:
        return not key or key in site_names
    return any(key in name or name in key for name in site_names)


def _agree(h1: str, title: str) -> bool:
    """Equal, or one contains the other, ignoring case, spacing and punctuation."""
    a, b = _key(h1), _key(title)
    return a == b or (min(len(a), len(b)) >= _MIN_CONTAINED and (a in b or b in a))


def _key(text: str) -> str:
    return _NOT_ALNUM.sub("", text.casefold())


def _clean(text: str | None) -> str | None:
    if not text:
        return None
    if not text.isprintable():  # soft hyphens, zero-width spaces: as in the article's blocks
        text = "".join(c for c in text if c.isprintable() or c.isspace())
    return clean_block(text) or None


def _iso_date(value: str, today: datetime.date) -> datetime.date | None:
    """The YYYY-MM-DD date at the start of an ISO timestamp, as written (the publisher's own
    day, not converted to UTC), when it is a real date no older than the web nor in the future."""
    match = _ISO_DATE.search(value[:40])
    if not match:
        return None
    try:
        date = datetime.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
    return date if _EARLIEST <= date <= today else None


def _htmldate(tree: Tree, *, url: str, today: datetime.date) -> str | None:
    from htmldate import find_date  # in the worker processes only, with trafilatura

    found = find_date(
        tree,  # copied by htmldate before it prunes anything
        url=url,
        original_date=True,
        extensive_search=False,  # its free-text scan guesses (module docstring of extract)
        max_date=today.isoformat(),
    )
    return found if isinstance(found, str) else None
