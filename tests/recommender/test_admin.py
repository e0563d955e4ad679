from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from catalog.models import Resource, Status
from catalog.seeding import seed_catalog_load

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", password="x-admin-pass-123")
    client.force_login(user)
    return client


@pytest.fixture
def pending_rbac_post(db):
    seed_catalog_load()
    return Resource.objects.create(
        title="Kubernetes RBAC: roles, cluster roles and least-privilege bindings",
        summary="How RBAC authorization controls who can do what against the Kubernetes API.",
        url="https://blog.example.org/rbac/",
        status=Status.PENDING,
    )


def test_review_queue_shows_labels_suggested_by_nearest_neighbours(admin_client, pending_rbac_post):
    content = admin_client.get("/admin/catalog/pendingresource/").content.decode()
    assert "suggested labels" in content
    assert "rbac" in content


def test_one_click_applies_suggestions_and_approves(admin_client, pending_rbac_post):
    admin_client.post(
        "/admin/catalog/pendingresource/",
        {"action": "apply_suggestions_and_approve", "_selected_action": [pending_rbac_post.pk]},
    )
    pending_rbac_post.refresh_from_db()
    assert pending_rbac_post.status == Status.APPROVED
    assert pending_rbac_post.stage == "security"
    assert "rbac" in set(pending_rbac_post.security_areas.values_list("slug", flat=True))


def test_learner_admin_pages_load(admin_client):
    for page in ("progress", "learnerprofile", "fittedmodel"):
        assert admin_client.get(f"/admin/recommender/{page}/").status_code == 200


def test_review_queue_queries_do_not_grow_with_pending_entries(
    admin_client, pending_rbac_post, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from recommender.runtime import runtime

    # As in production: a process re-checks the stored model at most once a second.
    monkeypatch.setattr(runtime, "freshness_seconds", 60.0)
    admin_client.get("/admin/catalog/pendingresource/")  # load the model first

    def count() -> int:
        with CaptureQueriesContext(connection) as context:
            assert admin_client.get("/admin/catalog/pendingresource/").status_code == 200
        return len(context.captured_queries)

    few = count()
    for n in range(8):
        Resource.objects.create(
            title=f"Pending post {n}", url=f"https://blog.example.org/{n}/", status=Status.PENDING
        )
    assert count() == few
