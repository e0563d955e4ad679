"""'Not now' on a queue card: the item is saved and out of the queue for a week."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from catalog.models import Resource
from learn.selectors import spoken_day
from learn.views import MESSAGE_TITLE_CHARS, message_title
from recommender.models import Progress, ProgressState
from tests.learn.conftest import path_ids, undo_token

pytestmark = pytest.mark.django_db


def queue_ids(web) -> list[int]:
    return [item["card"]["id"] for item in web.get("/").context["items"]]


def test_not_now_takes_an_item_out_of_the_queue_for_a_week_and_keeps_it_saved(
    alice_web, alice, seed
):
    first = queue_ids(alice_web)[0]
    page = alice_web.post(
        f"/progress/{first}/", {"state": "planned", "later": "1", "next": "/"}, follow=True
    )
    assert "returns to your queue on " in page.content.decode()
    row = Progress.objects.get(user=alice, resource_id=first)
    assert row.state == ProgressState.PLANNED
    assert timedelta(days=6) < row.later_until - timezone.now() <= timedelta(days=7)
    assert first not in queue_ids(alice_web)
    history = alice_web.get("/history/", {"show": "saved"})
    assert history.context["items"][0]["state"].label.startswith("Not now: back ")
    assert '<p class="history-when">Put off <time' in history.content.decode()
    # A week later it is back, saying so.
    Progress.objects.filter(pk=row.pk).update(later_until=timezone.now() - timedelta(minutes=1))
    alice_web.post(f"/progress/{path_ids(seed)[-1]}/", {"state": "skipped"})  # a new answer
    items = {item["card"]["id"]: item for item in alice_web.get("/").context["items"]}
    texts = [reason["text"] for reason in items[first]["reasons"]]
    assert "Back from “Not now”: you put it off" in texts
    assert "You saved it for later" not in texts


def _back_from_not_now(web, seed) -> int:
    """An item put off with "Not now" a week ago, whose day has come."""
    first = queue_ids(web)[0]
    web.post(f"/progress/{first}/", {"state": "planned", "later": "1"})
    Progress.objects.filter(resource_id=first).update(
        later_until=timezone.now() - timedelta(days=1)
    )
    web.post(f"/progress/{path_ids(seed)[-1]}/", {"state": "skipped"})  # a new answer
    return first


def test_up_next_counts_an_item_back_from_not_now_apart_from_the_saved(alice_web, seed):
    # A returning learner who saved one item and put another off read "You saved 2 items".
    back = _back_from_not_now(alice_web, seed)
    saved = next(pk for pk in path_ids(seed)[5:] if pk != back)
    alice_web.post(f"/progress/{saved}/", {"state": "planned"})
    body = " ".join(alice_web.get("/").content.decode().split())
    assert "1 item for later</a>" in body
    assert "One item you put off with “Not now” is back in your queue." in body


def test_an_item_back_from_not_now_is_labelled_so_and_offers_clear(alice_web, seed):
    back = _back_from_not_now(alice_web, seed)
    body = alice_web.get("/").content.decode()
    card = body[body.index(f'data-resource="{back}"') - 2000 :]
    card = card[: card.index("</fieldset>")]
    assert "Back from “Not now”" in card
    assert ">Clear progress<" in card and "Remove from saved" not in card
    page = alice_web.get(f"/resources/{back}/").content.decode()
    assert "You put this off with “Not now”; it has been back in your queue since " in page
    history = alice_web.get("/history/", {"show": "saved"})
    assert history.context["items"][0]["state"].label == "Back from “Not now”"
    summary = " ".join(history.content.decode().split())
    assert "<strong>1</strong> back from “Not now”" in summary and "saved for later." not in summary
    assert '<p class="history-when">Put off <time' in history.content.decode()


def test_an_item_put_off_is_counted_and_cleared_apart_from_the_saved(alice, alice_web, seed):
    # A walk-through's learner read "2 saved for later" having saved one and put one off,
    # and was offered "Remove from saved" for the one she never saved.
    first, second = queue_ids(alice_web)[:2]
    alice_web.post(f"/progress/{first}/", {"state": "planned", "later": "1"})
    alice_web.post(f"/progress/{second}/", {"state": "planned"})
    history = alice_web.get("/history/", {"show": "saved"})
    summary = " ".join(history.content.decode().split())
    assert "<strong>1</strong> saved for later; <strong>1</strong> put off with “Not now”" in (
        summary
    )
    assert "<h1>Saved</h1>" in summary
    page = alice_web.get(f"/resources/{first}/").content.decode()
    actions = page[page.index(f'data-resource="{first}"') :]
    actions = actions[: actions.index("</fieldset>")]
    assert ">Bring back now<" in actions and "Remove from saved" not in actions
    title = Resource.objects.get(pk=first).title
    browse = alice_web.get("/browse/", {"search": title}).content.decode()
    card = browse[browse.index(f'data-resource="{first}"') :]
    card = card[: card.index("</fieldset>")]
    assert "Save for later" in card and "Remove from saved" not in card
    # Saved from there, it is saved by choice: in the queue in its turn, not on its day.
    alice_web.post(f"/progress/{first}/", {"state": "planned"})
    assert Progress.objects.get(user=alice, resource_id=first).later_until is None


def test_browse_offers_to_save_an_item_back_from_not_now(alice_web, seed):
    back = _back_from_not_now(alice_web, seed)
    title = Resource.objects.get(pk=back).title
    body = alice_web.get("/browse/", {"search": title}).content.decode()
    card = body[body.index(f'data-resource="{back}"') :]
    card = card[: card.index("</fieldset>")]
    assert "Save for later" in card and "Remove from saved" not in card


def test_a_click_on_an_item_put_off_brings_it_back_and_undo_puts_it_off_again(
    alice_web, alice, seed
):
    first = queue_ids(alice_web)[0]
    alice_web.post(f"/progress/{first}/", {"state": "planned", "later": "1"})
    alice_web.post(f"/progress/{first}/", {"state": "in_progress"})
    assert Progress.objects.get(user=alice, resource_id=first).later_until is None
    alice_web.post("/progress/undo/", {"next": "/", "token": undo_token(alice_web)})
    row = Progress.objects.get(user=alice, resource_id=first)
    assert row.state == ProgressState.PLANNED and row.later_until is not None


@pytest.mark.parametrize("days", [1, 30])
def test_not_now_puts_an_item_off_until_the_day_the_learner_picks(alice_web, alice, seed, days):
    # It was always a week; the card now offers tomorrow, a week and a month.
    first = queue_ids(alice_web)[0]
    page = alice_web.post(
        f"/progress/{first}/",
        {"state": "planned", "later": "1", "later_days": str(days), "next": "/"},
        follow=True,
    )
    later_until = Progress.objects.get(user=alice, resource_id=first).later_until
    back = timezone.localtime(later_until)
    # At the start of that day (learner's time zone: UTC here, with no cookie).
    assert back.date() == timezone.localdate() + timedelta(days=days)
    assert (back.hour, back.minute, back.second) == (0, 0, 0)
    assert f"returns to your queue on {spoken_day(back)}." in unescape(page.content.decode())
    assert first not in queue_ids(alice_web)


def test_a_queue_card_offers_tomorrow_a_week_and_a_month(alice_web, seed):
    first = queue_ids(alice_web)[0]
    body = alice_web.get("/").content.decode()
    card = body[body.index(f'data-resource="{first}"') :]
    card = card[: card.index("</fieldset>")]
    assert [int(days) for days in re.findall(r'name="later_days" value="(\d+)"', card)] == [
        1,
        7,
        30,
    ]


def test_an_odd_number_of_days_is_refused_and_nothing_is_put_off(alice_web, seed):
    first = queue_ids(alice_web)[0]
    for days in ("5", "-1", "1e9", "x"):
        response = alice_web.post(
            f"/progress/{first}/", {"state": "planned", "later": "1", "later_days": days}
        )
        assert response.status_code == 400
    assert not Progress.objects.exists()


def test_only_a_saved_item_can_be_put_off(alice_web, alice, seed):
    first = queue_ids(alice_web)[0]
    response = alice_web.post(f"/progress/{first}/", {"state": "completed", "later": "1"})
    assert response.status_code == 400
    assert not Progress.objects.exists()


def test_queue_cards_offer_not_now_and_other_pages_do_not(alice_web, seed):
    first = queue_ids(alice_web)[0]
    body = alice_web.get("/").content.decode()
    card = body[body.index(f'data-resource="{first}"') :]
    assert ">Not now<" in card[: card.index("</fieldset>")]
    # A resource page offers it for a queued item only (test_pages has the queue's own).
    queued = queue_ids(alice_web)
    assert ">Not now<" in alice_web.get(f"/resources/{queued[1]}/").content.decode()
    elsewhere = Resource.objects.filter(status="approved").exclude(pk__in=queued).first()
    assert ">Not now<" not in alice_web.get(f"/resources/{elsewhere.pk}/").content.decode()


def test_the_resource_page_says_when_an_item_put_off_comes_back(alice_web, seed):
    first = queue_ids(alice_web)[0]
    alice_web.post(f"/progress/{first}/", {"state": "planned", "later": "1"})
    back = timezone.localtime(Progress.objects.get(resource_id=first).later_until)
    body = alice_web.get(f"/resources/{first}/").content.decode()
    assert f"it comes back to your queue on {spoken_day(back, 'long')}" in body


def test_the_path_marks_the_step_after_a_next_step_put_off(alice_web, seed):
    steps = path_ids(seed)
    alice_web.post(f"/progress/{steps[0]}/", {"state": "planned", "later": "1"})
    body = alice_web.get("/path/").content.decode()
    assert 'id="step-2" aria-current="step"' in body
    assert queue_ids(alice_web)[0] == steps[1]


def test_up_next_says_what_is_put_off_and_when_it_comes_back(alice_web, seed):
    # "You saved 1 item for later … marks a saved item when its turn comes" was said of an
    # item put off, whose turn had come and gone.
    first = queue_ids(alice_web)[0]
    alice_web.post(f"/progress/{first}/", {"state": "planned", "later": "1"})
    back = timezone.localtime(Progress.objects.get(resource_id=first).later_until)
    body = " ".join(alice_web.get("/").content.decode().split())
    assert "1 item for later" not in body
    assert f"off</a> for now: it comes back on {spoken_day(back, 'long')}." in body


def test_clearing_an_item_put_off_says_it_is_back_in_the_queue(alice_web, seed):
    first = queue_ids(alice_web)[0]
    alice_web.post(f"/progress/{first}/", {"state": "planned", "later": "1"})
    title = message_title(Resource.objects.get(pk=first).title)
    page = alice_web.post(f"/progress/{first}/forget/", {"next": "/"}, follow=True)
    body = unescape(page.content.decode())
    # In the words of its button (Bring back now): it was never saved, so not "removed from
    # saved".
    assert f"Brought “{title}” back: it is in your queue again." in body
    assert queue_ids(alice_web)[0] == first


def test_messages_name_a_long_title_shortened_at_a_word_and_a_short_one_whole():
    assert message_title("Minikube") == "Minikube"
    long_title = "Deploying and Scaling Microservices with Docker and Kubernetes"
    assert message_title(long_title) == "Deploying and Scaling Microservices…"
    assert len(message_title("x" * 300)) == MESSAGE_TITLE_CHARS  # no space: cut in the word


def test_bring_back_now_returns_an_item_put_off_to_the_queue_and_says_so(alice, alice_web, seed):
    # A walk-through looked for a way to bring a put-off item back early and found only
    # "Clear progress", which read as deleting something.
    first = queue_ids(alice_web)[0]
    alice_web.post(f"/progress/{first}/", {"state": "planned", "later": "1"})
    assert first not in queue_ids(alice_web)
    saved = alice_web.get("/history/", {"show": "saved"}).content.decode()
    assert f'aria-label="Bring back now: {Resource.objects.get(pk=first).title}"' in saved
    page = alice_web.post(f"/progress/{first}/forget/", {"next": "/"}, follow=True)
    assert "back: it is in your queue again." in unescape(page.content.decode())
    assert first in queue_ids(alice_web)
    assert not Progress.objects.filter(user=alice, resource_id=first).exists()


def test_up_next_says_which_items_back_from_not_now_come_after_the_ones_shown(alice_web, seed):
    # A walk-through's learner read "2 items … are back in your queue" above a session that
    # showed one of them.
    first, second, third = queue_ids(alice_web)[:3]
    for pk in (first, second, third):
        alice_web.post(f"/progress/{pk}/", {"state": "planned", "later": "1"})
    Progress.objects.update(later_until=timezone.now() - timedelta(days=1))
    alice_web.post(f"/progress/{path_ids(seed)[-1]}/", {"state": "skipped"})  # a new answer
    for limit, said in [
        (10, "3 items you put off with “Not now” are back in your queue."),
        (1, "3 items you put off with “Not now” are back in your queue; 2 of them come after"),
    ]:
        page = alice_web.get("/", {"limit": limit})
        assert len(page.context["items"]) == limit
        assert said in " ".join(page.content.decode().split()), limit
    # The only one back is the third step, below the first, which is open again.
    Progress.objects.filter(resource_id__in=[first, second]).delete()
    page = alice_web.get("/", {"limit": 1})
    assert [item["card"]["id"] for item in page.context["items"]] == [first]
    assert (
        "One item you put off with “Not now” is back in your queue; it comes after the items "
        "shown here." in " ".join(page.content.decode().split())
    )


def test_the_saved_pages_intro_counts_the_items_back_in_the_queue(alice_web, seed):
    # A returning learner read of items put off "until the day it comes back" and found one
    # listed that had come back a week before.
    _back_from_not_now(alice_web, seed)
    lede = alice_web.get("/history/", {"show": "saved"}).content.decode()
    assert "(1 is back in your queue now)" in " ".join(lede.split())
