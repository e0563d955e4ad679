"""feedparser's flat dictionaries are copied shallowly: the same parse, a cheaper copy."""

from __future__ import annotations

import copy
import io
from pathlib import Path

import feedparser
import pytest
from feedparser.util import FeedParserDict

from catalog.feeds import fastcopy
from catalog.feeds import parse as feeds_parse  # noqa: F401 (importing it installs the copy)

SAMPLES = sorted((Path(__file__).parent / "samples").glob("*.xml"))


def _parse(document: bytes, *, fast: bool) -> feedparser.FeedParserDict:
    if not fast:
        del FeedParserDict.__deepcopy__
    try:
        return feedparser.parse(
            io.BytesIO(document), sanitize_html=False, resolve_relative_uris=False
        )
    finally:
        fastcopy.install()


def test_the_feed_pipeline_installs_the_cheaper_copy():
    assert vars(FeedParserDict)["__deepcopy__"] is fastcopy._deepcopy


@pytest.mark.parametrize("sample", SAMPLES, ids=[sample.name for sample in SAMPLES])
def test_feedparser_gives_exactly_the_same_result_with_it(sample):
    document = sample.read_bytes()
    fast, stock = _parse(document, fast=True), _parse(document, fast=False)
    assert fast.feed == stock.feed
    assert fast.entries == stock.entries
    assert fast.bozo == stock.bozo


def test_each_entry_still_has_its_own_details():
    parsed = _parse((Path(__file__).parent / "samples" / "atom10.xml").read_bytes(), fast=True)
    first, second = parsed.entries[0], parsed.entries[1]
    assert first.title_detail is not second.title_detail
    first.title_detail["type"] = "text/changed"
    assert second.title_detail["type"] != "text/changed"


def test_a_dictionary_holding_mutable_values_is_still_copied_deeply():
    original = FeedParserDict(
        detail=FeedParserDict(type="text/html"), links=[FeedParserDict(href="https://a.example/")]
    )
    duplicate = copy.deepcopy(original)
    duplicate["detail"]["type"] = "text/plain"
    duplicate["links"][0]["href"] = "https://b.example/"
    duplicate["links"].append(FeedParserDict())
    assert original["detail"]["type"] == "text/html"
    assert original["links"] == [FeedParserDict(href="https://a.example/")]
    assert type(duplicate) is FeedParserDict and type(duplicate["detail"]) is FeedParserDict


def test_a_flat_dictionary_is_copied_once_where_it_appears_twice():
    flat = FeedParserDict(type="text/html", language=None, base="https://a.example/")
    pair = copy.deepcopy([flat, flat])
    assert pair[0] == flat and pair[0] is not flat
    assert pair[0] is pair[1]  # deepcopy's memo: shared stays shared
