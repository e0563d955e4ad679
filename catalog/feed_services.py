"""Queueing feed work from web requests and the admin, robust to the broker being down."""

from __future__ import annotations

import logging

from django.db import transaction

from catalog import polling

logger = logging.getLogger(__name__)


class QueueUnavailable(Exception):
    """The broker could not take the task; nothing was lost (the scheduler will poll later)."""


def feed_poll_enqueue(*, feed_id: int) -> bool:
    """Claim a feed and queue a poll now. False when a poll of it is already running.

    When the broker is unreachable, the claim is released and QueueUnavailable raised, so
    the feed stays due for the regular dispatcher instead of being silently skipped.
    """
    from catalog.tasks import feed_poll  # tasks import services; keep the edge one-way at load

    if not polling.feed_claim(feed_id=feed_id):
        return False
    try:
        feed_poll.delay(feed_id)
    except Exception as exc:  # kombu raises several types when Redis is gone
        polling.Feed.objects.filter(pk=feed_id).update(claimed_until=None)
        logger.error("Could not queue a poll of feed %s: %s", feed_id, exc)
        raise QueueUnavailable(
            "The task queue is unavailable right now; the feed will be polled on schedule."
        ) from exc
    return True


def feeds_poll_enqueue(*, feed_ids: list[int]) -> tuple[int, int]:
    """Queue polls for many feeds (admin action). Returns (queued, already running)."""
    queued = busy = 0
    for feed_id in feed_ids:
        if feed_poll_enqueue(feed_id=feed_id):
            queued += 1
        else:
            busy += 1
    return queued, busy


def feed_set_trusted(*, feed_ids: list[int], trusted: bool) -> int:
    with transaction.atomic():
        return polling.Feed.objects.filter(pk__in=feed_ids).update(trusted=trusted)


def feed_deactivate(*, feed_ids: list[int], reason: str) -> int:
    with transaction.atomic():
        return polling.Feed.objects.filter(pk__in=feed_ids, active=True).update(
            active=False, deactivated_reason=reason
        )
