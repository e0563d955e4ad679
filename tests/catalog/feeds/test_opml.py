"""Tests for catalog.feeds.opml: subscription lists in and out.

No mocks and no database. Documents are built inline: OPML files are uploads,
not something the poller fetches, so they do not need to be served.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import defusedxml.ElementTree as SafeET
import pytest

from catalog.feeds.opml import MAX_OPML_FEEDS, OpmlError, OpmlOutline, opml_export, opml_parse

OPML_20 = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head>
    <title>My subscriptions</title>
    <dateCreated>Mon, 18 Mar 2024 10:00:00 GMT</dateCreated>
  </head>
  <body>
    <outline text="The Kube Blog" title="The Kube Blog" type="rss"
             xmlUrl="https://kubeblog.example.com/feed.xml" htmlUrl="https://kubeblog.example.com/"/>
    <outline text="Kubernetes" title="Kubernetes">
      <outline text="Operators in Practice" type="rss"
               xmlUrl="https://operators.example.dev/atom.xml" htmlUrl="https://operators.example.dev/"/>
      <outline text="Network Policy Diaries" type="rss"
               xmlUrl="https://netpol.example.net/index.rdf"/>
    </outline>
    <outline text="Security">
      <outline text="Container security" type="rss" xmlUrl="https://sec.example.org/rss"/>
    </outline>
  </body>
</opml>
"""


def opml(body: str, *, version: str = "2.0") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<opml version="{version}">'
        f"<head><title>t</title></head><body>{body}</body></opml>"
    ).encode()


# --------------------------------------------------------------------------
# opml_parse
# --------------------------------------------------------------------------


def test_opml_parse_reads_feeds_in_document_order():
    outlines = opml_parse(OPML_20)

    assert [o.xml_url for o in outlines] == [
        "https://kubeblog.example.com/feed.xml",
        "https://operators.example.dev/atom.xml",
        "https://netpol.example.net/index.rdf",
        "https://sec.example.org/rss",
    ]


def test_opml_parse_reads_titles_and_site_urls():
    first = opml_parse(OPML_20)[0]

    assert first == OpmlOutline(
        xml_url="https://kubeblog.example.com/feed.xml",
        title="The Kube Blog",
        html_url="https://kubeblog.example.com/",
        category=None,
    )


def test_opml_parse_gives_feeds_in_a_folder_the_folder_title_as_category():
    categories = {o.title: o.category for o in opml_parse(OPML_20)}

    assert categories == {
        "The Kube Blog": None,
        "Operators in Practice": "Kubernetes",
        "Network Policy Diaries": "Kubernetes",
        "Container security": "Security",
    }


def test_opml_parse_uses_the_nearest_folder_when_folders_nest():
    document = opml(
        '<outline text="Tech"><outline text="Kubernetes">'
        '<outline text="K" xmlUrl="https://k.example.com/feed"/></outline>'
        '<outline text="T" xmlUrl="https://t.example.com/feed"/></outline>'
    )

    assert [(o.title, o.category) for o in opml_parse(document)] == [
        ("K", "Kubernetes"),
        ("T", "Tech"),
    ]


def test_opml_parse_reads_opml_1_0_with_title_attributes_only():
    document = opml(
        '<outline title="Helm Weekly" type="rss" xmlUrl="https://helm-weekly.example.org/rss"/>',
        version="1.0",
    )

    assert opml_parse(document) == [
        OpmlOutline(xml_url="https://helm-weekly.example.org/rss", title="Helm Weekly")
    ]


def test_opml_parse_accepts_any_outline_with_an_xml_url_whatever_its_type():
    document = opml(
        '<outline text="No type" xmlUrl="https://a.example.com/feed"/>'
        '<outline text="Atom" type="atom" xmlUrl="https://b.example.com/atom"/>'
    )

    assert [o.xml_url for o in opml_parse(document)] == [
        "https://a.example.com/feed",
        "https://b.example.com/atom",
    ]


def test_opml_parse_accepts_attribute_names_in_any_case():
    document = opml(
        '<outline text="Lower" xmlurl="https://a.example.com/feed" htmlurl="https://a.example.com/"/>'
        '<outline TEXT="Upper" XMLURL="https://b.example.com/feed"/>'
    )

    assert opml_parse(document) == [
        OpmlOutline("https://a.example.com/feed", "Lower", "https://a.example.com/"),
        OpmlOutline("https://b.example.com/feed", "Upper"),
    ]


def test_opml_parse_reads_the_opml_2_category_attribute_outside_folders():
    document = opml(
        '<outline text="K" xmlUrl="https://k.example.com/feed" category="/Tech/Kubernetes,/News"/>'
    )

    assert opml_parse(document)[0].category == "Kubernetes"


def test_opml_parse_skips_outlines_without_an_http_feed_address():
    document = opml(
        '<outline text="Script" xmlUrl="javascript:alert(1)"/>'
        '<outline text="Local file" xmlUrl="file:///etc/passwd"/>'
        '<outline text="Relative" xmlUrl="/feed.xml"/>'
        '<outline text="Link only" type="link" url="https://c.example.com/"/>'
        '<outline text="Rss without address" type="rss"/>'
        '<outline text="Good" xmlUrl="https://good.example.com/feed"/>'
    )

    assert [o.title for o in opml_parse(document)] == ["Good"]


def test_opml_parse_does_not_follow_include_outlines():
    document = opml('<outline text="More" type="include" url="http://169.254.169.254/latest/"/>')

    assert opml_parse(document) == []


def test_opml_parse_drops_site_urls_that_are_not_http():
    document = opml('<outline text="A" xmlUrl="https://a.example.com/f" htmlUrl="javascript:x"/>')

    assert opml_parse(document)[0].html_url is None


def test_opml_parse_deduplicates_by_canonical_feed_url_and_the_first_wins():
    document = opml(
        '<outline text="First" xmlUrl="https://Kubeblog.example.com:443/feed.xml?utm_source=x"/>'
        '<outline text="Folder"><outline text="Second" xmlUrl="https://kubeblog.example.com/feed.xml"/>'
        "</outline>"
    )

    assert opml_parse(document) == [
        OpmlOutline(xml_url="https://kubeblog.example.com/feed.xml", title="First")
    ]


def test_opml_parse_strips_markup_from_titles():
    document = opml(
        '<outline text="&lt;b&gt;Bold&lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt;Blog &amp; Co"'
        ' xmlUrl="https://a.example.com/f"/>'
    )

    assert opml_parse(document)[0].title == "Bold Blog & Co"


def test_opml_parse_returns_an_empty_list_when_the_file_lists_no_feeds():
    assert opml_parse(opml('<outline text="Empty folder"/>')) == []


def test_opml_parse_survives_very_deeply_nested_folders():
    depth = 3000
    document = opml(
        '<outline text="f">' * depth
        + '<outline text="Deep" xmlUrl="https://deep.example.com/feed"/>'
        + "</outline>" * depth
    )

    assert [o.title for o in opml_parse(document)] == ["Deep"]


@pytest.mark.parametrize("content", [b"", b"  \n\t"])
def test_opml_parse_refuses_an_empty_file(content):
    with pytest.raises(OpmlError, match=r"^The OPML file is empty\.$"):
        opml_parse(content)


def test_opml_parse_refuses_invalid_xml_with_a_clear_message():
    with pytest.raises(OpmlError, match=r"^The file is not valid XML \(mismatched tag: line 1"):
        opml_parse(b"<opml><body><outline></body></opml>")


def test_opml_parse_refuses_xml_that_is_not_opml_naming_its_root_element():
    with pytest.raises(
        OpmlError, match=r"^The file is XML but not OPML \(its root element is <html>\)\.$"
    ):
        opml_parse(b"<html><body><p>Hello</p></body></html>")


def test_opml_parse_refuses_a_feed_and_says_to_add_it_as_a_feed():
    with pytest.raises(OpmlError, match="This is a feed, not an OPML subscription list"):
        opml_parse(b'<rss version="2.0"><channel><title>t</title></channel></rss>')


def test_opml_parse_refuses_opml_without_a_body():
    with pytest.raises(OpmlError, match="has no <body> element"):
        opml_parse(b'<opml version="2.0"><head><title>t</title></head></opml>')


def test_opml_parse_refuses_billion_laughs_quickly():
    document = b"""<?xml version="1.0"?>
<!DOCTYPE opml [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<opml version="2.0"><head><title>&lol9;</title></head>
<body><outline text="&lol9;" xmlUrl="https://a.example.com/feed"/></body></opml>
"""
    started = time.perf_counter()

    with pytest.raises(OpmlError, match="declares XML entities or external references"):
        opml_parse(document)

    assert time.perf_counter() - started < 2.0


def test_opml_parse_refuses_external_entities_and_leaks_no_file_contents():
    document = b"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<opml version="2.0"><head><title>t</title></head>
<body><outline text="&xxe;" xmlUrl="https://a.example.com/feed"/></body></opml>
"""

    with pytest.raises(OpmlError, match="refused for safety") as caught:
        opml_parse(document)

    assert "root:" not in str(caught.value)


def test_opml_parse_refuses_files_listing_too_many_feeds():
    body = "".join(
        f'<outline text="f{i}" xmlUrl="https://f{i}.example.com/feed"/>'
        for i in range(MAX_OPML_FEEDS + 1)
    )

    with pytest.raises(OpmlError, match=f"more than {MAX_OPML_FEEDS} feeds"):
        opml_parse(opml(body))


# --------------------------------------------------------------------------
# opml_export
# --------------------------------------------------------------------------

FEEDS = [
    OpmlOutline(
        "https://kubeblog.example.com/feed.xml",
        "The Kube Blog",
        "https://kubeblog.example.com/",
        "Kubernetes",
    ),
    OpmlOutline("https://helm-weekly.example.org/rss", "Helm Weekly"),
    OpmlOutline("https://sec.example.org/rss", "Container security", None, "Security"),
    OpmlOutline("https://operators.example.dev/atom.xml", "Operators", None, "Kubernetes"),
]
GENERATED = datetime(2024, 3, 18, 10, 0, tzinfo=UTC)


def test_opml_export_writes_opml_2_0_with_declaration_title_and_rfc822_date():
    document = opml_export(FEEDS, title="Jane's feeds", generated_at=GENERATED)

    assert document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">')
    root = SafeET.fromstring(document)
    assert root.findtext("head/title") == "Jane's feeds"
    assert root.findtext("head/dateCreated") == "Mon, 18 Mar 2024 10:00:00 GMT"


def test_opml_export_uses_the_default_title():
    root = SafeET.fromstring(opml_export([], generated_at=GENERATED))

    assert root.findtext("head/title") == "kubelearn feeds"
    assert root.find("body") is not None


def test_opml_export_converts_the_date_to_gmt_and_treats_naive_dates_as_utc():
    eastern = datetime(2024, 3, 18, 6, 0, tzinfo=timezone(timedelta(hours=-4)))
    naive = datetime(2024, 3, 18, 10, 0)  # naive on purpose

    for moment in (eastern, naive):
        root = SafeET.fromstring(opml_export([], generated_at=moment))
        assert root.findtext("head/dateCreated") == "Mon, 18 Mar 2024 10:00:00 GMT"


def test_opml_export_groups_feeds_into_one_folder_per_category_in_first_seen_order():
    root = SafeET.fromstring(opml_export(FEEDS, generated_at=GENERATED))
    top = list(root.find("body"))

    assert [(o.get("text"), o.get("xmlUrl")) for o in top] == [
        ("Kubernetes", None),
        ("Helm Weekly", "https://helm-weekly.example.org/rss"),
        ("Security", None),
    ]
    assert [o.get("xmlUrl") for o in top[0]] == [
        "https://kubeblog.example.com/feed.xml",
        "https://operators.example.dev/atom.xml",
    ]


def test_opml_export_writes_feed_outlines_as_type_rss_with_addresses():
    root = SafeET.fromstring(opml_export(FEEDS[:1], generated_at=GENERATED))
    feed = root.find("body/outline/outline")

    assert feed.attrib == {
        "type": "rss",
        "text": "The Kube Blog",
        "title": "The Kube Blog",
        "xmlUrl": "https://kubeblog.example.com/feed.xml",
        "htmlUrl": "https://kubeblog.example.com/",
    }


def test_opml_export_round_trips_through_opml_parse():
    parsed = opml_parse(opml_export(FEEDS, generated_at=GENERATED))

    # Folders group feeds, so the order is by folder; the outlines are the same.
    assert sorted(parsed, key=lambda o: o.xml_url) == sorted(FEEDS, key=lambda o: o.xml_url)


def test_opml_export_round_trips_untitled_feeds_using_the_address_as_text():
    untitled = OpmlOutline("https://untitled.example.com/feed")
    document = opml_export([untitled], generated_at=GENERATED)

    assert b'text="https://untitled.example.com/feed"' in document
    assert opml_parse(document) == [untitled]


def test_opml_export_round_trips_titles_with_markup_characters():
    outline = OpmlOutline("https://a.example.com/feed", 'Tips & "tricks" for kubectl logs <pod>')
    document = opml_export([outline], generated_at=GENERATED)

    assert b"&amp;" in document
    assert b"&lt;pod&gt;" in document
    assert opml_parse(document) == [outline]


def test_opml_export_strips_characters_xml_cannot_carry():
    outline = OpmlOutline("https://a.example.com/feed", "Bell\x07 and null\x00", None, "Cat\x1b")
    document = opml_export([outline], generated_at=GENERATED)

    assert opml_parse(document) == [
        OpmlOutline("https://a.example.com/feed", "Bell and null", None, "Cat")
    ]


def test_opml_export_writes_each_feed_once():
    document = opml_export([FEEDS[1], FEEDS[1]], generated_at=GENERATED)

    assert document.count(b"https://helm-weekly.example.org/rss") == 1


def test_an_oversized_opml_file_is_told_its_size_and_the_limit_in_units(monkeypatch):
    # It said "(2 KB; the limit is 0 MB)" below a mebibyte: whole units, rounded down.
    from catalog.feeds import opml

    monkeypatch.setattr(opml, "MAX_OPML_BYTES", 2048)
    with pytest.raises(OpmlError) as refused:
        opml_parse(b"<opml>" + b" " * 3000 + b"</opml>")
    assert str(refused.value) == "The OPML file is too large (2.9 KiB; the limit is 2 KiB)."
