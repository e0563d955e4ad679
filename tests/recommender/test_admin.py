from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from catalog.models import Resource, Status
from catalog.seeding import seed_catalog_load
from recommender.admin import AREAS_SHOWN, TAGS_SHOWN, _applied_message, _shown

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
    history = admin_client.get(f"/admin/catalog/resource/{pending_rbac_post.pk}/history/")
    assert "Approved with its suggested labels, from the review list." in history.content.decode()


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


def _suggestion(resource: Resource) -> dict:
    from recommender import queue

    return queue.resource_suggestions(resource=resource)


def test_review_queue_marks_which_suggested_labels_the_one_click_applies(
    admin_client, pending_rbac_post
):
    from recommender.suggestions import MIN_SHARE

    admin_client.get("/admin/catalog/pendingresource/")  # fits the model
    suggestion = _suggestion(pending_rbac_post)
    content = admin_client.get("/admin/catalog/pendingresource/").content.decode()
    shown = _shown(suggestion["areas"], AREAS_SHOWN) + _shown(suggestion["tags"], TAGS_SHOWN)
    assert any(share >= MIN_SHARE for _, share in shown)
    assert any(share < MIN_SHARE for _, share in shown)  # so both marks are exercised
    for slug, share in shown:
        mark = "kl-label-applied" if share >= MIN_SHARE else "kl-label-skipped"
        assert f'class="{mark}"' in content.split(f">{slug} (")[0].rsplit("<span", 1)[1]


def test_the_column_shows_every_label_the_one_click_applies(monkeypatch):
    from recommender import admin as recommender_admin
    from recommender import queue

    areas = [(f"area-{n}", 0.9 - n * 0.05) for n in range(8)] + [("weak", 0.2)]
    tags = [(f"tag-{n}", 0.5) for n in range(5)] + [("rare", 0.1)]
    monkeypatch.setattr(
        queue, "resource_suggestions", lambda resource: {"areas": areas, "tags": tags}
    )
    column = recommender_admin.suggested_labels(Resource(title="x"))
    for slug, _ in areas[:8] + tags[:5]:
        assert f">{slug} (" in column
    assert ">weak (" not in column and ">rare (" not in column  # enough shown already


def test_item_page_prefills_the_suggested_labels_that_apply(admin_client, pending_rbac_post):
    from catalog.models import SecurityArea
    from recommender.suggestions import suggestions_applicable

    admin_client.get("/admin/catalog/pendingresource/")  # fits the model
    labels = suggestions_applicable(_suggestion(pending_rbac_post))
    assert labels.areas
    response = admin_client.get(f"/admin/catalog/pendingresource/{pending_rbac_post.pk}/change/")
    form = response.context["adminform"].form
    rbac = SecurityArea.objects.get(slug="rbac")
    assert rbac.pk in form.initial["security_areas"]
    assert form.initial["stage"] == labels.stage
    content = response.content.decode()
    assert 'name="_approve"' in content and 'name="_reject"' in content


def _item_form(resource: Resource, **changes) -> dict:
    data = {
        "title": resource.title,
        "url": resource.url,
        "summary": resource.summary,
        "kind": resource.kind,
        "stage": resource.stage,
        "difficulty": resource.difficulty,
    }
    return {**data, **changes}


def test_approving_from_the_item_page_saves_the_edited_labels_and_moves_on(
    admin_client, pending_rbac_post
):
    from catalog.models import SecurityArea

    following = Resource.objects.create(
        title="Another post", url="https://blog.example.org/other/", status=Status.PENDING
    )
    secrets = SecurityArea.objects.get(slug="secrets")
    response = admin_client.post(
        f"/admin/catalog/pendingresource/{pending_rbac_post.pk}/change/",
        _item_form(pending_rbac_post, stage="security", security_areas=[secrets.pk], _approve="1"),
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"/pendingresource/{following.pk}/change/")
    pending_rbac_post.refresh_from_db()
    assert pending_rbac_post.status == Status.APPROVED
    assert list(pending_rbac_post.security_areas.values_list("slug", flat=True)) == ["secrets"]


def test_rejecting_the_last_item_from_its_page_returns_to_the_empty_queue(
    admin_client, pending_rbac_post
):
    response = admin_client.post(
        f"/admin/catalog/pendingresource/{pending_rbac_post.pk}/change/",
        _item_form(pending_rbac_post, _reject="1"),
    )
    assert response["Location"].endswith("/admin/catalog/pendingresource/")
    pending_rbac_post.refresh_from_db()
    assert pending_rbac_post.status == Status.REJECTED


def test_the_review_queue_offers_reject_not_delete(admin_client, pending_rbac_post):
    # A deleted item came back with the next poll of its feed; a rejected one stays out.
    queue = admin_client.get("/admin/catalog/pendingresource/").content.decode()
    assert 'value="reject_selected"' in queue and 'value="delete_selected"' not in queue
    page = admin_client.get(f"/admin/catalog/pendingresource/{pending_rbac_post.pk}/change/")
    assert "/delete/" not in page.content.decode()
    gone = admin_client.post(
        f"/admin/catalog/pendingresource/{pending_rbac_post.pk}/delete/", {"post": "yes"}
    )
    assert gone.status_code == 403
    assert Resource.objects.filter(pk=pending_rbac_post.pk).exists()


@pytest.mark.parametrize(
    ("labelled", "approved", "said"),
    [
        (1, 1, "Approved 1 resource, with its suggested labels."),
        (3, 3, "Approved 3 resources, each with its suggested labels."),
        (2, 3, "Approved 3 resources; suggested labels added to 2 of them."),
        (0, 2, "Approved 2 resources; none had suggested labels to add."),
    ],
)
def test_apply_and_approve_says_what_it_did_in_words(labelled, approved, said):
    # "Labels applied to 1 and 1 resource(s) approved." read as a sum (walk-through).
    assert _applied_message(labelled, approved) == said


def test_one_click_applies_no_labels_from_a_vague_text(admin_client, pending_rbac_post):
    # A walk-through's pending post with a five-word summary got labels it had nothing to do
    # with: one neighbour sharing a word at a cosine of 0.1 carried 100% of the vote.
    from recommender.engine.neighbours import MIN_EVIDENCE

    vague = Resource.objects.create(
        title="Weekly notes",
        summary="A few links this week.",
        url="https://blog.example.org/weekly/",
        status=Status.PENDING,
    )
    admin_client.get("/admin/catalog/pendingresource/")  # fits the model
    suggestion = _suggestion(vague)
    assert suggestion["tags"] and sum(suggestion["similarities"]) < MIN_EVIDENCE
    admin_client.post(
        "/admin/catalog/pendingresource/",
        {"action": "apply_suggestions_and_approve", "_selected_action": [vague.pk]},
    )
    vague.refresh_from_db()
    assert vague.status == Status.APPROVED
    assert not vague.tags.exists() and not vague.security_areas.exists()
