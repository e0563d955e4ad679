"""The private Atom feed of a learner's queue: valid Atom, one learner's data, revocable."""

from __future__ import annotations

import feedparser
import pytest

from learn.models import QueueFeed
from tests.learn.conftest import path_ids

pytestmark = pytest.mark.django_db


def feed_address(web_client) -> str:
    assert web_client.post("/account/", {"action": "create"}).status_code == 302
    return web_client.get("/account/").context["feed_url"]


def test_the_queue_feed_is_atom_1_0_with_the_learners_queue(client, alice_web, alice_api, seed):
    address = feed_address(alice_web)
    response = client.get(address)  # a feed reader: no session, just the secret address
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    assert "private" in response["Cache-Control"]
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    api = alice_api.get("/api/me/queue/", {"limit": 10}).json()["results"]  # Up next's
    assert [entry.title for entry in parsed.entries] == [item["resource"]["title"] for item in api]
    first = parsed.entries[0]
    assert first.link.endswith(f"/resources/{api[0]['resource']['id']}/")
    assert api[0]["reasons"][0]["text"] in first.summary
    assert first.id.startswith("tag:kubelearn")


def test_the_feed_holds_no_other_learners_data(client, alice_web, bob_web, seed):
    steps = path_ids(seed)
    # bob has read the first two steps; alice has not: her feed must still start there.
    bob_web.post(f"/progress/{steps[0]}/", {"state": "completed"})
    bob_web.post(f"/progress/{steps[1]}/", {"state": "completed"})
    alice_address = feed_address(alice_web)
    bob_address = feed_address(bob_web)
    assert alice_address != bob_address
    alice_feed = client.get(alice_address).content.decode()
    bob_feed = client.get(bob_address).content.decode()
    assert "bob" not in alice_feed and "alice" not in bob_feed
    alice_first = feedparser.parse(alice_feed).entries[0].link
    assert alice_first.endswith(f"/resources/{steps[0]}/")
    assert not feedparser.parse(bob_feed).entries[0].link.endswith(f"/resources/{steps[0]}/")


def test_a_new_address_revokes_the_old_one_and_turning_off_revokes_all(client, alice_web, seed):
    old = feed_address(alice_web)
    alice_web.post("/account/", {"action": "renew", "replacing": QueueFeed.objects.get().key})
    new = alice_web.get("/account/").context["feed_url"]
    assert old != new
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert alice_web.post("/account/", {"action": "revoke"}).status_code == 302
    assert client.get(new).status_code == 404
    assert not QueueFeed.objects.exists()


def test_unknown_feed_keys_and_bad_actions(client, alice_web):
    assert client.get("/feed/not-a-real-key/").status_code == 404
    assert alice_web.post("/account/", {"action": "delete-everything"}).status_code == 400


def test_a_deactivated_learners_feed_stops(client, alice, alice_web, seed):
    address = feed_address(alice_web)
    alice.is_active = False
    alice.save()
    assert client.get(address).status_code == 404


def test_creating_the_first_feed_does_not_speak_of_an_old_one(alice_web, seed):
    first = alice_web.post("/account/", {"action": "create"}, follow=True).content.decode()
    assert "Your feed is ready" in first and "no longer works" not in first
    key = QueueFeed.objects.get().key
    again = alice_web.post(
        "/account/", {"action": "renew", "replacing": key}, follow=True
    ).content.decode()
    assert "the old one no longer works" in again
    assert QueueFeed.objects.get().key != key


def test_create_from_a_second_tab_keeps_the_address_the_first_made(alice, alice_web, seed):
    # Both tabs showed "Create my feed address"; the second click replaced the first's address,
    # which may have been pasted into a reader already (a walk-through).
    alice_web.post("/account/", {"action": "create"})
    made = QueueFeed.objects.get(user=alice).key
    page = alice_web.post("/account/", {"action": "create"}, follow=True)
    assert QueueFeed.objects.get(user=alice).key == made
    assert "already had an address" in page.content.decode()
    assert page.context["feed_url"].endswith(f"/feed/{made}/")


def test_new_address_from_an_old_page_keeps_the_address_renewed_since(alice, alice_web, seed):
    alice_web.post("/account/", {"action": "create"})
    shown = QueueFeed.objects.get(user=alice).key
    alice_web.post("/account/", {"action": "renew", "replacing": shown})  # another tab
    renewed = QueueFeed.objects.get(user=alice).key
    page = alice_web.post("/account/", {"action": "renew", "replacing": shown}, follow=True)
    assert QueueFeed.objects.get(user=alice).key == renewed
    assert "Not replaced" in page.content.decode()


def test_new_address_from_an_old_page_after_the_feed_was_turned_off_makes_one(
    alice, alice_web, seed
):
    alice_web.post("/account/", {"action": "create"})
    shown = QueueFeed.objects.get(user=alice).key
    alice_web.post("/account/", {"action": "revoke"})  # another tab
    page = alice_web.post("/account/", {"action": "renew", "replacing": shown}, follow=True)
    assert QueueFeed.objects.get(user=alice).key != shown
    assert "Your feed is ready" in page.content.decode()


def test_the_account_page_carries_the_address_new_address_replaces(alice, alice_web, seed):
    alice_web.post("/account/", {"action": "create"})
    page = alice_web.get("/account/").content.decode()
    assert f'name="replacing" value="{QueueFeed.objects.get(user=alice).key}"' in page


def test_the_feed_and_the_account_page_say_the_time_budget_does_not_apply(client, alice_web, seed):
    # A walk-through's 20-minute budget left one item on Up next and ten in the feed, unsaid.
    parsed = feedparser.parse(client.get(feed_address(alice_web)).content)
    assert "whatever your session's time budget" in parsed.feed.subtitle
    assert "whatever your session's time budget" in alice_web.get("/account/").content.decode()


def test_the_feed_says_a_length_as_the_pages_do(client, alice_web, seed):
    # A walk-through's feed said "About 900 minutes" where the site said "15 h".
    from catalog.models import Resource

    Resource.objects.filter(pk=path_ids(seed)[0]).update(estimated_minutes=900)
    parsed = feedparser.parse(client.get(feed_address(alice_web)).content)
    assert "<p>About 15 h.</p>" in parsed.entries[0].summary


def test_a_reader_sorting_by_date_shows_the_queue_in_its_order(client, alice, alice_web, seed):
    # Entries were dated by their resources: in newsboat (newest first) a 2017 article fell from
    # 7th to 16th. Each entry is now dated by its place in the queue.
    from datetime import UTC, datetime

    from catalog.models import Resource
    from recommender.services import progress_set

    address = feed_address(alice_web)
    titles = [entry.title for entry in feedparser.parse(client.get(address).content).entries]
    assert len(titles) > 5
    third = Resource.objects.get(title=titles[2])
    Resource.objects.filter(pk=third.pk).update(published_at=datetime(2017, 3, 12, tzinfo=UTC))
    parsed = feedparser.parse(client.get(address).content)
    assert [entry.title for entry in parsed.entries] == titles
    for date in ("updated_parsed", "published_parsed"):  # readers sort by either
        newest_first = sorted(parsed.entries, key=lambda entry: entry[date], reverse=True)
        assert [entry.title for entry in newest_first] == titles, date
    # The resource's own date is said in words; the entries keep their dates between fetches.
    assert "<p>Published 12 March 2017.</p>" in parsed.entries[2].summary
    again = feedparser.parse(client.get(address).content)
    assert [entry.updated for entry in again.entries] == [e.updated for e in parsed.entries]
    # A click moves the queue, and its dates with it.
    first = Resource.objects.get(title=titles[0])
    progress_set(user=alice, resource=first, state="completed", rating=None)
    moved = feedparser.parse(client.get(address).content)
    moment = datetime.fromisoformat
    assert moment(moved.feed.updated) > moment(parsed.feed.updated)
    assert titles[0] not in [entry.title for entry in moved.entries]


def test_an_entry_links_to_the_original_and_keeps_health_notes_out_of_its_reasons(
    client, alice_web, seed
):
    from catalog.models import Resource
    from learn.feeds import queue_feed

    first = Resource.objects.get(pk=path_ids(seed)[0])
    entries = feedparser.parse(client.get(feed_address(alice_web)).content).entries
    assert len(entries) == 10  # Up next's length, not a longer queue's variety tail
    assert f'<a href="{first.url}">Read it on ' in entries[0].summary
    # A health note is said as a note, not under "Why it is next" (a walk-through).
    text = queue_feed.item_description(
        {
            "card": {"estimated_minutes": None, "summary": "", "title": "T"},
            "resource": first,
            "reasons": [
                {"kind": "stale", "text": "Mentions Tiller, removed in Helm 3."},
                {"kind": "path_step", "text": "Step 1 of the learning path"},
            ],
        }
    )
    assert "<p><strong>Note:</strong> Mentions Tiller, removed in Helm 3.</p>" in text
    assert "<ul><li>Step 1 of the learning path</li></ul>" in text
    assert "<li>Mentions" not in text


def test_the_feed_holds_the_queues_next_ten_whatever_the_session_budget(
    client, alice, alice_web, alice_api, seed
):
    # A 30-minute budget left three entries in a walk-through's reader.
    whole = alice_api.get("/api/me/queue/", {"limit": 10}).json()["results"]  # no budget yet
    budget = alice_api.patch("/api/me/profile/", {"minutes_budget": 30}, format="json")
    assert budget.status_code == 200
    assert len(alice_api.get("/api/me/queue/", {"limit": 10}).json()["results"]) < 10
    parsed = feedparser.parse(client.get(feed_address(alice_web)).content)
    assert len(parsed.entries) == 10
    assert [entry.title for entry in parsed.entries] == [i["resource"]["title"] for i in whole]


def test_an_item_back_from_not_now_moves_the_feed_and_is_dated_when_it_came_back(
    client, alice, alice_web, seed
):
    # Its return wrote nothing, so the feed kept its date and the returned entry was dated
    # before its return, below entries the reader had already (a walk-through).
    from datetime import datetime, timedelta

    from django.utils import timezone

    from catalog.models import Resource
    from recommender.models import FittedModel, Progress
    from recommender.services import progress_set

    address = feed_address(alice_web)
    third = Resource.objects.get(pk=path_ids(seed)[2])
    progress_set(user=alice, resource=third, state="planned", later=True)
    client.get(address)  # the model is fitted by the first read
    week_ago = timezone.now() - timedelta(days=8)
    Progress.objects.filter(user=alice).update(updated_at=week_ago)
    FittedModel.objects.update(created_at=week_ago)  # no refit since either
    before = feedparser.parse(client.get(address).content)
    assert third.title not in [entry.title for entry in before.entries]
    back = timezone.now() - timedelta(minutes=1)
    Progress.objects.filter(user=alice).update(later_until=back)
    after = feedparser.parse(client.get(address).content)
    moment = datetime.fromisoformat
    assert moment(after.feed.updated) > moment(before.feed.updated)
    entry = next(entry for entry in after.entries if entry.title == third.title)
    assert moment(entry.updated) >= back - timedelta(seconds=len(after.entries))
