"""Feed polling end to end against a real local HTTP server (pytest-httpserver)."""

from __future__ import annotations

import gzip
import time
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from werkzeug import Response

from catalog.feeds import poll, schedule, services, store
from catalog.feeds.address import FetchError
from catalog.models import Feed, FeedPoll, Origin, Resource, Status
from tests.factories import ResourceFactory, TagFactory
from tests.feedbuilder import posts, rss

pytestmark = pytest.mark.django_db

FEEDS = Path(__file__).parent / "samples"


@pytest.fixture(autouse=True)
def local_feeds_allowed(settings):
    # The test server listens on 127.0.0.1: allow exactly that network, nothing else private.
    settings.FEEDS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.FEEDS_READ_TIMEOUT = 1.0
    settings.FEEDS_TOTAL_DEADLINE = 3.0


def make_feed(httpserver, path="/feed.xml", **fields) -> Feed:
    return Feed.objects.create(url=httpserver.url_for(path), **fields)


def serve(httpserver, body: bytes, path="/feed.xml", **kwargs):
    httpserver.expect_request(path).respond_with_data(
        body, content_type=kwargs.pop("content_type", "application/rss+xml"), **kwargs
    )


def test_poll_files_new_entries_as_pending_resources(httpserver):
    serve(httpserver, rss(posts(3)))
    feed = make_feed(httpserver)
    report = poll.feed_poll(feed_id=feed.pk)
    assert (report.new, report.updated, report.unchanged) == (3, 0, 0)
    resources = Resource.objects.order_by("published_at")
    assert [r.title for r in resources] == [f"Kubernetes post {n}" for n in range(3)]
    assert {r.status for r in resources} == {Status.PENDING}
    assert {r.origin for r in resources} == {Origin.FEED}
    first = resources[0]
    assert first.url == "https://blog.example.org/post-0/"
    assert first.summary == "Notes on pods, RBAC and etcd, part 0."
    assert timezone.is_aware(first.published_at)
    assert first.estimated_minutes is None  # an excerpt alone: the post's length is unknown


def test_polling_twice_stores_each_entry_once(httpserver):
    serve(httpserver, rss(posts(5)))
    feed = make_feed(httpserver)
    poll.feed_poll(feed_id=feed.pk)
    httpserver.clear()
    serve(httpserver, rss(posts(5), title="Renamed"))  # other bytes, the same entries
    second = poll.feed_poll(feed_id=feed.pk)
    assert (second.new, second.unchanged) == (0, 5)
    assert Resource.objects.count() == 5


def test_the_same_document_again_is_not_parsed_again(httpserver, monkeypatch):
    # A server without validators answers every poll with a 200 and the same bytes.
    serve(httpserver, rss(posts(3)))
    feed = make_feed(httpserver)
    assert poll.feed_poll(feed_id=feed.pk).new == 3
    parses: list[str] = []
    real_read = poll.document_read
    monkeypatch.setattr(
        poll, "document_read", lambda *a, **k: parses.append("x") or real_read(*a, **k)
    )
    again = poll.feed_poll(feed_id=feed.pk)
    assert (again.outcome, again.http_status, parses) == ("not_modified", 200, [])
    feed.refresh_from_db()
    assert feed.last_status == 200 and feed.consecutive_failures == 0
    httpserver.clear()
    serve(httpserver, rss(posts(4)))  # one more entry: other bytes, parsed again
    assert poll.feed_poll(feed_id=feed.pk).new == 1
    assert parses == ["x"]


def test_the_same_document_again_brings_back_lost_validators(httpserver):
    serve(httpserver, rss(posts(2)), headers={"ETag": '"v1"'})
    feed = make_feed(httpserver)
    poll.feed_poll(feed_id=feed.pk)
    Feed.objects.filter(pk=feed.pk).update(etag="")  # lost (an older row, an admin edit)
    assert poll.feed_poll(feed_id=feed.pk).outcome == "not_modified"  # by fingerprint
    feed.refresh_from_db()
    assert feed.etag == '"v1"'


def test_a_document_with_a_withheld_future_date_is_parsed_at_every_poll(httpserver):
    # Its entry's date is ignored while it is days ahead; a later poll of the same bytes must
    # read it again, so the document's fingerprint is not kept.
    future = timezone.now() + timedelta(days=30)
    serve(httpserver, rss([{**posts(1)[0], "pubDate": future}]))
    feed = make_feed(httpserver)
    poll.feed_poll(feed_id=feed.pk)
    feed.refresh_from_db()
    assert feed.document_fingerprint == ""
    assert poll.feed_poll(feed_id=feed.pk).outcome == "ok"


def test_trusted_feed_entries_are_approved_at_once(httpserver):
    serve(httpserver, rss(posts(2)))
    feed = make_feed(httpserver, trusted=True)
    poll.feed_poll(feed_id=feed.pk)
    assert set(Resource.objects.values_list("status", flat=True)) == {Status.APPROVED}


def test_one_post_carried_by_two_feeds_is_one_resource(httpserver):
    shared = posts(1)
    serve(httpserver, rss(shared), path="/a.xml")
    serve(httpserver, rss([{**shared[0], "guid": "other-id"}]), path="/b.xml")
    poll.feed_poll(feed_id=make_feed(httpserver, "/a.xml").pk)
    report = poll.feed_poll(feed_id=make_feed(httpserver, "/b.xml").pk)
    assert report.new == 0
    assert Resource.objects.count() == 1


def test_a_curated_resource_is_not_duplicated_by_a_feed_entry(httpserver):
    curated = ResourceFactory(url="https://blog.example.org/post-0/", title="Curated title")
    serve(httpserver, rss(posts(1)))
    poll.feed_poll(feed_id=make_feed(httpserver).pk)
    assert Resource.objects.count() == 1
    curated.refresh_from_db()
    assert curated.title == "Curated title"


def test_an_edited_pending_entry_is_updated_but_a_reviewed_one_is_kept(httpserver):
    original = posts(2)
    serve(httpserver, rss(original))
    feed = make_feed(httpserver)
    poll.feed_poll(feed_id=feed.pk)
    Resource.objects.filter(entry_key="urn:post:1").update(status=Status.APPROVED)
    httpserver.clear()
    edited = [{**item, "title": item["title"] + " (edited)"} for item in original]
    serve(httpserver, rss(edited))
    report = poll.feed_poll(feed_id=feed.pk)
    # The reviewed one's edit waits for a curator (tests/catalog/feeds/test_author_updates.py).
    assert (report.updated, report.held, report.unchanged) == (1, 1, 0)
    assert Resource.objects.get(entry_key="urn:post:0").title.endswith("(edited)")
    assert not Resource.objects.get(entry_key="urn:post:1").title.endswith("(edited)")


def test_a_pending_entry_a_curator_edited_keeps_their_version_when_the_author_edits_it(
    httpserver, admin_client
):
    # A walk-through curator rewrote a pending item's title and summary, pressed "Save,
    # decide later", and the next poll put the author's text back without a word.
    original = posts(2)
    serve(httpserver, rss(original))
    feed = make_feed(httpserver)
    poll.feed_poll(feed_id=feed.pk)
    mine = Resource.objects.get(entry_key="urn:post:0")
    form = {
        "title": "Audit logging policies (curator title)",
        "url": mine.url,
        "summary": "Rewritten by a curator.",
        "kind": mine.kind,
        "stage": mine.stage,
        "difficulty": mine.difficulty,
        "estimated_minutes": mine.estimated_minutes or "",
    }
    saved = admin_client.post(f"/admin/catalog/pendingresource/{mine.pk}/change/", form)
    assert saved.status_code == 302
    httpserver.clear()
    new = "<p>The author's new summary.</p>"
    serve(httpserver, rss([{**item, "description": new} for item in original]))
    report = poll.feed_poll(feed_id=feed.pk)
    # The other one still follows the feed; the author's edit of hers waits for a curator.
    assert (report.updated, report.held, report.unchanged) == (1, 1, 0)
    mine.refresh_from_db()
    assert (mine.title, mine.summary) == (form["title"], "Rewritten by a curator.")
    assert mine.status == Status.PENDING and mine.curator_edited_at is not None
    assert Resource.objects.get(entry_key="urn:post:1").summary == "The author's new summary."


def test_a_curators_edit_through_the_api_also_keeps_their_version(httpserver, curator_api):
    serve(httpserver, rss(posts(1)))
    feed = make_feed(httpserver)
    poll.feed_poll(feed_id=feed.pk)
    mine = Resource.objects.get()
    # Labels only: what a feed writes is untouched, so the feed may still update it.
    curator_api.patch(f"/api/resources/{mine.pk}/", {"stage": "security"}, format="json")
    mine.refresh_from_db()
    assert mine.curator_edited_at is None
    response = curator_api.patch(f"/api/resources/{mine.pk}/", {"title": "Mine"}, format="json")
    assert response.status_code == 200
    httpserver.clear()
    serve(httpserver, rss([{**posts(1)[0], "title": "The author's"}]))
    assert poll.feed_poll(feed_id=feed.pk).updated == 0
    assert Resource.objects.get().title == "Mine"


def test_two_entries_linking_to_one_page_do_not_take_turns_rewriting_it(httpserver):
    first, second = posts(2)
    second["link"] = first["link"]  # another guid, the same page
    second["title"] = "Kubernetes post 0, again"
    serve(httpserver, rss([first, second]))
    feed = make_feed(httpserver)
    poll.feed_poll(feed_id=feed.pk)
    for extra in (posts(3)[2:], posts(4)[2:]):  # the document changes: it is read again
        httpserver.clear()
        serve(httpserver, rss([first, second, *extra]))
        report = poll.feed_poll(feed_id=feed.pk)
        assert report.updated == 0
        stored = Resource.objects.get(url=first["link"])
        assert (stored.title, stored.entry_key) == ("Kubernetes post 0", "urn:post:0")


def test_conditional_get_sends_validators_and_304_changes_nothing(httpserver):
    serve(
        httpserver,
        rss(posts(2)),
        headers={"ETag": '"v1"', "Last-Modified": "Tue, 01 Dec 2026 10:00:00 GMT"},
    )
    feed = make_feed(httpserver)
    poll.feed_poll(feed_id=feed.pk)
    httpserver.clear()
    httpserver.expect_request("/feed.xml", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )
    report = poll.feed_poll(feed_id=feed.pk)
    assert report.outcome == FeedPoll.Outcome.NOT_MODIFIED
    assert Resource.objects.count() == 2
    feed.refresh_from_db()
    assert feed.consecutive_failures == 0
    assert feed.last_status == 304


def test_a_broken_feeds_warning_stays_when_the_server_says_nothing_changed(httpserver):
    # A walk-through's feed with a bare "&", cut off mid-item, read "ok" after one 304: the
    # document is still the damaged one, and the entries after the break still missing.
    good = rss(posts(2)).decode()
    broken = good.replace("Kubernetes post 1", "Kubernetes & post 1")[: len(good) - 40]
    serve(httpserver, broken.encode(), headers={"ETag": '"v1"'})
    feed = make_feed(httpserver)
    assert poll.feed_poll(feed_id=feed.pk).outcome == FeedPoll.Outcome.OK
    feed.refresh_from_db()
    warning = feed.last_warning
    assert warning and feed.health == "warning"
    httpserver.clear()
    httpserver.expect_request("/feed.xml", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )
    assert poll.feed_poll(feed_id=feed.pk).outcome == FeedPoll.Outcome.NOT_MODIFIED
    feed.refresh_from_db()
    assert (feed.last_warning, feed.health) == (warning, "warning")
    httpserver.clear()
    serve(httpserver, rss(posts(3)), headers={"ETag": '"v2"'})  # mended: the warning goes
    assert poll.feed_poll(feed_id=feed.pk).outcome == FeedPoll.Outcome.OK
    feed.refresh_from_db()
    assert (feed.last_warning, feed.health) == ("", "ok")


def test_a_poll_takes_a_bounded_number_of_queries_first_and_when_unchanged(httpserver):
    # The feed, the entries already stored, the lock, the document's savepoint, the entries
    # (one read, one insert, their tags), the schedule, the feed's health, its history: never
    # one per entry.
    TagFactory(slug="rbac")
    items = [{**item, "categories": ["RBAC", "etcd"]} for item in posts(25)]
    serve(httpserver, rss(items), headers={"ETag": '"v1"'})
    feed = make_feed(httpserver)
    with CaptureQueriesContext(connection) as first:
        assert poll.feed_poll(feed_id=feed.pk).new == 25
    assert Resource.objects.filter(tags__slug="rbac").count() == 25
    httpserver.clear()
    httpserver.expect_request("/feed.xml", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )
    with CaptureQueriesContext(connection) as unchanged:
        assert poll.feed_poll(feed_id=feed.pk).outcome == FeedPoll.Outcome.NOT_MODIFIED
    assert len(first.captured_queries) <= 18, [q["sql"][:80] for q in first.captured_queries]
    assert len(unchanged.captured_queries) <= 9, [q["sql"][:80] for q in unchanged.captured_queries]


def test_a_poll_writes_only_the_feed_fields_it_changed(httpserver, monkeypatch):
    # A change to the feed's row made after the poll read it (here from inside the poll,
    # standing in for a curator's edit) is not overwritten by the poll's copy of the row.
    serve(httpserver, rss(posts(1)))
    feed = make_feed(httpserver)
    real_store = poll.entries_store

    def store_while_trust_changes(locked, parsed, report):  # type: ignore[no-untyped-def]
        Feed.objects.filter(pk=locked.pk).update(trusted=True, deactivated_reason="note")
        real_store(locked, parsed, report)

    monkeypatch.setattr(poll, "entries_store", store_while_trust_changes)
    poll.feed_poll(feed_id=feed.pk)
    feed.refresh_from_db()
    assert feed.trusted and feed.deactivated_reason == "note"
    assert feed.last_status == 200 and feed.title == "A Kubernetes blog"


def test_a_permanent_redirect_updates_the_stored_address(httpserver):
    httpserver.expect_request("/old.xml").respond_with_data(
        "", status=301, headers={"Location": httpserver.url_for("/new.xml")}
    )
    serve(httpserver, rss(posts(1)), path="/new.xml")
    feed = make_feed(httpserver, "/old.xml")
    poll.feed_poll(feed_id=feed.pk)
    feed.refresh_from_db()
    assert feed.url == httpserver.url_for("/new.xml")


def test_a_temporary_redirect_keeps_the_stored_address(httpserver):
    httpserver.expect_request("/old.xml").respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/new.xml")}
    )
    serve(httpserver, rss(posts(1)), path="/new.xml")
    feed = make_feed(httpserver, "/old.xml")
    poll.feed_poll(feed_id=feed.pk)
    feed.refresh_from_db()
    assert feed.url == httpserver.url_for("/old.xml")


def test_gone_deactivates_the_feed_with_the_reason(httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data("", status=410)
    feed = make_feed(httpserver)
    poll.feed_poll(feed_id=feed.pk)
    feed.refresh_from_db()
    assert not feed.active
    assert "410" in feed.deactivated_reason
    assert schedule.feeds_claim_due(now=timezone.now() + timedelta(days=30)) == []


def test_too_many_requests_honours_retry_after(httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data(
        "", status=429, headers={"Retry-After": "7200"}
    )
    feed = make_feed(httpserver)
    before = timezone.now()
    poll.feed_poll(feed_id=feed.pk)
    feed.refresh_from_db()
    assert feed.next_poll_at >= before + timedelta(seconds=7200)
    assert feed.consecutive_failures == 1
    assert feed.active


def test_failures_back_off_exponentially_but_the_feed_is_kept(httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data("oops", status=500)
    feed = make_feed(httpserver)
    delays = []
    for _ in range(4):
        start = timezone.now()
        poll.feed_poll(feed_id=feed.pk)
        feed.refresh_from_db()
        delays.append((feed.next_poll_at - start).total_seconds())
    assert feed.active and feed.consecutive_failures == 4
    assert feed.health == "failing"
    assert "HTTP 500" in feed.last_error
    assert all(later > earlier for earlier, later in pairwise(delays))
    assert delays[-1] <= 24 * 3600 * 1.1


def test_backoff_is_capped_at_a_day():
    assert schedule.failure_backoff(40) <= timedelta(hours=24) * 1.1


def test_an_html_page_is_a_failure_with_a_clear_message(httpserver):
    serve(
        httpserver,
        b"<html><head><title>Blog</title></head><body>Hi</body></html>",
        content_type="text/html",
    )
    feed = make_feed(httpserver)
    report = poll.feed_poll(feed_id=feed.pk)
    assert report.outcome == FeedPoll.Outcome.FAILED
    assert "not an RSS or Atom feed" in report.error or "HTML" in report.error


def test_an_empty_body_is_a_failure(httpserver):
    serve(httpserver, b"")
    feed = make_feed(httpserver)
    assert poll.feed_poll(feed_id=feed.pk).outcome == FeedPoll.Outcome.FAILED


def test_a_huge_body_is_cut_off(httpserver, settings):
    settings.FEEDS_MAX_BYTES = 64 * 1024
    serve(httpserver, b"<rss>" + b" " * (256 * 1024) + b"</rss>")
    feed = make_feed(httpserver)
    report = poll.feed_poll(feed_id=feed.pk)
    assert report.outcome == FeedPoll.Outcome.FAILED
    assert Resource.objects.count() == 0


def test_a_gzip_bomb_is_cut_off(httpserver, settings):
    settings.FEEDS_MAX_BYTES = 1024 * 1024
    bomb = gzip.compress(b"<rss>" + b"\0" * (20 * 1024 * 1024))
    serve(httpserver, bomb, headers={"Content-Encoding": "gzip"})
    report = poll.feed_poll(feed_id=make_feed(httpserver).pk)
    assert report.outcome == FeedPoll.Outcome.FAILED


def test_a_slow_server_times_out_and_the_task_may_retry(httpserver):
    def slow(request):
        time.sleep(2)
        return Response(rss(posts(1)), content_type="application/rss+xml")

    httpserver.expect_request("/feed.xml").respond_with_handler(slow)
    feed = make_feed(httpserver)
    with pytest.raises(FetchError) as caught:
        poll.feed_poll(feed_id=feed.pk)
    assert caught.value.retryable
    feed.refresh_from_db()
    assert feed.consecutive_failures == 1
    assert feed.polls.get().outcome == FeedPoll.Outcome.FAILED


def test_the_default_setting_refuses_private_addresses(httpserver, settings):
    settings.FEEDS_ALLOWED_NETWORKS = []
    assert settings.FEEDS_ALLOW_PRIVATE_NETWORKS is False
    serve(httpserver, rss(posts(1)))
    with pytest.raises(services.FeedAddError, match=r"(?i)private|loopback|not allowed|refus"):
        services.feed_add(address=httpserver.url_for("/feed.xml"))
    feed = make_feed(httpserver)
    report = poll.feed_poll(feed_id=feed.pk)
    assert report.outcome == FeedPoll.Outcome.FAILED
    assert len(httpserver.log) == 0


def test_a_redirect_to_a_private_address_is_refused(httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    report = poll.feed_poll(feed_id=make_feed(httpserver).pk)
    assert report.outcome == FeedPoll.Outcome.FAILED
    assert "169.254.169.254" in report.error


def test_entries_without_a_usable_link_are_counted_and_skipped(httpserver):
    items = [
        {"title": "No link", "guid": "a"},
        {"title": "Script link", "link": "javascript:alert(1)", "guid": "b"},
        {"title": "Fine", "link": "https://blog.example.org/fine/", "guid": "c"},
    ]
    serve(httpserver, rss(items))
    report = poll.feed_poll(feed_id=make_feed(httpserver).pk)
    assert (report.new, report.skipped) == (1, 2)
    assert list(Resource.objects.values_list("title", flat=True)) == ["Fine"]


def test_hostile_markup_never_survives(httpserver):
    items = [
        {
            "title": "<script>alert(1)</script>Hello",
            "link": "https://blog.example.org/x/",
            "guid": "x",
            "description": (
                '<p onclick="steal()">Hi<img src="x" onerror="alert(1)">'
                '<a href="javascript:alert(2)">click</a><script>alert(3)</script></p>'
            ),
        }
    ]
    serve(httpserver, rss(items))
    poll.feed_poll(feed_id=make_feed(httpserver).pk)
    resource = Resource.objects.get()
    stored = (resource.summary + resource.content_html).lower()
    for needle in ("<script", "onerror", "onclick", "javascript:", "alert(3)"):
        assert needle not in stored, needle
    # The title is text, kept as its author wrote it; pages and JSON escape it.
    assert resource.title == "<script>alert(1)</script>Hello"


def test_duplicate_guids_in_one_document_store_one_resource(httpserver):
    items = [*posts(1), {**posts(1)[0], "title": "Same guid, other title"}]
    serve(httpserver, rss(items))
    poll.feed_poll(feed_id=make_feed(httpserver).pk)
    assert Resource.objects.count() == 1


@pytest.mark.parametrize("name", ["billion_laughs.xml", "xxe.xml"])
def test_entity_attacks_are_harmless(httpserver, name):
    serve(httpserver, (FEEDS / name).read_bytes())
    started = time.monotonic()
    poll.feed_poll(feed_id=make_feed(httpserver).pk)
    assert time.monotonic() - started < 5
    for resource in Resource.objects.all():
        assert "root:" not in resource.summary + resource.content_html
        assert "lol" * 100 not in resource.summary + resource.content_html


def test_a_malformed_feed_keeps_what_was_recovered_and_records_a_warning(httpserver):
    serve(httpserver, (FEEDS / "malformed.xml").read_bytes())
    feed = make_feed(httpserver)
    report = poll.feed_poll(feed_id=feed.pk)
    feed.refresh_from_db()
    assert report.outcome == FeedPoll.Outcome.OK
    assert report.new >= 1
    assert report.warning and feed.last_warning == report.warning
    assert feed.polls.get().warning == report.warning
    assert feed.health == "warning"  # not "ok": curators see it needs a look


def test_a_feed_damaged_before_its_first_entry_is_a_failed_poll_that_says_why(httpserver):
    # It was a success ("New content", "Last success at" set) with a warning, beside feeds
    # that warned and still delivered: a walk-through's curator could not tell them apart.
    good = rss(posts(3)).decode()
    serve(httpserver, good[: good.index("<item>")].encode())  # cut off before its first item
    feed = make_feed(httpserver)
    report = poll.feed_poll(feed_id=feed.pk)
    feed.refresh_from_db()
    assert report.outcome == FeedPoll.Outcome.FAILED
    assert "damaged before its first entry, so nothing could be read" in feed.last_error
    assert "no element found" in feed.last_error
    assert feed.last_success_at is None


def test_a_clean_poll_after_a_damaged_one_makes_the_feed_healthy_again(httpserver):
    serve(httpserver, (FEEDS / "malformed.xml").read_bytes())
    feed = make_feed(httpserver)
    poll.feed_poll(feed_id=feed.pk)
    httpserver.clear()
    serve(httpserver, rss(posts(2)))
    poll.feed_poll(feed_id=feed.pk)
    feed.refresh_from_db()
    assert feed.health == "ok"


@pytest.mark.parametrize(
    "name", ["rss091.xml", "rss092.xml", "rss10.rdf", "rss20.xml", "atom10.xml"]
)
def test_every_feed_format_is_read(httpserver, name):
    serve(httpserver, (FEEDS / name).read_bytes())
    report = poll.feed_poll(feed_id=make_feed(httpserver).pk)
    assert report.outcome == FeedPoll.Outcome.OK
    assert report.new >= 1


def test_a_poll_killed_midway_stores_nothing_and_the_rerun_stores_everything_once(
    httpserver, monkeypatch
):
    serve(httpserver, rss(posts(6)))
    feed = make_feed(httpserver)
    real_link = store._link_taxonomy

    def dies_while_storing(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(store, "_link_taxonomy", dies_while_storing)
    with pytest.raises(SystemExit):
        poll.feed_poll(feed_id=feed.pk)
    assert Resource.objects.count() == 0  # the document's transaction rolled back whole
    monkeypatch.setattr(store, "_link_taxonomy", real_link)
    report = poll.feed_poll(feed_id=feed.pk)
    assert report.new == 6
    assert poll.feed_poll(feed_id=feed.pk).new == 0
    assert Resource.objects.count() == 6


def test_a_concurrent_writer_falls_back_to_one_by_one_storage(httpserver, monkeypatch):
    from django.db import IntegrityError

    from catalog.feeds.parse import parse_feed

    document = rss(posts(3))
    serve(httpserver, document)
    feed = make_feed(httpserver)
    # Another poll committed the first entry after our read: our bulk insert then conflicts.
    first = parse_feed(document, url=feed.url).entries[0]
    store._upsert_entry(feed, first, Status.PENDING)

    def conflicting_bulk_insert(*args, **kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(store, "_store_batch", conflicting_bulk_insert)
    report = poll.feed_poll(feed_id=feed.pk)
    assert (report.new, report.unchanged) == (2, 1)
    assert Resource.objects.count() == 3


def test_two_entries_with_one_address_in_one_document_are_one_resource(httpserver):
    items = [*posts(1), {**posts(1)[0], "guid": "another-guid"}]
    serve(httpserver, rss(items))
    report = poll.feed_poll(feed_id=make_feed(httpserver).pk)
    assert Resource.objects.count() == 1
    assert (report.new, report.unchanged) == (1, 1)


def test_feed_entries_get_the_feed_author_and_known_tags(httpserver):
    from tests.factories import AuthorFactory, TagFactory

    author = AuthorFactory(slug="dana")
    TagFactory(slug="rbac")
    items = [{**posts(1)[0], "categories": ["RBAC", "unknown-tag"]}]
    serve(httpserver, rss(items))
    poll.feed_poll(feed_id=make_feed(httpserver, author=author).pk)
    resource = Resource.objects.get()
    assert list(resource.authors.values_list("slug", flat=True)) == ["dana"]
    assert list(resource.tags.values_list("slug", flat=True)) == ["rbac"]


def test_dispatch_claims_each_due_feed_only_once(httpserver):
    feeds = [make_feed(httpserver, f"/f{n}.xml") for n in range(3)]
    Feed.objects.filter(pk=feeds[2].pk).update(next_poll_at=timezone.now() + timedelta(hours=1))
    first = schedule.feeds_claim_due()
    second = schedule.feeds_claim_due()
    assert sorted(first) == sorted([feeds[0].pk, feeds[1].pk])
    assert second == []


def test_an_expired_claim_makes_the_feed_due_again(httpserver):
    feed = make_feed(httpserver)
    assert schedule.feeds_claim_due() == [feed.pk]
    later = timezone.now() + schedule.CLAIM_LEASE + timedelta(seconds=1)
    assert schedule.feeds_claim_due(now=later) == [feed.pk]


def test_busy_feeds_are_polled_more_often_than_quiet_ones(httpserver):
    serve(httpserver, rss(posts(6, prefix="busy", hours_apart=1)), path="/busy.xml")
    serve(httpserver, rss(posts(6, prefix="quiet", hours_apart=24 * 14)), path="/quiet.xml")
    busy, quiet = make_feed(httpserver, "/busy.xml"), make_feed(httpserver, "/quiet.xml")
    poll.feed_poll(feed_id=busy.pk)
    poll.feed_poll(feed_id=quiet.pk)
    busy.refresh_from_db()
    quiet.refresh_from_db()
    assert 15 * 60 <= busy.poll_interval < quiet.poll_interval <= 24 * 3600


def test_cache_control_max_age_is_honoured(httpserver):
    serve(httpserver, rss(posts(6, hours_apart=1)), headers={"Cache-Control": "max-age=7200"})
    feed = make_feed(httpserver)
    poll.feed_poll(feed_id=feed.pk)
    feed.refresh_from_db()
    assert feed.poll_interval >= 7200


def test_feed_add_discovers_the_feed_from_a_page_link(httpserver):
    page = (
        b'<html><head><link rel="alternate" type="application/atom+xml" href="/atom.xml">'
        b"</head></html>"
    )
    serve(httpserver, page, path="/blog/", content_type="text/html")
    serve(
        httpserver,
        (FEEDS / "atom10.xml").read_bytes(),
        path="/atom.xml",
        content_type="application/atom+xml",
    )
    feed = services.feed_add(address=httpserver.url_for("/blog/"))
    assert feed.url == httpserver.url_for("/atom.xml")
    assert feed.title


def test_feed_add_tries_the_usual_feed_paths(httpserver):
    serve(
        httpserver, b"<html><body>No links here</body></html>", path="/", content_type="text/html"
    )
    serve(httpserver, rss(posts(1)), path="/index.xml")
    httpserver.expect_request("/feed").respond_with_data("", status=404)
    feed = services.feed_add(address=httpserver.url_for("/"))
    assert feed.url == httpserver.url_for("/index.xml")


def test_feed_add_explains_when_no_feed_is_found(httpserver):
    httpserver.expect_request("/").respond_with_data("<html></html>", content_type="text/html")
    with pytest.raises(services.FeedAddError, match="No RSS or Atom feed found"):
        services.feed_add(address=httpserver.url_for("/"))


def test_poll_history_is_recorded(httpserver):
    serve(httpserver, rss(posts(2)))
    feed = make_feed(httpserver)
    poll.feed_poll(feed_id=feed.pk)
    record = feed.polls.get()
    assert (record.outcome, record.http_status, record.new) == (FeedPoll.Outcome.OK, 200, 2)


def test_the_hostile_sample_feed_leaves_no_active_content(httpserver):
    serve(httpserver, (FEEDS / "hostile.xml").read_bytes())
    report = poll.feed_poll(feed_id=make_feed(httpserver).pk)
    assert report.new >= 1
    for resource in Resource.objects.all():
        # Titles are text (kept as written, escaped when shown): not part of this check.
        stored = (resource.summary + resource.content_html + resource.url).lower()
        for needle in ("<script", "onerror", "javascript:", "<iframe", "<style", "data:"):
            assert needle not in stored, (needle, resource.title)


def test_the_missing_guids_sample_feed_stores_linked_entries_once(httpserver):
    serve(httpserver, (FEEDS / "missing_guids.xml").read_bytes())
    feed = make_feed(httpserver)
    first = poll.feed_poll(feed_id=feed.pk)
    assert first.new >= 1 and first.skipped >= 1
    second = poll.feed_poll(feed_id=feed.pk)
    assert second.new == 0
    assert Resource.objects.count() == first.new


def test_the_duplicate_guids_sample_feed_stores_one_resource_per_guid(httpserver):
    serve(httpserver, (FEEDS / "duplicate_guids.xml").read_bytes())
    feed = make_feed(httpserver)
    poll.feed_poll(feed_id=feed.pk)
    poll.feed_poll(feed_id=feed.pk)
    keys = list(Resource.objects.values_list("entry_key", flat=True))
    assert len(keys) == len(set(keys))
    # Three posts, two sharing a guid with their own links: three resources, each stored
    # once, whatever the order of polls.
    assert len(keys) == 3


def test_rss_authors_become_catalog_authors_matched_not_duplicated(httpserver):
    from catalog.models import Author

    known = Author.objects.create(slug="dana-lee", name="Dana Lee")
    items = "".join(
        f"<item><title>Post {n}</title><link>https://blog.example.org/{n}/</link>"
        f"<guid>{n}</guid><author>{address}</author></item>"
        for n, address in enumerate(
            [
                "dana@example.org (Dana Lee)",
                "sam@example.org (Sam Rivera)",
                "sam@example.org (Sam Rivera)",
                "nobody@example.org",
            ]
        )
    )
    serve(
        httpserver,
        (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Team blog</title>'
            f"<link>https://blog.example.org/</link>{items}</channel></rss>"
        ).encode(),
    )
    poll.feed_poll(feed_id=make_feed(httpserver).pk)

    authors = {
        resource.title: [author.name for author in resource.authors.all()]
        for resource in Resource.objects.prefetch_related("authors")
    }
    assert authors == {
        "Post 0": ["Dana Lee"],
        "Post 1": ["Sam Rivera"],
        "Post 2": ["Sam Rivera"],
        "Post 3": [],  # an e-mail address alone is not a name to credit
    }
    assert Author.objects.filter(name="Sam Rivera").count() == 1
    assert Resource.objects.get(title="Post 0").authors.get() == known
