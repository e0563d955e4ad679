"""A resource whose link was checked can be deleted in the admin, with its link's health; the
health rows themselves are not deleted on their own pages."""

from __future__ import annotations

from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from catalog.health.models import LinkCheck, ResourceLink
from catalog.models import Resource
from recommender.models import Note, Progress
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def checked(carol):
    resource = ResourceFactory(url="https://example.org/checked")
    link, _ = ResourceLink.objects.get_or_create(resource=resource)
    LinkCheck.objects.create(link=link, checked_at=timezone.now(), url=resource.url, outcome="ok")
    return resource


def test_a_curator_deletes_a_resource_whose_link_was_checked(client, carol, checked):
    # "Your account doesn't have permission to delete the following types of objects: link
    # health" (a walk-through's curator could delete no checked resource).
    client.force_login(carol)
    url = f"/admin/catalog/resource/{checked.pk}/delete/"
    page = client.get(url).content.decode()
    assert "permission to delete" not in page
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Resource.objects.filter(pk=checked.pk).exists()
    assert not ResourceLink.objects.exists() and not LinkCheck.objects.exists()


def test_the_bulk_delete_takes_checked_resources_too(client, carol, checked):
    client.force_login(carol)
    response = client.post(
        "/admin/catalog/resource/",
        {"action": "delete_selected", "_selected_action": [checked.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Resource.objects.filter(pk=checked.pk).exists()


def test_a_links_health_is_not_deleted_on_its_own_pages(client, carol, checked):
    client.force_login(carol)
    assert client.get(f"/admin/catalog/resourcelink/{checked.pk}/delete/").status_code == 403
    listing = client.get("/admin/catalog/resourcelink/").content.decode()
    assert "delete_selected" not in listing
    assert ResourceLink.objects.filter(pk=checked.pk).exists()


@pytest.mark.parametrize("kept", ["progress", "note"])
@pytest.mark.parametrize("who", ["curator", "superuser"])
def test_a_resource_learners_used_is_not_deleted_and_the_page_offers_reject_instead(
    client, carol, alice, kept, who
):
    # Django said "permission to delete … progress" to a curator (no why, no way out), a
    # learner's note alone went with its resource, unsaid, and a superuser's "Yes, I'm sure"
    # deleted a learner's completion and note (a walk-through; the API refused him).
    resource = ResourceFactory(title="Kubernetes The Hard Way")
    if kept == "progress":
        Progress.objects.create(user=alice, resource=resource, state="completed")
    else:
        Note.objects.create(user=alice, resource=resource, text="kubectl auth can-i")
    client.force_login(
        carol
        if who == "curator"
        else get_user_model().objects.create_superuser("root", password="x-admin-pass-123")
    )
    url = f"/admin/catalog/resource/{resource.pk}/delete/"
    page = " ".join(unescape(client.get(url).content.decode()).split())
    said = "“Kubernetes The Hard Way” is not deleted: learners have progress or notes on it."
    assert said in page
    assert 'value="Reject it instead"' in page
    assert "permission" not in page and 'name="post"' not in page
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Resource.objects.filter(pk=resource.pk).exists()
    assert Progress.objects.exists() or Note.objects.exists()
    rejected = client.post(
        "/admin/catalog/resource/",
        {"action": "reject_selected", "_selected_action": [resource.pk]},
    )
    assert rejected.status_code == 302
    resource.refresh_from_db()
    assert resource.status == "rejected"


def test_a_bulk_delete_of_resources_learners_used_is_refused_with_reject_instead(
    admin_client, alice
):
    used, unused = ResourceFactory(), ResourceFactory()
    Progress.objects.create(user=alice, resource=used, state="completed")
    ids = [used.pk, unused.pk]
    asked = admin_client.post(
        "/admin/catalog/resource/", {"action": "delete_selected", "_selected_action": ids}
    )
    page = unescape(asked.content.decode())
    assert "learners have progress or notes on some of them" in page
    assert page.count('name="_selected_action"') == 2 and 'value="Reject them instead"' in page
    refused = admin_client.post(
        "/admin/catalog/resource/",
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert refused.status_code in (200, 403)
    assert Resource.objects.count() == 2 and Progress.objects.exists()


def test_the_bulk_delete_service_refuses_resources_learners_used_unless_told(alice):
    from catalog import services

    used, unused = ResourceFactory(), ResourceFactory()
    Note.objects.create(user=alice, resource=used, text="mine")
    with pytest.raises(services.UsedByLearners) as refused:
        services.resources_delete(resources=Resource.objects.all(), by=None)
    assert refused.value.resource_ids == [used.pk]
    assert Resource.objects.count() == 2
    assert (
        services.resources_delete(resources=Resource.objects.all(), by=None, learners_data_too=True)
        == 2
    )
    assert not Note.objects.exists() and unused.pk
