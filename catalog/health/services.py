"""Writes for link health: what a check means for a resource's link state, and the curators'
actions (re-check now, accept a proposed address, retire).

State rules (ResourceLink.status):

* ok / redirected — the address answers 2xx (redirected: through at least one redirect; the
  final address is kept, and when every hop was permanent it is *proposed* to curators as the
  new address — or applied at once when it is the same address moved from http to https).
* failing — 4xx/5xx, DNS, timeouts, resets, refused addresses; with the number of failures in
  a row and since when. Checked again sooner (6 h, doubling, up to the interval).
* gone — 404/410 on at least GONE_AFTER_CHECKS checks in a row spanning GONE_AFTER_DAYS: one
  bad answer never makes a resource gone. The recommender stops recommending it.
* 429, and 503 with Retry-After, are not failures: the check is put off as asked.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import F, Subquery
from django.utils import timezone

from catalog import services as catalog_services
from catalog.addresses import InvalidAddress
from catalog.feeds.address import FetchPolicy
from catalog.feeds.poll import fetch_policy
from catalog.health.links import LinkOutcome, Outcome, host_key, is_https_upgrade
from catalog.health.models import LinkCheck, LinkStatus, ResourceLink
from catalog.models import Resource, Status

if TYPE_CHECKING:
    from catalog.services import User

logger = logging.getLogger(__name__)

GONE_AFTER_CHECKS = 3
GONE_AFTER_DAYS = 3
# A 404/410 is looked at again after this long, so three checks span the days "gone" needs.
NOT_FOUND_RECHECK = timedelta(hours=36)
FAILING_RECHECK = timedelta(hours=6)
MAX_RETRY_AFTER = timedelta(days=7)
# New links are first checked within this window, not all at once.
FIRST_CHECK_SPREAD = timedelta(days=1)


def link_policy() -> FetchPolicy:
    """The feed fetcher's policy (address rules, timeouts), with a small cap: a check never
    needs a body."""
    return dataclasses.replace(
        fetch_policy(),
        max_bytes=64 * 1024,
        user_agent="kubelearn-link-checker/1.0 (+https://github.com/kubelearn)",
    )


def _interval() -> timedelta:
    return timedelta(days=settings.LINK_CHECK_INTERVAL_DAYS)


def _jittered(delay: timedelta) -> timedelta:
    return delay * random.uniform(0.9, 1.1)  # noqa: S311 - spreading load, not cryptography


# --- Keeping a link row per approved resource ---------------------------------------------------


def links_sync(*, now: datetime | None = None) -> int:
    """Give every approved resource with an address a link row, and reset rows whose address
    a curator changed since the last check. Returns how many rows were added or reset."""
    now = now or timezone.now()
    spread = min(FIRST_CHECK_SPREAD, _interval()).total_seconds()
    missing = (
        Resource.objects.filter(status=Status.APPROVED, url__isnull=False, link__isnull=True)
        .order_by("pk")
        .values_list("pk", "url")
    )
    new = [
        ResourceLink(
            resource_id=pk,
            host=host_key(url or ""),
            checked_url=url or "",
            next_check_at=now + timedelta(seconds=random.uniform(0, spread)),  # noqa: S311
        )
        for pk, url in missing.iterator(chunk_size=2000)
    ]
    ResourceLink.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    moved = list(
        ResourceLink.objects.filter(resource__url__isnull=False)
        .exclude(checked_url=F("resource__url"))
        .values_list("pk", "resource__url")
    )
    for pk, url in moved:
        ResourceLink.objects.filter(pk=pk).update(**_fresh(url or "", now))
    if moved:
        catalog_services.resource_health_changed(resource_ids=[pk for pk, _ in moved], refit=True)
    return len(new) + len(moved)


def _fresh(url: str, now: datetime) -> dict[str, object]:
    return {
        "checked_url": url,
        "host": host_key(url),
        "status": LinkStatus.UNCHECKED,
        "http_status": None,
        "final_url": "",
        "proposed_url": "",
        "consecutive_failures": 0,
        "failing_since": None,
        "consecutive_not_found": 0,
        "not_found_since": None,
        "last_error": "",
        "next_check_at": now,
    }


# --- Recording a check --------------------------------------------------------------------------


@transaction.atomic
def link_record(
    *, link: ResourceLink, outcome: LinkOutcome, now: datetime | None = None
) -> ResourceLink:
    """Record one check's outcome on the link, in its history, and tell the catalog if
    learners see a difference. Releases the link's claim."""
    now = now or timezone.now()
    before = link.status
    link.checked_at = now
    link.claimed_until = None
    link.checked_url = outcome.url
    link.host = host_key(outcome.url)
    if outcome.outcome == Outcome.RATE_LIMITED:
        wait = timedelta(seconds=outcome.retry_after or 0)
        link.next_check_at = now + min(max(wait, timedelta(minutes=1)), MAX_RETRY_AFTER)
        link.last_error = outcome.error
    elif outcome.alive:
        _record_alive(link, outcome, now)
    else:
        _record_failure(link, outcome, now)
    link.http_status = outcome.http_status
    link.save()
    LinkCheck.objects.create(
        link=link,
        checked_at=now,
        url=outcome.url[:2000],
        outcome=outcome.outcome,
        http_status=outcome.http_status,
        final_url=outcome.final_url[:2000],
        error=outcome.error[:2000],
        elapsed_ms=int(outcome.elapsed * 1000),
    )
    old = link.checks.order_by("-checked_at", "-pk").values("pk")[settings.LINK_CHECK_HISTORY :]
    LinkCheck.objects.filter(pk__in=Subquery(old)).delete()
    if link.status != before:
        logger.info("Link of resource %s: %s -> %s", link.resource_id, before, link.status)
        catalog_services.resource_health_changed(
            resource_ids=[link.resource_id],
            refit=(before == LinkStatus.GONE) != (link.status == LinkStatus.GONE),
        )
    return link


def _record_alive(link: ResourceLink, outcome: LinkOutcome, now: datetime) -> None:
    link.consecutive_failures = 0
    link.failing_since = None
    link.consecutive_not_found = 0
    link.not_found_since = None
    link.last_error = ""
    link.next_check_at = now + _jittered(_interval())
    if outcome.outcome == Outcome.OK:
        link.status = LinkStatus.OK
        link.final_url = ""
        link.proposed_url = ""
        return
    link.status = LinkStatus.REDIRECTED
    link.final_url = outcome.final_url[:2000]
    permanent = outcome.permanent_url
    link.proposed_url = permanent[:2000] if permanent and permanent != outcome.url else ""
    if link.proposed_url and is_https_upgrade(outcome.url, link.proposed_url):
        _https_apply(link, now)


def _https_apply(link: ResourceLink, now: datetime) -> None:
    """The same address moved to https: take it without asking (unless another resource has
    it; then it stays a proposal for a curator)."""
    resource = Resource.objects.get(pk=link.resource_id)
    try:
        catalog_services.resource_save(
            resource=resource, fields={"url": link.proposed_url}, by=None
        )
    except (catalog_services.DuplicateAddress, InvalidAddress) as exc:
        logger.info("Resource %s: https address not applied: %s", resource.pk, exc)
        return
    logger.info("Resource %s moved to https: %s", resource.pk, resource.url)
    link.checked_url = resource.url or ""
    link.status = LinkStatus.OK
    link.final_url = ""
    link.proposed_url = ""


def _record_failure(link: ResourceLink, outcome: LinkOutcome, now: datetime) -> None:
    link.consecutive_failures += 1
    link.failing_since = link.failing_since or now
    link.last_error = outcome.error[:2000]
    link.final_url = outcome.final_url[:2000] if outcome.final_url != outcome.url else ""
    if outcome.outcome == Outcome.NOT_FOUND:
        link.consecutive_not_found += 1
        link.not_found_since = link.not_found_since or now
        link.next_check_at = now + _jittered(NOT_FOUND_RECHECK)
    else:
        link.consecutive_not_found = 0
        link.not_found_since = None
        backoff = FAILING_RECHECK * 2 ** min(link.consecutive_failures - 1, 8)
        link.next_check_at = now + _jittered(min(backoff, _interval()))
    gone = (
        link.consecutive_not_found >= GONE_AFTER_CHECKS
        and link.not_found_since is not None
        and now - link.not_found_since >= timedelta(days=GONE_AFTER_DAYS)
    )
    link.status = LinkStatus.GONE if gone else LinkStatus.FAILING
    if gone:
        link.next_check_at = now + _jittered(_interval())  # it may come back; look weekly


# --- Curators' actions --------------------------------------------------------------------------


def links_recheck(*, resource_ids: Sequence[int], now: datetime | None = None) -> int:
    """Make these links due now (the next dispatch, or an on-demand check, takes them)."""
    now = now or timezone.now()
    links_sync(now=now)
    return ResourceLink.objects.filter(resource_id__in=list(resource_ids)).update(next_check_at=now)


class NothingProposed(Exception):
    """The link has no proposed address to accept."""


@transaction.atomic
def link_accept_proposed(*, link: ResourceLink, by: User | None) -> Resource:
    """Make the proposed address the resource's address (through the catalog's door, which
    refuses one another resource already has: DuplicateAddress)."""
    link = ResourceLink.objects.select_for_update().get(pk=link.pk)
    if not link.proposed_url:
        raise NothingProposed(f"Resource {link.resource_id} has no proposed address.")
    resource = catalog_services.resource_save(
        resource=Resource.objects.get(pk=link.resource_id),
        fields={"url": link.proposed_url},
        by=by,
    )
    ResourceLink.objects.filter(pk=link.pk).update(
        **{**_fresh(resource.url or "", timezone.now()), "status": LinkStatus.OK}
    )
    logger.info(
        "Resource %s: proposed address accepted by %s", resource.pk, getattr(by, "pk", None)
    )
    return resource


@transaction.atomic
def resources_retire(*, resource_ids: Sequence[int], by: User | None) -> int:
    """A curator gives up on these resources: hidden from learners (rejected), never checked
    again. Returns how many were retired."""
    ids = list(Resource.objects.filter(pk__in=list(resource_ids)).values_list("pk", flat=True))
    catalog_services.resources_reject(resources=Resource.objects.filter(pk__in=ids), by=by)
    ResourceLink.objects.bulk_create(
        [ResourceLink(resource_id=pk) for pk in ids], ignore_conflicts=True
    )
    ResourceLink.objects.filter(resource_id__in=ids).update(
        status=LinkStatus.RETIRED, claimed_until=None
    )
    return len(ids)
