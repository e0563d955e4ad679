"""Build small, valid RSS 2.0 and Atom documents for tests and benchmarks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape


def rss(
    items: list[dict],
    *,
    title: str = "A Kubernetes blog",
    link: str = "https://blog.example.org/",
) -> bytes:
    """items: dicts with title, link, and optional guid, description, pubDate (datetime)."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>{escape(link)}</link>",
        "<description>Posts</description>",
    ]
    for item in items:
        parts.append("<item>")
        parts.append(f"<title>{escape(item['title'])}</title>")
        if item.get("link"):
            parts.append(f"<link>{escape(item['link'])}</link>")
        if item.get("guid"):
            parts.append(f'<guid isPermaLink="false">{escape(item["guid"])}</guid>')
        if item.get("description"):
            parts.append(f"<description>{escape(item['description'])}</description>")
        if item.get("pubDate"):
            parts.append(f"<pubDate>{format_datetime(item['pubDate'])}</pubDate>")
        for category in item.get("categories", []):
            parts.append(f"<category>{escape(category)}</category>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def posts(count: int, *, prefix: str = "post", hours_apart: float = 24) -> list[dict]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    return [
        {
            "title": f"Kubernetes {prefix} {n}",
            "link": f"https://blog.example.org/{prefix}-{n}/",
            "guid": f"urn:{prefix}:{n}",
            "description": f"<p>Notes on pods, RBAC and etcd, part {n}.</p>",
            "pubDate": start + timedelta(hours=hours_apart * n),
        }
        for n in range(count)
    ]
