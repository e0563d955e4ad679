"""The natural key of feed entries, (feed, entry key), is enforced by the database."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from catalog.models import Feed, Resource

BEFORE = [("catalog", "0004_pendingresource")]
AFTER = [("catalog", "0005_resource_unique_feed_entry_key")]


def entry(feed: Feed, key: str, n: int, model=Resource):
    return model.objects.create(
        title=f"Post {n}",
        slug=f"post-{n}",
        url=f"https://blog.example.org/{n}/",
        feed=feed,
        entry_key=key,
        origin="feed",
    )


@pytest.mark.django_db
def test_a_second_resource_with_the_same_feed_and_entry_key_is_refused():
    feed = Feed.objects.create(url="https://blog.example.org/feed.xml")
    entry(feed, "guid-1", 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        entry(feed, "guid-1", 2)


@pytest.mark.django_db
def test_resources_without_an_entry_key_are_not_constrained():
    feed = Feed.objects.create(url="https://blog.example.org/feed.xml")
    entry(feed, "", 1)
    entry(feed, "", 2)
    Resource.objects.create(title="Curated", slug="curated")
    Resource.objects.create(title="Curated too", slug="curated-too")
    assert Resource.objects.count() == 4


@pytest.fixture
def latest_schema_after():
    """Leave the database migrated to the newest migrations, whatever the test went back to:
    later transactional tests share it."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("latest_schema_after")
def test_the_migration_keeps_every_row_and_clears_duplicate_keys_but_the_oldest():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    OldFeed = old_apps.get_model("catalog", "Feed")
    OldResource = old_apps.get_model("catalog", "Resource")
    feed = OldFeed.objects.create(url="https://blog.example.org/feed.xml")
    first = entry(feed, "guid-1", 1, model=OldResource)
    second = entry(feed, "guid-1", 2, model=OldResource)
    other = entry(feed, "guid-2", 3, model=OldResource)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    try:
        new_apps = executor.loader.project_state(AFTER).apps
        NewResource = new_apps.get_model("catalog", "Resource")
        keys = dict(NewResource.objects.values_list("pk", "entry_key"))
        assert keys == {first.pk: "guid-1", second.pk: "", other.pk: "guid-2"}
    finally:
        # Back to the latest schema, or every later test would run on this old one.
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
