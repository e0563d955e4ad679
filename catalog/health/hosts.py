"""Claiming due links, host by host, so that no two checkers ever check one resource or
contact one host at the same time, however many workers run.

A checker claims a host (a lease on its `LinkHost` row, by a conditional UPDATE) and a few of
its due links (the same way, on `ResourceLink.claimed_until`), checks them one after another
at the host's polite rate, and releases the host with the earliest time it may be contacted
again (pushed further by a Retry-After). Hosts that are leased or resting are skipped when
links are claimed, so their links wait for the next round.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from catalog.health.models import LinkHost, LinkStatus, ResourceLink
from catalog.models import Status

logger = logging.getLogger(__name__)

# How long a claim on a host and its links lasts: past it, links whose check died are due
# again. A batch is at most PER_HOST links, each bounded by the fetch deadline (HEAD + GET).
CLAIM_LEASE = timedelta(minutes=15)
PER_HOST = 10
MIN_SLICE = 10
DISPATCH_EVERY_SECONDS = 60


@dataclass
class HostBatch:
    """Links of one host, claimed together, to be checked one at a time."""

    host: str
    link_ids: list[int] = field(default_factory=list)


def _free(now: datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


def _due(now: datetime) -> Q:
    return (
        Q(next_check_at__lte=now, resource__status=Status.APPROVED, resource__url__isnull=False)
        & ~Q(status=LinkStatus.RETIRED)
        & ~Q(host="")
        & _free(now)
    )


def slice_size(total: int, *, interval_days: int | None = None) -> int:
    """Links one dispatch (every minute) may claim: twice the share that covers `total` links
    within the interval, so a backlog drains while the load stays spread over the days."""
    days = interval_days or settings.LINK_CHECK_INTERVAL_DAYS
    dispatches = max(1, days * 86400 // DISPATCH_EVERY_SECONDS)
    return max(MIN_SLICE, 2 * math.ceil(total / dispatches))


def links_claim_due(
    *, now: datetime | None = None, limit: int = 100, per_host: int = PER_HOST
) -> list[HostBatch]:
    """Claim due links of hosts nobody is contacting, at most `per_host` per host."""
    now = now or timezone.now()
    resting = LinkHost.objects.filter(~_free(now) | Q(next_request_at__gt=now)).values("name")
    with transaction.atomic():
        rows = list(
            ResourceLink.objects.select_for_update(
                skip_locked=connection.features.has_select_for_update_skip_locked, of=("self",)
            )
            .filter(_due(now))
            .exclude(host__in=resting)
            .order_by("next_check_at", "pk")
            .values_list("pk", "host")[: limit * 2]
        )
    wanted: dict[str, list[int]] = {}
    taken = 0
    for pk, host in rows:
        ids = wanted.setdefault(host, [])
        if len(ids) < per_host and taken < limit:
            ids.append(pk)
            taken += 1
    batches = []
    for host, ids in wanted.items():
        if ids and host_claim(host=host, now=now):
            claimed = _links_claim(ids, now)
            if claimed:
                batches.append(HostBatch(host=host, link_ids=claimed))
            else:
                host_release(host=host, next_request_at=now)
    return batches


def _links_claim(ids: list[int], now: datetime) -> list[int]:
    lease = now + CLAIM_LEASE
    due = _due(now)
    if ResourceLink.objects.filter(due, pk__in=ids).update(claimed_until=lease) == len(ids):
        return ids
    # Someone else took some of them between our read and our update: claim one by one.
    logger.info("Some due links were claimed elsewhere; claiming each")
    return [
        pk
        for pk in ids
        if ResourceLink.objects.filter(pk=pk, claimed_until=lease).exists()
        or ResourceLink.objects.filter(due, pk=pk).update(claimed_until=lease)
    ]


def link_claim(*, link_id: int, now: datetime | None = None) -> bool:
    """Claim one link for an on-demand check, unless a check already holds it."""
    now = now or timezone.now()
    return bool(
        ResourceLink.objects.filter(_free(now), pk=link_id).update(claimed_until=now + CLAIM_LEASE)
    )


def link_release(*, link_ids: list[int], next_check_at: datetime | None = None) -> None:
    """Give claimed links back unchecked (their host asked us to wait)."""
    fields: dict[str, object] = {"claimed_until": None}
    if next_check_at is not None:
        fields["next_check_at"] = next_check_at
    ResourceLink.objects.filter(pk__in=link_ids).update(**fields)


def host_claim(*, host: str, now: datetime | None = None, resting_ok: bool = False) -> bool:
    """Lease a host: True when this caller may now contact it (and nobody else may).

    `resting_ok`: take the lease even before the host's next allowed request (the caller then
    waits out the rest itself, as an on-demand check does).
    """
    now = now or timezone.now()
    LinkHost.objects.bulk_create([LinkHost(name=host, next_request_at=now)], ignore_conflicts=True)
    rows = LinkHost.objects.filter(_free(now), name=host)
    if not resting_ok:
        rows = rows.filter(next_request_at__lte=now)
    return bool(rows.update(claimed_until=now + CLAIM_LEASE))


def host_next_request_at(host: str) -> datetime:
    found = LinkHost.objects.filter(name=host).values_list("next_request_at", flat=True).first()
    return found or timezone.now()


def host_release(*, host: str, next_request_at: datetime) -> None:
    LinkHost.objects.filter(name=host).update(claimed_until=None, next_request_at=next_request_at)
