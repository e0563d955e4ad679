"""Every list endpoint answers in a constant number of queries, whatever the number of rows."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Feed
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


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def add_rows(n: int, alice, path) -> None:
    tag, area, author = TagFactory(), SecurityAreaFactory(), AuthorFactory()
    for _ in range(n):
        resource = ResourceFactory(tags=[tag], security_areas=[area], authors=[author])
        PathStepFactory(path=path, resource=resource)
        Progress.objects.create(user=alice, resource=resource, state="completed")
        Feed.objects.create(url=f"https://example.org/{resource.pk}/feed.xml", author=author)


@pytest.mark.parametrize(
    "url",
    [
        "/api/feeds/",
        "/api/paths/",
        "/api/me/progress/",
        "/api/tags/",
        "/api/authors/",
        "/api/resources/",
        "/api/resources/?page_size=100",
        "/api/resources/?search=kubernetes",
        "/api/resources/?tag=rbac&ordering=-published_at",
    ],
)
def test_list_endpoints_do_not_query_per_row(url, alice, carol, settings):
    # The resource list's cached pages take no query at all: count the work behind them.
    settings.CATALOG_PAGE_CACHE_SECONDS = 0
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(carol if url == "/api/feeds/" else alice)
    path = LearningPathFactory()
    add_rows(2, alice, path)
    few = queries(client, url)
    add_rows(12, alice, path)
    assert queries(client, url) == few


# Count, page, and one query for all the page's relations (tags, authors, areas, path
# places); a signed-in user adds the curator check (curators' pages are not shared).
RESOURCE_LIST_QUERIES = {"anonymous": 3, "learner": 4, "curator": 4}


@pytest.mark.parametrize("who", list(RESOURCE_LIST_QUERIES))
def test_the_resource_list_takes_a_fixed_number_of_queries(who, alice, carol, settings):
    from rest_framework.test import APIClient

    settings.CATALOG_PAGE_CACHE_SECONDS = 0
    client = APIClient()
    if who != "anonymous":
        client.force_authenticate({"learner": alice, "curator": carol}[who])
    add_rows(25, alice, LearningPathFactory())
    assert queries(client, "/api/resources/?page_size=20") == RESOURCE_LIST_QUERIES[who]


@pytest.mark.parametrize("url", ["/api/resources/?search=kubernetes", "/api/resources/?tag=a"])
def test_a_signed_in_learner_is_checked_for_curator_once_per_request(url, alice, settings):
    """The list's queryset, its page cache and its filters all need to know; the database is
    asked once (a learner's search asked it three times)."""
    from rest_framework.test import APIClient

    settings.CATALOG_PAGE_CACHE_SECONDS = 300
    anonymous, learner = APIClient(), APIClient()
    learner.force_authenticate(alice)
    add_rows(3, alice, LearningPathFactory())
    learner_queries = queries(learner, url)
    cache.clear()  # the anonymous request must not find the learner's page cached
    assert learner_queries == queries(anonymous, url) + 1
