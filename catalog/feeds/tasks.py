"""Celery tasks for feed polling: thin wrappers that take ids and call a service.

The task names stay `catalog.tasks.*` (where these lived before the feeds package) because
beat schedules stored in the database and messages already queued refer to them by name.
"""

from __future__ import annotations

import logging

from celery import shared_task

from catalog.feeds.address import FetchError
from catalog.feeds.check import feed_check as feed_check_now
from catalog.feeds.poll import feed_poll as feed_poll_now
from catalog.feeds.schedule import feed_claim, feeds_claim_due, feeds_claim_unchecked
from catalog.models import Feed, FeedState

logger = logging.getLogger(__name__)


class RetryableFetchError(Exception):
    """A network-level failure (timeout, refused, DNS) worth retrying soon."""


@shared_task(
    name="catalog.tasks.feed_poll",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(RetryableFetchError,),
    retry_backoff=60,
    retry_backoff_max=900,
    retry_jitter=True,
    max_retries=3,
    soft_time_limit=90,
    time_limit=120,
)
def feed_poll(feed_id: int) -> dict:
    """Poll one feed. Idempotent: entries are upserted by natural key, so reruns are safe."""
    try:
        report = feed_poll_now(feed_id=feed_id)
    except Feed.DoesNotExist:
        logger.info("Feed %s no longer exists; nothing to poll", feed_id)
        return {"feed_id": feed_id, "outcome": "missing"}
    except FetchError as exc:
        # Only network errors reach here (the service records and swallows the rest).
        raise RetryableFetchError(str(exc)) from exc
    return {"feed_id": feed_id, "outcome": report.outcome, "new": report.new}


@shared_task(
    name="catalog.tasks.feed_check",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=90,
    time_limit=120,
)
def feed_check(feed_id: int) -> dict:
    """Check a newly added address (discovery), then queue its first poll. Idempotent."""
    feed = feed_check_now(feed_id=feed_id)
    if feed is not None and feed.state == FeedState.READY and feed_claim(feed_id=feed_id):
        # The first poll right away, so the curator sees entries without waiting a cycle.
        feed_poll.delay_on_commit(feed_id)
    return {"feed_id": feed_id, "state": feed.state if feed else "missing"}


@shared_task(name="catalog.tasks.feeds_dispatch", acks_late=True, soft_time_limit=50, time_limit=60)
def feeds_dispatch() -> int:
    """Run every minute by beat: claim due feeds and queue one poll each, and queue the
    checks of added feeds that nobody holds."""
    for feed_id in feeds_claim_unchecked():
        feed_check.delay_on_commit(feed_id)
    feed_ids = feeds_claim_due()
    for feed_id in feed_ids:
        feed_poll.delay_on_commit(feed_id)
    if feed_ids:
        logger.info("Dispatched %s feed polls", len(feed_ids))
    return len(feed_ids)
