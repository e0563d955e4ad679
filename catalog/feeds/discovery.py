"""Where a page's feed may be: the feeds it advertises, then the usual paths.

An HTML page is searched for `<link rel="alternate">` feeds (`parse.py` names them when a
"feed" turns out to be a page), then the usual paths (/feed, /atom.xml, /index.xml…).
`services.feed_add` fetches and parses each candidate under the same rules as a poll.
"""

from __future__ import annotations

import logging
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

from catalog.feeds.address import split_url

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------
# Feed discovery
# --------------------------------------------------------------------------

# Deliberately not plain application/json: WordPress and others advertise REST
# endpoints as rel="alternate" type="application/json", which are not feeds.
_FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/rdf+xml",
    }
)

COMMON_FEED_PATHS = (
    "/feed",
    "/feed/",
    "/rss",
    "/rss.xml",
    "/atom.xml",
    "/feed.xml",
    "/index.xml",
    "/feeds/posts/default",
)


class _FeedLinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base_href: str | None = None
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: (value or "") for name, value in attrs}
        if tag == "base" and self.base_href is None and values.get("href", "").strip():
            self.base_href = values["href"].strip()
            return
        if tag != "link":
            return
        rels = values.get("rel", "").lower().split()
        mime = values.get("type", "").split(";", 1)[0].strip().lower()
        href = values.get("href", "").strip()
        if "alternate" in rels and mime in _FEED_TYPES and href:
            self.hrefs.append(href)


def discover_feed_urls(page_url: str, html: bytes) -> list[str]:
    """Feed addresses advertised by an HTML page, absolute, in page order.

    Only ``<link rel="alternate">`` with a feed media type counts. Relative
    hrefs are resolved against ``<base href>`` if present, else the page URL.
    Results are not safety-checked: fetch() does that when they are used.
    """
    parser = _FeedLinkParser()
    # Hrefs are ASCII in practice; a lossy decode cannot hide a link.
    parser.feed(html.decode("utf-8", errors="replace"))
    parser.close()
    base = urljoin(page_url, parser.base_href) if parser.base_href else page_url
    found: list[str] = []
    for href in parser.hrefs:
        absolute, _fragment = urldefrag(urljoin(base, href))
        if urlsplit(absolute).scheme in ("http", "https") and absolute not in found:
            found.append(absolute)
    return found


def candidate_feed_urls(page_url: str) -> list[str]:
    """Conventional feed locations on the page's origin, to probe when a page
    advertises none. Raises UnsafeURLError for non-http(s) addresses."""
    parsed, _host, _port = split_url(page_url)
    origin = f"{parsed.scheme}://{parsed.netloc.decode('ascii')}"
    return [origin + path for path in COMMON_FEED_PATHS]
