"""Celery tasks for catalog health: thin wrappers that take ids and call a service.

Beat runs `links_dispatch` every minute (it claims a slice of due links, host by host, and
queues their checks) and `staleness_scan` hourly. Without a broker `manage.py check_links
--watch` does the dispatching in-process, as `poll_feeds --watch` does for feeds.
"""

from __future__ import annotations

import logging

from celery import shared_task

from catalog.health import checking, hosts, staleness
from catalog.health.models import ResourceLink
from catalog.health.services import links_sync
from kubelearn.background import OffRequestTask

logger = logging.getLogger(__name__)


def links_claim_slice() -> list[hosts.HostBatch]:
    """Add link rows for new resources, then claim this minute's share of due links."""
    links_sync()
    limit = hosts.slice_size(ResourceLink.objects.count())
    return hosts.links_claim_due(limit=limit)


@shared_task(
    name="catalog.health.tasks.links_check_batch",
    base=OffRequestTask,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=900,
    time_limit=960,
)
def links_check_batch(host: str, link_ids: list[int]) -> dict:
    """Check one host's claimed links, one at a time at its polite rate. Idempotent: a
    redelivered batch checks its links again, which only adds a history row."""
    reports = checking.links_check(batches=[hosts.HostBatch(host=host, link_ids=link_ids)])
    return {"host": host, "checked": len(reports)}


# Each task's soft limit is set with its hard one: the global soft limit (120 s) above a hard
# limit of 60 made Celery refuse to send links_dispatch at all, and link checks never ran under
# beat (an operator's walk-through). tests/test_background.py checks every task.
@shared_task(
    name="catalog.health.tasks.links_dispatch", acks_late=True, soft_time_limit=50, time_limit=60
)
def links_dispatch() -> int:
    """Every minute (beat): claim due links and queue one batch per host."""
    batches = links_claim_slice()
    for batch in batches:
        links_check_batch.delay_on_commit(batch.host, batch.link_ids)
    count = sum(len(batch.link_ids) for batch in batches)
    if count:
        logger.info("Dispatched %s link checks on %s hosts", count, len(batches))
    return count


@shared_task(
    name="catalog.health.tasks.link_check_now",
    base=OffRequestTask,
    acks_late=True,
    soft_time_limit=90,
    time_limit=120,
)
def link_check_now(resource_id: int) -> dict:
    """A curator's "re-check now" for one resource."""
    report = checking.link_check_now(resource_id=resource_id)
    return {"resource_id": resource_id, "status": report.status, "error": report.error}


@shared_task(
    name="catalog.health.tasks.staleness_scan", acks_late=True, soft_time_limit=570, time_limit=600
)
def staleness_scan() -> dict:
    """Hourly (beat): match the catalog against the deprecations table."""
    report = staleness.staleness_scan()
    return {"raised": report.raised, "cleared": report.cleared}
