"""Celery tasks for feed polling: thin wrappers that take ids and call a service.

The task names stay `catalog.tasks.*` (where these lived before the feeds package) because
beat schedules stored in the database and messages already queued refer to them by name.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.conf import settings

from catalog.feeds.address import FetchError
from catalog.feeds.check import feed_check as feed_check_now
from catalog.feeds.poll import feed_poll as feed_poll_now
from catalog.feeds.poll import feeds_poll
from catalog.feeds.schedule import (
    feed_claim,
    feeds_claim_due,
    feeds_claim_unchecked,
    poll_batches,
)
from catalog.models import Feed, FeedState
from kubelearn.background import OffRequestTask

logger = logging.getLogger(__name__)


class RetryableFetchError(Exception):
    """A network-level failure (timeout, refused, DNS) worth retrying soon."""


@shared_task(
    bind=True,
    name="catalog.tasks.feed_poll",
    base=OffRequestTask,
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
def feed_poll(self: Task, feed_id: int) -> dict:
    """Poll one feed. Idempotent: entries are upserted by natural key, so reruns are safe."""
    try:
        report = feed_poll_now(feed_id=feed_id)
    except Feed.DoesNotExist:
        logger.info("Feed %s no longer exists; nothing to poll", feed_id)
        return {"feed_id": feed_id, "outcome": "missing"}
    except FetchError as exc:
        # Only network errors reach here (the service records and swallows the rest).
        if self.request.is_eager:
            # No broker (tasks run in-process): a retry would run at once, not after its
            # backoff, and record the same failure again. The failure is recorded; the
            # feed's schedule (backing off by its consecutive failures) polls it again.
            return {"feed_id": feed_id, "outcome": "failed", "error": str(exc)}
        raise RetryableFetchError(str(exc)) from exc
    return {"feed_id": feed_id, "outcome": report.outcome, "new": report.new}


@shared_task(
    name="catalog.tasks.feed_check",
    base=OffRequestTask,
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


# A batch holds FEEDS_POLL_BATCH feeds, FEEDS_POLL_CONCURRENCY of them in flight, each fetch
# bounded by FEEDS_TOTAL_DEADLINE (30 s): with the defaults (16, 4) four rounds of fetches, two
# minutes if every server in the batch stalls to the deadline, and parsing and storing after.
BATCH_SOFT_TIME_LIMIT = 180


@shared_task(
    bind=True,
    name="catalog.tasks.feeds_poll_batch",
    base=OffRequestTask,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=BATCH_SOFT_TIME_LIMIT,
    time_limit=BATCH_SOFT_TIME_LIMIT + 30,
)
def feeds_poll_batch(self: Task, feed_ids: list[int]) -> dict:
    """Poll a few claimed feeds, several at a time. Idempotent like `feed_poll`: a worker
    killed mid-batch has its message redelivered and the whole batch polled again, storing
    nothing twice. A feed that failed with a network error gets its own retrying task (not
    without a broker: it would run at once, as `feed_poll` explains)."""
    reports = feeds_poll(feed_ids=feed_ids, concurrency=settings.FEEDS_POLL_CONCURRENCY)
    retry = [] if self.request.is_eager else [r.feed_id for r in reports if r.retryable]
    for feed_id in retry:
        feed_poll.apply_async((feed_id,), countdown=60)
    return {
        "feeds": len(reports),
        "new": sum(report.new for report in reports),
        "retrying": len(retry),
    }


@shared_task(name="catalog.tasks.feeds_dispatch", acks_late=True, soft_time_limit=50, time_limit=60)
def feeds_dispatch() -> int:
    """Run every minute by beat: queue the checks of added feeds that nobody holds, claim
    due feeds and queue them in batches."""
    for feed_id in feeds_claim_unchecked():
        feed_check.delay_on_commit(feed_id)
    feed_ids = feeds_claim_due()
    for batch in poll_batches(feed_ids, settings.FEEDS_POLL_BATCH):
        feeds_poll_batch.delay_on_commit(batch)
    if feed_ids:
        logger.info("Dispatched %s feed polls", len(feed_ids))
    return len(feed_ids)
