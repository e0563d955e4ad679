"""Done asks for no rating on an unread item's card; "Marked … done" offers one, and the
rating it posts is kept beside the completion."""

from __future__ import annotations

import re

import pytest

from recommender.models import Progress, ProgressState
from tests.learn.conftest import path_ids, undo_token

pytestmark = pytest.mark.django_db

RATE_FORM = re.compile(r'<form method="post" action="/progress/(\d+)/" class="message-rate"')


def rate_offers(body: str) -> list[int]:
    return [int(pk) for pk in RATE_FORM.findall(body)]


def test_an_unread_items_card_has_done_without_a_rating_box(alice_web, seed):
    body = alice_web.get("/").content.decode()
    assert 'name="rating"' not in body
    assert ">Done</button>" in body


def test_a_finished_items_card_keeps_its_rating_box_to_rate_again(alice_web, seed):
    first = path_ids(seed)[0]
    alice_web.post(f"/progress/{first}/", {"state": "completed"})
    body = alice_web.get(f"/resources/{first}/").content.decode()
    assert f'<select id="rating-{first}" name="rating">' in body and "Save rating<" in body


def test_done_without_a_rating_offers_one_to_five_in_its_message(alice_web, seed):
    first = path_ids(seed)[0]
    page = alice_web.post(f"/progress/{first}/", {"state": "completed", "next": "/"}, follow=True)
    body = page.content.decode()
    assert rate_offers(body) == [first]
    offer = body[body.index('class="message-rate"') :]
    offer = offer[: offer.index("</form>")]
    assert re.findall(r'name="rating" value="(\d)"', offer) == ["1", "2", "3", "4", "5"]
    assert '<input type="hidden" name="state" value="completed">' in offer
    assert 'Rate it </span>5<span class="visually-hidden"> of 5</span>' in offer


@pytest.mark.parametrize(
    "click",
    [
        {"state": "completed", "rating": "4"},  # rated with Done (the API's way, or no script)
        {"state": "in_progress"},
        {"state": "skipped"},
        {"state": "planned"},
    ],
)
def test_a_click_that_is_not_an_unrated_done_offers_no_rating(alice_web, seed, click):
    first = path_ids(seed)[0]
    page = alice_web.post(f"/progress/{first}/", {**click, "next": "/"}, follow=True)
    assert rate_offers(page.content.decode()) == []


def test_a_rating_from_the_message_keeps_the_item_done_and_offers_no_second_one(
    alice_web, alice, seed
):
    first = path_ids(seed)[0]
    alice_web.post(f"/progress/{first}/", {"state": "completed"}, follow=True)  # its message read
    completed_at = Progress.objects.get(user=alice, resource_id=first).completed_at
    page = alice_web.post(
        f"/progress/{first}/", {"state": "completed", "rating": "5", "next": "/"}, follow=True
    )
    row = Progress.objects.get(user=alice, resource_id=first)
    assert (row.state, row.rating, row.completed_at) == ("completed", 5, completed_at)
    body = page.content.decode()
    assert "” saved: 5 of 5." in body and rate_offers(body) == []


def test_undo_after_rating_from_the_message_takes_back_the_rating_only(alice_web, alice, seed):
    first = path_ids(seed)[0]
    alice_web.post(f"/progress/{first}/", {"state": "completed"})
    alice_web.post(f"/progress/{first}/", {"state": "completed", "rating": "2"})
    alice_web.post("/progress/undo/", {"next": "/", "token": undo_token(alice_web)})
    row = Progress.objects.get(user=alice, resource_id=first)
    assert (row.state, row.rating) == (ProgressState.COMPLETED, None)


def test_done_on_a_path_step_offers_the_rating_on_the_path_page(alice_web, seed):
    first = path_ids(seed)[0]
    page = alice_web.post(
        f"/progress/{first}/", {"state": "completed", "next": "/path/"}, follow=True
    )
    body = page.content.decode()
    assert rate_offers(body) == [first]
    assert '<input type="hidden" name="next" value="/path/">' in body


def test_saving_no_rating_on_an_unrated_item_removes_nothing_and_offers_a_rating_again(
    alice_web, seed
):
    # After Done on a resource's page, focus comes back to "Save rating" beside "none": a
    # second Enter said "Rating of … removed." of a rating never given, and the offer went.
    first = path_ids(seed)[0]
    alice_web.post(f"/progress/{first}/", {"state": "completed"}, follow=True)
    page = alice_web.post(
        f"/progress/{first}/",
        {"state": "completed", "rating": "", "next": f"/resources/{first}/"},
        follow=True,
    )
    body = page.content.decode()
    assert "stays marked done, with no rating." in body and "removed" not in body
    assert rate_offers(body) == [first]


def test_a_second_done_keeps_the_rating_given_since(alice_web, alice, seed):
    # Done has no rating box: a resubmitted Done (the back button, a retry) erased the
    # rating given from its message.
    first = path_ids(seed)[0]
    alice_web.post(f"/progress/{first}/", {"state": "completed"}, follow=True)
    alice_web.post(f"/progress/{first}/", {"state": "completed", "rating": "4"}, follow=True)
    body = alice_web.post(f"/progress/{first}/", {"state": "completed"}, follow=True)
    assert Progress.objects.get(user=alice, resource_id=first).rating == 4
    assert "already finished" in body.content.decode()


def test_a_rating_sent_from_the_path_page_comes_back_at_its_step(alice_web, seed):
    # Without script the page came back at its top, far from the step rated.
    first = path_ids(seed)[0]
    alice_web.post(f"/progress/{first}/", {"state": "completed"}, follow=True)
    response = alice_web.post(
        f"/progress/{first}/", {"state": "completed", "rating": "4", "next": "/path/"}
    )
    assert response["Location"] == "/path/#step-1"


def test_undo_of_a_rating_says_the_item_stays_done(alice_web, seed):
    # "Undone: … is back as it was." left a learner unsure the Done was kept (a walk-through).
    first = path_ids(seed)[0]
    alice_web.post(f"/progress/{first}/", {"state": "completed"}, follow=True)
    alice_web.post(f"/progress/{first}/", {"state": "completed", "rating": "3"}, follow=True)
    page = alice_web.post(
        "/progress/undo/", {"next": "/", "token": undo_token(alice_web)}, follow=True
    )
    assert "has its rating back as it was, and stays marked done." in page.content.decode()
