"""feedparser's strict XML parser with expat's text buffering switched on.

Expat hands character data to its callback piece by piece: a new piece at every entity
reference and line break. A feed's escaped HTML (``&lt;p&gt;…``) thus reaches feedparser in
thousands of pieces per document, and feedparser does Python work for each one (about a third
of its parse time on our benchmark's feeds, 3,200 callbacks per 25-entry feed). With
``buffer_text`` expat joins adjacent pieces first: the same text, one callback per text node
(SAX allows either; feedparser joins the pieces itself anyway).

``xml.sax.make_parser(names)`` imports each named module and calls its ``create_parser()``;
feedparser tries the names in ``feedparser.api.PREFERRED_XML_PARSERS`` first. :func:`install`
puts this module there. Everything else is the standard library's expat reader, with the
settings feedparser gives it (namespaces on, external entities off); documents that declare
entities are refused before they reach it (catalog.feeds.parse).
"""

from __future__ import annotations

from typing import Any
from xml.sax.expatreader import ExpatParser

import feedparser.api


class BufferedExpatParser(ExpatParser):
    def reset(self) -> None:
        super().reset()
        parser: Any = getattr(self, "_parser")  # noqa: B009 (typeshed does not declare it)
        parser.buffer_text = True


def create_parser(*args: Any, **kwargs: Any) -> BufferedExpatParser:
    return BufferedExpatParser(*args, **kwargs)


def install() -> None:
    """Make feedparser's strict parser this one (idempotent)."""
    preferred = feedparser.api.PREFERRED_XML_PARSERS
    if __name__ not in preferred:
        preferred.insert(0, __name__)
