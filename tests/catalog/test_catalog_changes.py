"""Every catalog writer goes through catalog.services, and every one moves the catalog version.

The recommender's catalog version is what triggers a refit; a writer that does not move it
leaves learners with recommendations built from a catalog that no longer exists.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from catalog import services
from catalog.models import Author, LearningPath, Resource, SecurityArea, Status, Tag
from catalog.seeding import seed_catalog_load
from recommender import store
from recommender.runtime import runtime
from recommender.suggestions import suggestions_apply
from tests.factories import (
    AuthorFactory,
    LearningPathFactory,
    ResourceFactory,
    SecurityAreaFactory,
    TagFactory,
    admin_resource_form,
)
from tests.feedbuilder import posts, rss

pytestmark = pytest.mark.django_db


@pytest.fixture
def moves(django_capture_on_commit_callbacks):
    """How far a block of code moved the catalog version (callbacks run as on commit)."""

    def measure(action) -> int:
        before = store.catalog_version()
        with django_capture_on_commit_callbacks(execute=True):
            action()
        return store.catalog_version() - before

    return measure


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", password="x-admin-pass-123")
    client.force_login(user)
    return client


# --- The API -----------------------------------------------------------------------------------


def test_api_resource_create_edit_approve_reject_and_delete_move_the_version(curator_api, moves):
    created = {}

    def create():
        response = curator_api.post(
            "/api/resources/", {"title": "New", "url": "https://example.org/new"}, format="json"
        )
        assert response.status_code == 201, response.content
        created["pk"] = response.json()["id"]

    assert moves(create) >= 1
    pk = created["pk"]
    assert moves(lambda: curator_api.patch(f"/api/resources/{pk}/", {"title": "T"})) >= 1
    assert moves(lambda: curator_api.post(f"/api/resources/{pk}/approve/")) >= 1
    assert moves(lambda: curator_api.post(f"/api/resources/{pk}/reject/")) >= 1
    assert moves(lambda: curator_api.delete(f"/api/resources/{pk}/")) >= 1
    assert not Resource.objects.filter(pk=pk).exists()


@pytest.mark.parametrize("kind", ["tags", "authors", "security-areas"])
def test_api_taxonomy_create_rename_and_delete_move_the_version(curator_api, moves, kind):
    assert moves(lambda: curator_api.post(f"/api/{kind}/", {"slug": "x", "name": "X"})) >= 1
    assert moves(lambda: curator_api.patch(f"/api/{kind}/x/", {"name": "Renamed"})) >= 1
    assert moves(lambda: curator_api.delete(f"/api/{kind}/x/")) >= 1
    model = {"tags": Tag, "authors": Author, "security-areas": SecurityArea}[kind]
    assert not model.objects.filter(slug="x").exists()


# --- The admin ---------------------------------------------------------------------------------


def test_admin_resource_save_delete_and_bulk_actions_move_the_version(admin_client, moves):
    one, two, three = ResourceFactory.create_batch(3)
    form = admin_resource_form(title="Edited", slug=one.slug, url=one.url)
    url = f"/admin/catalog/resource/{one.pk}/change/"
    assert moves(lambda: admin_client.post(url, form)) >= 1
    assert Resource.objects.get(pk=one.pk).title == "Edited"
    delete = f"/admin/catalog/resource/{one.pk}/delete/"
    assert moves(lambda: admin_client.post(delete, {"post": "yes"})) >= 1
    bulk = {"action": "delete_selected", "_selected_action": [two.pk], "post": "yes"}
    assert moves(lambda: admin_client.post("/admin/catalog/resource/", bulk)) >= 1
    approve = {"action": "reject_selected", "_selected_action": [three.pk]}
    assert moves(lambda: admin_client.post("/admin/catalog/resource/", approve)) >= 1
    assert list(Resource.objects.values_list("pk", "status")) == [(three.pk, Status.REJECTED)]


@pytest.mark.parametrize(
    ("factory", "model", "fields"),
    [
        (TagFactory, "tag", {"name": "Renamed"}),
        (AuthorFactory, "author", {"name": "Renamed", "homepage": ""}),
        (SecurityAreaFactory, "securityarea", {"name": "Renamed", "description": ""}),
    ],
)
def test_admin_taxonomy_edit_and_delete_move_the_version(
    admin_client, moves, factory, model, fields
):
    row = factory()
    change = f"/admin/catalog/{model}/{row.pk}/change/"
    assert moves(lambda: admin_client.post(change, {"slug": row.slug, **fields})) >= 1
    row.refresh_from_db()
    assert row.name == "Renamed"
    delete = f"/admin/catalog/{model}/{row.pk}/delete/"
    assert moves(lambda: admin_client.post(delete, {"post": "yes"})) >= 1
    assert not type(row).objects.filter(pk=row.pk).exists()


def test_admin_path_edit_and_bulk_delete_move_the_version(admin_client, moves):
    path = LearningPathFactory()
    form = {
        "title": "Renamed path",
        "slug": path.slug,
        "description": "",
        "steps-TOTAL_FORMS": 0,
        "steps-INITIAL_FORMS": 0,
    }
    change = f"/admin/catalog/learningpath/{path.pk}/change/"
    assert moves(lambda: admin_client.post(change, form)) >= 1
    assert LearningPath.objects.get().title == "Renamed path"
    bulk = {"action": "delete_selected", "_selected_action": [path.pk], "post": "yes"}
    assert moves(lambda: admin_client.post("/admin/catalog/learningpath/", bulk)) >= 1
    assert not LearningPath.objects.exists()


def test_admin_path_step_reordering_moves_the_version(admin_client, moves):
    from catalog.models import PathStep

    path = LearningPathFactory()
    for position in (1, 2):
        PathStep.objects.create(path=path, resource=ResourceFactory(), position=position)
    second = path.steps.get(position=2)
    reorder = f"/admin/catalog/learningpath/{path.pk}/reorder/"
    assert moves(lambda: admin_client.post(reorder, {"step": second.pk, "move": "up"})) >= 1
    assert path.steps.get(position=1) == second


# --- The poller, the seeder, the recommender's suggestions ---------------------------------------


def test_polling_a_trusted_feed_moves_the_version_and_an_untrusted_one_does_not(
    httpserver, settings, moves
):
    from catalog.feeds.poll import feed_poll
    from catalog.models import Feed

    settings.FEEDS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    httpserver.expect_request("/a.xml").respond_with_data(rss(posts(2)))
    httpserver.expect_request("/b.xml").respond_with_data(rss(posts(2, prefix="other")))
    untrusted = Feed.objects.create(url=httpserver.url_for("/a.xml"))
    trusted = Feed.objects.create(url=httpserver.url_for("/b.xml"), trusted=True)
    assert moves(lambda: feed_poll(feed_id=untrusted.pk)) == 0
    assert moves(lambda: feed_poll(feed_id=trusted.pk)) >= 1


def test_loading_the_seed_moves_the_version_once_and_reloading_not_at_all(moves):
    assert moves(seed_catalog_load) == 1
    assert moves(seed_catalog_load) == 0


def test_applying_suggested_labels_moves_the_version(moves):
    seed_catalog_load()
    runtime.model()  # nothing to suggest from without a fitted model
    pending = ResourceFactory(
        title="RBAC roles and role bindings explained",
        summary="Least privilege with Kubernetes RBAC: roles, cluster roles, bindings.",
        status=Status.PENDING,
    )
    assert moves(lambda: suggestions_apply(resources=[pending])) >= 1
    assert pending.security_areas.exists() or pending.tags.exists()


# --- The door itself ---------------------------------------------------------------------------


def test_a_new_writer_that_skips_the_services_is_caught(catalog_door):
    """Simulate a module added to the project that writes a tag directly."""
    writer = Path(services.__file__).with_name("new_writer.py")
    code = compile("Tag.objects.create(slug='sneaky', name='Sneaky')", str(writer), "exec")
    exec(code, {"Tag": Tag})  # noqa: S102 - a fixed statement, compiled as project code
    [missing] = catalog_door.unnotified()
    assert missing.startswith("Tag ") and missing.endswith("at catalog/new_writer.py:1")
    catalog_door.events.clear()  # caught: let the test itself pass


def test_a_writer_through_the_services_satisfies_the_door(catalog_door):
    services.tag_save(tag=None, fields={"slug": "open", "name": "Open"}, by=None)
    assert catalog_door.unnotified() == []


# --- Feeds: edited through their own services, no catalog change announced -----------------------


def test_feed_edits_and_deletes_go_through_the_feed_services(curator_api, monkeypatch, moves):
    from catalog.feeds import services as feed_services
    from catalog.models import Feed

    calls = []
    real_save, real_delete = feed_services.feed_save, feed_services.feeds_delete
    monkeypatch.setattr(
        feed_services, "feed_save", lambda **kw: calls.append("save") or real_save(**kw)
    )
    monkeypatch.setattr(
        feed_services, "feeds_delete", lambda **kw: calls.append("delete") or real_delete(**kw)
    )
    feed = Feed.objects.create(url="https://blog.example.org/feed.xml")
    resource = ResourceFactory(feed=feed)
    response = curator_api.patch(f"/api/feeds/{feed.pk}/", {"trusted": True}, format="json")
    assert response.status_code == 200
    assert Feed.objects.get(pk=feed.pk).trusted
    assert moves(lambda: curator_api.delete(f"/api/feeds/{feed.pk}/")) == 0
    assert calls == ["save", "delete"]
    resource.refresh_from_db()
    assert resource.feed is None  # the resource stays


def test_the_review_queue_admin_saves_through_the_resource_service(admin_client, moves):
    pending = ResourceFactory(status=Status.PENDING, url="https://blog.example.org/p")
    ResourceFactory(url="https://example.org/taken")
    change = f"/admin/catalog/pendingresource/{pending.pk}/change/"
    form = {
        "title": "Edited",
        "url": "HTTPS://EXAMPLE.ORG/taken?utm_source=x",
        "summary": "",
        "kind": pending.kind,
        "stage": pending.stage,
        "difficulty": pending.difficulty,
    }
    response = admin_client.post(change, form)
    assert "already has this address" in response.content.decode()
    form["url"] = "https://blog.example.org/p"
    assert moves(lambda: admin_client.post(change, form)) >= 1
    assert Resource.objects.get(pk=pending.pk).title == "Edited"
