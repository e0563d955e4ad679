"""The admin's home page counts what waits for a curator: each kind of trouble, once."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from catalog.health.models import Deprecation, LinkStatus, ResourceLink, StalenessFlag
from catalog.models import Feed, FeedState
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db


def test_the_admin_home_counts_every_kind_of_trouble_once(client, carol):
    # It said "1 failing feed" beside three feeds whose check failed, three damaged documents,
    # two failing links and two staleness flags (a walk-through).
    now = timezone.now()
    Feed.objects.create(url="https://a.example/feed", state=FeedState.FAILED, active=False)
    Feed.objects.create(url="https://b.example/feed", consecutive_failures=2)
    Feed.objects.create(
        url="https://c.example/feed", last_warning="not well-formed", last_success_at=now
    )
    Feed.objects.create(url="https://d.example/feed", last_success_at=now)  # healthy
    for status in (LinkStatus.FAILING, LinkStatus.FAILING, LinkStatus.GONE, LinkStatus.OK):
        ResourceLink.objects.update_or_create(
            resource=ResourceFactory(), defaults={"status": status}
        )
    tiller = Deprecation.objects.create(
        slug="tiller",
        what="Tiller",
        patterns="tiller",
        removed_on=date(2019, 11, 13),
        successor="Helm 3",
    )
    StalenessFlag.objects.create(resource=ResourceFactory(), deprecation=tiller, sentence="x")
    client.force_login(carol)
    body = " ".join(client.get("/admin/").content.decode().split())
    for count, label, address in [
        (1, "feed whose check failed", "/admin/catalog/feed/?health=check-failed"),
        (1, "failing feed", "/admin/catalog/feed/?health=failing"),
        (1, "feed with a damaged document", "/admin/catalog/feed/?health=warning"),
        (2, "failing links", "/admin/catalog/resourcelink/?status__exact=failing"),
        (1, "link gone", "/admin/catalog/resourcelink/?status__exact=gone"),
        (1, "staleness flag to review", "/admin/catalog/stalenessflag/?state__exact=raised"),
    ]:
        assert f'<a href="{address}"><strong>{count}</strong> {label}</a>' in body, label
