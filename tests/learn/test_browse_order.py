"""Browse's "Order": the catalog by stage, newest, shortest or easiest, not only A to Z."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from catalog.models import Difficulty, Resource, Stage
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    return {
        "admission": ResourceFactory(
            title="Admission controllers",
            stage=Stage.SECURITY,
            difficulty=Difficulty.ADVANCED,
            estimated_minutes=45,
            published_at=datetime(2024, 5, 1, tzinfo=UTC),
        ),
        "pods": ResourceFactory(
            title="What is a pod",
            stage=Stage.GETTING_STARTED,
            difficulty=Difficulty.BEGINNER,
            estimated_minutes=10,
            published_at=datetime(2019, 1, 1, tzinfo=UTC),
        ),
        "etcd": ResourceFactory(
            title="Backing up etcd",
            stage=Stage.PRODUCTION_READY,
            difficulty=Difficulty.INTERMEDIATE,
            estimated_minutes=None,
            published_at=None,
        ),
    }


def titles(client, **params) -> list[str]:
    response = client.get("/browse/", params)
    assert response.status_code == 200
    return [item["card"]["title"] for item in response.context["items"]]


def test_the_stages_sort_in_the_paths_order():
    # "Basics first" orders by the stored value: it holds only while they sort so.
    assert sorted(Stage.values) == [
        Stage.GETTING_STARTED,
        Stage.PRODUCTION_READY,
        Stage.SECURITY,
    ]


def test_browse_is_by_title_unless_an_order_is_chosen(client, catalog):
    assert titles(client) == ["Admission controllers", "Backing up etcd", "What is a pod"]
    assert titles(client, sort="stage") == [
        "What is a pod",
        "Backing up etcd",
        "Admission controllers",
    ]
    newest = client.get("/browse/", {"sort": "newest"}).content.decode()
    assert '<time datetime="2024-05-01T00:00:00Z">2024-05-01</time>' in newest  # dates shown
    assert titles(client, sort="newest") == [
        "Admission controllers",
        "What is a pod",
        "Backing up etcd",  # no date: last
    ]
    assert titles(client, sort="shortest") == [
        "What is a pod",
        "Admission controllers",
        "Backing up etcd",  # no length: last
    ]
    assert titles(client, sort="easiest") == [
        "What is a pod",
        "Backing up etcd",
        "Admission controllers",
    ]


def test_an_order_applies_to_a_search_and_survives_paging(client, catalog):
    assert titles(client, search="pod etcd admission") == []  # every word must match
    for n in range(25):
        ResourceFactory(title=f"Pods in depth {n:02}", stage=Stage.SECURITY)
    response = client.get("/browse/", {"search": "pods", "sort": "stage"})
    assert response.context["items"][0]["card"]["title"] == "What is a pod"
    assert "sort=stage" in response.context["query_string"]
    body = response.content.decode()
    assert '<option value="stage" selected>' in body
    assert "in use)" not in body  # an order is not a filter: the filters stay folded


def test_an_unknown_order_is_a_clear_400(client, catalog):
    response = client.get("/browse/", {"sort": "popular<script>"})
    assert response.status_code == 400
    body = response.content.decode()
    assert (
        "There is no order “popular&lt;script&gt;”; choose one of “Title, A to Z”, “Basics first”"
        in body
    )
    assert "<script>" not in body


def test_an_unknown_order_while_searching_names_best_match_as_the_default(client, catalog):
    body = client.get("/browse/", {"sort": "title", "search": "rbac"}).content.decode()
    assert "There is no order “title”; choose one of “Best match”, “Basics first”" in body


def test_recently_added_lists_what_joined_the_catalog_last_first(client, catalog):
    # Joined: "pods" a year ago, "etcd" approved by a curator yesterday (created before the
    # others, as a pending entry waits), "admission" a week ago with no review (a trusted feed).
    now = datetime.now(UTC)
    Resource.objects.filter(pk=catalog["pods"].pk).update(created_at=now - timedelta(days=365))
    Resource.objects.filter(pk=catalog["etcd"].pk).update(
        created_at=now - timedelta(days=400), reviewed_at=now - timedelta(days=1)
    )
    Resource.objects.filter(pk=catalog["admission"].pk).update(created_at=now - timedelta(days=7))
    assert titles(client, sort="added") == [
        "Backing up etcd",
        "Admission controllers",
        "What is a pod",
    ]
    body = client.get("/browse/", {"sort": "added"}).content.decode()
    assert '<p class="history-when">Added <time datetime="' in body
    assert ">yesterday</time></p>" in body  # was "5 Dec 2026"
    assert "Added <time" not in client.get("/browse/").content.decode()


def test_basics_first_keeps_the_paths_order_within_a_stage(client, seed):
    steps = list(
        seed.steps.filter(resource__stage=Stage.GETTING_STARTED)
        .order_by("position")
        .values_list("resource__title", flat=True)
    )
    offpath = ResourceFactory(
        title="A beginner's aside", stage=Stage.GETTING_STARTED, difficulty=Difficulty.BEGINNER
    )
    listed = titles(client, sort="stage", stage="getting-started", page_size=100)
    assert listed[: len(steps)] == steps  # step 1 first, as the path has it
    assert offpath.title in listed[len(steps) :]  # off the path: after its steps
