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
