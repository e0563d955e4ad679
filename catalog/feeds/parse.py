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
* feedparser's strict parser reads through expat with text buffering on
  (``catalog.feeds.expat``): the same result, a fifth less of its time; its copies of
  content parameters are shallow where that is exact (``catalog.feeds.fastcopy``).
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

import dataclasses
import hashlib
import io
import logging
import re
import xml.sax
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser
from feedparser.encodings import convert_to_utf8  # feedparser's own charset sniffing

from catalog.feeds import expat, fastcopy
from catalog.feeds.discovery import discover_feed_urls
from catalog.feeds.entries import (
    PIPELINE_VERSION,
    ParsedEntry,
    bounded_key,
    construct_title,
    date_withheld,
    entry_fingerprint,
    http_url,
    parse_entry,
)
from catalog.feeds.sanitise import collapse_whitespace, truncate
from kubelearn.wording import spoken_size

expat.install()
fastcopy.install()
logger = logging.getLogger(__name__)

# Larger than the fetcher's 10 MiB cap, so only callers that bypass it hit this.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
# Archive feeds with thousands of entries exist; polling only needs the newest.
MAX_ENTRIES = 1000
MAX_WARNING_CHARS = 200


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
class ParsedFeed:
    """A parsed feed document: channel metadata and its usable entries."""

    title: str
    site_url: str | None
    version: str
    entries: tuple[ParsedEntry, ...]
    skipped_without_link: int
    warning: str | None
    # Entries left out of ``entries`` because they are stored already, exactly as they are now
    # (their fingerprint is known): nothing in them was sanitised again.
    unchanged: int = 0
    # Whether parsing the same bytes later may give other entries (an entry's date is withheld
    # for now): such a document's fingerprint is not worth remembering.
    time_dependent: bool = False


def document_fingerprint(content: bytes, *, url: str) -> str:
    """A hash of everything a document's parse depends on but the clock: its bytes, the
    address it was fetched from (the base of its relative links) and the pipeline's version.
    The same fingerprint means the same entries as last time (unless that parse was
    ``time_dependent``), so a poll need not parse the document again."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{PIPELINE_VERSION}\n{url}\n".encode("utf-8", "surrogatepass"))
    digest.update(content)
    return digest.hexdigest()


# --------------------------------------------------------------------------
# Refusing documents before feedparser sees them
# --------------------------------------------------------------------------

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)


_FIRST_ELEMENT = re.compile(rb"<\w")
_SPACE = re.compile(rb"[\s\x00]*")  # NULs: a UTF-16 document scanned as raw bytes


def _prolog_end(document: bytes) -> int:
    """Where the prolog ends: the offset of the root element's "<".

    The prolog is the only place an XML parser acts on a DOCTYPE and its entity
    declarations. Comments, processing instructions and the DOCTYPE (with its internal
    subset in brackets) are skipped as a parser would, so a "<" inside them does not end
    the scan early.
    """
    position = 0
    if document.startswith(b"\xef\xbb\xbf"):
        position = 3
    while True:
        match = _SPACE.match(document, position)
        position = match.end() if match else position
        rest = document[position : position + 9].upper()
        if rest.startswith(b"<?"):
            end = document.find(b"?>", position + 2)
            closing = 2
        elif rest.startswith(b"<!--"):
            end = document.find(b"-->", position + 4)
            closing = 3
        elif rest.startswith(b"<!DOCTYPE"):
            bracket = document.find(b"[", position)
            angle = document.find(b">", position)
            if bracket != -1 and (angle == -1 or bracket < angle):
                end = document.find(b"]", bracket)
                end = document.find(b">", end) if end != -1 else -1
            else:
                end = angle
            closing = 1
        else:
            return position
        if end == -1:  # unterminated: the whole document is prolog
            return len(document)
        position = end + closing


def _declares_entities(utf8: bytes) -> bool:
    """Whether the document's prolog declares XML entities. Such documents are refused.

    Why refuse rather than rely on the parsers:

    * expat (2.4+) stops billion-laughs expansion and we disable external
      entities, so the strict parser alone would be fine. But any XML error
      makes feedparser fall back to its loose parser, which re-declares every
      entity whose value has no "&" and expands it itself, with no limit: the
      quadratic blow-up (a big entity referenced many times) goes straight
      through.
    * Only the prolog counts: it is where parsers act on declarations. feedparser
      takes "the prolog" to be everything before the first "<" + letter, even inside
      a comment; a real parser skips comments. We look at whichever reaches further,
      and refuse a DOCTYPE plus an ENTITY declaration anywhere in it. Text after the
      root element starts is character data, never a declaration: a security post
      explaining XXE with "<!DOCTYPE x [<!ENTITY e SYSTEM ...>]>" in its CDATA is
      accepted (and its entity is never expanded).

    The check runs on feedparser's own UTF-8 conversion of the document, so a
    UTF-16 (or UTF-32, EBCDIC...) document cannot hide its declarations.
    """
    first_element = _FIRST_ELEMENT.search(utf8)
    feedparser_head = first_element.start() if first_element else len(utf8)
    prolog = utf8[: max(_prolog_end(utf8), feedparser_head)]
    return bool(_DOCTYPE.search(prolog) and _ENTITY.search(prolog))


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
    text = collapse_whitespace(text)
    return truncate(text, MAX_WARNING_CHARS)


def _not_a_feed(
    url: str, utf8: bytes, content_type: str, raw: bytes, result: Mapping[str, Any]
) -> NotAFeed:
    """Say what the document looks like instead of a feed."""
    where = f"The document at {url}"
    # feedparser's conversion prepends an XML declaration even to JSON or text.
    head = _XML_DECLARATION.sub(b"", utf8[:_SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n"))
    head = head.lstrip(b" \t\r\n")
    if _looks_like_html(head, content_type):
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
# Documents
# --------------------------------------------------------------------------


def _headers_for_feedparser(
    content_type: str | None, response_headers: Mapping[str, str] | None
) -> dict[str, str]:
    """Lower-cased headers (feedparser looks them up that way), without a base URL.

    The server's Content-Location is dropped: a server-chosen base would let a feed make its
    relative links point anywhere. Where the document needs a base, `document_read` sets
    the URL we fetched (see `_uses_xml_base`).
    """
    headers = {str(k).lower(): str(v) for k, v in (response_headers or {}).items()}
    if content_type:
        headers["content-type"] = content_type
    headers.pop("content-location", None)
    # The fetcher has already decoded the body; feedparser must not try again.
    headers.pop("content-encoding", None)
    return headers


def _uses_xml_base(utf8: bytes) -> bool:
    """Whether feedparser needs the fetched address as the document's base.

    A document without xml:base gets none: feedparser then leaves relative links as they are
    and the entry step resolves them against the same URL (``http_url``, ``_document_base``)
    — the same addresses, without feedparser joining every link of every entry (a third of
    its time on a typical feed). With xml:base feedparser needs the absolute base to resolve
    nested bases. (Checked after the charset conversion: UTF-16 cannot hide it.)
    """
    return b"xml:base" in utf8


def parse_feed(
    content: bytes,
    *,
    url: str,
    content_type: str | None = None,
    response_headers: Mapping[str, str] | None = None,
    now: datetime | None = None,
    known: Callable[[Sequence[str]], Mapping[str, str]] | None = None,
) -> ParsedFeed:
    """Parse a fetched RSS/Atom document into safe, deduplicated entries.

    ``url`` is the address the document was fetched from (after redirects):
    the base for relative links and the name used in messages.
    ``content_type`` overrides the Content-Type in ``response_headers``; both
    only guide charset detection. ``now`` is for tests of the future-date rule.
    ``known`` is given the entries' fingerprints and returns those already stored, each with
    its entry key: such entries are counted in ``unchanged`` instead of being made again
    (the key still takes part in the duplicate check).

    Raises NotAFeed for empty documents, documents that are not feeds (HTML,
    JSON, other XML, garbage), documents that declare XML entities, and
    documents too large to parse. A feed that is broken but still yields
    entries is returned, with ``warning`` describing the damage.

    In two steps for callers that look up many documents' fingerprints at once:
    `document_read`, then `document_entries`.
    """
    document = document_read(
        content, url=url, content_type=content_type, response_headers=response_headers, now=now
    )
    fingerprints = document.fingerprints
    known_keys = known(fingerprints) if known is not None and fingerprints else {}
    return document_entries(document, known_keys)


@dataclass(frozen=True)
class ReadDocument:
    """A feed document as feedparser read it, with its entries' fingerprints: what
    `document_entries` makes the entries from."""

    url: str
    now: datetime
    result: Any
    version: str
    feed_authors: list[Any]
    kept: list[Any]
    fingerprints: tuple[str, ...]


def document_read(
    content: bytes,
    *,
    url: str,
    content_type: str | None = None,
    response_headers: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> ReadDocument:
    """The first step of `parse_feed`: check and read the document (raises NotAFeed)."""
    now = now or datetime.now(UTC)
    if not content or not content.strip():
        raise NotAFeed(f"The document at {url} is empty.", kind="empty")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise NotAFeed(
            f"The document at {url} is too large to be a feed ({spoken_size(len(content))}).",
            kind="too_large",
        )
    headers = _headers_for_feedparser(content_type, response_headers)
    utf8 = _to_utf8(content, headers)
    if _uses_xml_base(utf8):
        headers["content-location"] = url  # ours, never the server's
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

    damage = result.get("bozo_exception") if result.get("bozo") else None
    if not raw_entries and isinstance(damage, xml.sax.SAXException):
        # Broken before its first entry: a poll that read nothing from it was recorded as a
        # success with a warning, beside feeds that warned and still delivered (a
        # walk-through's curator could not tell which broken feed was delivering nothing).
        raise NotAFeed(
            f"The feed at {url} is damaged before its first entry, so nothing could be read "
            f"from it: {_describe_bozo(damage)}.",
            kind="unparseable",
        )
    feed = result.get("feed") or {}
    feed_authors = (feed.get("authors") or []) if version.startswith("atom") else []
    kept = raw_entries[:MAX_ENTRIES]
    fingerprints = tuple(
        entry_fingerprint(raw_entry, feed_url=url, feed_authors=feed_authors, now=now)
        for raw_entry in kept
    )
    return ReadDocument(url, now, result, version, feed_authors, kept, fingerprints)


def document_entries(document: ReadDocument, known_keys: Mapping[str, str]) -> ParsedFeed:
    """The second step of `parse_feed`: the document's entries, but those whose fingerprint
    is in ``known_keys`` ({fingerprint: entry key}, stored already as they are)."""
    url, now, result, version = document.url, document.now, document.result, document.version
    feed_authors, kept = document.feed_authors, document.kept
    raw_entries = result.get("entries") or []
    feed = result.get("feed") or {}
    entries: list[ParsedEntry] = []
    seen: set[str] = set()
    seen_urls: set[str] = set()
    skipped = unchanged = 0
    for raw_entry, fingerprint in zip(kept, document.fingerprints, strict=True):
        known_key = known_keys.get(fingerprint)
        if known_key is not None:
            if known_key not in seen:
                seen.add(known_key)
                unchanged += 1
            continue
        parsed = parse_entry(
            raw_entry,
            feed_url=url,
            feed_authors=feed_authors,
            now=now,
            fingerprint=fingerprint,
        )
        if parsed is None:
            skipped += 1
            continue
        if parsed.key in seen:
            # Two entries with one id: the same post twice, and the first (usually newest)
            # wins, unless this one links to a page no earlier entry does. Then the id was
            # reused by mistake, and its link keys it: a curator's walk-through lost a post
            # whose id a feed had given to another post too.
            by_link = bounded_key(parsed.url)
            if parsed.url in seen_urls or by_link in seen:
                logger.debug("Duplicate entry key %r in %s", parsed.key, url)
                continue
            logger.info("Entry id %r used twice in %s: keyed by its link", parsed.key, url)
            parsed = dataclasses.replace(parsed, key=by_link)
        seen.add(parsed.key)
        seen_urls.add(parsed.url)
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

    site_url = http_url(feed.get("link"), url)
    return ParsedFeed(
        title=construct_title(feed.get("title_detail"), feed.get("title")),
        site_url=site_url,
        version=version,
        entries=tuple(entries),
        skipped_without_link=skipped,
        warning=warning,
        unchanged=unchanged,
        time_dependent=any(date_withheld(raw_entry, now) for raw_entry in kept),
    )
