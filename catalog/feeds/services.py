"""Writes on feeds: adding (with discovery), queueing polls, trust, OPML import and export.

Everything that changes a Feed row from outside the poller goes through here (the API, the
admin, the management commands); the poller's own writes are in `poll.py` / `store.py` /
`schedule.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from catalog.addresses import InvalidAddress, canonical_url
from catalog.feeds.address import FetchError, check_url
from catalog.feeds.check import (
    FeedAddError,
    feed_address_check,
    feed_address_policy_check,
    feed_check,
)
from catalog.feeds.opml import OpmlError, OpmlOutline, opml_export, opml_parse
from catalog.feeds.poll import fetch_policy
from catalog.feeds.schedule import feed_claim
from catalog.feeds.tasks import feed_check as feed_check_task
from catalog.feeds.tasks import feed_poll
from catalog.history import ADDED, CHANGED, feed_history_add
from catalog.models import Feed, FeedState
from kubelearn.wording import counted

logger = logging.getLogger(__name__)

__all__ = [
    "FeedAddError",
    "OpmlError",
    "OpmlImportResult",
    "QueueUnavailable",
    "feed_add",
    "feed_add_request",
    "feed_address_check",
    "feed_address_policy_check",
    "feed_check",
    "feed_deactivate",
    "feed_poll_enqueue",
    "feed_save",
    "feed_set_trusted",
    "feeds_delete",
    "feeds_export_opml",
    "feeds_import_opml",
    "feeds_poll_enqueue",
]


# --- Adding feeds ------------------------------------------------------------------------------


def feed_add_request(
    *,
    address: str,
    trusted: bool = False,
    author_id: int | None = None,
    title: str = "",
    entry_labels: Mapping[str, Any] | None = None,
) -> tuple[Feed, bool]:
    """Take an address to follow and have a worker check it; returns (feed, queued).

    No network here: the address's syntax is checked at once (FeedAddError), then the feed
    is stored in the CHECKING state and `feed_check` runs in a worker once this transaction
    commits (discovery, then the first poll). Adding an address that is already followed
    returns that feed, unqueued; adding one whose check failed checks it again.
    ``entry_labels``: `entry_stage` and `entry_difficulty` for a new feed.
    """
    address = feed_address_check(address)
    feed_address_policy_check(address)
    with transaction.atomic():
        existing = (
            Feed.objects.select_for_update()
            .filter(Q(url=address) | Q(added_address=address))
            .order_by("pk")
            .first()
        )
        if existing and existing.state != FeedState.FAILED:
            return existing, False
        if existing:
            feed = existing
            feed.state = FeedState.CHECKING
            feed.active = True
            feed.last_error = ""
            feed.save(update_fields=["state", "active", "last_error"])
        else:
            feed = Feed.objects.create(
                url=address,
                added_address=address,
                state=FeedState.CHECKING,
                title=title[:300],
                trusted=trusted,
                author_id=author_id,
                **{
                    name: value
                    for name, value in (entry_labels or {}).items()
                    if name in Feed.ENTRY_LABELS
                },
            )
        _queue_check(feed.pk)
    logger.info("Feed %s queued for its check: %s", feed.pk, address)
    return feed, True


def _queue_check(feed_id: int) -> None:
    """Queue the check once the feed row is committed; a broker that is down only delays it
    (the dispatcher re-queues checks nobody holds, see feeds_claim_unchecked)."""

    def send() -> None:
        if not feed_claim(feed_id=feed_id):
            return
        try:
            feed_check_task.delay(feed_id)
        except Exception as exc:  # kombu raises several types when Redis is gone
            Feed.objects.filter(pk=feed_id).update(claimed_until=None)
            logger.error("Could not queue the check of feed %s: %s", feed_id, exc)

    transaction.on_commit(send)


def feed_add(
    *, address: str, trusted: bool = False, author_id: int | None = None, title: str = ""
) -> Feed:
    """Add a feed and check it now, in this process (management commands, tests).

    The same steps a worker runs for `feed_add_request`; FeedAddError says why the address
    is not a usable feed (the failed feed is then not kept).
    """
    feed, queued = feed_add_request(
        address=address, trusted=trusted, author_id=author_id, title=title
    )
    if queued:
        feed_check(feed_id=feed.pk)  # no-op when an in-process worker has just done it
    checked = Feed.objects.filter(pk=feed.pk).first()
    if checked is None:
        raise FeedAddError("The feed was deleted while it was checked.")
    if checked.state == FeedState.FAILED:
        if queued:  # a failed check of a new address leaves nothing behind
            checked.delete()
        raise FeedAddError(checked.last_error)
    return checked


# --- Queueing polls ----------------------------------------------------------------------------


class QueueUnavailable(Exception):
    """The broker could not take the task; nothing was lost (the scheduler will poll later)."""


def feed_poll_enqueue(*, feed_id: int) -> bool:
    """Claim a feed and queue a poll now. False when a poll of it is already running.

    When the broker is unreachable, the claim is released and QueueUnavailable raised, so
    the feed stays due for the regular dispatcher instead of being silently skipped.
    """
    if not feed_claim(feed_id=feed_id):
        return False
    try:
        feed_poll.delay(feed_id)
    except Exception as exc:  # kombu raises several types when Redis is gone
        Feed.objects.filter(pk=feed_id).update(claimed_until=None)
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


# --- Edits, trust and deactivation -------------------------------------------------------------


@transaction.atomic
def feed_save(*, feed: Feed, fields: dict[str, Any] | None = None) -> Feed:
    """Save a curator's edit of a feed (title, author, trust, active, new entries' labels).

    Feeds are not content learners see: their resources are, and those change only through
    polls and curation, so no catalog change is announced here.
    """
    for name, value in (fields or {}).items():
        setattr(feed, name, value)
    feed.save()
    return feed


@transaction.atomic
def feeds_delete(*, feeds: QuerySet[Feed]) -> int:
    """Remove feeds with their poll history; their resources stay (their `feed` becomes empty).

    Deletion wins over a poll in flight, whatever the order: we lock the rows first (the
    poller takes the same lock before it writes), so the delete sees every history row a
    poll committed, and a poll that finishes after us finds no feed and writes nothing.
    """
    ids = list(
        Feed.objects.select_for_update()
        .filter(pk__in=feeds.values("pk"))
        .order_by("pk")  # one lock order for every deleter: no deadlock between two deletes
        .values_list("pk", flat=True)
    )
    Feed.objects.filter(pk__in=ids).delete()
    logger.info("Feeds deleted: %s", ids)
    return len(ids)


def feed_set_trusted(*, feed_ids: list[int], trusted: bool, by: Any = None) -> int:
    """Trust the feeds (their entries are approved at once) or stop trusting them. Each feed
    whose trust changed says so in its History, by `by`."""
    with transaction.atomic():
        feeds = Feed.objects.filter(pk__in=feed_ids)
        changed = list(feeds.exclude(trusted=trusted).values_list("pk", flat=True))
        count = feeds.update(trusted=trusted)
        feed_history_add(
            by=by,
            feed_ids=changed,
            flag=CHANGED,
            message=(
                "Trusted: its entries are approved at once."
                if trusted
                else "No longer trusted: its entries wait for review."
            ),
        )
    return count


def feed_deactivate(*, feed_ids: list[int], reason: str, by: Any = None) -> int:
    with transaction.atomic():
        feeds = Feed.objects.filter(pk__in=feed_ids, active=True)
        changed = list(feeds.values_list("pk", flat=True))
        count = feeds.update(active=False, deactivated_reason=reason)
        feed_history_add(by=by, feed_ids=changed, flag=CHANGED, message="Deactivated.")
    return count


# --- OPML --------------------------------------------------------------------------------------


@dataclass
class OpmlImportResult:
    added: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{counted(len(self.added), 'feed')} added, {len(self.existing)} already present"
        if self.refused:
            reasons = "; ".join(f"{url}: {why}" for url, why in self.refused[:5])
            text += f", {len(self.refused)} refused ({reasons})"
        return text + "."


def feeds_import_opml(*, content: bytes, trusted: bool = False, by: Any = None) -> OpmlImportResult:
    """Add every feed in an OPML document. Addresses get the same safety checks as any feed;
    their content is checked at their first poll, which is due at once. Each feed added says
    so in its History, by `by`."""
    unusable: list[str] = []
    outlines = opml_parse(content, unusable=unusable)
    policy = fetch_policy()
    result = OpmlImportResult()
    added_ids: list[int] = []
    # Said in the summary, not only logged: a curator counted 4 of 5 outlines accounted for.
    result.refused += [(address, "not an http(s) feed address") for address in unusable]
    for outline in outlines:
        try:
            url = canonical_url(outline.xml_url)
            check_url(
                url,
                allow_private_networks=policy.allow_private_networks,
                allowed_networks=policy.allowed_networks,
            )
        except (InvalidAddress, FetchError) as exc:
            result.refused.append((outline.xml_url, str(exc)))
            continue
        with transaction.atomic():
            feed, created = Feed.objects.get_or_create(
                url=url,
                defaults={
                    "title": outline.title[:300],
                    "site_url": _safe_site(outline.html_url),
                    "trusted": trusted,
                    "next_poll_at": timezone.now(),
                },
            )
        (result.added if created else result.existing).append(url)
        if created:
            added_ids.append(feed.pk)
    # One History entry per feed added, written together (not two queries per feed).
    feed_history_add(
        by=by,
        feed_ids=added_ids,
        flag=ADDED,
        message="Added from an OPML import"
        + (", trusted: its entries are approved at once." if trusted else "."),
    )
    logger.info("OPML import: %s", result.summary())
    return result


def _safe_site(address: str | None) -> str:
    if not address:
        return ""
    try:
        return canonical_url(address)
    except InvalidAddress:
        return ""


def feeds_export_opml(*, feeds: Iterable[Feed]) -> bytes:
    outlines = [
        OpmlOutline(
            xml_url=feed.url,
            title=feed.title,
            html_url=feed.site_url or None,
            category=feed.author.name if feed.author else None,
        )
        for feed in feeds
    ]
    return opml_export(outlines)
