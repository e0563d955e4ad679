"""Undo on a progress click's message: the resource is back as it was, and only the last
click can be taken back."""

from __future__ import annotations

import pytest

from catalog.models import Resource
from recommender.models import Progress, ProgressState
from tests.learn.conftest import path_ids, undo_token

pytestmark = pytest.mark.django_db


def undo(client, next_url: str = "/"):
    return client.post(
        "/progress/undo/", {"next": next_url, "token": undo_token(client)}, follow=True
    )


def test_the_message_of_a_click_offers_undo_and_undo_takes_it_back(alice_web, alice, seed):
    first = path_ids(seed)[0]
    page = alice_web.post(f"/progress/{first}/", {"state": "completed", "next": "/"}, follow=True)
    body = page.content.decode()
    assert "Marked “" in body and 'action="/progress/undo/"' in body
    assert Progress.objects.filter(user=alice, resource_id=first).exists()

    page = undo(alice_web)
    # Back at the item's card, where the click was (focus goes there: kubelearn.js).
    assert page.redirect_chain[-1][0] == f"/#card-{first}-title"
    assert f'id="card-{first}-title"' in page.content.decode()
    assert "message-sticky" in page.content.decode()  # in sight wherever the page is
    assert "is back as it was." in page.content.decode()
    assert not Progress.objects.filter(user=alice, resource_id=first).exists()
    assert first in [item["card"]["id"] for item in page.context["items"]]  # back in the queue


def test_undoing_done_on_a_started_item_leaves_it_started_without_the_rating(
    alice_web, alice, seed
):
    first = path_ids(seed)[0]
    alice_web.post(f"/progress/{first}/", {"state": "in_progress"})
    alice_web.post(f"/progress/{first}/", {"state": "completed", "rating": "4"})
    undo(alice_web)
    row = Progress.objects.get(user=alice, resource_id=first)
    assert (row.state, row.rating, row.completed_at) == (ProgressState.IN_PROGRESS, None, None)


def test_undoing_a_new_rating_brings_back_the_old_one_and_its_date(alice_web, alice, seed):
    first = path_ids(seed)[0]
    alice_web.post(f"/progress/{first}/", {"state": "completed", "rating": "5"})
    completed_at = Progress.objects.get(user=alice, resource_id=first).completed_at
    alice_web.post(f"/progress/{first}/", {"state": "completed", "rating": "2"})
    undo(alice_web)
    row = Progress.objects.get(user=alice, resource_id=first)
    assert (row.state, row.rating, row.completed_at) == ("completed", 5, completed_at)


def test_only_the_last_click_is_undone_and_only_once(alice_web, alice, seed):
    first, second = path_ids(seed)[:2]
    alice_web.post(f"/progress/{first}/", {"state": "completed"})
    alice_web.post(f"/progress/{second}/", {"state": "skipped"})
    undo(alice_web)
    assert dict(Progress.objects.filter(user=alice).values_list("resource_id", "state")) == {
        first: "completed"
    }
    again = undo(alice_web)
    assert "There is nothing to undo." in again.content.decode()
    assert Progress.objects.filter(user=alice).count() == 1


def test_clear_names_what_it_cleared_and_its_undo_puts_back_the_rating_and_date(
    alice, alice_web, seed
):
    first = path_ids(seed)[0]
    alice_web.post(f"/progress/{first}/", {"state": "completed", "rating": "4"}, follow=True)
    before = Progress.objects.get(user=alice, resource_id=first)
    page = alice_web.post(f"/progress/{first}/forget/", {"next": "/"}, follow=True)
    body = page.content.decode()
    title = Resource.objects.get(pk=first).title
    assert f"Cleared your progress on “{title}”." in body
    assert 'action="/progress/undo/"' in body
    assert not Progress.objects.filter(user=alice).exists()
    undo(alice_web)
    after = Progress.objects.get(user=alice, resource_id=first)
    assert (after.state, after.rating, after.completed_at) == (
        "completed",
        4,
        before.completed_at,
    )
    assert "There is nothing to undo." in undo(alice_web).content.decode()


def test_undo_needs_a_signed_in_learner_and_a_post(client, alice_web, seed):
    response = client.post("/progress/undo/", {"next": "/"})
    assert response.status_code == 302 and "/signin/" in response["Location"]
    assert alice_web.get("/progress/undo/").status_code == 405
    assert "There is nothing to undo." in undo(alice_web).content.decode()


def test_an_undo_beside_an_earlier_message_does_not_undo_a_later_click(alice_web, alice, seed):
    # Tab A: Done on the first item; tab B: Not now on the second; tab A's Undo then undid
    # tab B's click ("Undone: “Minikube” is back as it was") and left the first item done.
    first, second = path_ids(seed)[:2]
    alice_web.post(f"/progress/{first}/", {"state": "completed"})
    tab_a_token = undo_token(alice_web)
    alice_web.post(f"/progress/{second}/", {"state": "planned", "later": "1"})
    page = alice_web.post("/progress/undo/", {"next": "/", "token": tab_a_token}, follow=True)
    assert "Nothing was undone: that Undo was for an earlier action" in page.content.decode()
    states = dict(Progress.objects.filter(user=alice).values_list("resource_id", "state"))
    assert states == {first: "completed", second: "planned"}
    # The latest message's Undo still works.
    undo(alice_web)
    assert dict(Progress.objects.filter(user=alice).values_list("resource_id", "state")) == {
        first: "completed"
    }


def test_the_undo_form_sends_its_clicks_token(alice_web, seed):
    first = path_ids(seed)[0]
    body = alice_web.post(f"/progress/{first}/", {"state": "completed"}, follow=True)
    token = undo_token(alice_web)
    assert token and f'name="token" value="{token}"' in body.content.decode()
