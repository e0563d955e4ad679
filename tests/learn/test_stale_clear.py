"""A Clear (Stop reading, Remove from saved, Bring back now) sent from a page made before the
item changed on another device keeps what changed: a walk-through's laptop erased a
completion and its 5/5 made on the phone since."""

from __future__ import annotations

import pytest

from recommender import services
from recommender.models import Progress
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db


def forget(client, resource, shown: str | None):
    form = {"next": "/history/"}
    if shown is not None:
        form["shown"] = shown
    return client.post(f"/progress/{resource.pk}/forget/", form, follow=True)


def test_a_stop_reading_from_an_old_page_keeps_a_completion_made_elsewhere(alice, alice_web):
    resource = ResourceFactory(title="Role Based Access Control Good Practices")
    services.progress_set(user=alice, resource=resource, state="in_progress")
    # The laptop's page shows it being read; the phone marks it done and rates it.
    services.progress_set(user=alice, resource=resource, state="completed", rating=5)
    page = forget(alice_web, resource, shown="in_progress")
    progress = Progress.objects.get(user=alice, resource=resource)
    assert (progress.state, progress.rating) == ("completed", 5)
    assert "so it stays marked done. (It was marked done elsewhere since.)" in (
        page.content.decode()
    )


def test_bring_back_now_from_an_old_saved_page_keeps_a_completion(alice, alice_web):
    resource = ResourceFactory(title="Network Policies")
    services.progress_set(user=alice, resource=resource, state="planned", later=True)
    services.progress_set(user=alice, resource=resource, state="completed", rating=4)
    forget(alice_web, resource, shown="planned")
    assert Progress.objects.get(user=alice, resource=resource).rating == 4


def test_a_clear_of_what_the_page_showed_still_clears(alice, alice_web):
    resource = ResourceFactory(title="Being read")
    services.progress_set(user=alice, resource=resource, state="in_progress")
    page = forget(alice_web, resource, shown="in_progress")
    assert not Progress.objects.filter(user=alice, resource=resource).exists()
    assert "Stopped reading “Being read”" in page.content.decode()


def test_a_remove_from_saved_after_a_start_elsewhere_keeps_the_reading(alice, alice_web):
    resource = ResourceFactory(title="Saved, then started")
    services.progress_set(user=alice, resource=resource, state="planned")
    services.progress_set(user=alice, resource=resource, state="in_progress")
    page = forget(alice_web, resource, shown="planned")
    assert Progress.objects.get(user=alice, resource=resource).state == "in_progress"
    assert "You started reading “Saved, then started” elsewhere since" in page.content.decode()


def test_the_pages_clear_buttons_say_what_they_showed(alice, alice_web):
    resource = ResourceFactory(title="Being read")
    services.progress_set(user=alice, resource=resource, state="in_progress")
    page = alice_web.get(f"/resources/{resource.pk}/").content.decode()
    assert '<input type="hidden" name="shown" value="in_progress">' in page


def test_a_forged_shown_state_is_a_400_and_clears_nothing(alice, alice_web):
    resource = ResourceFactory()
    services.progress_set(user=alice, resource=resource, state="in_progress")
    response = alice_web.post(f"/progress/{resource.pk}/forget/", {"shown": "finished"})
    assert response.status_code == 400
    assert Progress.objects.filter(user=alice, resource=resource).exists()
