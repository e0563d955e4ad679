"""Tests for catalog.feeds.parse, entries and sanitise: documents in, safe entry data out.

The sample documents live in tests/catalog/feeds/samples/ as real files (the poller's
tests serve the same files over HTTP). Small edge cases are built inline.
No mocks and no database: parse_feed is a pure function of its input.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import io
import re
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import feedparser
import pytest

from catalog.addresses import canonical_url
from catalog.feeds import parse as parse_module
from catalog.feeds.entries import (
    MAX_CONTENT_HTML_CHARS,
    MAX_KEY_LENGTH,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
    ParsedEntry,
    http_url,
)
from catalog.feeds.parse import NotAFeed, ParsedFeed, parse_feed
from catalog.feeds.sanitise import collapse_whitespace, html_to_text, sanitize_html

FEEDS = Path(__file__).parent / "samples"
BASE = "https://feeds.example.com/"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def load(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def parse(name: str, **kwargs) -> ParsedFeed:
    return parse_feed(load(name), url=BASE + name, now=NOW, **kwargs)


def by_title(feed: ParsedFeed) -> dict[str, ParsedEntry]:
    return {entry.title: entry for entry in feed.entries}


def rss(items: str, *, channel: str = "") -> bytes:
    """A minimal RSS 2.0 document around some <item> elements."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>Inline</title><link>https://inline.example.com/</link>{channel}"
        f"{items}</channel></rss>"
    ).encode()


class _Markup(HTMLParser):
    """Every tag and attribute in a piece of HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [(tag, name, value or "") for name, value in attrs]

    handle_startendtag = handle_starttag


def assert_safe_html(markup: str) -> None:
    parser = _Markup()
    parser.feed(markup)
    parser.close()
    assert not {"script", "style", "iframe", "object", "embed", "svg", "math", "form"} & set(
        parser.tags
    )
    for tag, name, value in parser.attrs:
        assert not name.startswith("on"), (tag, name)
        assert name not in {"style", "class", "id", "srcset", "target"}, (tag, name)
        if name in {"href", "src"}:
            assert value.startswith(("http://", "https://")), (tag, name, value)
    lowered = markup.lower()
    for needle in ("<script", "javascript:", "vbscript:", "data:", "onerror", "onclick", "<!--"):
        assert needle not in lowered, needle


# --------------------------------------------------------------------------
# The feed formats
# --------------------------------------------------------------------------


def test_parse_feed_reads_rss_091_despite_its_netscape_doctype():
    feed = parse("rss091.xml")

    assert feed.version == "rss091n"
    assert feed.title == "Cluster Notes"
    assert feed.site_url == "https://notes.example.com/"
    assert [e.title for e in feed.entries] == [
        "Draining a node without tears",
        "Taints and tolerations, café edition",
        "Why my DaemonSet skipped the control plane",
    ]
    assert feed.warning is None


def test_parse_feed_reads_rss_092_and_names_untitled_items():
    feed = parse("rss092.xml")

    assert feed.version == "rss092"
    assert len(feed.entries) == 3
    untitled = feed.entries[2]
    assert untitled.title == "(untitled)"
    assert untitled.url == "https://helm-weekly.example.org/issues/43"
    assert untitled.summary.startswith("A release without a title")


def test_parse_feed_reads_rss_10_rdf_with_dublin_core_metadata():
    feed = parse("rss10.rdf")

    assert feed.version == "rss10"
    assert feed.title == "Network Policy Diaries"
    first = feed.entries[0]
    assert first.key == "https://netpol.example.net/posts/default-deny"
    assert first.authors == ("Priya Raman",)
    assert first.tags == ("networkpolicy",)
    assert first.published_at == datetime(2024, 3, 4, 8, 30, tzinfo=UTC)
    assert "<code>podSelector</code>" in first.content_html


def test_parse_feed_reads_rss_20_channel_and_items():
    feed = parse("rss20.xml")

    assert feed.version == "rss20"
    assert feed.title == "The Kube Blog & Friends"
    assert feed.site_url == "https://kubeblog.example.com/"
    assert len(feed.entries) == 4
    assert feed.skipped_without_link == 0


def test_parse_feed_reads_atom_10_entries():
    feed = parse("atom10.xml")

    assert feed.version == "atom10"
    assert feed.title == "Operators in Practice"
    assert feed.site_url == "https://operators.example.dev/"
    first = feed.entries[0]
    assert first.key == "tag:operators.example.dev,2024:reconcile-loops"
    assert first.url == "https://operators.example.dev/2024/reconcile-loops"
    assert first.tags == ("controllers", "go")
    assert "<em>requeue</em>" in first.content_html


def test_parse_feed_resolves_atom_links_against_xml_base():
    entry = by_title(parse("atom10.xml"))["Status subresources"]

    assert entry.url == "https://operators.example.dev/2024/status-subresources"


def test_parse_feed_gives_atom_entries_without_authors_the_feed_author():
    entries = by_title(parse("atom10.xml"))

    assert entries["Status subresources"].authors == ("Ana Souza",)
    assert entries["Finalizers without deadlocks"].authors == ("Ana Souza", "Luca Bianchi")


def test_parse_feed_uses_a_permalink_guid_as_the_url_when_an_item_has_no_link():
    entry = by_title(parse("rss20.xml"))["Requests, limits and QoS classes"]

    assert entry.url == "https://kubeblog.example.com/posts/requests-and-limits"


def test_parse_feed_canonicalises_entry_urls():
    entry = by_title(parse("rss20.xml"))["Readiness is not liveness"]

    # Host lower-cased, default port, tracking parameters and fragment dropped.
    assert entry.url == "https://kubeblog.example.com/posts/readiness-vs-liveness"


def test_parse_feed_uses_an_enclosure_when_an_item_has_no_link():
    entry = by_title(parse("missing_guids.xml"))["Episode 7: Cluster autoscaler in production"]

    assert entry.url == "https://media.noguids.example.com/episodes/7.mp3"


def test_parse_feed_decodes_the_charset_declared_by_the_document():
    document = (
        '<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel>'
        "<title>Caf\xe9 Ops</title><item><title>Na\xefve retries</title>"
        "<link>https://cafe.example.com/retries</link></item></channel></rss>"
    ).encode("iso-8859-1")

    feed = parse_feed(document, url=BASE + "latin1.xml", content_type="application/xml")

    assert feed.title == "Café Ops"
    assert feed.entries[0].title == "Naïve retries"


def test_parse_feed_accepts_a_valid_feed_with_no_entries():
    feed = parse_feed(rss(""), url=BASE + "new-blog.xml")

    assert feed.entries == ()
    assert feed.title == "Inline"
    assert feed.warning is None


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------


def test_parse_feed_converts_dates_to_timezone_aware_utc():
    entries = by_title(parse("rss20.xml"))

    crashloop = entries["Debugging CrashLoopBackOff step by step"].published_at
    readiness = entries["Readiness is not liveness"].published_at
    assert crashloop == datetime(2024, 3, 5, 13, 30, tzinfo=UTC)  # 14:30 +0100
    assert readiness == datetime(2024, 3, 17, 1, 15, tzinfo=UTC)  # 18:15 -0700 the day before
    assert crashloop.utcoffset() == timedelta(0)
    assert crashloop.tzinfo is UTC


def test_parse_feed_uses_the_updated_date_when_there_is_no_published_date():
    entry = by_title(parse("atom10.xml"))["Finalizers without deadlocks"]

    assert entry.published_at == datetime(2024, 3, 20, 16, 30, tzinfo=UTC)


def test_parse_feed_prefers_the_published_date_over_the_updated_date():
    entry = by_title(parse("atom10.xml"))["Reconcile loops <3 idempotence"]

    assert entry.published_at == datetime(2024, 4, 1, 12, 0, tzinfo=UTC)


def test_parse_feed_leaves_published_at_empty_when_an_entry_has_no_date():
    entry = by_title(parse("rss20.xml"))["Kubernetes 1.30 release notes, annotated"]

    assert entry.published_at is None


def test_parse_feed_drops_dates_more_than_two_days_in_the_future():
    document = rss(
        "<item><title>From the future</title><link>https://inline.example.com/future</link>"
        "<pubDate>Wed, 05 Jun 2024 12:00:00 GMT</pubDate></item>"
    )

    feed = parse_feed(document, url=BASE + "future.xml", now=NOW)

    assert feed.entries[0].published_at is None


def test_parse_feed_keeps_dates_less_than_two_days_in_the_future():
    document = rss(
        "<item><title>Scheduled</title><link>https://inline.example.com/soon</link>"
        "<pubDate>Sun, 02 Jun 2024 18:00:00 GMT</pubDate></item>"
    )

    feed = parse_feed(document, url=BASE + "soon.xml", now=NOW)

    assert feed.entries[0].published_at == datetime(2024, 6, 2, 18, 0, tzinfo=UTC)


# --------------------------------------------------------------------------
# Reading time
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "minutes"),
    [(0, None), (199, None), (200, 1), (230, 1), (231, 2), (460, 2), (461, 3)],
)
def test_a_summary_alone_under_200_words_has_no_reading_time_else_words_over_230(words, minutes):
    # Under 200 words a description alone is an excerpt: it said "1 min" of every post.
    body = " ".join(["pod"] * words)
    document = rss(
        f"<item><title>t</title><link>https://inline.example.com/w</link>"
        f"<description>{body}</description></item>"
    )

    entry = parse_feed(document, url=BASE + "words.xml").entries[0]

    assert entry.word_count == words
    assert entry.estimated_minutes == minutes


def test_a_short_post_given_in_full_has_its_reading_time():
    document = (
        b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        b'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        b"<title>Inline</title><link>https://inline.example.com/</link>"
        b"<item><title>t</title><link>https://inline.example.com/short</link>"
        b"<description>A note.</description>"
        b"<content:encoded><![CDATA[<p>A note on pods, in full.</p>]]></content:encoded>"
        b"</item></channel></rss>"
    )

    entry = parse_feed(document, url=BASE + "short.xml").entries[0]

    assert entry.estimated_minutes == 1


def test_word_count_comes_from_the_full_article_not_the_short_summary():
    entry = by_title(parse("rss20.xml"))["Debugging CrashLoopBackOff step by step"]

    assert entry.summary == "Read the events, then the previous logs."
    assert entry.word_count == 9 * 58
    assert entry.estimated_minutes == 3


def test_a_description_only_entry_counts_the_placeholders_its_summary_keeps():
    # "<pod-name>" written bare in the HTML is a word to the reader (and stays in the
    # summary); the HTML sanitiser drops it as an unknown element, so it is counted from text.
    description = html.escape("<p>Run kubectl logs <pod-name> to see why</p>")
    document = rss(
        f"<item><title>t</title><link>https://inline.example.com/p</link>"
        f"<description>{description}</description></item>"
    )

    entry = parse_feed(document, url=BASE + "placeholder.xml").entries[0]

    assert entry.summary == "Run kubectl logs <pod-name> to see why"
    assert entry.word_count == 7


# --------------------------------------------------------------------------
# Titles, summaries, authors, tags
# --------------------------------------------------------------------------


def test_title_is_plain_text_unescaped_and_whitespace_collapsed():
    titles = [e.title for e in parse("rss20.xml").entries] + [
        e.title for e in parse("atom10.xml").entries
    ]

    assert "Debugging CrashLoopBackOff step by step" in titles  # <em> stripped, spaces collapsed
    assert "Reconcile loops <3 idempotence" in titles  # &lt;3 is text, not a tag


def test_collapse_whitespace_treats_every_code_point_as_the_regex_whitespace_rule_does():
    # str.split() stands in for re.sub(r"\s+", " ", text).strip() on the hot path: both must
    # call the same characters whitespace, or a title would keep an odd separator.
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        text = f"{char}a{char}{char}b{char}"
        assert collapse_whitespace(text) == re.sub(r"\s+", " ", text).strip(), hex(code)


def test_title_is_capped_at_300_characters():
    long_title = "Kubernetes " * 60
    document = rss(
        f"<item><title>{long_title}</title><link>https://inline.example.com/long</link></item>"
    )

    title = parse_feed(document, url=BASE + "long.xml").entries[0].title

    assert len(title) <= MAX_TITLE_CHARS
    assert title.endswith("Kubernetes…")


def test_summary_is_plain_text_without_markup():
    entries = parse("rss092.xml").entries + parse("atom10.xml").entries

    assert entries[0].summary == "Subcharts, conditions and import-values in one place."
    for entry in entries:
        assert "<" not in entry.summary.replace("<3", "")


def test_summary_is_truncated_on_a_word_boundary_with_an_ellipsis():
    entry = by_title(parse("rss20.xml"))["Requests, limits and QoS classes"]

    assert len(entry.summary) <= MAX_SUMMARY_CHARS
    assert entry.summary.endswith("…")
    kept = entry.summary.removesuffix("…")
    assert entry.content_html.startswith(kept)  # a prefix of the full text...
    assert entry.content_html[len(kept)] == " "  # ...cut where a word ended


def test_summary_falls_back_to_the_content_when_there_is_no_description():
    entry = by_title(parse("relative_links.xml"))["Service accounts and tokens"]

    assert entry.summary.startswith("See the token guide, the diagrams and projected volumes.")


def test_authors_are_plain_names_without_email_addresses():
    entries = by_title(parse("rss20.xml"))

    assert entries["Debugging CrashLoopBackOff step by step"].authors == ("Jane Doe",)
    assert entries["Readiness is not liveness"].authors == ("Sam Lee", "Jane Doe")


def test_tags_are_lowercased_plain_text_and_deduplicated():
    entry = by_title(parse("rss20.xml"))["Debugging CrashLoopBackOff step by step"]

    assert entry.tags == ("kubernetes", "troubleshooting")


# --------------------------------------------------------------------------
# Entry keys and duplicates
# --------------------------------------------------------------------------


def test_entry_key_is_the_guid_when_there_is_one():
    entry = by_title(parse("rss20.xml"))["Debugging CrashLoopBackOff step by step"]

    assert entry.key == "tag:kubeblog.example.com,2024:post-101"


def test_entry_key_falls_back_to_the_canonical_link_without_a_guid():
    entry = by_title(parse("missing_guids.xml"))["Ingress versus Gateway API"]

    assert entry.key == "https://noguids.example.com/ingress-vs-gateway"


def test_entry_key_falls_back_to_a_hash_of_title_and_date_without_guid_or_link():
    entry = by_title(parse("missing_guids.xml"))["Episode 7: Cluster autoscaler in production"]

    material = "Episode 7: Cluster autoscaler in production\nFri, 05 Apr 2024 07:00:00 GMT"
    assert entry.key == "sha1:" + hashlib.sha1(material.encode(), usedforsecurity=False).hexdigest()


def test_hash_key_is_stable_across_two_parses():
    first = by_title(parse("missing_guids.xml"))["Episode 7: Cluster autoscaler in production"]
    second = by_title(parse("missing_guids.xml"))["Episode 7: Cluster autoscaler in production"]

    assert first.key.startswith("sha1:")
    assert first.key == second.key


def test_overlong_ids_are_hashed_to_fit_the_key_column():
    long_id = "urn:x-cms:" + "a" * 600
    document = rss(
        f"<item><title>t</title><link>https://inline.example.com/a</link>"
        f'<guid isPermaLink="false">{long_id}</guid></item>'
    )

    key = parse_feed(document, url=BASE + "long-id.xml").entries[0].key

    assert len(key) <= MAX_KEY_LENGTH
    assert key == "sha1:" + hashlib.sha1(long_id.encode(), usedforsecurity=False).hexdigest()


def test_a_guid_reused_for_another_post_keys_that_post_by_its_link():
    # Part 2 reuses part 1's GUID: it was dropped, a post lost (a curator's walk-through).
    feed = parse("duplicate_guids.xml")

    assert [e.key for e in feed.entries] == [
        "copypaste-42",
        "https://copypaste.example.com/psa-part-2",
        "copypaste-43",
    ]
    assert feed.entries[0].title == "Pod security admission, part 1"
    assert feed.entries[1].title == "Pod security admission, part 2"


def test_the_same_post_twice_collapses_and_the_first_wins():
    item = (
        "<item><title>{}</title><link>https://inline.example.com/psa</link>"
        "<guid>psa-1</guid></item>"
    )
    document = rss(item.format("Pod security admission") + item.format("PSA (again)"))

    feed = parse_feed(document, url=BASE + "twice.xml")

    assert [(e.key, e.title) for e in feed.entries] == [("psa-1", "Pod security admission")]


# --------------------------------------------------------------------------
# Entries without a usable link
# --------------------------------------------------------------------------


def test_entries_without_a_usable_link_are_counted_and_skipped():
    feed = parse("missing_guids.xml")

    assert feed.skipped_without_link == 2  # no guid/link at all, and a javascript: link
    assert [e.title for e in feed.entries] == [
        "Ingress versus Gateway API",
        "Episode 7: Cluster autoscaler in production",
    ]


def test_entries_linking_to_javascript_data_or_mailto_are_skipped():
    feed = parse("hostile.xml")

    assert feed.skipped_without_link == 3
    assert [e.url for e in feed.entries] == ["https://hostile.example.com/posts/kubectl-tricks"]


def test_an_entry_link_that_cannot_be_parsed_is_skipped():
    feed = parse("relative_links.xml")

    assert feed.skipped_without_link == 1
    assert "Broken link" not in by_title(feed)


# --------------------------------------------------------------------------
# Relative links
# --------------------------------------------------------------------------


def test_relative_entry_links_are_resolved_against_the_feed_url():
    feed = parse_feed(
        load("relative_links.xml"), url="https://relative.example.com/feeds/relative.xml"
    )

    assert [e.url for e in feed.entries] == [
        "https://relative.example.com/posts/service-accounts",
        "https://relative.example.com/feeds/posts/rbac",
        "https://cdn.example.net/posts/protocol-relative",
    ]
    assert feed.site_url == "https://relative.example.com/"


def test_relative_hrefs_in_content_are_resolved_before_sanitising():
    feed = parse_feed(
        load("relative_links.xml"), url="https://relative.example.com/feeds/relative.xml"
    )
    content = feed.entries[0].content_html

    assert 'href="https://relative.example.com/docs/tokens"' in content
    assert 'href="https://relative.example.com/feeds/diagrams/"' in content
    assert 'src="https://relative.example.com/feeds/images/token-flow.png"' in content
    assert 'href="https://kubernetes.io/docs/concepts/security/service-accounts/"' in content
    assert_safe_html(content)


def test_in_page_anchors_in_content_point_at_the_entry_page():
    feed = parse_feed(
        load("relative_links.xml"), url="https://relative.example.com/feeds/relative.xml"
    )

    assert (
        'href="https://relative.example.com/posts/service-accounts#projected"'
        in feed.entries[0].content_html
    )


# --------------------------------------------------------------------------
# Hostile content
# --------------------------------------------------------------------------


def test_hostile_content_html_keeps_the_prose():
    entry = parse("hostile.xml").entries[0]

    assert "<p>Trick one: use <code>kubectl explain</code>.</p>" in entry.content_html
    assert "Trick two" in entry.content_html
    assert 'href="https://kubernetes.io/docs/reference/kubectl/"' in entry.content_html


def test_hostile_content_html_has_no_scripts_handlers_frames_or_dangerous_urls():
    content = parse("hostile.xml").entries[0].content_html

    assert_safe_html(content)
    for leaked in ("document.cookie", "evil.example", "alert(", "fallback text", "display"):
        assert leaked not in content


def test_hostile_summary_authors_and_tags_are_plain_text_without_markup():
    feed = parse("hostile.xml")
    entry = feed.entries[0]
    texts = [entry.summary, *entry.authors, *entry.tags]

    assert entry.summary == "Trick one: use kubectl explain."
    assert entry.authors == ("Mallory",)
    assert entry.tags == ("tips",)
    for text in texts:
        assert "<" not in text
        assert "alert" not in text
        assert "summary-script" not in text


def test_hostile_plain_text_titles_are_kept_as_the_text_their_author_wrote():
    # RSS titles are text: the "markup" in them is characters, escaped by whoever renders
    # them (templates autoescape, JSON is JSON), never markup of ours.
    feed = parse("hostile.xml")

    assert feed.entries[0].title == (
        'Ten kubectl tricks <script>alert("title")</script><img src=x onerror=alert("title-img")>'
    )
    assert feed.title == 'Free Kubernetes Tips <script>alert("channel")</script>'


@pytest.mark.parametrize(
    "escaped_title, text",
    [
        (
            "Avoid &lt;script&gt; injection in Helm charts",
            "Avoid <script> injection in Helm charts",
        ),
        ("Styling the &lt;select&gt; element", "Styling the <select> element"),
        ("History of the &lt;blink&gt; tag", "History of the <blink> tag"),
        ("kubectl &amp;&amp; helm: &lt;K, V&gt; maps", "kubectl && helm: <K, V> maps"),
    ],
)
def test_escaped_markup_in_an_rss_title_is_words_to_keep(escaped_title, text):
    document = rss(
        f"<item><title>{escaped_title}</title><link>https://inline.example.com/t</link></item>"
    )

    assert parse_feed(document, url=BASE + "titles.xml").entries[0].title == text


def test_escaped_markup_in_an_atom_xhtml_title_is_words_to_keep():
    # feedparser's own corpus: atom10/feed_title_inline_markup_2.xml, entry form.
    document = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        b"<entry><id>urn:x:1</id><link href='https://inline.example.com/blink'/>"
        b'<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">History of the '
        b"&lt;blink&gt; tag</div></title></entry></feed>"
    )

    assert parse_feed(document, url=BASE + "x.xml").entries[0].title == (
        "History of the <blink> tag"
    )


def test_a_real_script_element_in_an_html_title_is_dropped_with_its_content():
    document = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        b"<entry><id>urn:x:2</id><link href='https://inline.example.com/s'/>"
        b'<title type="html">&lt;b&gt;Bold&lt;/b&gt; move &lt;script&gt;alert(1)&lt;/script&gt;'
        b"</title></entry></feed>"
    )

    assert parse_feed(document, url=BASE + "x.xml").entries[0].title == "Bold move"


def test_a_javascript_channel_link_is_not_used_as_the_site_url():
    assert parse("hostile.xml").site_url is None


def test_links_in_content_get_noopener_noreferrer_nofollow():
    content = parse("hostile.xml").entries[0].content_html

    assert (
        '<a href="https://kubernetes.io/docs/reference/kubectl/" '
        'rel="noopener noreferrer nofollow">kubectl reference</a>'
    ) in content


def test_images_in_content_keep_only_src_alt_and_title():
    content = parse("hostile.xml").entries[0].content_html

    assert '<img src="https://hostile.example.com/diagram.png" alt="diagram">' in content


def test_sanitised_html_is_identical_on_every_parse():
    # The upsert compares content to spot edits; attribute order must not wobble.
    document = load("hostile.xml")

    assert len({parse_feed(document, url=BASE).entries[0].content_html for _ in range(20)}) == 1


def test_sanitize_html_removes_generic_attributes_from_every_tag():
    assert sanitize_html('<p title="t" lang="en" id="x" class="y" style="z">p</p>') == "<p>p</p>"


def test_content_html_is_capped_near_100_kb_and_stays_well_formed():
    paragraph = "<p>" + "Pods are scheduled onto nodes. " * 40 + "</p>"
    body = html.escape(paragraph * 200)  # ~250 KB of HTML
    document = rss(
        f"<item><title>t</title><link>https://inline.example.com/big</link>"
        f"<description>{body}</description></item>"
    )

    content = parse_feed(document, url=BASE + "big.xml").entries[0].content_html

    assert MAX_CONTENT_HTML_CHARS * 0.9 < len(content) <= MAX_CONTENT_HTML_CHARS + 100
    assert content.endswith("<p>…</p>")
    assert content.count("<p>") == content.count("</p>")


# --------------------------------------------------------------------------
# Broken feeds
# --------------------------------------------------------------------------


def test_malformed_feed_recovers_its_entries_and_sets_a_warning():
    feed = parse("malformed.xml")

    assert [e.title for e in feed.entries] == [
        "Backups & restores with Velero",
        "etcd defragmentation",
    ]
    assert feed.warning is not None
    assert "not well-formed" in feed.warning
    assert len(feed.warning) <= 200


def test_malformed_feed_content_is_still_sanitised_and_closed():
    entry = parse("malformed.xml").entries[0]

    assert entry.content_html == "Schedules, hooks <b>and restic</b>"


def test_a_well_formed_feed_served_without_content_type_has_no_warning():
    # feedparser flags a missing or non-XML Content-Type as "bozo"; that is a
    # server setting, not damage to the feed.
    assert parse("rss20.xml").warning is None
    assert parse("rss20.xml", content_type="text/plain").warning is None


# --------------------------------------------------------------------------
# Documents that are not feeds
# --------------------------------------------------------------------------


def test_parse_feed_refuses_an_empty_document():
    with pytest.raises(
        NotAFeed, match=r"^The document at https://feeds\.example\.com/empty\.xml is empty\.$"
    ) as caught:
        parse("empty.xml")

    assert caught.value.kind == "empty"


def test_parse_feed_refuses_a_whitespace_only_document():
    with pytest.raises(NotAFeed, match="is empty"):
        parse_feed(b" \r\n\t \n", url=BASE + "blank.xml")


def test_parse_feed_refuses_an_html_page_with_a_clear_message():
    with pytest.raises(NotAFeed) as caught:
        parse_feed(load("not_a_feed.html"), url="https://kubeblog.example.com/")

    assert str(caught.value) == (
        "The document at https://kubeblog.example.com/ is an HTML page, not an RSS or Atom feed. "
        "It advertises a feed at https://kubeblog.example.com/feed.xml."
    )
    assert caught.value.kind == "html"
    assert caught.value.feed_urls == ("https://kubeblog.example.com/feed.xml",)


def test_parse_feed_recognises_html_by_a_case_insensitive_content_type_header():
    with pytest.raises(NotAFeed, match="is an HTML page") as caught:
        parse_feed(
            b"<p>Just a fragment",
            url=BASE + "fragment",
            response_headers={"Content-Type": "text/html; charset=utf-8"},
        )

    assert caught.value.feed_urls == ()


def test_parse_feed_refuses_json_with_a_clear_message():
    body = b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": []}'

    with pytest.raises(NotAFeed, match=r"is JSON, not an RSS or Atom feed") as caught:
        parse_feed(body, url=BASE + "feed.json")

    assert caught.value.kind == "json"


def test_parse_feed_refuses_other_xml_naming_its_root_element():
    sitemap = (
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://kubeblog.example.com/</loc></url></urlset>"
    )

    with pytest.raises(NotAFeed, match=r"XML document with a <urlset> root element"):
        parse_feed(sitemap, url=BASE + "sitemap.xml")


def test_parse_feed_refuses_plain_text_saying_it_could_not_be_parsed():
    with pytest.raises(NotAFeed, match=r"could not be parsed as a feed: it is not XML$"):
        parse_feed(b"Service Unavailable, try again later", url=BASE + "text")


def test_parse_feed_never_treats_the_body_as_a_file_name():
    # feedparser.parse(b"/path") would open that file from our disk.
    local_file = str((FEEDS / "rss20.xml").resolve()).encode()

    with pytest.raises(NotAFeed):
        parse_feed(local_file, url=BASE + "path")


def test_parse_feed_ignores_content_encoding_because_the_body_is_already_decoded():
    feed = parse("rss20.xml", response_headers={"Content-Encoding": "gzip"})

    assert len(feed.entries) == 4


# --------------------------------------------------------------------------
# XML entity attacks
# --------------------------------------------------------------------------


def test_billion_laughs_is_refused_quickly_with_bounded_memory():
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(NotAFeed, match="declares XML entities") as caught:
            parse("billion_laughs.xml")
        elapsed = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert elapsed < 2.0
    assert peak < 10 * 1024 * 1024
    assert caught.value.kind == "unsafe"
    assert str(caught.value) == (
        f"The document at {BASE}billion_laughs.xml declares XML entities, "
        "which feeds never need; refused for safety."
    )


def test_quadratic_blowup_is_refused_before_feedparser_expands_it():
    # feedparser's loose parser keeps "safe" entities (no "&" in the value) and
    # expands them without limit: this would be ~200 MB of title.
    document = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "'
        + b"k8s " * 25_000
        + b'">\n]>\n<rss version="2.0"><channel><title>t</title><item><title>'
        + b"&a;" * 2000
        + b"</title><link>https://e.example.com/a</link></item></channel></rss>"
    )
    started = time.perf_counter()

    with pytest.raises(NotAFeed, match="declares XML entities"):
        parse_feed(document, url=BASE + "quadratic.xml")

    assert time.perf_counter() - started < 2.0


def test_xxe_document_is_refused_and_leaks_no_file_contents():
    with pytest.raises(NotAFeed, match="declares XML entities") as caught:
        parse("xxe.xml")

    assert "root:" not in str(caught.value)


def test_feedparser_alone_does_not_read_external_entities():
    # Defence in depth: even without our refusal, the strict parser does not
    # fetch external entities and the loose fallback drops SYSTEM entities.
    result = feedparser.parse(io.BytesIO(load("xxe.xml")), sanitize_html=False)

    assert "root:" not in repr(result)


def test_entity_declarations_are_found_in_utf16_documents():
    document = load("billion_laughs.xml").decode("utf-8").replace('"utf-8"', '"utf-16"')

    with pytest.raises(NotAFeed, match="declares XML entities"):
        parse_feed(document.encode("utf-16"), url=BASE + "utf16.xml")


def test_an_entity_declared_before_the_doctype_is_refused():
    document = (
        b'<?xml version="1.0"?>\n<!ENTITY a "lol">\n<!DOCTYPE rss>\n<rss version="2.0">'
        b"<channel><title>&a;</title></channel></rss>"
    )

    with pytest.raises(NotAFeed, match="declares XML entities"):
        parse_feed(document, url=BASE + "entity-first.xml")


def test_a_post_quoting_entity_syntax_in_cdata_is_accepted():
    document = rss(
        "<item><title>What is XXE?</title><link>https://inline.example.com/xxe</link>"
        '<description><![CDATA[<pre>&lt;!ENTITY xxe SYSTEM "file:///etc/passwd"&gt;</pre>'
        "<p>Never enable external entities.</p>]]></description></item>"
    )

    feed = parse_feed(document, url=BASE + "xxe-explained.xml")

    assert feed.entries[0].title == "What is XXE?"


def test_a_post_explaining_xxe_with_a_doctype_in_its_cdata_is_accepted():
    # A security blog quoting the attack in full: character data, not a declaration.
    document = rss(
        "<item><title>XXE, explained</title><link>https://inline.example.com/xxe2</link>"
        '<description><![CDATA[<pre><!DOCTYPE x [ <!ENTITY e SYSTEM "file:///etc/passwd"> ]>'
        "<x>&e;</x></pre><p>Disable external entities.</p>]]></description></item>"
    )

    feed = parse_feed(document, url=BASE + "xxe-doctype.xml")

    assert feed.entries[0].title == "XXE, explained"
    assert "Disable external entities." in feed.entries[0].summary


def test_entities_declared_after_a_comment_that_looks_like_an_element_are_refused():
    # feedparser's own idea of the prolog stops at "<a" inside the comment; a real XML
    # parser does not, and acts on the DOCTYPE after it.
    document = (
        b'<?xml version="1.0"?><!-- see <a href> --><!DOCTYPE rss [<!ENTITY a "aaaa">]>'
        b'<rss version="2.0"><channel><title>&a;</title></channel></rss>'
    )

    with pytest.raises(NotAFeed, match="declares XML entities"):
        parse_feed(document, url=BASE + "comment-first.xml")


# --------------------------------------------------------------------------
# sanitize_html and html_to_text on their own
# --------------------------------------------------------------------------


def test_sanitize_html_drops_relative_urls_when_there_is_no_base_url():
    cleaned = sanitize_html('<a href="/docs">docs</a> <img src="x.png" alt="x">')

    assert cleaned == '<a rel="noopener noreferrer nofollow">docs</a> <img alt="x">'


def test_sanitize_html_resolves_relative_urls_against_the_base_url():
    cleaned = sanitize_html('<a href="../docs">docs</a>', base_url="https://e.example.com/a/b/")

    assert (
        cleaned
        == '<a href="https://e.example.com/a/docs" rel="noopener noreferrer nofollow">docs</a>'
    )


def test_sanitize_html_refuses_scheme_tricks():
    cleaned = sanitize_html(
        '<a href="java&#x09;script:alert(1)">a</a><a href="&#x01;javascript:alert(1)">b</a>'
        '<a href="JAVASCRIPT:alert(1)">c</a><img src="data:image/png;base64,AAAA">',
        base_url="https://e.example.com/",
    )

    assert_safe_html(cleaned)


def test_html_to_text_separates_block_elements_with_spaces():
    assert html_to_text("<p>one</p><p>two</p>three<br>four<li>five</li>", limit=100) == (
        "one two three four five"
    )


def test_html_to_text_drops_script_and_style_content():
    text = html_to_text("<style>p{}</style>Hello <script>alert(1)</script>world", limit=100)

    assert text == "Hello world"


def test_html_to_text_keeps_angle_bracket_placeholders_like_pod_names():
    text = html_to_text("kubectl logs &lt;pod-name&gt; -n <namespace>", limit=100)

    assert text == "kubectl logs <pod-name> -n <namespace>"


def test_html_to_text_strips_markup_revealed_by_double_escaping():
    text = html_to_text("&lt;p&gt;Hello &lt;script&gt;alert(1)&lt;/script&gt;&lt;/p&gt;", limit=100)

    assert text == "Hello"


def test_html_to_text_drops_scripts_hidden_under_many_levels_of_escaping():
    markup = "<script>alert(1)</script>kept"
    for _ in range(4):
        markup = html.escape("<b>" + markup + "</b>")

    text = html_to_text(markup, limit=100)

    assert text == "kept"


def test_html_to_text_removes_control_characters():
    assert html_to_text("null\x00byte and bell\x07", limit=100) == "nullbyte and bell"


def test_a_feed_cannot_reverse_how_its_title_reads():
    # "\u202egnp.exe" was listed in the review queue as "exe.png" (a walk-through).
    document = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>photo\u202egnp.exe\u202c and \u2067isolated\u2069</title>"
        "<link>https://blog.example.org/p/</link>"
        "<description>&lt;p&gt;Body \u202etxet&lt;/p&gt;</description></item>"
        "</channel></rss>"
    ).encode()
    [entry] = parse_feed(document, url="https://blog.example.org/feed.xml").entries
    assert entry.title == "photognp.exe and isolated"
    assert "\u202e" not in entry.summary and "\u202e" not in entry.content_html


def test_html_to_text_cuts_a_single_long_word_hard():
    assert html_to_text("x" * 50, limit=10) == "x" * 9 + "…"


# --- Links left relative for feedparser, resolved by the entry step -----------------------------

XML_BASE_FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="/blog/">
  <title>Nested bases</title>
  <link href="./" />
  <id>urn:nested</id>
  <updated>2024-05-01T00:00:00Z</updated>
  <entry xml:base="2024/">
    <title>Relative all the way down</title>
    <link href="pod-security/" />
    <id>urn:nested:1</id>
    <updated>2024-05-01T00:00:00Z</updated>
    <content type="html" xml:base="figures/">
      &lt;p&gt;&lt;a href="../notes"&gt;notes&lt;/a&gt; &lt;img src="flow.png"&gt;
      &lt;a href="#why"&gt;why&lt;/a&gt;&lt;/p&gt;
    </content>
  </entry>
  <entry xml:base="https://cdn.example.net/mirror/">
    <title>Absolute base</title>
    <link href="rbac" />
    <id>urn:nested:2</id>
    <updated>2024-05-02T00:00:00Z</updated>
    <summary type="html">&lt;a href="deep/dive"&gt;dive&lt;/a&gt;</summary>
  </entry>
</feed>"""


def _documents() -> list[tuple[str, bytes]]:
    named = [(path.name, path.read_bytes()) for path in sorted(FEEDS.iterdir())]
    return [*named, ("xml_base.atom", XML_BASE_FEED)]


@pytest.mark.parametrize(("name", "document"), _documents(), ids=lambda value: str(value)[:20])
def test_entries_are_what_feedparser_made_when_it_resolved_links_itself(
    name, document, monkeypatch
):
    # feedparser used to be given the fetched address as the document's base (and spent a
    # third of its time joining links); the entry step now resolves them. Same entries.
    url = f"https://blog.example.org/feeds/{name}"

    def outcome() -> object:
        try:
            feed = parse_feed(document, url=url, now=NOW)
        except NotAFeed as exc:
            return str(exc)
        entries = [dataclasses.replace(entry, fingerprint="") for entry in feed.entries]
        return (feed.title, feed.site_url, feed.warning, entries)

    ours = outcome()
    monkeypatch.setattr(parse_module, "_uses_xml_base", lambda utf8: True)
    assert ours == outcome()


def test_nested_relative_xml_bases_resolve_against_the_fetched_address():
    feed = parse_feed(XML_BASE_FEED, url="https://blog.example.org/feeds/atom.xml", now=NOW)
    first, second = feed.entries
    assert feed.site_url == "https://blog.example.org/blog/"
    assert first.url == "https://blog.example.org/blog/2024/pod-security/"
    assert 'href="https://blog.example.org/blog/2024/notes"' in first.content_html
    assert 'src="https://blog.example.org/blog/2024/figures/flow.png"' in first.content_html
    assert 'href="https://blog.example.org/blog/2024/pod-security/#why"' in first.content_html
    assert second.url == "https://cdn.example.net/mirror/rbac"
    assert 'href="https://cdn.example.net/mirror/deep/dive"' in second.content_html


@pytest.mark.parametrize(
    "link",
    [
        "https://blog.example.org/2026/11/post/",
        "HTTPS://Blog.Example.org/a?utm_source=feed&b=2#frag",
        "http://127.0.0.1:8000/a/../b",
        "http://127.0.0.1:8000/./a",
        "https://blog.example.org/a/.well-known/x",
        "https://blog.example.org",
        "//blog.example.org/a",
        "/relative/path",
        "../up",
    ],
)
def test_an_entry_link_is_the_canonical_join_with_the_feed_address(link):
    # An absolute link skips the join (it changes nothing there); any other is joined.
    base = "http://127.0.0.1:8000/feeds/atom.xml"
    assert http_url(link, base) == canonical_url(urljoin(base, link))


def with_content(content: str) -> bytes:
    """An RSS item with a one-line description and `content` as its full content."""
    return (
        b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        b'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        b"<title>Inline</title><link>https://inline.example.com/</link>"
        b"<item><title>t</title><link>https://inline.example.com/p</link>"
        b"<description>Pod security admission.</description>"
        b"<content:encoded><![CDATA[" + content.encode() + b"]]></content:encoded>"
        b"</item></channel></rss>"
    )


@pytest.mark.parametrize(
    "content",
    [
        "<p>Pod security admission replaces PodSecurityPolicy, and this post shows how…</p>",
        "<p>Pod security admission replaces PodSecurityPolicy. [...]</p>",
        '<p>Pod security admission, in short. <a href="/p">Continue reading '
        '<span class="screen-reader-text">Pod security admission</span> &rarr;</a></p>',
        '<p>Pod security admission, in short.</p><p><a href="/p">Read more »</a></p>',
        "<p>Pod security admission, in short. Read the full post on our blog.</p>",
    ],
)
def test_a_short_content_that_ends_as_a_teaser_has_no_reading_time(content):
    # A curator's walk-through found posts whose content was a teaser estimated at 1 min.
    entry = parse_feed(with_content(content), url=BASE + "teaser.xml").entries[0]

    assert entry.estimated_minutes is None


def test_a_long_content_ending_with_read_more_keeps_its_reading_time():
    body = " ".join(["pod"] * 400)  # with "Read more": 402 words, 2 minutes
    document = with_content(f"<p>{body} Read more</p>")

    assert parse_feed(document, url=BASE + "long.xml").entries[0].estimated_minutes == 2
