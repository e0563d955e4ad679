"""Turn fetched feed documents into clean, safe entry data.

Feed documents come from servers we do not control, so everything in them is
hostile until proven otherwise. This module is the one place that turns those
bytes into values the rest of the catalog can store and render:

* Parsing is feedparser's job, but always on bytes we already fetched (never on
  a URL: feedparser's own fetcher has no timeout and no SSRF protection) and
  always wrapped in a stream, because ``feedparser.parse(b"/etc/passwd")``
  would otherwise *open that path on our disk*.
* feedparser's own sanitiser is switched off; nh3 (ammonia) is stricter, faster
  and one parser instead of two. Relative URLs in entry HTML are resolved by
  us, before the URL-scheme check, so they are kept when they can be made
  absolute and dropped when they cannot.
* XML entity declarations are refused outright (see ``_declares_entities``).
  feedparser strips DTDs itself, but its loose fallback parser re-injects
  "safe" entities whose values contain no ``&`` and expands them without limit
  (the quadratic blow-up attack). Measured with feedparser 6.0.14: a 1 MB
  entity referenced 2,000 times took a minute and ~6 GB of memory. Feeds
  never need entity declarations, so refusing them costs nothing.
* Titles, summaries, authors and tags are plain text: tags stripped (with the
  content of script/style-like elements dropped), entities decoded,
  whitespace collapsed, length-capped. Templates escape them again on output.

The module is pure: no Django models, no I/O, so Celery workers, management
commands and tests can use it as is.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import io
import logging
import math
import re
import xml.sax
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import feedparser
import nh3
from feedparser.encodings import convert_to_utf8  # feedparser's own charset sniffing

from catalog.addresses import InvalidAddress, canonical_url

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_CONTENT_HTML_CHARS",
    "MAX_ENTRIES",
    "MAX_KEY_LENGTH",
    "MAX_SUMMARY_CHARS",
    "MAX_TITLE_CHARS",
    "NotAFeed",
    "ParsedEntry",
    "ParsedFeed",
    "html_to_text",
    "parse_feed",
    "sanitize_html",
]

# Limits match the columns the catalog stores these values in (Resource.title
# 300, entry_key 500, url 2000, Tag.name 80, Author.name 120).
MAX_TITLE_CHARS = 300
MAX_SUMMARY_CHARS = 1000
MAX_KEY_LENGTH = 500
MAX_URL_LENGTH = 2000
MAX_TAG_CHARS = 80
MAX_AUTHOR_CHARS = 120
MAX_CONTENT_HTML_CHARS = 100_000
# Raw HTML beyond this is not even handed to the sanitiser: the stored copy is
# capped at 100 KB anyway, and this bounds the work per entry.
MAX_HTML_INPUT_CHARS = 1_000_000
# Larger than the fetcher's 10 MiB cap, so only callers that bypass it hit this.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
# Archive feeds with thousands of entries exist; polling only needs the newest.
MAX_ENTRIES = 1000
MAX_WARNING_CHARS = 200
WORDS_PER_MINUTE = 230
# Publishers' clocks and time zones are often wrong by hours; days means a
# scheduled post leaking out early or a broken date we should not sort by.
MAX_FUTURE_SKEW = timedelta(days=2)
UNTITLED = "(untitled)"
ELLIPSIS = "…"

_WEB_SCHEMES = frozenset({"http", "https"})


class NotAFeed(ValueError):
    """The document is not an RSS or Atom feed we are willing to read.

    ``str(exc)`` is a sentence fit to show the user. ``kind`` says why, for
    code that reacts differently (``"empty"``, ``"html"``, ``"json"``,
    ``"xml"``, ``"unparseable"``, ``"too_large"``, ``"unsafe"``), and
    ``feed_urls`` lists the feeds an HTML page advertises, so the caller can
    offer (or follow) them.
    """

    def __init__(
        self, message: str, *, kind: str = "unparseable", feed_urls: Iterable[str] = ()
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.feed_urls = tuple(feed_urls)


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
    estimated_minutes: int


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed document: channel metadata and its usable entries."""

    title: str
    site_url: str | None
    version: str
    entries: tuple[ParsedEntry, ...]
    skipped_without_link: int
    warning: str | None


# --------------------------------------------------------------------------
# HTML sanitising
# --------------------------------------------------------------------------

_ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "dd",
        "del",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "samp",
        "small",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
        "var",
    }
)
# Deliberately minimal: no class/style/id (layout and CSS injection), no
# width/height (a 1x1 tracking pixel or a 99999px image are both abuse). The
# empty "*" entry matters: without it ammonia keeps lang/title on every tag.
_ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": set(),
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
_URL_ATTRIBUTES = frozenset({"href", "src"})
# Elements whose *content* is code, styling or embedded documents rather than
# prose: dropped with everything inside, in HTML and in plain text alike.
_DROP_WITH_CONTENT = frozenset(
    {
        "applet",
        "embed",
        "form",
        "frameset",
        "head",
        "iframe",
        "math",
        "noembed",
        "noframes",
        "noscript",
        "object",
        "script",
        "select",
        "style",
        "svg",
        "template",
        "textarea",
        "title",
        "xmp",
    }
)
_LINK_REL = "noopener noreferrer nofollow"
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _safe_url(value: str, base_url: str | None, fragment_base: str | None) -> str | None:
    """Resolve an href/src value to an absolute http(s) URL, or None to drop it.

    nh3 checks URL schemes *before* calling the attribute filter and passes
    relative URLs through untouched, so this is where relative URLs become
    absolute and where the scheme is checked (again) on the final value.
    """
    text = value.strip()
    if not text or _CONTROL_CHARS.search(text):
        return None
    try:
        if text.startswith("#"):
            # An in-page anchor refers to the article page, not the feed document.
            if not fragment_base:
                return None
            resolved = urldefrag(fragment_base)[0] + text
        elif base_url:
            resolved = urljoin(base_url, text)
        else:
            resolved = text
        parts = urlsplit(resolved)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in _WEB_SCHEMES or not host:
        return None
    return resolved


def _clean_html(html: str, base_url: str | None, fragment_base: str | None) -> str:
    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if attribute in _URL_ATTRIBUTES:
            return _safe_url(value, base_url, fragment_base)
        return value

    return nh3.clean(
        html,
        tags=set(_ALLOWED_TAGS),
        clean_content_tags=set(_DROP_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in _ALLOWED_ATTRIBUTES.items()},
        attribute_filter=attribute_filter,
        strip_comments=True,
        link_rel=_LINK_REL,
        url_schemes=set(_WEB_SCHEMES),
        # No set_tag_attribute_values (e.g. img loading="lazy"): ammonia adds
        # those in hash-map order, so the same entry would sanitise to
        # different strings on different polls and look "changed" every time.
    )


def sanitize_html(html: str, *, base_url: str | None = None) -> str:
    """Return HTML that is safe to render inside our pages.

    Only an allowlist of prose tags survives, with a handful of attributes;
    script/style/iframe/svg and similar elements go *with* their content; links
    and images must end up as absolute http(s) URLs (relative ones are resolved
    against ``base_url``, or dropped when there is none); links get
    ``rel="noopener noreferrer nofollow"``.
    """
    return _clean_html(_CONTROL_CHARS.sub("", html or ""), base_url, base_url)


def _limit_html(html: str, limit: int, base_url: str | None) -> str:
    """Cap sanitised HTML near ``limit`` characters without leaving broken markup.

    The cut backs off to before any tag or entity it would split, then the
    result is sanitised again so unclosed elements get closed.
    """
    if len(html) <= limit:
        return html
    cut = html[:limit]
    last_open = cut.rfind("<")
    if last_open > cut.rfind(">"):
        cut = cut[:last_open]
    last_amp = cut.rfind("&")
    if last_amp > cut.rfind(";"):
        cut = cut[:last_amp]
    return _clean_html(cut + f"<p>{ELLIPSIS}</p>", base_url, base_url)


# --------------------------------------------------------------------------
# Plain text
# --------------------------------------------------------------------------

# Block-level elements become word breaks in plain text ("<p>a</p><p>b</p>"
# is "a b", not "ab"); everything else is stripped, keeping its text.
_BREAK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "caption",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    }
)

# Every name an HTML parser treats as an element (plus svg/math). A "<name>"
# whose name is *not* in here is kept as literal text: tutorials write
# "kubectl logs <pod-name>" and "List<String>", and stripping those as unknown
# tags would eat the most important word of the title.
_HTML_ELEMENT_NAMES_TEXT = """
    a abbr acronym address applet area article aside audio b base basefont bdi bdo
    bgsound big blink blockquote body br button canvas caption center cite code col
    colgroup data datalist dd del details dfn dialog dir div dl dt em embed fieldset
    figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 head header
    hgroup hr html i iframe image img input ins isindex kbd keygen label legend li
    link listing main map mark marquee math menu menuitem meta meter multicol nav
    nextid nobr noembed noframes noscript object ol optgroup option output p param
    picture plaintext portal pre progress q rb rp rt rtc ruby s samp script search
    section select slot small source spacer span strike strong style sub summary sup
    svg table tbody td template textarea tfoot th thead time title tr track tt u ul
    var video wbr xmp
"""
_HTML_ELEMENT_NAMES = frozenset(_HTML_ELEMENT_NAMES_TEXT.split())
# "<pod-name>", "<K, V>": a bare name (or comma list of names), no attributes.
_LITERAL_ANGLE = re.compile(r"<(?=([A-Za-z][\w.:-]*)(?:\s*,\s*[A-Za-z][\w.:-]*)*>)")
_MARKUP_START = re.compile(r"<[A-Za-z!/?]")
_TAG_LIKE = re.compile(r"<[A-Za-z!/?][^<>]*>?")
# Fallback only (see _plain_text): a script-like element with its content, up
# to its end tag or the end of the text.
_DROPPED_ELEMENT = re.compile(
    r"<(" + "|".join(sorted(_DROP_WITH_CONTENT)) + r")\b.*?(?:</\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile("\\w[\\w'\u2019-]*")  # apostrophes and hyphens stay inside a word
_MAX_TEXT_PASSES = 4


def _protect_literal_angles(text: str) -> str:
    def escape(match: re.Match[str]) -> str:
        return match.group(0) if match.group(1).lower() in _HTML_ELEMENT_NAMES else "&lt;"

    return _LITERAL_ANGLE.sub(escape, text)


def _keep_literal_angle(match: re.Match[str]) -> str:
    """Last resort for pathologically nested escaping: drop anything tag-like
    except the literal "<pod-name>" placeholders."""
    literal = _LITERAL_ANGLE.match(match.group(0))
    if literal and literal.group(1).lower() not in _HTML_ELEMENT_NAMES:
        return match.group(0)
    return ""


class _TextCollector(HTMLParser):
    """Collect character data from (already sanitised, well-formed) HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BREAK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _strip_once(html: str) -> str:
    stripped = nh3.clean(
        _protect_literal_angles(html),
        tags=set(_BREAK_TAGS),
        clean_content_tags=set(_DROP_WITH_CONTENT),
        attributes={"*": set()},
        strip_comments=True,
        link_rel=None,
    )
    collector = _TextCollector()
    collector.feed(stripped)
    collector.close()
    return "".join(collector.parts)


def _plain_text(html: str) -> str:
    """All the text of an HTML fragment, whitespace-collapsed, no markup.

    Feeds often escape HTML twice ("&amp;lt;p&amp;gt;"), so one pass can turn
    escaped markup into real markup. We strip again while tag-like markup
    remains, a bounded number of times, then remove whatever still looks like a
    tag: a title must never carry "<script>" or "onerror=" even as text.
    """
    text = _CONTROL_CHARS.sub("", html or "")
    if len(text) > MAX_HTML_INPUT_CHARS:
        text = text[:MAX_HTML_INPUT_CHARS]
    if "<" not in text and "&" not in text:  # no markup, no entities: already plain
        return _WHITESPACE.sub(" ", text).strip()
    for _ in range(_MAX_TEXT_PASSES):
        text = _strip_once(text)
        if not _MARKUP_START.search(_protect_literal_angles(text)):
            break
    else:
        text = _DROPPED_ELEMENT.sub("", text)
        text = _TAG_LIKE.sub(_keep_literal_angle, text)
    return _WHITESPACE.sub(" ", text).strip()


def _truncate(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, on a word boundary, with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - len(ELLIPSIS), 0)]
    boundary = cut.rfind(" ")
    # Back off to a word boundary unless that would throw most of the text away
    # (one enormous token, or a language written without spaces).
    if boundary >= limit // 2:
        cut = cut[:boundary]
    return cut.rstrip(" ,;:-\u2013\u2014") + ELLIPSIS


def html_to_text(html: str, *, limit: int) -> str:
    """Plain text of an HTML fragment, at most ``limit`` characters.

    Tags are stripped (script, style and similar elements with their content),
    entities decoded, whitespace collapsed. Text cut short ends with "…" on a
    word boundary. The result may contain "<" as a character (e.g.
    "kubectl logs <pod>"): it is text, to be escaped by whoever renders it.
    """
    return _truncate(_plain_text(html), limit)


def _count_words(text: str) -> int:
    return len(_WORD.findall(text))


def _estimated_minutes(word_count: int) -> int:
    return max(1, math.ceil(word_count / WORDS_PER_MINUTE))


# --------------------------------------------------------------------------
# Refusing documents before feedparser sees them
# --------------------------------------------------------------------------

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)


def _declares_entities(utf8: bytes) -> bool:
    """Whether the document declares XML entities. Such documents are refused.

    Why refuse rather than rely on the parsers:

    * expat (2.4+) stops billion-laughs expansion and we disable external
      entities, so the strict parser alone would be fine. But any XML error
      makes feedparser fall back to its loose parser, which re-declares every
      entity whose value has no "&" and expands it itself, with no limit: the
      quadratic blow-up (a big entity referenced many times) goes straight
      through.
    * feedparser collects entity declarations from the whole prolog, before or
      after the DOCTYPE, so we do not try to be clever about where they are:
      a document that has both a DOCTYPE and an ENTITY declaration anywhere is
      refused. Without a DOCTYPE no parser honours an entity declaration, so a
      post quoting "<!ENTITY" inside CDATA is still accepted.

    The check runs on feedparser's own UTF-8 conversion of the document, so a
    UTF-16 (or UTF-32, EBCDIC...) document cannot hide its declarations.
    """
    return bool(_DOCTYPE.search(utf8) and _ENTITY.search(utf8))


def _to_utf8(content: bytes, headers: Mapping[str, str]) -> bytes:
    """The document as feedparser will see it after charset detection."""
    try:
        return convert_to_utf8(dict(headers), content, {})
    except Exception:  # a sniffing bug must not turn into a crash or a bypass
        logger.debug("feedparser charset conversion failed; scanning raw bytes", exc_info=True)
        return content


_HTML_SNIFF = re.compile(rb"<!DOCTYPE\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.IGNORECASE)
_XML_DECLARATION = re.compile(rb"^<\?xml[^>]*\?>")
_ROOT_ELEMENT = re.compile(rb"<([A-Za-z_][\w:.-]*)")
_SNIFF_BYTES = 4096


def _looks_like_html(head: bytes, content_type: str) -> bool:
    return content_type in ("text/html", "application/xhtml+xml") or bool(_HTML_SNIFF.search(head))


def _describe_bozo(exc: BaseException | None) -> str:
    """A short, single-line description of a feedparser bozo exception."""
    if exc is None:
        return "unknown error"
    if isinstance(exc, xml.sax.SAXParseException):
        text = f"line {exc.getLineNumber()}, column {exc.getColumnNumber()}: {exc.getMessage()}"
    else:
        text = str(exc) or type(exc).__name__
    text = _WHITESPACE.sub(" ", text).strip()
    return _truncate(text, MAX_WARNING_CHARS)


def _not_a_feed(
    url: str, utf8: bytes, content_type: str, raw: bytes, result: Mapping[str, Any]
) -> NotAFeed:
    """Say what the document looks like instead of a feed."""
    where = f"The document at {url}"
    # feedparser's conversion prepends an XML declaration even to JSON or text.
    head = _XML_DECLARATION.sub(b"", utf8[:_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n"))
    head = head.lstrip(b" \t\r\n")
    if _looks_like_html(head, content_type):
        # Imported lazily: fetching pulls in httpx, which pure parsing never needs.
        from catalog.fetching import discover_feed_urls

        try:
            feed_urls = discover_feed_urls(url, raw)
        except ValueError:
            feed_urls = []
        message = f"{where} is an HTML page, not an RSS or Atom feed."
        if feed_urls:
            message += f" It advertises a feed at {feed_urls[0]}."
        return NotAFeed(message, kind="html", feed_urls=feed_urls)
    if head[:1] in (b"{", b"[") or content_type.endswith("json"):
        return NotAFeed(
            f"{where} is JSON, not an RSS or Atom feed (JSON Feed is not supported).",
            kind="json",
        )
    bozo_exc = result.get("bozo_exception") if result.get("bozo") else None
    if head.startswith(b"<") and not isinstance(bozo_exc, xml.sax.SAXParseException):
        root = _ROOT_ELEMENT.search(head)
        name = root.group(1).decode("ascii", "replace") if root else "unknown"
        return NotAFeed(
            f"{where} is an XML document with a <{name}> root element, not an RSS or Atom feed.",
            kind="xml",
        )
    if not head.startswith(b"<"):
        reason = "it is not XML"
    elif bozo_exc:
        reason = _describe_bozo(bozo_exc)
    else:
        reason = "no RSS or Atom elements were found"
    return NotAFeed(f"{where} could not be parsed as a feed: {reason}", kind="unparseable")


# --------------------------------------------------------------------------
# Entries
# --------------------------------------------------------------------------


def _http_url(candidate: Any, base: str | None) -> str | None:
    """Canonical absolute http(s) URL for a link value, or None if unusable."""
    if not isinstance(candidate, str) or not candidate.strip():
        return None
    text = candidate.strip()
    if _CONTROL_CHARS.search(text):
        return None
    try:
        absolute = urljoin(base, text) if base else text
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
            url = _http_url(candidate, base)
            if url:
                return url, is_link
    return None


def _bounded_key(key: str) -> str:
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
        entry_id = _WHITESPACE.sub(" ", _CONTROL_CHARS.sub("", raw_id)).strip()
        if entry_id:
            return _bounded_key(entry_id)
    if url_is_link:
        return _bounded_key(url)
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
            moment = datetime(*parsed[:6], tzinfo=UTC)
        except (TypeError, ValueError, OverflowError):
            continue
        if moment - now > MAX_FUTURE_SKEW:
            logger.debug("Ignoring entry date %s: too far in the future", moment.isoformat())
            return None
        return moment
    return None


def _detail_html(detail: Mapping[str, Any] | None, fallback: Any = "") -> str:
    """Source text of a feedparser text construct (title, feed title).

    Even a text/plain construct is treated as HTML by the caller (tags
    stripped): a "plain" title must not smuggle "<script>" into our text, and
    feeds mislabel their titles' type all the time anyway.
    """
    value = detail.get("value") if detail else fallback
    return value if isinstance(value, str) else ""


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


def _authors(entry: Mapping[str, Any], feed_authors: list[Any]) -> tuple[str, ...]:
    raw: list[Any] = []
    for author in entry.get("authors") or feed_authors:
        if isinstance(author, Mapping):
            raw.append(author.get("name") or author.get("email"))
    if not raw and entry.get("author"):
        raw.append(entry.get("author"))
    names: list[str] = []
    for value in raw:
        if isinstance(value, str):
            name = html_to_text(value, limit=MAX_AUTHOR_CHARS)
            if name and name not in names:
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


def _parse_entry(
    entry: Mapping[str, Any], *, feed_url: str, feed_authors: list[Any], now: datetime
) -> ParsedEntry | None:
    found = _entry_url(entry, feed_url)
    if found is None:
        return None
    url, url_is_link = found
    title = html_to_text(
        _detail_html(entry.get("title_detail"), entry.get("title")), limit=MAX_TITLE_CHARS
    )
    body, body_base = _entry_body(entry)
    body = body[:MAX_HTML_INPUT_CHARS]
    clean = _clean_html(_CONTROL_CHARS.sub("", body), body_base or feed_url, url)
    full_text = _plain_text(clean)
    summary_source = entry.get("summary") if isinstance(entry.get("summary"), str) else ""
    summary = _truncate(_plain_text(summary_source) or full_text, MAX_SUMMARY_CHARS)
    word_count = _count_words(full_text)
    return ParsedEntry(
        key=_entry_key(entry, title, url, url_is_link=url_is_link),
        url=url,
        title=title or UNTITLED,
        summary=summary,
        content_html=_limit_html(clean, MAX_CONTENT_HTML_CHARS, body_base or feed_url),
        published_at=_entry_date(entry, now),
        authors=_authors(entry, feed_authors),
        tags=_tags(entry),
        word_count=word_count,
        estimated_minutes=_estimated_minutes(word_count),
    )


# --------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------


def _headers_for_feedparser(
    url: str, content_type: str | None, response_headers: Mapping[str, str] | None
) -> dict[str, str]:
    """Lower-cased headers (feedparser looks them up that way) with our base URL.

    Content-Location is forced to the URL we fetched: feedparser resolves
    relative links against it, and a server-chosen base would let a feed make
    its relative links point anywhere.
    """
    headers = {str(k).lower(): str(v) for k, v in (response_headers or {}).items()}
    if content_type:
        headers["content-type"] = content_type
    headers["content-location"] = url
    # The fetcher has already decoded the body; feedparser must not try again.
    headers.pop("content-encoding", None)
    return headers


def parse_feed(
    content: bytes,
    *,
    url: str,
    content_type: str | None = None,
    response_headers: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> ParsedFeed:
    """Parse a fetched RSS/Atom document into safe, deduplicated entries.

    ``url`` is the address the document was fetched from (after redirects):
    the base for relative links and the name used in messages.
    ``content_type`` overrides the Content-Type in ``response_headers``; both
    only guide charset detection. ``now`` is for tests of the future-date rule.

    Raises NotAFeed for empty documents, documents that are not feeds (HTML,
    JSON, other XML, garbage), documents that declare XML entities, and
    documents too large to parse. A feed that is broken but still yields
    entries is returned, with ``warning`` describing the damage.
    """
    now = now or datetime.now(UTC)
    if not content or not content.strip():
        raise NotAFeed(f"The document at {url} is empty.", kind="empty")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise NotAFeed(
            f"The document at {url} is too large to be a feed "
            f"({len(content) // (1024 * 1024)} MiB).",
            kind="too_large",
        )
    headers = _headers_for_feedparser(url, content_type, response_headers)
    utf8 = _to_utf8(content, headers)
    if _declares_entities(utf8) or _declares_entities(content):
        logger.warning("Refused feed document from %s: it declares XML entities", url)
        raise NotAFeed(
            f"The document at {url} declares XML entities, which feeds never need; "
            "refused for safety.",
            kind="unsafe",
        )

    # BytesIO, never bare bytes: feedparser.parse() treats a bytes/str argument
    # as a file name or URL first, so a body reading "/etc/passwd" would be
    # opened from our disk.
    try:
        result = feedparser.parse(
            io.BytesIO(content),
            response_headers=headers,
            resolve_relative_uris=False,  # done by sanitize_html, against the right base
            sanitize_html=False,  # nh3 does it, stricter and in one pass
        )
    except Exception as exc:
        # feedparser reports broken XML as "bozo" rather than raising; an
        # exception here is a parser bug on hostile input. One bad document
        # must not take the poll down with a traceback.
        logger.warning("feedparser crashed on %s", url, exc_info=True)
        raise NotAFeed(
            f"The document at {url} could not be parsed as a feed: "
            f"the parser failed ({type(exc).__name__}).",
            kind="unparseable",
        ) from exc
    version = result.get("version") or ""
    raw_entries = result.get("entries") or []
    if not version and not raw_entries:
        media_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
        error = _not_a_feed(url, utf8, media_type, content, result)
        logger.info("Not a feed at %s: %s", url, error.kind)
        raise error

    feed = result.get("feed") or {}
    feed_authors = (feed.get("authors") or []) if version.startswith("atom") else []
    entries: list[ParsedEntry] = []
    seen: set[str] = set()
    skipped = 0
    for raw_entry in raw_entries[:MAX_ENTRIES]:
        parsed = _parse_entry(raw_entry, feed_url=url, feed_authors=feed_authors, now=now)
        if parsed is None:
            skipped += 1
            continue
        if parsed.key in seen:  # duplicate GUIDs: the first (usually newest) wins
            logger.debug("Duplicate entry key %r in %s", parsed.key, url)
            continue
        seen.add(parsed.key)
        entries.append(parsed)
    if skipped:
        logger.info("Skipped %d entries without a usable link in %s", skipped, url)

    warning = None
    bozo_exc = result.get("bozo_exception") if result.get("bozo") else None
    # NonXMLContentType only means the server's Content-Type was missing or
    # odd (text/plain, text/html) while the body was a fine feed: not news.
    if bozo_exc is not None and not isinstance(bozo_exc, feedparser.NonXMLContentType):
        warning = _describe_bozo(bozo_exc)
    if len(raw_entries) > MAX_ENTRIES:
        note = f"only the first {MAX_ENTRIES} of {len(raw_entries)} entries were read"
        warning = f"{warning}; {note}" if warning else note

    site_url = _http_url(feed.get("link"), url)
    return ParsedFeed(
        title=html_to_text(
            _detail_html(feed.get("title_detail"), feed.get("title")), limit=MAX_TITLE_CHARS
        ),
        site_url=site_url,
        version=version,
        entries=tuple(entries),
        skipped_without_link=skipped,
        warning=warning,
    )
