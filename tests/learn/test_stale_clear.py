"""A Clear (Stop reading, Remove from saved, Bring back now) sent from a page made before the
item changed on another device keeps what changed: a walk-through's laptop erased a
completion and its 5/5 made on the phone since. Skip, Save for later and Not now from such a
page keep a reading begun since."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from learn.selectors import spoken_day
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


@pytest.mark.parametrize("shown", ["planned", None])
def test_a_second_tabs_clear_of_what_was_cleared_already_says_so(alice, alice_web, shown):
    # A walk-through's second tab on Saved pressed "Remove from saved" after the first had:
    # the page came back with no word (with or without the state its page showed).
    resource = ResourceFactory(title="Saved twice over")
    services.progress_set(user=alice, resource=resource, state="planned")
    forget(alice_web, resource, shown="planned")
    page = forget(alice_web, resource, shown=shown).content.decode()
    assert "Nothing to do: “Saved twice over” was already cleared after this page was loaded" in (
        page
    )
    assert not Progress.objects.filter(user=alice, resource=resource).exists()


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


# --- Skip, Save for later and Not now from an old page --------------------------------------


def click(client, resource, state: str, shown: str | None, **extra):
    form = {"state": state, "next": "/", **extra}
    if shown is not None:
        form["shown"] = shown
    return client.post(f"/progress/{resource.pk}/", form, follow=True)


@pytest.mark.parametrize(
    ("state", "shown", "extra"),
    [
        ("skipped", "planned", {}),  # Skip on the old Saved page
        ("skipped", "none", {}),  # Skip on the old Up next
        ("planned", "none", {"later": "1", "later_days": "7"}),  # Not now on the old Up next
        ("planned", "none", {}),  # Save for later on the old Browse page
    ],
)
def test_a_click_from_an_old_page_keeps_a_reading_begun_elsewhere(
    alice, alice_web, state, shown, extra
):
    resource = ResourceFactory(title="Network Policies")
    # The laptop's page was made; then the phone started reading it (an API client rated it).
    services.progress_set(user=alice, resource=resource, state="in_progress", rating=4)
    page = click(alice_web, resource, state, shown, **extra)
    progress = Progress.objects.get(user=alice, resource=resource)
    assert (progress.state, progress.rating, progress.later_until) == ("in_progress", 4, None)
    assert "You started reading “Network Policies” after this page was loaded" in (
        page.content.decode()
    )


def test_not_now_from_an_old_page_keeps_a_skip_made_elsewhere(alice, alice_web):
    # A walk-through: the phone skipped it; the laptop's old Up next put it off to Monday,
    # "It waits in Saved", and the skip was gone without a word.
    resource = ResourceFactory(title="Docker + Consul + Vault")
    services.progress_set(user=alice, resource=resource, state="skipped")
    page = click(alice_web, resource, "planned", "none", later="1", later_days="1")
    progress = Progress.objects.get(user=alice, resource=resource)
    assert (progress.state, progress.later_until) == ("skipped", None)
    assert "You skipped “Docker + Consul + Vault” after this page was loaded" in (
        page.content.decode()
    )


def test_skip_from_an_old_page_keeps_a_not_now_made_elsewhere(alice, alice_web):
    resource = ResourceFactory(title="Encrypting Confidential Data at Rest")
    services.progress_set(user=alice, resource=resource, state="planned", later=True, later_days=30)
    page = click(alice_web, resource, "skipped", "none")
    progress = Progress.objects.get(user=alice, resource=resource)
    assert progress.state == "planned" and progress.later_until is not None
    back = timezone.localtime(progress.later_until)
    assert (
        f"You put “Encrypting Confidential Data at Rest” off until {spoken_day(back)} "
        "after this page was loaded"
    ) in page.content.decode()


def test_skip_from_an_old_page_keeps_a_completion_and_its_rating(alice, alice_web):
    resource = ResourceFactory(title="Secrets")
    services.progress_set(user=alice, resource=resource, state="completed", rating=5)
    page = click(alice_web, resource, "skipped", "none")
    progress = Progress.objects.get(user=alice, resource=resource)
    assert (progress.state, progress.rating) == ("completed", 5)
    assert "You marked “Secrets” done after this page was loaded" in page.content.decode()


def test_a_click_asking_for_what_changed_elsewhere_is_done(alice, alice_web):
    # Skipped on the phone, skipped again from the laptop's old page: nothing to refuse.
    resource = ResourceFactory(title="Katacoda")
    services.progress_set(user=alice, resource=resource, state="skipped")
    page = click(alice_web, resource, "skipped", "none")
    assert Progress.objects.get(user=alice, resource=resource).state == "skipped"
    assert "after this page was loaded" not in page.content.decode()


def test_a_click_after_a_clear_elsewhere_is_done(alice, alice_web):
    # The page showed it skipped; the phone cleared it; Save for later here loses nothing.
    resource = ResourceFactory()
    click(alice_web, resource, "planned", "skipped")
    assert Progress.objects.get(user=alice, resource=resource).state == "planned"


def test_skip_on_a_page_that_showed_the_reading_still_skips(alice, alice_web):
    resource = ResourceFactory()
    services.progress_set(user=alice, resource=resource, state="in_progress")
    click(alice_web, resource, "skipped", "in_progress")
    assert Progress.objects.get(user=alice, resource=resource).state == "skipped"


def test_a_skip_from_a_page_made_before_the_check_skips_as_before(alice, alice_web):
    resource = ResourceFactory()
    services.progress_set(user=alice, resource=resource, state="in_progress")
    click(alice_web, resource, "skipped", None)
    assert Progress.objects.get(user=alice, resource=resource).state == "skipped"


def test_the_pages_skip_and_not_now_buttons_say_what_they_showed(alice, alice_web, seed):
    up_next = alice_web.get("/").content.decode()
    skip = re.search(r'data-action="skip">(.*?)</form>', up_next, re.S)
    later = re.search(r'data-action="later">(.*?)</form>', up_next, re.S)
    assert skip and '<input type="hidden" name="shown" value="none">' in skip.group(1)
    assert later and '<input type="hidden" name="shown" value="none">' in later.group(1)


def test_a_forged_shown_state_on_a_click_is_a_400_and_changes_nothing(alice, alice_web):
    resource = ResourceFactory()
    services.progress_set(user=alice, resource=resource, state="in_progress")
    response = alice_web.post(
        f"/progress/{resource.pk}/", {"state": "skipped", "shown": "finished"}
    )
    assert response.status_code == 400
    assert Progress.objects.get(user=alice, resource=resource).state == "in_progress"


def test_a_rating_from_an_old_page_does_not_mark_done_an_item_cleared_since(alice, alice_web):
    # A walk-through's second tab still showed the item done and rated it 3 after the first
    # tab's "Clear progress": it was marked done again, without a word.
    resource = ResourceFactory(title="Cleared, then rated")
    services.progress_set(user=alice, resource=resource, state="completed")
    page = alice_web.get(f"/resources/{resource.pk}/").content.decode()
    assert '<input type="hidden" name="shown" value="completed">' in page
    services.progress_forget(user=alice, resource_id=resource.pk)
    response = alice_web.post(
        f"/progress/{resource.pk}/",
        {"state": "completed", "shown": "completed", "rating": "3", "next": "/history/"},
        follow=True,
    )
    assert not Progress.objects.filter(user=alice, resource=resource).exists()
    assert "was cleared after this page was loaded" in response.content.decode()
    assert "so that rating was not saved" in response.content.decode()


def test_a_rating_from_a_page_showing_the_item_done_is_saved(alice, alice_web):
    resource = ResourceFactory(title="Done, then rated")
    services.progress_set(user=alice, resource=resource, state="completed")
    alice_web.post(
        f"/progress/{resource.pk}/", {"state": "completed", "shown": "completed", "rating": "4"}
    )
    progress = Progress.objects.get(user=alice, resource=resource)
    assert (progress.state, progress.rating) == ("completed", 4)


def test_done_without_a_shown_state_still_marks_a_cleared_item_done(alice, alice_web):
    # Done carries no check: a later explicit Done wins, as before.
    resource = ResourceFactory()
    alice_web.post(f"/progress/{resource.pk}/", {"state": "completed"})
    assert Progress.objects.get(user=alice, resource=resource).state == "completed"
