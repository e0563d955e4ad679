"""feedparser reads feeds through expat with text buffering: same result, fewer callbacks."""

from __future__ import annotations

import io
import xml.sax

import feedparser
import feedparser.api
import pytest
from feedparser.parsers.strict import _StrictFeedParser

from catalog.feeds import expat
from catalog.feeds import parse as feeds_parse  # noqa: F401 (importing it installs the reader)
from tests.feedbuilder import posts, rss

# Escaped HTML, character references, non-ASCII text, CDATA and a text node longer than
# expat's buffer (8 KiB): every way a text node can arrive in pieces.
_LONG = "Ünïcödé &amp; pods, " * 700


def _document() -> bytes:
    items = posts(5, prefix="expat")
    for item in items:
        item["description"] = (
            '<p>RBAC &amp; <a href="https://kubernetes.io/">links</a>, '
            "<code>kubectl get pods -A</code> — “quoted”</p>\n" * 20
        )
    items[2]["description"] = _LONG
    document = rss(items, title="Blog &amp; notes ☸")
    return document.replace(
        b"<title>Kubernetes expat 3</title>",
        b"<title><![CDATA[A <b>CDATA</b> title]]> &#x2603; &#169;</title>",
    )


def _parsed(*, buffered: bool) -> feedparser.FeedParserDict:
    preferred = feedparser.api.PREFERRED_XML_PARSERS
    if not buffered:
        preferred.remove(expat.__name__)
    try:
        return feedparser.parse(
            io.BytesIO(_document()), sanitize_html=False, resolve_relative_uris=False
        )
    finally:
        expat.install()


def test_feedparser_uses_the_buffered_reader_once_the_pipeline_is_imported():
    reader = xml.sax.make_parser(feedparser.api.PREFERRED_XML_PARSERS)  # noqa: S317 (no input)
    assert isinstance(reader, expat.BufferedExpatParser)


def test_the_buffered_reader_gives_feedparser_exactly_the_same_result():
    buffered, stock = _parsed(buffered=True), _parsed(buffered=False)
    assert not buffered.bozo and not stock.bozo
    assert buffered.feed == stock.feed
    assert buffered.entries == stock.entries
    assert buffered.entries[3].title == "A <b>CDATA</b> title ☃ ©"
    assert buffered.entries[2].summary == _LONG.strip()  # longer than one buffer, whole


def test_the_buffered_reader_hands_over_text_in_far_fewer_pieces(monkeypatch):
    calls = {"count": 0}
    original = _StrictFeedParser.characters

    def counted(self, text):
        calls["count"] += 1
        return original(self, text)

    monkeypatch.setattr(_StrictFeedParser, "characters", counted)
    _parsed(buffered=False)
    stock, calls["count"] = calls["count"], 0
    _parsed(buffered=True)
    assert calls["count"] * 5 < stock


@pytest.mark.parametrize("times", [1, 2])
def test_installing_twice_registers_the_reader_once(times):
    for _ in range(times):
        expat.install()
    assert feedparser.api.PREFERRED_XML_PARSERS.count(expat.__name__) == 1
