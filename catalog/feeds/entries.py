"""Step 4b: one feedparser entry reduced to safe plain values (ParsedEntry).

Limits match the columns the catalog stores these values in.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from catalog.addresses import InvalidAddress, canonical_url
from catalog.feeds.sanitise import (
    CONTROL_CHARS,
    MAX_HTML_INPUT_CHARS,
    clean_html,
    collapse_whitespace,
    construct_text,
    count_words,
    estimated_minutes,
    html_to_text,
    limit_html,
    plain_text,
    sanitised_text,
    truncate,
)

logger = logging.getLogger(__name__)

# Limits match the columns the catalog stores these values in (Resource.title
# 300, entry_key 500, url 2000, Tag.name 80, Author.name 120).
MAX_TITLE_CHARS = 300
MAX_SUMMARY_CHARS = 1000
MAX_KEY_LENGTH = 500
MAX_URL_LENGTH = 2000
MAX_TAG_CHARS = 80
MAX_AUTHOR_CHARS = 120
MAX_CONTENT_HTML_CHARS = 100_000


# Publishers' clocks and time zones are often wrong by hours; days means a
# scheduled post leaking out early or a broken date we should not sort by.
MAX_FUTURE_SKEW = timedelta(days=2)
UNTITLED = "(untitled)"


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    """One feed entry, reduced to safe plain values."""

    key: str
    url: str
    title: str
    summary: str
    content_html: str
    published_at: datetime | None
    authors: tuple[str, ...]
    tags: tuple[str, ...]
    word_count: int
    estimated_minutes: int | None
    # What the entry was made from (see entry_fingerprint): the same fingerprint on a later
    # poll means the same ParsedEntry, so it need not be made again.
    fingerprint: str = ""


# --------------------------------------------------------------------------
# Entries
# --------------------------------------------------------------------------


# An absolute http(s) address without dot segments: joining it to a base changes nothing
# (urljoin only removes "." and ".." segments from it), so the join is skipped, a third of
# the time an entry's link took.
_PLAIN_ABSOLUTE = re.compile(r"https?://[^/]", re.IGNORECASE)


def http_url(candidate: Any, base: str | None) -> str | None:
    """Canonical absolute http(s) URL for a link value, or None if unusable."""
    if not isinstance(candidate, str) or not candidate.strip():
        return None
    text = candidate.strip()
    if CONTROL_CHARS.search(text):
        return None
    try:
        plain = _PLAIN_ABSOLUTE.match(text) is not None and "/." not in text
        absolute = urljoin(base, text) if base and not plain else text
        url = canonical_url(absolute)
    except (InvalidAddress, ValueError):
        return None
    return url if len(url) <= MAX_URL_LENGTH else None


def _entry_url(entry: Mapping[str, Any], base: str | None) -> tuple[str, bool] | None:
    """The page an entry points at, and whether it came from a link (not an enclosure).

    Candidates in order: ``link``, other alternate links, enclosures (a podcast
    or video episode is a resource too). feedparser already resolves links
    against xml:base and the document URL; resolving again against the feed
    URL only matters when it could not.
    """
    links = [link for link in entry.get("links") or [] if isinstance(link, Mapping)]
    alternates = [entry.get("link")] + [
        link.get("href") for link in links if link.get("rel", "alternate") == "alternate"
    ]
    enclosures = [link.get("href") for link in links if link.get("rel") == "enclosure"]
    for candidates, is_link in ((alternates, True), (enclosures, False)):
        for candidate in candidates:
            url = http_url(candidate, base)
            if url:
                return url, is_link
    return None


def bounded_key(key: str) -> str:
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return "sha1:" + hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()


def _entry_key(entry: Mapping[str, Any], title: str, url: str, *, url_is_link: bool) -> str:
    """Stable identity of an entry within its feed: id, else link, else a hash.

    The hash covers the title and the *raw* date string, so the same entry
    gets the same key on every poll. When both are empty the URL joins in, so
    distinct untitled, undated entries do not collapse into one.
    """
    raw_id = entry.get("id")
    if isinstance(raw_id, str):
        entry_id = collapse_whitespace(CONTROL_CHARS.sub("", raw_id))
        if entry_id:
            return bounded_key(entry_id)
    if url_is_link:
        return bounded_key(url)
    date = str(entry.get("published") or entry.get("updated") or "")
    material = title + "\n" + date
    if not title and not date:
        material += "\n" + url
    return "sha1:" + hashlib.sha1(material.encode("utf-8"), usedforsecurity=False).hexdigest()


def _entry_date(entry: Mapping[str, Any], now: datetime) -> datetime | None:
    """Publication time as aware UTC; None when missing or implausibly in the future.

    feedparser's ``*_parsed`` values are struct_time already normalised to UTC.
    """
    for field_name in ("published_parsed", "updated_parsed"):
        parsed = entry.get(field_name)
        if not parsed:
            continue
        try:
            year, month, day, hour, minute, second = parsed[:6]
            moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except (TypeError, ValueError, OverflowError):
            continue
        if moment - now > MAX_FUTURE_SKEW:
            logger.debug("Ignoring entry date %s: too far in the future", moment.isoformat())
            return None
        return moment
    return None


def date_withheld(entry: Mapping[str, Any], now: datetime) -> bool:
    """Whether the entry carries a date that ``parse_entry`` does not use now (too far in the
    future, or unreadable): a later poll of the same bytes may read the entry differently."""
    has_date = any(entry.get(name) for name in ("published_parsed", "updated_parsed"))
    return has_date and _entry_date(entry, now) is None


def construct_title(detail: Mapping[str, Any] | None, fallback: Any = "") -> str:
    """Plain text of a feedparser text construct (an entry's or a feed's title)."""
    value = detail.get("value") if detail else fallback
    content_type = detail.get("type") if detail else None
    return construct_text(
        value if isinstance(value, str) else "", content_type, limit=MAX_TITLE_CHARS
    )


def _entry_body(entry: Mapping[str, Any]) -> tuple[str, str | None]:
    """The richest HTML body of an entry and the base its relative URLs use."""
    contents = [c for c in entry.get("content") or [] if isinstance(c.get("value"), str)]
    html_contents = [c for c in contents if c.get("type") != "text/plain"]
    for detail in html_contents or contents:
        if detail.get("value", "").strip():
            if detail.get("type") == "text/plain":
                return f"<p>{html_lib.escape(detail['value'])}</p>", detail.get("base")
            return detail["value"], detail.get("base")
    summary = entry.get("summary_detail") or {}
    value = summary.get("value") or entry.get("summary") or ""
    if not isinstance(value, str):
        value = ""
    if summary.get("type") == "text/plain":
        return f"<p>{html_lib.escape(value)}</p>", summary.get("base")
    return value, summary.get("base")


def _document_base(xml_base: str | None, feed_url: str) -> str:
    """The address an entry's relative links are relative to: its xml:base (as feedparser
    gives it: relative to the document when the document has no absolute one) resolved
    against the address the document was fetched from."""
    if not xml_base:
        return feed_url
    try:
        return urljoin(feed_url, xml_base)
    except ValueError:  # e.g. a malformed IPv6 literal: fall back to the document's address
        return feed_url


_BARE_EMAIL = re.compile(r"\S+@\S+")


def _authors(entry: Mapping[str, Any], feed_authors: list[Any]) -> tuple[str, ...]:
    raw: list[Any] = []
    for author in entry.get("authors") or feed_authors:
        if isinstance(author, Mapping):
            # A name only: an address alone ("dana@example.org") is not a name to credit,
            # and would publish the author's e-mail in the catalog.
            raw.append(author.get("name"))
    if not raw and entry.get("author"):
        raw.append(entry.get("author"))
    names: list[str] = []
    for value in raw:
        if isinstance(value, str):
            name = html_to_text(value, limit=MAX_AUTHOR_CHARS)
            if name and not _BARE_EMAIL.fullmatch(name) and name not in names:
                names.append(name)
    return tuple(names)


def _tags(entry: Mapping[str, Any]) -> tuple[str, ...]:
    tags: list[str] = []
    for tag in entry.get("tags") or []:
        if not isinstance(tag, Mapping):
            continue
        value = tag.get("term") or tag.get("label")
        if not isinstance(value, str):
            continue
        term = html_to_text(value, limit=MAX_TAG_CHARS).lower()
        if term and term not in tags:
            tags.append(term)
    return tuple(tags)


# Part of every fingerprint: change it whenever parse_entry or the sanitiser would turn the
# same raw entry into something different, so every stored entry is made again once.
PIPELINE_VERSION = "4"  # 4: bidirectional controls dropped (CONTROL_CHARS)


def entry_fingerprint(
    entry: Mapping[str, Any], *, feed_url: str, feed_authors: list[Any], now: datetime
) -> str:
    """A hash of everything parse_entry reads: the raw entry as feedparser gave it, the base
    address, the feed's authors and whether its date is (still) too far in the future.
    Cheap next to sanitising, which an unchanged fingerprint lets a poll skip."""
    material = "\n".join(
        (
            PIPELINE_VERSION,
            feed_url,
            repr(feed_authors),
            repr(_entry_date(entry, now) is None),
            repr(entry),
        )
    )
    return hashlib.blake2b(material.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


#: A summary alone (no full content in the entry) shorter than this is taken for an excerpt,
#: whose length says nothing of the post's: its reading time is unknown, not the "1 min" every
#: such entry was given (a curator's walk-through). Unknown lengths count as 15 minutes in a
#: learner's time budget and show no time on the cards.
EXCERPT_WORDS_MAX = 200

# A full content that ends as a teaser does ("…", "[...]", "Continue reading →", "Read more")
# is an excerpt too, when short: a curator's walk-through found such posts estimated at 1 min.
_TEASER_END = re.compile(r"(?:\u2026|\.\.\.|\[(?:\u2026|\.\.\.)\])\W*$")
_TEASER_LINK = re.compile(
    r"\b(?:continue reading|read more|keep reading|read the (?:full|rest|whole))\b", re.IGNORECASE
)
# How near the end a "Continue reading" counts: WordPress follows it with the post's title.
_TEASER_LINK_CHARS = 160


def _reads_as_an_excerpt(*, words: int, text: str, summary_alone: bool) -> bool:
    if words >= EXCERPT_WORDS_MAX:
        return False
    tail = text[-_TEASER_LINK_CHARS:]
    return summary_alone or bool(_TEASER_END.search(tail) or _TEASER_LINK.search(tail))


def parse_entry(
    entry: Mapping[str, Any],
    *,
    feed_url: str,
    feed_authors: list[Any],
    now: datetime,
    fingerprint: str = "",
) -> ParsedEntry | None:
    found = _entry_url(entry, feed_url)
    if found is None:
        return None
    url, url_is_link = found
    title = construct_title(entry.get("title_detail"), entry.get("title"))
    body, body_base = _entry_body(entry)
    base = _document_base(body_base, feed_url)
    clean = clean_html(CONTROL_CHARS.sub("", body[:MAX_HTML_INPUT_CHARS]), base, url)
    summary_value = entry.get("summary")
    summary_source = summary_value if isinstance(summary_value, str) else ""
    summary_text = plain_text(summary_source)
    # An entry whose body is its summary (an RSS description alone, the common case) has one
    # text, read once. (plain_text also keeps the "<pod-name>" placeholders that the HTML
    # sanitiser drops as unknown tags, so its words are the better count.)
    full_text = summary_text if body == summary_source else sanitised_text(clean)
    summary = truncate(summary_text or full_text, MAX_SUMMARY_CHARS)
    word_count = count_words(full_text)
    return ParsedEntry(
        key=_entry_key(entry, title, url, url_is_link=url_is_link),
        url=url,
        title=title or UNTITLED,
        summary=summary,
        content_html=limit_html(clean, MAX_CONTENT_HTML_CHARS, base),
        published_at=_entry_date(entry, now),
        authors=_authors(entry, feed_authors),
        tags=_tags(entry),
        word_count=word_count,
        estimated_minutes=(
            None
            if _reads_as_an_excerpt(
                words=word_count, text=full_text, summary_alone=body == summary_source
            )
            else estimated_minutes(word_count)
        ),
        fingerprint=fingerprint,
    )
