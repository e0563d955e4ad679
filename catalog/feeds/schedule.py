"""Step 7: when each feed is polled next — claiming due feeds, backoff, adaptive intervals."""

from __future__ import annotations

import logging
import random
import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from catalog.feeds.store import PollReport
from catalog.models import Feed, FeedPoll, FeedState

logger = logging.getLogger(__name__)

MIN_INTERVAL = timedelta(minutes=15)
MAX_INTERVAL = timedelta(hours=24)
# How long a dispatcher's claim on a feed lasts; past it, a feed whose poll died is due again.
CLAIM_LEASE = timedelta(minutes=10)
POLLS_KEPT_PER_FEED = 50


# --- Dispatching -------------------------------------------------------------------------------


def feeds_claim_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Claim feeds that are due and return their ids.

    A feed is due when it is active, its next poll time has passed, and no unexpired claim
    is on it. Only the caller whose UPDATE changed the row polls it, so two dispatchers
    (or a redelivered dispatch) never enqueue one feed twice at once.

    One statement for the lot: the candidates are locked first (PostgreSQL: rows another
    dispatcher holds are skipped; SQLite: the write transaction locks the database), so the
    UPDATE claims exactly them. Should it ever change fewer rows than were locked, each is
    claimed again on its own with a conditional UPDATE, the row-by-row way.
    """
    now = now or timezone.now()
    due = Q(active=True, state=FeedState.READY, next_poll_at__lte=now) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )
    with transaction.atomic():
        candidates = list(
            Feed.objects.select_for_update(
                skip_locked=connection.features.has_select_for_update_skip_locked
            )
            .filter(due)
            .order_by("next_poll_at")
            .values_list("pk", flat=True)[:limit]
        )
        if not candidates:
            return []
        changed = Feed.objects.filter(due, pk__in=candidates).update(
            claimed_until=now + CLAIM_LEASE
        )
    if changed == len(candidates):
        return candidates
    logger.warning("Claimed %s of %s due feeds at once; checking each", changed, len(candidates))
    lease = now + CLAIM_LEASE
    return [
        feed_id
        for feed_id in candidates
        if Feed.objects.filter(pk=feed_id, claimed_until=lease).exists()
        or Feed.objects.filter(due, pk=feed_id).update(claimed_until=lease)
    ]


def feeds_claim_unchecked(*, now: datetime | None = None, limit: int = 100) -> list[int]:
    """Claim added feeds whose check nobody holds (the broker was down when they were added,
    or the worker died mid-check) so the dispatcher can queue their check again."""
    now = now or timezone.now()
    waiting = Q(state=FeedState.CHECKING) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )
    candidates = list(
        Feed.objects.filter(waiting).order_by("pk").values_list("pk", flat=True)[:limit]
    )
    return [
        feed_id
        for feed_id in candidates
        if Feed.objects.filter(waiting, pk=feed_id).update(claimed_until=now + CLAIM_LEASE)
    ]


def feed_claim(*, feed_id: int, now: datetime | None = None) -> bool:
    """Claim one feed for an on-demand poll ("poll now"), unless a poll already holds it."""
    now = now or timezone.now()
    return bool(
        Feed.objects.filter(pk=feed_id)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + CLAIM_LEASE)
    )


# --- Scheduling --------------------------------------------------------------------------------


def poll_record(
    feed: Feed,
    report: PollReport,
    *,
    started: datetime,
    retry_after: int | None,
    max_age: int | None,
    changed: Sequence[str] = (),
) -> None:
    """Record a poll on its feed (health, next poll) and in its history.

    ``feed`` is the feed's row as locked for this poll; ``changed`` names the other fields
    the poll changed on it, written in the same statement as its health.
    """
    now = timezone.now()
    fields = ["last_polled_at", "last_status", "last_warning", "claimed_until", *changed]
    feed.last_polled_at = now
    feed.last_status = report.http_status
    feed.last_warning = report.warning
    if report.outcome in (FeedPoll.Outcome.OK, FeedPoll.Outcome.NOT_MODIFIED):
        feed.consecutive_failures = 0
        feed.last_error = ""
        feed.last_success_at = now
        feed.poll_interval = int(_healthy_interval(feed, max_age).total_seconds())
        feed.next_poll_at = now + timedelta(seconds=feed.poll_interval)
        fields += [
            "consecutive_failures",
            "last_error",
            "last_success_at",
            "poll_interval",
            "next_poll_at",
        ]
    elif report.outcome == FeedPoll.Outcome.GONE:
        feed.active = False
        feed.deactivated_reason = report.error
        feed.last_error = report.error
        fields += ["active", "deactivated_reason", "last_error"]
        logger.warning("Feed %s deactivated: %s", feed.pk, report.error)
    else:
        feed.consecutive_failures += 1
        feed.last_error = report.error[:2000]
        feed.next_poll_at = now + failure_backoff(feed.consecutive_failures, retry_after)
        fields += ["consecutive_failures", "last_error", "next_poll_at"]
        logger.warning(
            "Feed %s failed (%s in a row): %s", feed.pk, feed.consecutive_failures, report.error
        )
    feed.claimed_until = None
    # Only the fields this poll changed: the row is locked, so they are all that differs
    # from the database (a moved feed's address is canonical already, as Feed.save makes it).
    Feed.objects.filter(pk=feed.pk).update(**{name: getattr(feed, name) for name in fields})
    FeedPoll.objects.create(
        feed=feed,
        started_at=started,
        finished_at=now,
        outcome=report.outcome,
        http_status=report.http_status,
        new=report.new,
        updated=report.updated,
        unchanged=report.unchanged,
        skipped=report.skipped,
        error=report.error[:2000],
        warning=report.warning[:2000],
    )
    _history_prune(feed.pk)


# Two statements of every poll, written out: built by the ORM, each cost about five times
# its run time in the database (~0.5 ms of CPU against ~0.1 ms), a fifth of an unchanged
# feed's poll. Plain SQL, the same on PostgreSQL and SQLite but for the OFFSET clause.
_STALE_POLLS_DELETE = """
    DELETE FROM catalog_feedpoll WHERE id IN (
        SELECT id FROM catalog_feedpoll WHERE feed_id = %s ORDER BY started_at DESC {offset}
    )"""
_RECENT_DATES = """
    SELECT published_at FROM catalog_resource
    WHERE feed_id = %s AND published_at IS NOT NULL
    ORDER BY published_at DESC LIMIT 10"""


def _history_prune(feed_id: int) -> None:
    """Keep a feed's newest POLLS_KEPT_PER_FEED polls; one statement, whether or not any is
    stale."""
    offset = connection.ops.limit_offset_sql(POLLS_KEPT_PER_FEED, None)
    with connection.cursor() as cursor:
        cursor.execute(_STALE_POLLS_DELETE.format(offset=offset), [feed_id])


def failure_backoff(failures: int, retry_after: int | None = None) -> timedelta:
    """Exponential backoff from 15 minutes, capped at 24 hours, with ±10% jitter.

    A failing feed is never dropped: it keeps being retried, slowly. A server's Retry-After
    is honoured when it asks for more patience than the backoff.
    """
    base = MIN_INTERVAL * (2 ** min(failures - 1, 10))
    delay = min(base, MAX_INTERVAL)
    delay *= random.uniform(0.9, 1.1)  # noqa: S311 - jitter, not cryptography
    if retry_after:
        delay = max(delay, timedelta(seconds=min(retry_after, 7 * 24 * 3600)))
    return delay


def _healthy_interval(feed: Feed, max_age: int | None) -> timedelta:
    """Poll busy feeds often and quiet ones rarely: half the median gap between recent entries.

    Bounded to [15 min, 24 h]; never more often than the server's Cache-Control max-age.
    """
    with connection.cursor() as cursor:
        cursor.execute(_RECENT_DATES, [feed.pk])
        # Only their differences count: aware datetimes on PostgreSQL, naive UTC on SQLite.
        dates = [moment for (moment,) in cursor.fetchall()]
    if len(dates) >= 2:
        gaps = [(a - b).total_seconds() for a, b in pairwise(dates)]
        interval = timedelta(seconds=max(statistics.median(gaps), 0) / 2)
    else:
        interval = timedelta(hours=6)
    interval = max(MIN_INTERVAL, min(interval, MAX_INTERVAL))
    if max_age:
        interval = max(interval, min(timedelta(seconds=max_age), MAX_INTERVAL))
    return interval
