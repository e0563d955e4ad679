"""Every learner page answers in a bounded number of queries, whatever the catalog's size."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from learn import services
from recommender import services as recommender_services
from recommender.models import Progress
from tests.factories import (
    AuthorFactory,
    LearningPathFactory,
    PathStepFactory,
    ResourceFactory,
    SecurityAreaFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

# The most queries each page may take: what it takes today (session, user, model freshness,
# queue, cards, the learner's states) plus two of slack for the recommender's own evolution.
MAX_QUERIES = {
    # With the queued items' states (a saved one offers "Remove from saved"), the learner's
    # notes on them and their last click (welcome back; one more, the catalog's newcomers, when
    # it is a week old).
    "/": 13 + 2,
    # With "your next step": model freshness, the learner's progress and focus, and the saved
    # budget the next step may need more than.
    "/path/": 13 + 2,
    "/browse/": 12 + 2,
    "/browse/?stage=getting-started&search=kubernetes": 12 + 2,
    "/focus/": 8 + 2,
    "/account/": 3 + 2,
    "/history/": 8 + 2,  # with the count of notes it links to, and the notes on its cards
    "/history/progress.csv": 4 + 2,  # with the notes
    "/notes/": 5 + 2,
    # With the learner's note and declared level (similar resources above it come last).
    "resource": 15 + 2,
    "feed": 6 + 2,
}


def add_catalog(n: int, *, alice, path) -> None:
    tag, author = TagFactory(), AuthorFactory()
    areas = [SecurityAreaFactory() for _ in range(2)]
    start = path.steps.count()
    for i in range(n):
        resource = ResourceFactory(
            tags=[tag], authors=[author], security_areas=areas, summary=f"kubernetes topic {i}"
        )
        PathStepFactory(path=path, resource=resource, position=start + i + 1)
        if i % 2:
            Progress.objects.create(user=alice, resource=resource, state="completed")
        if i % 3 == 0:
            recommender_services.note_set(user=alice, resource=resource, text=f"note {i}")
    recommender_services.catalog_version_bump()
    recommender_services.model_refit()


def count(client, url: str) -> int:
    client.get(url)  # warm: a new model is loaded once per process, not per request
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(context.captured_queries)


def test_learner_pages_do_not_query_per_row(client, alice, django_assert_max_num_queries):
    client.force_login(alice)
    path = LearningPathFactory()
    feed, _ = services.queue_feed_create(user=alice)
    add_catalog(3, alice=alice, path=path)
    urls = {
        **{url: url for url in MAX_QUERIES if url.startswith("/")},
        "resource": f"/resources/{path.steps.first().resource_id}/",
        "feed": f"/feed/{feed.key}/",
    }
    small = {name: count(client, url) for name, url in urls.items()}
    add_catalog(40, alice=alice, path=path)
    large = {name: count(client, url) for name, url in urls.items()}
    for name, url in urls.items():
        with django_assert_max_num_queries(MAX_QUERIES[name]):
            client.get(url)
    assert large == small
