"""Guides kubelearn serves itself: catalog resources whose text lives in this repository
(``docs/``) and has no public address. The catalog's own hardened deployment is one; its card
offered only a web search for its title, which finds nothing (a walk-through)."""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache

import nh3
from django.conf import settings
from django.urls import reverse
from markdown_it import MarkdownIt

from catalog.models import SERVED_HERE

# A resource's slug, and its text under docs/.
GUIDES = SERVED_HERE

# "[network-policy]": the guides name a security area by its slug in brackets (not a link).
_AREA_MENTION = re.compile(r"\[([a-z0-9-]+)\](?![(\[])")
_TITLE = re.compile(r"\A# [^\n]*\n+")

# Our own text, rendered without raw HTML; cleaned all the same, as any HTML we serve is.
_CLEANER = nh3.Cleaner(
    tags={
        *("h2", "h3", "h4", "p", "ul", "ol", "li", "em", "strong", "code", "pre", "a"),
        *("table", "thead", "tbody", "tr", "th", "td", "blockquote", "hr", "br"),
    },
    attributes={"a": {"href"}},  # no style: the pages' CSP allows no inline style
    url_schemes={"http", "https"},
    link_rel="noopener noreferrer",
)


def guide_url(slug: str | None) -> str | None:
    """Where kubelearn serves the resource with this slug itself, if it does."""
    return reverse("learn:guide", args=[slug]) if slug in GUIDES else None


@lru_cache(maxsize=8)
def guide_html(slug: str, areas: frozenset[str]) -> str:
    """The guide as HTML for its page: its own title left out (the page's heading is the
    resource's), each security area it names in brackets linked to the catalog's readings on
    it. ``areas``: the catalog's area slugs. Raises KeyError for a slug with no guide."""
    text = (settings.BASE_DIR / "docs" / GUIDES[slug]).read_text(encoding="utf-8")
    text = _TITLE.sub("", text, count=1)
    text = _AREA_MENTION.sub(lambda found: _area_link(found, areas), text)
    rendered = MarkdownIt("commonmark", {"html": False}).enable("table").render(text)
    # Tables and code scroll sideways on a phone (kubelearn.css): reachable by keyboard too.
    return (
        _CLEANER.clean(rendered)
        .replace("<table>", '<table tabindex="0">')
        .replace("<pre>", '<pre tabindex="0">')
    )


def _area_link(found: re.Match[str], areas: Collection[str]) -> str:
    slug = found.group(1)
    if slug not in areas:
        return found.group(0)
    return f"[\\[{slug}\\]]({reverse('learn:browse')}?area={slug})"
