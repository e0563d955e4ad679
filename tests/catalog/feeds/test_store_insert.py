"""New feed resources are inserted in one statement that stores exactly what the ORM would."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils.safestring import SafeString as Markup
from django.utils.translation import gettext_lazy

from catalog.feeds import store
from catalog.feeds.entries import ParsedEntry
from catalog.models import Feed, Resource, Status

pytestmark = pytest.mark.django_db

# Fields that differ between two inserts of the same entries by construction.
_PER_ROW = {"id", "slug", "url", "entry_key", "created_at", "updated_at"}


def _entries(prefix: str) -> list[ParsedEntry]:
    return [
        ParsedEntry(
            key=f"{prefix}-{n}",
            url=f"https://blog.example.org/{prefix}/{n}/",
            title=f"Pod security, part {n} — “quotes”, {{braces}} and \\ backslashes",
            summary='A summary with "quotes", commas, {braces} and NULL as a word.',
            content_html="<p>Body with <code>kubectl get pods -A</code></p>",
            published_at=datetime(2026, 11, n + 1, 9, 30, tzinfo=UTC) if n else None,
            authors=(),
            tags=(),
            word_count=5,
            estimated_minutes=1 + n,
            fingerprint=f"fp-{n}" if n else "",
        )
        for n in range(3)
    ]


def _unsaved(feed: Feed, prefix: str, status: str) -> list[Resource]:
    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    resources = []
    for entry in _entries(prefix):
        resource = store._entry_resource(feed, entry, status, now)
        resource.slug = store._entry_slug(entry)
        resources.append(resource)
    return resources


def _stored(resources: list[Resource]) -> list[dict]:
    rows = Resource.objects.filter(pk__in=[r.pk for r in resources]).order_by("pk").values()
    return [{k: v for k, v in row.items() if k not in _PER_ROW} for row in rows]


@pytest.mark.parametrize("status", [Status.PENDING, Status.APPROVED])
def test_new_feed_resources_are_stored_field_for_field_as_bulk_create_stores_them(status):
    feed = Feed.objects.create(url="https://blog.example.org/feed.xml")
    by_orm = Resource.objects.bulk_create(_unsaved(feed, "orm", status))
    inserted = store._resources_insert(_unsaved(feed, "fast", status))
    assert [r.pk for r in inserted] == sorted(r.pk for r in inserted)
    assert all(r.pk and not r._state.adding for r in inserted)
    assert _stored(inserted) == _stored(by_orm)
    for row in Resource.objects.filter(pk__in=[r.pk for r in inserted]).values():
        assert row["created_at"] is not None and row["updated_at"] is not None
    # Each object is the row it was stored as (the ids map in order).
    for resource in inserted:
        assert Resource.objects.get(pk=resource.pk).entry_key == resource.entry_key


def test_values_that_need_preparing_are_prepared_as_bulk_create_prepares_them():
    # Values of the field's own type skip get_db_prep_save; anything else still goes through it.
    feed = Feed.objects.create(url="https://blog.example.org/feed.xml")

    def odd(prefix: str) -> list[Resource]:
        resources = _unsaved(feed, prefix, Status.PENDING)
        resources[0].title = gettext_lazy("A lazily translated title")
        resources[1].estimated_minutes = "7"  # type: ignore[assignment]
        resources[2].summary = Markup("A str subclass")
        return resources

    by_orm = Resource.objects.bulk_create(odd("orm"))
    inserted = store._resources_insert(odd("fast"))

    assert _stored(inserted) == _stored(by_orm)
    stored = list(Resource.objects.filter(pk__in=[r.pk for r in inserted]).order_by("pk"))
    assert stored[0].title == "A lazily translated title"
    assert stored[1].estimated_minutes == 7


def test_an_insert_that_conflicts_raises_djangos_integrity_error():
    # store.entries_store falls back to storing one by one on exactly this exception.
    feed = Feed.objects.create(url="https://blog.example.org/feed.xml")
    store._resources_insert(_unsaved(feed, "first", Status.PENDING))
    with pytest.raises(IntegrityError), transaction.atomic():
        store._resources_insert(_unsaved(feed, "first", Status.PENDING))
    assert Resource.objects.count() == 3


def test_the_insert_is_one_statement_seen_by_query_counts():
    feed = Feed.objects.create(url="https://blog.example.org/feed.xml")
    with CaptureQueriesContext(connection) as queries:
        store._resources_insert(_unsaved(feed, "counted", Status.PENDING))
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT INTO")]
    assert len(inserts) == 1


def test_storing_a_document_inserts_its_new_resources_with_that_one_statement():
    from catalog.feeds.parse import parse_feed
    from catalog.feeds.store import PollReport
    from tests.feedbuilder import posts, rss

    feed = Feed.objects.create(url="https://blog.example.org/feed.xml")
    parsed = parse_feed(rss(posts(4)), url=feed.url)
    with CaptureQueriesContext(connection) as queries:
        store.entries_store(feed, parsed, PollReport(feed.pk))
    inserts = [q["sql"] for q in queries.captured_queries if "INSERT INTO" in q["sql"]]
    resource_inserts = [sql for sql in inserts if '"catalog_resource" (' in sql]
    assert len(resource_inserts) == 1
    if connection.vendor == "postgresql":
        assert "FROM UNNEST(%b::" in resource_inserts[0]
    assert Resource.objects.count() == 4
