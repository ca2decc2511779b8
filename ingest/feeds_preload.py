"""Imported once by the worker processes' fork server, never by the main process: feedparser,
and the modules its first parse imports lazily (about 240 of them), so that no worker spends
its first feed importing them. Its import is its whole purpose."""

from ingest.feeds import parse_feed

parse_feed(
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>warm</title><item><title>a'
    b"</title><link>https://example.org/a</link><pubDate>Tue, 01 Dec 2026 07:00:00 GMT"
    b"</pubDate><description>&lt;p&gt;b&lt;/p&gt;</description></item></channel></rss>",
    url="https://example.org/feed",
)
