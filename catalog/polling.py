"""Feed polling: fetch (safely), parse, upsert entries as resources, schedule the next poll.

Everything here is safe to run twice: entries are upserted by (feed, entry key) and, across
feeds, by canonical address, so a redelivered task, two feeds carrying one post, or a worker
killed mid-poll never create a duplicate.
"""

from __future__ import annotations

import hashlib
import logging
import random
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from catalog import fetching
from catalog.addresses import InvalidAddress, canonical_url
from catalog.models import Feed, FeedPoll, Origin, Resource, Stage, Status, Tag
from catalog.parsing import NotAFeed, ParsedEntry, ParsedFeed, parse_feed
from catalog.services import catalog_changed_notify

logger = logging.getLogger(__name__)

MIN_INTERVAL = timedelta(minutes=15)
MAX_INTERVAL = timedelta(hours=24)
# How long a dispatcher's claim on a feed lasts; past it, a feed whose poll died is due again.
CLAIM_LEASE = timedelta(minutes=10)
POLLS_KEPT_PER_FEED = 50


class FeedAddError(ValueError):
    """The address could not be turned into a feed; the message says why, for a person."""


@dataclass
class PollReport:
    feed_id: int
    outcome: str = FeedPoll.Outcome.OK
    http_status: int | None = None
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    error: str = ""
    warning: str = ""
    new_resource_ids: list[int] = field(default_factory=list)


def fetch_policy() -> fetching.FetchPolicy:
    return fetching.FetchPolicy(
        allow_private_networks=settings.FEEDS_ALLOW_PRIVATE_NETWORKS,
        allowed_networks=tuple(settings.FEEDS_ALLOWED_NETWORKS),
        max_bytes=settings.FEEDS_MAX_BYTES,
        connect_timeout=settings.FEEDS_CONNECT_TIMEOUT,
        read_timeout=settings.FEEDS_READ_TIMEOUT,
        total_deadline=settings.FEEDS_TOTAL_DEADLINE,
    )


# --- Adding feeds ------------------------------------------------------------------------------


def feed_add(
    *, address: str, trusted: bool = False, author_id: int | None = None, title: str = ""
) -> Feed:
    """Add a feed by its own address or by a page that links to it.

    The address is fetched under the same rules as every poll (no private networks, size
    and time caps). An HTML page is searched for `<link rel="alternate">` feeds, then the
    usual paths (/feed, /atom.xml, /index.xml…). Adding a feed that exists returns it.
    """
    try:
        address = canonical_url(address)
    except InvalidAddress as exc:
        raise FeedAddError(str(exc)) from exc
    policy = fetch_policy()
    try:
        fetching.check_url(
            address,
            allow_private_networks=policy.allow_private_networks,
            allowed_networks=policy.allowed_networks,
        )
    except fetching.UnsafeURLError as exc:
        raise FeedAddError(str(exc)) from exc
    existing = Feed.objects.filter(url=address).first()
    if existing:
        return existing
    feed_url, parsed = _discover(address, policy)
    existing = Feed.objects.filter(url=feed_url).first()
    if existing:
        return existing
    feed = Feed.objects.create(
        url=feed_url,
        site_url=parsed.site_url or "",
        title=(title or parsed.title)[:300],
        trusted=trusted,
        author_id=author_id,
        next_poll_at=timezone.now(),
    )
    logger.info("Feed %s added: %s", feed.pk, feed.url)
    return feed


def _try_feed(url: str, policy: fetching.FetchPolicy) -> tuple[fetching.FetchResult, ParsedFeed]:
    result = fetching.fetch(url, policy=policy)
    if result.status != 200:
        raise FeedAddError(f"{url} answered HTTP {result.status}.")
    return result, parse_feed(
        result.content, url=result.final_url, content_type=result.content_type
    )


def _discover(address: str, policy: fetching.FetchPolicy) -> tuple[str, ParsedFeed]:
    try:
        result = fetching.fetch(address, policy=policy)
    except fetching.FetchError as exc:
        raise FeedAddError(f"Could not fetch {address}: {exc}") from exc
    if result.status != 200:
        raise FeedAddError(f"{address} answered HTTP {result.status}.")
    try:
        parsed = parse_feed(result.content, url=result.final_url, content_type=result.content_type)
        return canonical_url(result.final_url), parsed
    except NotAFeed:
        pass
    candidates = fetching.discover_feed_urls(result.final_url, result.content)
    candidates += [
        url for url in fetching.candidate_feed_urls(result.final_url) if url not in candidates
    ]
    for candidate in candidates[:12]:
        try:
            found, parsed = _try_feed(candidate, policy)
        except (fetching.FetchError, NotAFeed, FeedAddError):
            continue
        return canonical_url(found.final_url), parsed
    raise FeedAddError(
        f"No RSS or Atom feed found at {address}: the page links to none and none of the "
        "usual feed paths answered with a feed."
    )


# --- Dispatching -------------------------------------------------------------------------------


def feeds_claim_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Claim feeds that are due, each with a conditional UPDATE, and return their ids.

    A feed is due when it is active, its next poll time has passed, and no unexpired claim
    is on it. Only the caller whose UPDATE changed the row polls it, so two dispatchers
    (or a redelivered dispatch) never enqueue one feed twice at once.
    """
    now = now or timezone.now()
    due = Q(active=True, next_poll_at__lte=now) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )
    candidates = list(
        Feed.objects.filter(due).order_by("next_poll_at").values_list("pk", flat=True)[:limit]
    )
    claimed = []
    for feed_id in candidates:
        if Feed.objects.filter(due, pk=feed_id).update(claimed_until=now + CLAIM_LEASE):
            claimed.append(feed_id)
    return claimed


def feed_claim(*, feed_id: int, now: datetime | None = None) -> bool:
    """Claim one feed for an on-demand poll ("poll now"), unless a poll already holds it."""
    now = now or timezone.now()
    return bool(
        Feed.objects.filter(pk=feed_id)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + CLAIM_LEASE)
    )


# --- Polling -----------------------------------------------------------------------------------


def feed_poll(*, feed_id: int) -> PollReport:
    """Poll one feed now and record the outcome on the feed and in its poll history.

    Network and parsing happen outside any transaction; the entries, the feed's health and
    the history row are then written in one transaction (one commit per poll).

    Network errors that deserve a retry are re-raised as `fetching.FetchError` with
    `retryable=True` *after* the failure is recorded, so the task can retry with backoff.
    """
    feed = Feed.objects.get(pk=feed_id)
    started = timezone.now()
    report = PollReport(feed_id=feed.pk)
    retry_error: fetching.FetchError | None = None
    result: fetching.FetchResult | None = None
    parsed: ParsedFeed | None = None
    try:
        result = fetching.fetch(
            feed.url,
            etag=feed.etag or None,
            last_modified=feed.last_modified or None,
            policy=fetch_policy(),
        )
        report.http_status = result.status
        if result.not_modified:
            report.outcome = FeedPoll.Outcome.NOT_MODIFIED
        elif result.status == 410:
            report.outcome = FeedPoll.Outcome.GONE
            report.error = "The server says the feed is gone for good (HTTP 410)."
        elif result.status != 200:
            report.outcome = FeedPoll.Outcome.FAILED
            report.error = f"HTTP {result.status}"
        else:
            parsed = parse_feed(
                result.content, url=result.final_url, content_type=result.content_type
            )
            report.warning = parsed.warning or ""
            report.skipped = parsed.skipped_without_link
    except fetching.FetchError as exc:
        report.outcome = FeedPoll.Outcome.FAILED
        report.error = str(exc)
        if exc.retryable:
            retry_error = exc
    except NotAFeed as exc:
        report.outcome = FeedPoll.Outcome.FAILED
        report.error = str(exc)
    with transaction.atomic():
        _relax_commit_durability()
        if result is not None and parsed is not None:
            _update_validators(feed, result)
            _store_entries(feed, parsed, report)
            if not feed.title and parsed.title:
                feed.title = parsed.title[:300]
            if not feed.site_url and parsed.site_url:
                feed.site_url = parsed.site_url
        if result is not None and result.permanent_url and result.permanent_url != feed.url:
            _move_feed(feed, result.permanent_url)
        _record(
            feed,
            report,
            started=started,
            retry_after=result.retry_after if result else None,
            max_age=result.cache_max_age if result else None,
        )
    if retry_error is not None:
        raise retry_error
    return report


def _relax_commit_durability() -> None:
    """PostgreSQL: don't wait for the WAL flush when committing a poll.

    A crash may lose the last moments of polls, never corrupt anything, and polling is
    idempotent: the next poll stores what was lost. Waiting for the disk on every poll
    would otherwise be most of the cost of an unchanged (304) feed.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _update_validators(feed: Feed, result: fetching.FetchResult) -> None:
    feed.etag = (result.etag or "")[:500]
    feed.last_modified = (result.last_modified or "")[:100]


def _move_feed(feed: Feed, new_url: str) -> None:
    """Follow a permanent redirect (already checked hop by hop by the fetcher)."""
    new_url = canonical_url(new_url)
    if Feed.objects.filter(url=new_url).exclude(pk=feed.pk).exists():
        logger.warning(
            "Feed %s moved to %s, which is already a feed; keeping both", feed.pk, new_url
        )
        return
    logger.info("Feed %s moved permanently: %s -> %s", feed.pk, feed.url, new_url)
    feed.url = new_url


def _store_entries(feed: Feed, parsed: ParsedFeed, report: PollReport) -> None:
    """Store a document's entries in one transaction: one read, one bulk insert.

    All or nothing per document: a worker killed halfway leaves nothing half-stored, and
    the redelivered poll stores everything once. If a concurrent writer got in first (a
    unique constraint fires), the entries are stored one by one instead, each idempotent.
    """
    status = Status.APPROVED if feed.trusted else Status.PENDING
    entries = parsed.entries
    if not entries:
        return
    try:
        with transaction.atomic():
            outcomes = _store_batch(feed, entries, status)
    except IntegrityError:
        logger.info("Feed %s: concurrent write detected; storing entries one by one", feed.pk)
        outcomes = [_upsert_entry(feed, entry, status) for entry in entries]
    for outcome, resource_id in outcomes:
        if outcome == "new":
            report.new += 1
            report.new_resource_ids.append(resource_id)
        elif outcome == "updated":
            report.updated += 1
        else:
            report.unchanged += 1
    if feed.trusted and (report.new or report.updated):
        # Only approved content matters to learners; pending entries change nothing yet.
        catalog_changed_notify()


def _store_batch(
    feed: Feed, entries: tuple[ParsedEntry, ...], status: str
) -> list[tuple[str, int]]:
    keys = [entry.key for entry in entries]
    urls = [entry.url for entry in entries]
    known = list(
        Resource.objects.filter(Q(feed=feed, entry_key__in=keys) | Q(url__in=urls)).only(
            "pk",
            "feed_id",
            "entry_key",
            "url",
            "status",
            "title",
            "summary",
            "content_html",
            "published_at",
            "estimated_minutes",
        )
    )
    by_key = {r.entry_key: r for r in known if r.feed_id == feed.pk and r.entry_key}
    by_url = {r.url: r for r in known}
    now = timezone.now()
    outcomes: list[tuple[str, int] | None] = []
    fresh: list[tuple[int, Resource, ParsedEntry]] = []
    for entry in entries:
        existing = by_key.get(entry.key) or by_url.get(entry.url)
        if existing is not None:
            outcomes.append((_refresh(existing, feed, entry), existing.pk))
            continue
        resource = _entry_resource(feed, entry, status, now)
        resource.slug = _entry_slug(entry)
        # Remember it so a second entry with the same address in this document is a repeat.
        by_url[entry.url] = resource
        fresh.append((len(outcomes), resource, entry))
        outcomes.append(None)
    created = Resource.objects.bulk_create([resource for _, resource, _ in fresh])
    _link_taxonomy(
        feed, [(resource, entry) for (_, _, entry), resource in zip(fresh, created, strict=True)]
    )
    for (index, _, _), resource in zip(fresh, created, strict=True):
        outcomes[index] = ("new", resource.pk)
    return [outcome for outcome in outcomes if outcome is not None]


def _entry_resource(feed: Feed, entry: ParsedEntry, status: str, now: datetime) -> Resource:
    """An unsaved resource for a feed entry (stage and labels come from curators later)."""
    return Resource(
        title=entry.title[:300],
        url=entry.url,
        kind="article",
        summary=entry.summary,
        content_html=entry.content_html,
        published_at=entry.published_at,
        estimated_minutes=entry.estimated_minutes,
        stage=Stage.GETTING_STARTED,
        status=status,
        origin=Origin.FEED,
        feed=feed,
        entry_key=entry.key,
        reviewed_at=now if status == Status.APPROVED else None,
    )


def _entry_slug(entry: ParsedEntry) -> str:
    """A slug unique without a query: the title plus a short hash of the (unique) address."""
    digest = hashlib.sha1(entry.url.encode(), usedforsecurity=False).hexdigest()[:10]
    return f"{slugify(entry.title)[:100] or 'entry'}-{digest}"


def _link_taxonomy(feed: Feed, pairs: list[tuple[Resource, ParsedEntry]]) -> None:
    if not pairs:
        return
    if feed.author_id:
        Resource.authors.through.objects.bulk_create(
            [
                Resource.authors.through(resource_id=resource.pk, author_id=feed.author_id)
                for resource, _ in pairs
            ]
        )
    wanted = {tag for _, entry in pairs for tag in entry.tags}
    if not wanted:
        return
    tag_ids = dict(Tag.objects.filter(slug__in=wanted).values_list("slug", "pk"))
    Resource.tags.through.objects.bulk_create(
        [
            Resource.tags.through(resource_id=resource.pk, tag_id=tag_ids[slug])
            for resource, entry in pairs
            for slug in set(entry.tags)
            if slug in tag_ids
        ]
    )


def _upsert_entry(feed: Feed, entry: ParsedEntry, status: str) -> tuple[str, int]:
    """Store one entry once (the slow, always-correct path). Returns (outcome, resource id)."""
    with transaction.atomic():
        existing = (
            Resource.objects.select_for_update()
            .filter(Q(feed=feed, entry_key=entry.key) | Q(url=entry.url))
            .order_by("pk")
            .first()
        )
        if existing is not None:
            return _refresh(existing, feed, entry), existing.pk
        try:
            with transaction.atomic():
                resource = _entry_resource(feed, entry, status, timezone.now())
                resource.save()
        except IntegrityError:
            # Another poll stored it between our read and our insert: it is there once.
            return "unchanged", _find(feed, entry)
        _link_taxonomy(feed, [(resource, entry)])
    return "new", resource.pk


def _find(feed: Feed, entry: ParsedEntry) -> int:
    return (
        Resource.objects.filter(Q(feed=feed, entry_key=entry.key) | Q(url=entry.url))
        .values_list("pk", flat=True)
        .first()
        or 0
    )


def _refresh(resource: Resource, feed: Feed, entry: ParsedEntry) -> str:
    """Update a stored entry the author edited, while it still awaits review.

    Once a curator has approved or rejected a resource, their version wins: later feed
    edits do not overwrite it. A resource found by address from another source (a curated
    one, or another feed) is left as it is.
    """
    if resource.feed_id != feed.pk or resource.status != Status.PENDING:
        return "unchanged"
    changes = {
        "title": entry.title[:300],
        "summary": entry.summary,
        "content_html": entry.content_html,
        "published_at": entry.published_at,
        "estimated_minutes": entry.estimated_minutes,
    }
    changed = {k: v for k, v in changes.items() if getattr(resource, k) != v}
    if not changed:
        return "unchanged"
    Resource.objects.filter(pk=resource.pk).update(**changed, updated_at=timezone.now())
    return "updated"


# --- Scheduling --------------------------------------------------------------------------------


def _record(
    feed: Feed,
    report: PollReport,
    *,
    started: datetime,
    retry_after: int | None,
    max_age: int | None,
) -> None:
    now = timezone.now()
    feed.last_polled_at = now
    feed.last_status = report.http_status
    feed.last_warning = report.warning
    if report.outcome in (FeedPoll.Outcome.OK, FeedPoll.Outcome.NOT_MODIFIED):
        feed.consecutive_failures = 0
        feed.last_error = ""
        feed.last_success_at = now
        feed.poll_interval = int(_healthy_interval(feed, max_age).total_seconds())
        feed.next_poll_at = now + timedelta(seconds=feed.poll_interval)
    elif report.outcome == FeedPoll.Outcome.GONE:
        feed.active = False
        feed.deactivated_reason = report.error
        feed.last_error = report.error
        logger.warning("Feed %s deactivated: %s", feed.pk, report.error)
    else:
        feed.consecutive_failures += 1
        feed.last_error = report.error[:2000]
        feed.next_poll_at = now + failure_backoff(feed.consecutive_failures, retry_after)
        logger.warning(
            "Feed %s failed (%s in a row): %s", feed.pk, feed.consecutive_failures, report.error
        )
    feed.claimed_until = None
    feed.save()
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
    stale = feed.polls.order_by("-started_at").values_list("pk", flat=True)[POLLS_KEPT_PER_FEED:]
    FeedPoll.objects.filter(pk__in=list(stale)).delete()


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
    dates = list(
        Resource.objects.filter(feed=feed, published_at__isnull=False)
        .order_by("-published_at")
        .values_list("published_at", flat=True)[:10]
    )
    if len(dates) >= 2:
        gaps = [(a - b).total_seconds() for a, b in pairwise(dates)]
        interval = timedelta(seconds=max(statistics.median(gaps), 0) / 2)
    else:
        interval = timedelta(hours=6)
    interval = max(MIN_INTERVAL, min(interval, MAX_INTERVAL))
    if max_age:
        interval = max(interval, min(timedelta(seconds=max_age), MAX_INTERVAL))
    return interval
