"""A resource whose link was checked can be deleted in the admin, with its link's health; the
health rows themselves are not deleted on their own pages."""

from __future__ import annotations

from html import unescape

import pytest
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
def test_a_resource_learners_used_is_not_deleted_by_a_curator_and_the_page_says_why(
    client, carol, alice, kept
):
    # Django said "permission to delete … progress" (no why, no way out), and a learner's
    # note alone went with its resource, unsaid.
    resource = ResourceFactory()
    if kept == "progress":
        Progress.objects.create(user=alice, resource=resource, state="completed")
    else:
        Note.objects.create(user=alice, resource=resource, text="kubectl auth can-i")
    client.force_login(carol)
    url = f"/admin/catalog/resource/{resource.pk}/delete/"
    page = " ".join(unescape(client.get(url).content.decode()).split())
    assert "learners' progress and notes on it" in page and "reject the resource instead" in page
    assert "<li>progress</li>" not in page
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Resource.objects.filter(pk=resource.pk).exists()
    assert Progress.objects.exists() or Note.objects.exists()


def test_a_superuser_still_deletes_a_resource_learners_used(admin_client, alice):
    resource = ResourceFactory()
    Note.objects.create(user=alice, resource=resource, text="kept?")
    response = admin_client.post(f"/admin/catalog/resource/{resource.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Resource.objects.filter(pk=resource.pk).exists()


def test_a_superusers_bulk_delete_takes_a_resource_learners_used_too(admin_client, alice):
    # The delete page listed the progress that goes with it; the service lets the superuser.
    resource = ResourceFactory()
    Progress.objects.create(user=alice, resource=resource, state="completed")
    response = admin_client.post(
        "/admin/catalog/resource/",
        {"action": "delete_selected", "_selected_action": [resource.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Resource.objects.filter(pk=resource.pk).exists()
    assert not Progress.objects.exists()


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
