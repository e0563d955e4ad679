"""Progress writes: what a learner's clicks do to the row, in whatever order they arrive."""

from __future__ import annotations

import pytest

from recommender import services
from recommender.models import Progress
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("later", ["in_progress", "planned", "skipped"])
def test_progress_set_never_undoes_a_completion(alice, later):
    resource = ResourceFactory()
    done, _ = services.progress_set(user=alice, resource=resource, state="completed", rating=4)
    kept, created = services.progress_set(user=alice, resource=resource, state=later, rating=None)
    assert created is False
    assert (kept.state, kept.rating, kept.completed_at) == ("completed", 4, done.completed_at)
    row = Progress.objects.get(user=alice, resource=resource)
    assert (row.state, row.rating, row.completed_at) == ("completed", 4, done.completed_at)


def test_progress_set_completing_again_changes_only_the_rating(alice):
    resource = ResourceFactory()
    first, _ = services.progress_set(user=alice, resource=resource, state="completed", rating=2)
    again, _ = services.progress_set(user=alice, resource=resource, state="completed", rating=5)
    assert (again.state, again.rating, again.completed_at) == ("completed", 5, first.completed_at)


def test_progress_set_starts_a_forgotten_completion_again(alice):
    resource = ResourceFactory()
    services.progress_set(user=alice, resource=resource, state="completed", rating=None)
    assert services.progress_forget(user=alice, resource_id=resource.pk)
    row, created = services.progress_set(
        user=alice, resource=resource, state="in_progress", rating=None
    )
    assert created is True
    assert (row.state, row.completed_at) == ("in_progress", None)


@pytest.mark.parametrize(
    ("first", "then"), [("in_progress", "skipped"), ("skipped", "in_progress")]
)
def test_progress_set_moves_freely_between_started_and_skipped(alice, first, then):
    resource = ResourceFactory()
    services.progress_set(user=alice, resource=resource, state=first, rating=None)
    row, _ = services.progress_set(user=alice, resource=resource, state=then, rating=None)
    assert row.state == then
