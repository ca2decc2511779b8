"""Builds the demo site from the five seeds: article pages wrapped in realistic clutter, an AMP
copy of one article, an RSS 2.0 and an Atom feed, and `expected.json` (the blocks extraction
must give for each page).

Run `python examples/demo-site/build.py [--shared PATH] [--out DIR]`; deterministic, so the
checked-in output can be compared with a fresh build. It reads the seeds (CLAIMWATCH_SHARED,
default `../shared` from the repo root) and writes files; it serves nothing. Absolute links in
the feeds are written as `__BASE_URL__/…`, which the demo server replaces when serving.
The clutter the seeds still carry (SEED_FORMAT.md) is moved out of the article body into the
page's clutter, so `expected.json` holds only article blocks.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.utils import format_datetime
from html import escape
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
sys.path.insert(0, str(REPO_ROOT))

from ingest.corpus import blocks_of  # noqa: E402

SITE = "Healthy Back Journal"
BASE = "__BASE_URL__"
BULLET = "•"


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleSpec:
    """How one seed becomes a page. The seed's clutter goes to a part of the page (top, share,
    comments, sidebar, footer): the lines starting with a key of `moved`, and every line from
    `tail_from` on (to `tail_place`, unless `moved` says otherwise)."""

    seed: str  # the seed's file name prefix, "000"
    slug: str
    title: str
    published: datetime.datetime
    headings: frozenset[str]
    moved: tuple[tuple[str, str], ...] = ()
    tail_from: str | None = None
    tail_place: str = "footer"
    comments: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Article:
    """A seed read and split: its article blocks and the clutter lines moved out of them."""

    spec: ArticleSpec
    seed_name: str
    blocks: tuple[str, ...]
    moved: dict[str, tuple[str, ...]]


def _utc(year: int, month: int, day: int, hour: int) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, 0, tzinfo=datetime.UTC)


SPECS = (
    ArticleSpec(
        seed="000",
        slug="does-massage-help-back-pain",
        title="Does massage really help reduce and prevent back pain?",
        published=_utc(2013, 4, 8, 9),
        headings=frozenset(),
        comments=(
            ("Dana R.", "Weekly massages got me through a bad flare-up last winter."),
            ("Tom", "Mine never lasted past the car park either. Still worth it!"),
        ),
    ),
    ArticleSpec(
        seed="001",
        slug="massage-therapy-back-pain",
        title="Does Massage Therapy Really Help Back Pain?",
        published=_utc(2013, 2, 19, 14),
        headings=frozenset(
            {
                "What is massage therapy?",
                "What does massage do?",
                "Is massage therapy all you need for back pain relief?",
                "Does this mean you shouldn't have a massage?",
            }
        ),
        moved=(
            ("New! Comments", "comments"),
            ("Have your say about", "comments"),
            ("Back Pain Treatments", "sidebar"),
            ("Return from Massage Therapy", "sidebar"),
            ("must know info", "sidebar"),
            ("information area", "sidebar"),
            ("View All Back Pain Articles", "sidebar"),
        ),
        tail_from="New! Comments",
        comments=(
            ("Priya", "My physio combines massage with core exercises, which matches this."),
            ("J. Okafor", "Trigger point massage was the only thing that helped my shoulder."),
        ),
    ),
    ArticleSpec(
        seed="002",
        slug="back-pain-massage-therapy",
        # the seed has no title line: the page's title is its opening words, so the body
        # starts with it and the extracted text has no separate title line, like the seed
        title="For many individuals, back pain can be linked to muscle soreness",
        published=_utc(2014, 9, 3, 7),
        headings=frozenset(
            {
                "Benefits of Massage",
                "Massage Training",
                "Additional Benefits",
                "A Doctor's Recommendation",
            }
        ),
        comments=(
            ("Lena", "Good point about getting the doctor's approval first."),
            ("Marcus B.", "500 hours seems low for something that touches your spine."),
        ),
    ),
    ArticleSpec(
        seed="003",
        slug="massage-for-lower-back-pain",
        title="Massage For Lower Back Pain?",
        published=_utc(2019, 5, 14, 11),
        headings=frozenset(
            {
                "Have You Ever Tried A Massage for Lower Back Pain? If You Haven't - Chances Are "
                "You Should!",
                "The Short Answer –",
                "How Can We Measure The Real Benefits Of Massage Therapy?",
                "Will A Back Massage Really Help Your Pain?",
                "The Final Word – Do You Have To Pay For A Massage?",
            }
        ),
        moved=(
            ("About Us", "sidebar"),
            ("Help Someone Else By Sharing", "share"),
            ("Share on ", "share"),
            ("Similar Members Also Enjoyed", "sidebar"),
            ("References Used", "sidebar"),
            ("1. Zainal Zainuddin", "sidebar"),
        ),
        tail_from="Help Someone Else By Sharing This Page…",
        tail_place="comments",
        comments=(
            ("Sue", "My husband and I learned from a video course. It really works."),
            ("Ahmed", "Is a massage chair as good as a person?"),
        ),
    ),
    ArticleSpec(
        seed="004",
        slug="massage-treatment-lower-back-pain",
        title="Massage Treatment for Lower Back Pain",
        published=_utc(2012, 6, 24, 8),
        headings=frozenset(
            {
                "How to Relieve Back Pain With Massage Therapy",
                "1. How does massage treatment help relieve back pain?",
                "2. How should I choose a massage therapist?",
                "4. How often should I get a massage treatment?",
                "6. How can I prolong the effects of massage treatment?",
                "7. Is massage treatment covered by insurance?",
            }
        ),
        moved=(("> Skip repeated content", "top"),),
        tail_from="Need Help Finding a Physician?",
        comments=(
            ("Karen", "The tip about massage schools saved me a lot of money."),
            ("Bill T.", "Drinking water after a massage really does help me."),
        ),
    ),
)
AMP_SEED = "004"  # also served as /amp/<slug>.html, listed in the Atom feed
TRACKED_SEED = "001"  # in both feeds; the Atom feed links it with tracking parameters
PLACES = ("top", "share", "comments", "sidebar", "footer")


def read_article(seeds_dir: Path, spec: ArticleSpec) -> Article:
    """The seed's blocks, split into article blocks and clutter (by its place on the page)."""
    (path,) = sorted(seeds_dir.glob(f"{spec.seed}_*.txt"))
    moved: dict[str, list[str]] = {place: [] for place in PLACES}
    body: list[str] = []
    in_tail = False
    for block in blocks_of(path.read_text(encoding="utf-8")):
        in_tail = in_tail or block == spec.tail_from
        place = _place_of(block, spec, in_tail=in_tail)
        (moved[place] if place else body).append(block)
    frozen = {place: tuple(lines) for place, lines in moved.items()}
    return Article(spec=spec, seed_name=path.name, blocks=tuple(body), moved=frozen)


def _place_of(block: str, spec: ArticleSpec, *, in_tail: bool) -> str | None:
    for prefix, place in spec.moved:
        if block.startswith(prefix):
            return place
    return spec.tail_place if in_tail else None


def body_html(article: Article) -> str:
    """The <article> content: h1 title, h2 headings, lists, paragraphs, in the seed's order."""
    parts: list[str] = []
    items: list[str] = []
    for index, block in enumerate(article.blocks):
        if block.startswith(BULLET):
            items.append(f"    <li>{escape(block.removeprefix(BULLET).strip())}</li>")
            continue
        if items:
            parts.append("  <ul>\n" + "\n".join(items) + "\n  </ul>")
            items = []
        parts.append(_block_html(article, index, block))
    return "\n".join(parts)


def _block_html(article: Article, index: int, block: str) -> str:
    spec = article.spec
    if index == 0 and block == spec.title:
        return f"  <h1>{escape(block)}</h1>"
    if index == 0 and block.startswith(spec.title):  # the lede opens with the title
        rest = block.removeprefix(spec.title)
        return f"  <p><strong>{escape(spec.title)}</strong>{escape(rest)}</p>"
    if block in spec.headings:
        return f"  <h2>{escape(block)}</h2>"
    return f"  <p>{escape(block)}</p>"


def _lines_html(lines: Iterable[str], tag: str = "p", indent: str = "      ") -> str:
    return "\n".join(f"{indent}<{tag}>{escape(line)}</{tag}>" for line in lines)


def _head_html(article: Article, *, canonical: str, amp: bool = False) -> str:
    spec = article.spec
    return f"""<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{escape(spec.title)}{" (AMP)" if amp else ""} – {SITE}</title>
  <meta name="description" content="{escape(summary(article), quote=True)}">
  <meta property="og:type" content="article">
  <meta property="og:site_name" content="{SITE}">
  <meta property="og:title" content="{escape(spec.title, quote=True)}">
  <meta property="article:published_time" content="{spec.published.isoformat()}">
  <link rel="canonical" href="{canonical}">
  <link rel="alternate" type="application/rss+xml" title="{SITE} (RSS)" href="/feed.xml">
  <link rel="alternate" type="application/atom+xml" title="{SITE} (Atom)" href="/atom.xml">
  <link rel="stylesheet" href="/static/site.css">
  <script src="/static/analytics.js" async></script>
</head>"""


def _nav_html() -> str:
    links = [
        ("/", "Home"),
        ("/topics/back-pain.html", "Back pain"),
        ("/topics/massage.html", "Massage"),
    ]
    links += [("/topics/exercise.html", "Exercise"), ("/about.html", "About us")]
    items = "\n".join(f'        <li><a href="{href}">{label}</a></li>' for href, label in links)
    return f"""  <header class="site-header">
    <a class="logo" href="/">{SITE}</a>
    <nav class="main-nav" aria-label="Main">
      <ul>
{items}
      </ul>
    </nav>
    <form class="search" action="/search" role="search"><input name="q" placeholder="Search"></form>
  </header>"""


def _cookie_html() -> str:
    return """  <div id="cookie-notice" class="cookie-banner" role="dialog">
    <p>We use cookies to personalise content and to analyse our traffic. By continuing to use
      this site you agree to our use of cookies.</p>
    <button type="button">Accept all cookies</button> <a href="/privacy.html">Cookie settings</a>
  </div>"""


def _share_html(article: Article) -> str:
    networks = ("Facebook", "Twitter", "Pinterest", "Email")
    links = "\n".join(
        f'      <li><a class="share-{n.lower()}" href="/share/{n.lower()}">{n}</a></li>'
        for n in networks
    )
    extra = _lines_html(article.moved["share"], "li")
    return f"""    <div class="share-buttons social-share">
      <span>Share this article</span>
      <ul>
{links}
{extra}
      </ul>
    </div>"""


def _comments_html(article: Article) -> str:
    published = article.spec.published
    comments = "\n".join(
        f"""        <li class="comment">
          <div class="comment-author">{escape(author)}</div>
          <div class="comment-date">{published + datetime.timedelta(days=n + 1):%B %d, %Y}</div>
          <div class="comment-body"><p>{escape(text)}</p></div>
          <a class="comment-reply" href="#reply">Reply</a>
        </li>"""
        for n, (author, text) in enumerate(article.spec.comments)
    )
    return f"""    <section id="comments" class="comments-area">
      <h3 class="comments-title">{len(article.spec.comments)} comments</h3>
{_lines_html(article.moved["comments"], "p", "      ")}
      <ol class="comment-list">
{comments}
      </ol>
      <form class="comment-form" action="/comments" method="post">
        <label>Your comment <textarea name="comment"></textarea></label>
        <button type="submit">Post comment</button>
      </form>
    </section>"""


def _sidebar_html(article: Article, others: list[Article]) -> str:
    related = "\n".join(
        f'        <li><a href="/articles/{o.spec.slug}.html">{escape(o.spec.title)}</a></li>'
        for o in others
    )
    extra = _lines_html(article.moved["sidebar"], "li", "        ")
    more = f'    <div class="widget more-links">\n      <ul>\n{extra}\n      </ul>\n    </div>'
    return f"""  <aside class="sidebar">
    <div class="widget related-posts">
      <h3>Related articles</h3>
      <ul>
{related}
      </ul>
    </div>
{more if extra else ""}
    <div class="widget newsletter">
      <h3>Newsletter</h3>
      <p>Get our best back care tips in your inbox every week.</p>
      <form action="/subscribe"><input name="email" placeholder="Your email">
        <button>Subscribe</button></form>
    </div>
  </aside>"""


def _footer_html(article: Article) -> str:
    return f"""  <footer class="site-footer">
{_lines_html(article.moved["footer"], "p", "    ")}
    <p><a href="/about.html">About</a> | <a href="/contact.html">Contact</a> |
      <a href="/privacy.html">Privacy policy</a> | <a href="/terms.html">Terms of use</a></p>
    <p>This site is for information only and does not replace advice from your doctor.</p>
    <p>© 2012–2024 {SITE}. All rights reserved.</p>
  </footer>"""


def _top_html(article: Article) -> str:
    return "\n".join(
        f'  <a class="skip-link screen-reader-text" href="#main">{escape(line)}</a>'
        for line in article.moved["top"]
    )


def article_page(article: Article, others: list[Article]) -> str:
    """The article in its page: cookie notice, nav, share buttons, comments, sidebar, footer."""
    slug = article.spec.slug
    return f"""<!DOCTYPE html>
<html lang="en">
{_head_html(article, canonical=f"/articles/{slug}.html")}
<body class="single-post">
{_top_html(article)}
{_cookie_html()}
{_nav_html()}
  <div class="breadcrumbs"><a href="/">Home</a> ›
    <a href="/topics/back-pain.html">Back pain</a></div>
  <main id="main" class="content">
    <article class="post">
{body_html(article)}
{_share_html(article)}
    </article>
{_comments_html(article)}
  </main>
{_sidebar_html(article, others)}
{_footer_html(article)}
</body>
</html>
"""


def amp_page(article: Article, others: list[Article]) -> str:
    """The same article as a lighter AMP page: other clutter, no comments, same text."""
    slug = article.spec.slug
    more = "\n".join(
        f'      <li><a href="/amp/{o.spec.slug}.html">{escape(o.spec.title)}</a></li>'
        for o in others[:2]
    )
    return f"""<!DOCTYPE html>
<html amp lang="en">
{_head_html(article, canonical=f"/articles/{slug}.html", amp=True)}
<body class="amp">
  <header class="amp-header"><a href="/">{SITE}</a> <button class="amp-menu">Menu</button></header>
  <div class="amp-ad">Advertisement</div>
  <main id="main">
    <article>
{body_html(article)}
    </article>
    <p class="amp-full-link"><a href="/articles/{slug}.html#comments">View comments on the
      full site</a></p>
  </main>
  <aside class="amp-related">
    <h3>More from {SITE}</h3>
    <ul>
{more}
    </ul>
  </aside>
  <footer class="amp-footer"><p>© 2012–2024 {SITE}</p></footer>
</body>
</html>
"""


def summary(article: Article, limit: int = 160) -> str:
    """The first long paragraph, cut at a word boundary: the feeds' description."""
    lede = next(b for b in article.blocks if len(b) > 80 and b not in article.spec.headings)
    if len(lede) <= limit:
        return lede
    return lede[:limit].rsplit(" ", 1)[0] + " …"


def rss_feed(articles: list[Article]) -> str:
    """RSS 2.0: every article, newest first."""
    items = "\n".join(
        f"""    <item>
      <title>{escape(a.spec.title)}</title>
      <link>{BASE}/articles/{a.spec.slug}.html</link>
      <guid isPermaLink="true">{BASE}/articles/{a.spec.slug}.html</guid>
      <pubDate>{format_datetime(a.spec.published, usegmt=True)}</pubDate>
      <description>{escape(summary(a))}</description>
    </item>"""
        for a in _newest_first(articles)
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0">
  <channel>
    <title>{SITE}</title>
    <link>{BASE}/</link>
    <description>Articles about back pain and massage (claimwatch demo site)</description>
    <language>en</language>
{items}
  </channel>
</rss>
"""


def atom_entries(articles: list[Article]) -> Iterator[tuple[Article, str]]:
    """(article, link) of the Atom feed: the tracked article with tracking parameters, the AMP
    copy of another, and two more articles as they are."""
    by_seed = {a.spec.seed: a for a in articles}
    tracked = by_seed[TRACKED_SEED]
    yield (
        tracked,
        f"{BASE}/articles/{tracked.spec.slug}.html?utm_source=atom&utm_medium=feed#comments",
    )
    yield by_seed[AMP_SEED], f"{BASE}/amp/{by_seed[AMP_SEED].spec.slug}.html"
    for seed in ("003", "000"):
        yield by_seed[seed], f"{BASE}/articles/{by_seed[seed].spec.slug}.html"


def atom_feed(articles: list[Article]) -> str:
    """Atom 1.0: some articles, under other URLs than in the RSS feed (see atom_entries)."""
    entries = "\n".join(
        f"""  <entry>
    <title>{escape(a.spec.title)}</title>
    <link rel="alternate" type="text/html" href="{escape(link, quote=True)}"/>
    <id>{_atom_id(a, link)}</id>
    <published>{a.spec.published.isoformat()}</published>
    <updated>{a.spec.published.isoformat()}</updated>
    <summary>{escape(summary(a))}</summary>
  </entry>"""
        for a, link in atom_entries(articles)
    )
    updated = max(a.spec.published for a in articles).isoformat()
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>{SITE}</title>
  <link rel="alternate" href="{BASE}/"/>
  <link rel="self" href="{BASE}/atom.xml"/>
  <id>tag:healthy-back.example,2012:feed</id>
  <updated>{updated}</updated>
  <author><name>{SITE} editors</name></author>
{entries}
</feed>
"""


def _atom_id(article: Article, link: str) -> str:
    kind = "-amp" if "/amp/" in link else ""
    return f"tag:healthy-back.example,{article.spec.published:%Y-%m-%d}:{article.spec.slug}{kind}"


def _newest_first(articles: list[Article]) -> list[Article]:
    return sorted(articles, key=lambda a: a.spec.published, reverse=True)


def index_page(articles: list[Article]) -> str:
    """A home page linking every article (not needed by the feeds; handy in a browser)."""
    items = "\n".join(
        f'    <li><a href="/articles/{a.spec.slug}.html">{escape(a.spec.title)}</a></li>'
        for a in _newest_first(articles)
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{SITE}</title>
<link rel="alternate" type="application/rss+xml" href="/feed.xml">
<link rel="alternate" type="application/atom+xml" href="/atom.xml"></head>
<body>
  <h1>{SITE}</h1>
  <ul>
{items}
  </ul>
</body>
</html>
"""


def expected(articles: list[Article]) -> str:
    """expected.json: per seed, its pages, title, date and the blocks extraction must give."""
    data = {
        a.seed_name: {
            "slug": a.spec.slug,
            "pages": [f"articles/{a.spec.slug}.html"]
            + ([f"amp/{a.spec.slug}.html"] if a.spec.seed == AMP_SEED else []),
            "title": a.spec.title,
            "published": a.spec.published.date().isoformat(),
            "blocks": list(a.blocks),
        }
        for a in articles
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _without_blank_lines(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if line.strip()) + "\n"


def site_files(seeds_dir: Path) -> dict[str, str]:
    """Every file of the site, by its path relative to the site folder."""
    articles = [read_article(seeds_dir, spec) for spec in SPECS]
    files = {"index.html": index_page(articles), "feed.xml": rss_feed(articles)}
    files["atom.xml"] = atom_feed(articles)
    files["expected.json"] = expected(articles)
    for article in articles:
        others = [o for o in articles if o is not article]
        files[f"articles/{article.spec.slug}.html"] = article_page(article, others)
        if article.spec.seed == AMP_SEED:
            files[f"amp/{article.spec.slug}.html"] = amp_page(article, others)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = os.environ.get("CLAIMWATCH_SHARED", str(REPO_ROOT.parent / "shared"))
    parser.add_argument("--shared", type=Path, default=Path(shared))
    parser.add_argument("--out", type=Path, default=HERE, help="site folder (default: here)")
    args = parser.parse_args(argv)
    for name, text in sorted(site_files(args.shared / "seeds").items()):
        path = args.out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_without_blank_lines(text), encoding="utf-8", newline="\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
