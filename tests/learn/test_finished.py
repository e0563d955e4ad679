"""A learner with nothing left to recommend: Up next says so and offers what is left to do
here; the Path page says the whole path is behind them."""

from __future__ import annotations

import pytest

from catalog.models import Resource, Status
from recommender import services
from recommender.models import Note

pytestmark = pytest.mark.django_db


def finish_everything(user, *, skip_every: int = 0) -> list[Resource]:
    resources = list(Resource.objects.filter(status=Status.APPROVED).order_by("pk"))
    for index, resource in enumerate(resources):
        skipped = skip_every and index % skip_every == 0
        services.progress_set(
            user=user,
            resource=resource,
            state="skipped" if skipped else "completed",
            rating=None if skipped or index % 2 else 4,
        )
    return resources


def test_up_next_with_nothing_left_offers_what_there_is_still_to_do(alice, alice_web, seed):
    resources = finish_everything(alice, skip_every=5)
    Note.objects.create(user=alice, resource=resources[1], text="kubectl auth can-i --list")
    response = alice_web.get("/")
    body = response.content.decode()
    assert response.context["items"] == []
    assert "You have been through everything in the catalog." in body
    completed = [r for i, r in enumerate(resources) if i % 5]
    unrated = sum(1 for i, _ in enumerate(resources) if i % 5 and i % 2)
    assert len(completed) > unrated > 0
    assert f"{unrated} of your completions have no rating yet" in body
    assert '<a href="/history/?show=unrated">Rate what you finished</a>' in body
    listed = alice_web.get("/history/?show=unrated").context["page"].paginator.count
    assert listed == unrated
    skipped = len(resources) - len(completed)
    assert (
        f'<a href="/history/?show=skipped">Look again at what you skipped</a> ({skipped})' in body
    )
    assert '<a href="/notes/">Read over your notes</a> (1)' in body
    assert '<a href="/browse/?sort=added">See what joined the catalog last</a>' in body
    # No tip to choose a focus, no time budgets to pack a queue that is empty.
    assert "choose a security focus" not in body and 'aria-label="Time budget"' not in body


def test_a_learner_who_rated_everything_and_wrote_no_note_gets_only_what_applies(
    alice, alice_web, seed
):
    for resource in Resource.objects.filter(status=Status.APPROVED):
        services.progress_set(user=alice, resource=resource, state="completed", rating=5)
    body = alice_web.get("/").content.decode()
    assert "You have been through everything in the catalog." in body
    assert "Rate what you finished" not in body and "Read over your notes" not in body
    assert "what you skipped" not in body


def test_a_queue_that_is_only_short_is_not_called_finished(alice, alice_web, seed):
    body = alice_web.get("/").content.decode()
    assert "You have been through everything" not in body
    assert 'aria-label="Time budget"' in body


def test_the_path_page_says_when_the_whole_path_is_behind_the_learner(alice, alice_web, seed):
    steps = [step.resource for step in seed.steps.select_related("resource")]
    for resource in steps[:-1]:
        services.progress_set(user=alice, resource=resource, state="completed", rating=None)
    assert "That is the whole path" not in alice_web.get("/path/").content.decode()
    services.progress_set(user=alice, resource=steps[-1], state="skipped", rating=None)
    assert "That is the whole path: well done." in alice_web.get("/path/").content.decode()


def test_the_click_that_finishes_a_stage_or_the_path_says_so(alice, alice_web, seed):
    # A walk-through's learner finished a stage, then the whole path, and nothing said so but
    # the Path page's percentages.
    steps = [step.resource for step in seed.steps.select_related("resource").order_by("position")]
    basics = [resource for resource in steps if resource.stage == steps[0].stage]
    for resource in basics[:-2]:
        services.progress_set(user=alice, resource=resource, state="completed", rating=None)

    def click(resource: Resource, state: str = "completed") -> str:
        page = alice_web.post(f"/progress/{resource.pk}/", {"state": state}, follow=True)
        return page.content.decode()

    label = "“Getting started” is behind you."
    assert label not in click(basics[-2])
    assert label in click(basics[-1], "skipped")
    for resource in steps[len(basics) : -1]:
        services.progress_set(user=alice, resource=resource, state="completed", rating=None)
    assert "That is the whole path: well done." in click(steps[-1])
