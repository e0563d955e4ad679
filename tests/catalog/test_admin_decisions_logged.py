"""Approvals and rejections are in each resource's History, as edits are: who published it or
took it out, when, and from where."""

from __future__ import annotations

import pytest

from catalog.models import Status
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db


def history(client, resource) -> str:
    return client.get(f"/admin/catalog/resource/{resource.pk}/history/").content.decode()


@pytest.mark.parametrize(
    ("changelist", "action", "said"),
    [
        ("resource", "approve_selected", "Approved from the list."),
        ("resource", "reject_selected", "Rejected from the list."),
        ("pendingresource", "approve_selected", "Approved as it was, from the review list."),
        ("pendingresource", "reject_selected", "Rejected from the list."),
    ],
)
def test_a_bulk_decision_is_in_each_resources_history(client, carol, changelist, action, said):
    # The History said "This object doesn't have a change history" of a bulk-approved item.
    first, second = ResourceFactory(status=Status.PENDING), ResourceFactory(status=Status.PENDING)
    client.force_login(carol)
    client.post(
        f"/admin/catalog/{changelist}/",
        {"action": action, "_selected_action": [first.pk, second.pk]},
    )
    for resource in (first, second):
        page = history(client, resource)
        assert f"<td>{said}</td>" in page
        assert carol.get_username() in page


def test_a_decision_on_the_review_page_is_in_the_resources_history(client, carol):
    pending = ResourceFactory(status=Status.PENDING)
    client.force_login(carol)
    page = client.get(f"/admin/catalog/pendingresource/{pending.pk}/change/").content.decode()
    assert 'name="_reject"' in page
    form = {
        "title": pending.title,
        "url": pending.url,
        "summary": pending.summary,
        "kind": pending.kind,
        "stage": pending.stage,
        "difficulty": pending.difficulty,
        "_reject": "Reject",
    }
    assert client.post(f"/admin/catalog/pendingresource/{pending.pk}/change/", form).status_code
    pending.refresh_from_db()
    assert pending.status == Status.REJECTED
    assert "<td>Rejected on its review page.</td>" in history(client, pending)


def test_an_item_decided_already_gets_no_second_entry(client, carol):
    approved = ResourceFactory(status=Status.APPROVED)
    client.force_login(carol)
    client.post(
        "/admin/catalog/resource/",
        {"action": "approve_selected", "_selected_action": [approved.pk]},
    )
    assert "Approved from the list." not in history(client, approved)


def test_decisions_and_edits_through_the_api_are_in_the_history(client, carol):
    # A walk-through's curator rejected an item through the API; its History said only that
    # she had approved it, and an API deletion left no trace at all.
    from django.contrib.admin.models import DELETION, LogEntry
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(carol)
    created = api.post(
        "/api/resources/",
        {"title": "Pod Security Admission", "url": "https://example.org/psa", "kind": "article"},
        format="json",
    ).json()
    resource_id = created["id"]
    api.post(f"/api/resources/{resource_id}/approve/")
    api.patch(f"/api/resources/{resource_id}/", {"title": "PSA"}, format="json")
    api.post(f"/api/resources/{resource_id}/reject/")
    api.post(f"/api/resources/{resource_id}/reject/")  # already rejected: nothing new
    client.force_login(carol)
    page = client.get(f"/admin/catalog/resource/{resource_id}/history/").content.decode()
    for said in (
        "Added through the API.",
        "Approved through the API.",
        "Changed title through the API.",
        "Rejected through the API.",
    ):
        assert f"<td>{said}</td>" in page
    assert page.count("Rejected through the API.") == 1
    assert api.delete(f"/api/resources/{resource_id}/").status_code == 204
    gone = LogEntry.objects.get(action_flag=DELETION)
    assert gone.object_id == str(resource_id) and gone.user == carol
    assert gone.change_message == "Deleted through the API."
