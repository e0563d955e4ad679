"""Public pages of the resource list are cached per catalog read version (catalog.pages)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from catalog import pages, selectors, services
from catalog.models import Status
from catalog.serializers import ResourceSerializer
from tests.factories import (
    AuthorFactory,
    LearningPathFactory,
    PathStepFactory,
    ResourceFactory,
    SecurityAreaFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

LIST = "/api/resources/"


def titles(client, **params) -> list[str]:
    response = client.get(LIST, params)
    assert response.status_code == 200
    return [row["title"] for row in response.json()["results"]]


def queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(LIST, params).status_code == 200
    return len(context.captured_queries)


def test_a_public_page_read_twice_is_served_without_queries(api):
    ResourceFactory.create_batch(3)
    assert queries(api, page_size=2) > 0
    assert queries(api, page_size=2) == 0


def test_each_query_is_its_own_page(api):
    ResourceFactory(title="Alpha", kind="book")
    ResourceFactory(title="Beta", kind="tool")
    assert titles(api) == ["Alpha", "Beta"]
    assert titles(api, kind="tool") == ["Beta"]
    assert titles(api, search="alpha") == ["Alpha"]
    assert titles(api, ordering="-title") == ["Beta", "Alpha"]


def test_the_same_query_in_another_parameter_order_is_the_same_page():
    first = pages.page_key(address="http://x/api/resources/", params={"a": ["1"], "b": ["2"]})
    second = pages.page_key(address="http://x/api/resources/", params={"b": ["2"], "a": ["1"]})
    other = pages.page_key(address="http://x/api/resources/", params={"a": ["2"], "b": ["1"]})
    assert first == second != other


def test_an_edit_through_the_api_shows_on_the_next_read(api, curator_api):
    resource = ResourceFactory(title="Before")
    assert titles(api) == ["Before"]
    assert curator_api.patch(f"{LIST}{resource.pk}/", {"title": "After"}).status_code == 200
    assert titles(api) == ["After"]


def test_a_rejection_hides_the_resource_from_the_next_read(api, curator_api):
    resource = ResourceFactory(title="Soon gone")
    assert titles(api) == ["Soon gone"]
    curator_api.post(f"{LIST}{resource.pk}/reject/")
    assert titles(api) == []


def test_a_page_read_before_a_commit_is_not_served_after_it(
    api, django_capture_on_commit_callbacks
):
    resource = ResourceFactory(title="Before")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.resource_save(resource=resource, fields={"title": "After"}, by=None)
        # Another process reads between the write and the commit: it sees the old row
        # (simulated by caching the old title under the version the write moved to).
        key = pages.page_key(address="http://testserver/api/resources/", params={})
        pages.page_set(key, {"count": 1, "next": None, "previous": None, "results": []})
    for callback in callbacks:
        callback()
    assert titles(api) == ["After"]


def test_curators_pages_are_neither_cached_nor_shared(api, curator_api):
    ResourceFactory(title="Public")
    ResourceFactory(title="Pending", status=Status.PENDING)
    assert titles(curator_api) == ["Pending", "Public"]
    assert titles(api) == ["Public"]
    assert queries(curator_api) > 0
    assert titles(curator_api) == ["Pending", "Public"]


def test_nothing_is_cached_or_served_while_the_version_cannot_be_read(api, monkeypatch):
    ResourceFactory(title="Fresh")
    monkeypatch.setattr(pages, "version", lambda: None)
    assert titles(api) == ["Fresh"]
    assert queries(api) > 0


def test_the_cache_can_be_turned_off(api, settings):
    settings.CATALOG_PAGE_CACHE_SECONDS = 0
    ResourceFactory()
    assert queries(api) > 0
    assert queries(api) > 0


def test_the_list_serialisation_is_drf_s_own_output(db):
    path = LearningPathFactory(slug="k8s")
    resource = ResourceFactory(
        title="Full",
        url=None,
        published_at=dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC),
        estimated_minutes=None,
        tags=[TagFactory(slug="b", name="B"), TagFactory(slug="a", name="A")],
        authors=[AuthorFactory(homepage="https://example.org/")],
        security_areas=[SecurityAreaFactory(description="Who may do what.")],
    )
    PathStepFactory(path=path, resource=resource, position=3)
    PathStepFactory(path=LearningPathFactory(slug="other"), resource=resource, position=1)
    ResourceFactory(title="Bare")
    generic = []
    for row in selectors.resource_list(user=None).order_by("title"):
        serializer = ResourceSerializer(row)
        generic.append(serializers.ModelSerializer.to_representation(serializer, row))
        assert list(serializer.data.items()) == list(generic[-1].items())
    # A list page reads relations flat (no prefetch): the same output again.
    flat = selectors.resource_list(user=None, relations=False).order_by("title")
    listed = ResourceSerializer(flat, many=True).data
    assert [list(row.items()) for row in listed] == [list(row.items()) for row in generic]
