"""OPML import and export: the subscription-list format feed readers exchange.

Users upload OPML exported from another reader, so the document is untrusted:

* It is parsed with defusedxml, which refuses entity declarations (billion
  laughs, quadratic blow-up) and external references (XXE) instead of
  expanding them. A refusal becomes an OpmlError like any other bad upload.
* Only outlines with an ``xmlUrl`` become feeds, and only http(s) addresses
  survive (canonicalised, so two spellings of one feed are one feed).
  ``type="include"`` outlines, which point at *other* OPML documents, are not
  followed: fetching them here would be an unchecked server-side request.
* Folders (outlines that contain outlines) give their title to the feeds
  inside as ``category``; the nearest folder wins when folders nest.

Export writes OPML 2.0 that other readers import and that ``opml_parse``
reads back to the same outlines.

Pure module: no Django, no I/O.
"""

from __future__ import annotations

import email.utils
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

# Building a tree we serialise ourselves is safe with the standard library;
# only *parsing* untrusted XML needs defusedxml.
from xml.etree.ElementTree import Element, SubElement, indent, tostring

import defusedxml
import defusedxml.ElementTree as SafeET

from catalog.addresses import InvalidAddress, canonical_url
from catalog.feeds.sanitise import html_to_text
from kubelearn.wording import spoken_size

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_OPML_BYTES",
    "MAX_OPML_FEEDS",
    "OpmlError",
    "OpmlOutline",
    "opml_export",
    "opml_parse",
]

# A subscription list of a few thousand feeds is a few hundred KB.
MAX_OPML_BYTES = 5 * 1024 * 1024
MAX_OPML_FEEDS = 5000
MAX_TITLE_CHARS = 300
MAX_URL_LENGTH = 2000
MAX_CATEGORY_CHARS = 80

# Characters XML 1.0 cannot carry at all; stripped before export so the output
# stays well-formed (and importable by us and everyone else).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class OpmlError(ValueError):
    """The upload is not an OPML document we can import; ``str()`` says why."""


@dataclass(frozen=True, slots=True)
class OpmlOutline:
    """One feed subscription."""

    xml_url: str
    title: str = ""
    html_url: str | None = None
    category: str | None = None


def _local_name(tag: object) -> str:
    """Element name without a namespace ("{ns}opml" -> "opml"), lower-cased."""
    return str(tag).rsplit("}", 1)[-1].lower()


def _attributes(element: Element) -> dict[str, str]:
    """Attributes with lower-cased names: exporters disagree on xmlUrl/xmlurl."""
    return {_local_name(name): value for name, value in element.attrib.items()}


def _web_url(value: str | None) -> str | None:
    if not value:
        return None
    try:
        url = canonical_url(value)
    except InvalidAddress:
        return None
    return url if len(url) <= MAX_URL_LENGTH else None  # Feed.url's column size


def _text(value: str | None, limit: int) -> str:
    # Outline text may carry entity-encoded HTML (the OPML 2.0 spec allows it).
    return html_to_text(value or "", limit=limit)


def _category_attribute(value: str | None) -> str | None:
    """First category of an OPML 2.0 ``category`` attribute ("/Tech/Kubernetes,/News")."""
    if not value:
        return None
    first = value.split(",", 1)[0].strip().strip("/")
    last_segment = first.rsplit("/", 1)[-1]
    return _text(last_segment, MAX_CATEGORY_CHARS) or None


def _parse_root(content: bytes) -> Element:
    if not content or not content.strip():
        raise OpmlError("The OPML file is empty.")
    if len(content) > MAX_OPML_BYTES:
        raise OpmlError(
            f"The OPML file is too large ({spoken_size(len(content))}; "
            f"the limit is {spoken_size(MAX_OPML_BYTES)})."
        )
    try:
        return SafeET.fromstring(content)
    except defusedxml.DefusedXmlException as exc:
        logger.warning("Refused OPML upload: %s", type(exc).__name__)
        raise OpmlError(
            "The OPML file declares XML entities or external references, "
            "which OPML never needs; refused for safety."
        ) from exc
    except SafeET.ParseError as exc:
        raise OpmlError(f"The file is not valid XML ({exc}).") from exc


def opml_parse(content: bytes, *, unusable: list[str] | None = None) -> list[OpmlOutline]:
    """Feeds listed in an OPML 1.0/2.0 document, in document order, deduplicated.

    Raises OpmlError for empty, oversized, malformed or non-OPML documents and
    for documents that declare entities. Outlines without a usable http(s)
    ``xmlUrl`` are skipped (logged, and their addresses appended to ``unusable`` when
    given, so an import can say what it left out); a valid OPML file with no feeds gives
    an empty list.
    """
    root = _parse_root(content)
    root_name = _local_name(root.tag)
    if root_name in ("rss", "feed", "rdf"):
        raise OpmlError(
            "This is a feed, not an OPML subscription list; add its address as a feed instead."
        )
    if root_name != "opml":
        raise OpmlError(f"The file is XML but not OPML (its root element is <{root_name}>).")
    body = next((child for child in root if _local_name(child.tag) == "body"), None)
    if body is None:
        raise OpmlError("The OPML file has no <body> element, so it lists no feeds.")

    outlines: list[OpmlOutline] = []
    seen: set[str] = set()
    skipped = 0
    # Iterative walk: a hostile file can nest outlines deeper than Python's
    # recursion limit. Each stack item is (element, nearest folder title).
    stack: list[tuple[Element, str | None]] = [
        (child, None) for child in reversed(list(body)) if _local_name(child.tag) == "outline"
    ]
    while stack:
        element, folder = stack.pop()
        attrs = _attributes(element)
        children = [child for child in element if _local_name(child.tag) == "outline"]
        raw_xml_url = (attrs.get("xmlurl") or "").strip()
        if raw_xml_url:
            xml_url = _web_url(raw_xml_url)
            if xml_url is None:
                skipped += 1
                if unusable is not None:
                    unusable.append(raw_xml_url[:MAX_TITLE_CHARS])
            elif xml_url not in seen:
                if len(outlines) >= MAX_OPML_FEEDS:
                    raise OpmlError(f"The OPML file lists more than {MAX_OPML_FEEDS} feeds.")
                seen.add(xml_url)
                title = _text(attrs.get("text") or attrs.get("title"), MAX_TITLE_CHARS)
                if title in (raw_xml_url, xml_url):
                    title = ""  # exporters (ours included) repeat the address when untitled
                outlines.append(
                    OpmlOutline(
                        xml_url=xml_url,
                        title=title,
                        html_url=_web_url(attrs.get("htmlurl")),
                        category=folder or _category_attribute(attrs.get("category")),
                    )
                )
        if children:
            # A feed outline with children is unusual; its children keep the
            # enclosing folder. Any other outline with children is a folder.
            name = folder
            if not raw_xml_url:
                name = _text(attrs.get("text") or attrs.get("title"), MAX_CATEGORY_CHARS) or folder
            stack.extend((child, name) for child in reversed(children))
    if skipped:
        logger.info("Skipped %d OPML outlines without an http(s) feed address", skipped)
    return outlines


def _xml_text(value: str) -> str:
    return _XML_INVALID.sub("", value)


def _rfc822(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # naive means UTC throughout the project
    return email.utils.format_datetime(moment.astimezone(UTC), usegmt=True)


def _feed_element(parent: Element, outline: OpmlOutline) -> None:
    title = _xml_text(outline.title)
    element = SubElement(parent, "outline", {"type": "rss", "text": title or outline.xml_url})
    if title:
        element.set("title", title)
    element.set("xmlUrl", _xml_text(outline.xml_url))
    if outline.html_url:
        element.set("htmlUrl", _xml_text(outline.html_url))


def opml_export(
    outlines: Iterable[OpmlOutline],
    *,
    title: str = "kubelearn feeds",
    generated_at: datetime | None = None,
) -> bytes:
    """An OPML 2.0 document (UTF-8, with XML declaration) listing ``outlines``.

    Feeds with a category go into one folder outline per category; folders
    and uncategorised feeds keep the order in which they first appear.
    Duplicate ``xml_url`` values are written once (the first wins), matching
    what ``opml_parse`` would do with them anyway.
    """
    root = Element("opml", {"version": "2.0"})
    head = SubElement(root, "head")
    SubElement(head, "title").text = _xml_text(title)
    SubElement(head, "dateCreated").text = _rfc822(generated_at or datetime.now(UTC))
    body = SubElement(root, "body")

    folders: dict[str, Element] = {}
    seen: set[str] = set()
    for outline in outlines:
        if outline.xml_url in seen:
            continue
        seen.add(outline.xml_url)
        parent = body
        if outline.category:
            category = _xml_text(outline.category)
            folder = folders.get(category)
            if folder is None:
                folder = SubElement(body, "outline", {"text": category, "title": category})
                folders[category] = folder
            parent = folder
        _feed_element(parent, outline)

    indent(root, space="  ")
    # Written by hand: ElementTree's own declaration uses single quotes and a
    # lower-case encoding name, which a few older readers reject.
    document = tostring(root, encoding="unicode")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + document.encode("utf-8") + b"\n"
