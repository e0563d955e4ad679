"""A resource's admin page saved after the resource changed elsewhere is refused, keeping the
change; a review page for an item decided since leads to the item's page and says so."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from catalog.models import Resource, Status
from tests.factories import ResourceFactory, admin_resource_form, full_width

pytestmark = pytest.mark.django_db


def loaded_version(client, url: str) -> str:
    page = client.get(url).content.decode()
    (version,) = re.findall(r'name="loaded_version" value="([^"]+)"', page)
    return version


RESOURCE_FIELDS = ("title", "slug", "url", "kind", "stage", "difficulty", "origin", "summary")


def resource_form(resource: Resource, **changes) -> dict:
    # The resource as it is, then the changes (they may replace any of it).
    shown = {name: getattr(resource, name) for name in RESOURCE_FIELDS}
    return admin_resource_form(**{**shown, **changes})


def test_a_second_tabs_save_does_not_undo_the_first_tabs(client, carol):
    # A walk-through's tab B, opened before tab A saved a new title, saved a summary: the old
    # title came back, and both tabs said the save went through.
    resource = ResourceFactory(title="Pod Security Admission in practice", summary="As it was")
    url = f"/admin/catalog/resource/{resource.pk}/change/"
    client.force_login(carol)
    tab_b = loaded_version(client, url)
    tab_a = loaded_version(client, url)
    saved = client.post(url, resource_form(resource, title="PSA (tab A)", loaded_version=tab_a))
    assert saved.status_code == 302
    refused = client.post(
        url, resource_form(resource, summary="Tab B's summary", loaded_version=tab_b)
    )
    assert refused.status_code == 200
    assert "Not saved: this resource was changed after this page was loaded" in (
        refused.content.decode()
    )
    assert "Tab B&#x27;s summary" in refused.content.decode()  # still in the form
    resource.refresh_from_db()
    assert (resource.title, resource.summary) == ("PSA (tab A)", "As it was")


def test_a_save_from_an_up_to_date_page_goes_through(client, carol):
    resource = ResourceFactory()
    url = f"/admin/catalog/resource/{resource.pk}/change/"
    client.force_login(carol)
    version = loaded_version(client, url)
    response = client.post(url, resource_form(resource, title="Renamed", loaded_version=version))
    assert response.status_code == 302
    assert Resource.objects.get(pk=resource.pk).title == "Renamed"


def test_a_review_page_approved_after_an_edit_elsewhere_is_refused(client, carol):
    pending = ResourceFactory(status=Status.PENDING, title="Sigstore and cosign")
    url = f"/admin/catalog/pendingresource/{pending.pk}/change/"
    client.force_login(carol)
    stale = loaded_version(client, url)
    Resource.objects.filter(pk=pending.pk).update(  # tab A's save
        title="Sigstore (edited in tab A)", updated_at=timezone.now()
    )
    form = {
        "title": "Sigstore and cosign",
        "url": pending.url,
        "summary": "",
        "kind": pending.kind,
        "stage": pending.stage,
        "difficulty": 3,
        "loaded_version": stale,
        "_approve": "Save and approve",
    }
    response = client.post(url, form)
    assert response.status_code == 200
    assert "Not saved" in response.content.decode()
    pending.refresh_from_db()
    assert (pending.status, pending.title) == (Status.PENDING, "Sigstore (edited in tab A)")


def test_a_review_page_for_an_item_approved_since_leads_to_its_page(client, carol):
    # "Item to review with ID 1063 doesn't exist. Perhaps it was deleted?" and the admin's
    # index, for an item another tab had approved (a walk-through).
    pending = ResourceFactory(status=Status.PENDING, title="OPA Gatekeeper intro")
    url = f"/admin/catalog/pendingresource/{pending.pk}/change/"
    client.force_login(carol)
    client.get(url)
    Resource.objects.filter(pk=pending.pk).update(status=Status.APPROVED)
    response = client.post(url, {"title": "Edited in tab B", "_reject": "Reject"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/admin/catalog/resource/{pending.pk}/change/"
    page = response.content.decode()
    assert "was approved after this page was loaded" in page and "doesn" not in page
    pending.refresh_from_db()
    assert (pending.status, pending.title) == (Status.APPROVED, "OPA Gatekeeper intro")


@pytest.mark.parametrize("object_id", ["abc", "9" * 40, full_width("12")])
def test_a_review_page_with_an_odd_id_is_djangos_own_answer(client, carol, object_id):
    client.force_login(carol)
    response = client.get(f"/admin/catalog/pendingresource/{object_id}/change/")
    assert response.status_code == 302  # to the index, with Django's message


def test_an_edit_on_the_review_page_is_in_the_resources_history(client, carol):
    # "This object doesn't have a change history": logged under the review list's proxy model.
    pending = ResourceFactory(status=Status.PENDING, title="Sigstore and cosign")
    url = f"/admin/catalog/pendingresource/{pending.pk}/change/"
    client.force_login(carol)
    form = {
        "title": "Sigstore and cosign, edited",
        "url": pending.url,
        "summary": "",
        "kind": pending.kind,
        "stage": pending.stage,
        "difficulty": pending.difficulty,
        "loaded_version": loaded_version(client, url),
    }
    assert client.post(url, form).status_code == 302
    history = client.get(f"/admin/catalog/resource/{pending.pk}/history/").content.decode()
    assert "<td>Changed Title" in history
    assert "have a change history" not in history
