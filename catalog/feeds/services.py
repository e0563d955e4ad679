"""Writes on feeds: adding (with discovery), queueing polls, trust, OPML import and export.

Everything that changes a Feed row from outside the poller goes through here (the API, the
admin, the management commands); the poller's own writes are in `poll.py` / `store.py` /
`schedule.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from catalog.addresses import InvalidAddress, canonical_url
from catalog.feeds.address import FetchError, FetchPolicy, UnsafeURLError, check_url, split_url
from catalog.feeds.discovery import candidate_feed_urls, discover_feed_urls
from catalog.feeds.fetch import FetchResult, fetch
from catalog.feeds.opml import OpmlError, OpmlOutline, opml_export, opml_parse
from catalog.feeds.parse import NotAFeed, ParsedFeed, parse_feed
from catalog.feeds.poll import fetch_policy
from catalog.feeds.schedule import feed_claim
from catalog.feeds.tasks import feed_poll
from catalog.feeds.transport import Deadline
from catalog.models import Feed

logger = logging.getLogger(__name__)

__all__ = [
    "FeedAddError",
    "OpmlError",
    "OpmlImportResult",
    "QueueUnavailable",
    "feed_add",
    "feed_address_check",
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


class FeedAddError(ValueError):
    """The address could not be turned into a feed; the message says why, for a person."""


def feed_address_check(address: str) -> str:
    """The canonical form of a feed address, or FeedAddError saying why it can never be one.

    Syntax only (scheme, credentials, host, port): no network. Forms use it to answer at once;
    feed_add and every fetch still check where the host resolves to.
    """
    try:
        address = canonical_url(address)
        split_url(address)
    except (InvalidAddress, UnsafeURLError) as exc:
        raise FeedAddError(str(exc)) from exc
    return address


def feed_add(
    *, address: str, trusted: bool = False, author_id: int | None = None, title: str = ""
) -> Feed:
    """Add a feed by its own address or by a page that links to it.

    The address is fetched under the same rules as every poll (no private networks, size
    and time caps). An HTML page is searched for `<link rel="alternate">` feeds, then the
    usual paths (/feed, /atom.xml, /index.xml…). Adding a feed that exists returns it.
    """
    address = feed_address_check(address)
    policy = fetch_policy()
    try:
        check_url(
            address,
            allow_private_networks=policy.allow_private_networks,
            allowed_networks=policy.allowed_networks,
        )
    except FetchError as exc:  # unsafe, or a host name that does not resolve
        raise FeedAddError(str(exc)) from exc
    existing = Feed.objects.filter(url=address).first()
    if existing:
        return existing
    feed_url, parsed = feed_discover(address, policy)
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


def _try_feed(url: str, policy: FetchPolicy, deadline: Deadline) -> tuple[FetchResult, ParsedFeed]:
    result = fetch(url, policy=policy, deadline=deadline)
    if result.status != 200:
        raise FeedAddError(f"{url} answered HTTP {result.status}.")
    return result, parse_feed(
        result.content, url=result.final_url, content_type=result.content_type
    )


def feed_discover(address: str, policy: FetchPolicy) -> tuple[str, ParsedFeed]:
    """The feed at an address, or at one the page there points to.

    One deadline (the policy's total) covers the page and every candidate together, so a
    page advertising a dozen slow links cannot make one add take a dozen deadlines.
    """
    deadline = Deadline(policy.total_deadline)
    try:
        result = fetch(address, policy=policy, deadline=deadline)
    except FetchError as exc:
        raise FeedAddError(f"Could not fetch {address}: {exc}") from exc
    if result.status != 200:
        raise FeedAddError(f"{address} answered HTTP {result.status}.")
    try:
        parsed = parse_feed(result.content, url=result.final_url, content_type=result.content_type)
        return canonical_url(result.final_url), parsed
    except NotAFeed as exc:
        page_error = exc
    candidates = discover_feed_urls(result.final_url, result.content)
    candidates += [url for url in candidate_feed_urls(result.final_url) if url not in candidates]
    for candidate in candidates[:12]:
        try:
            found, parsed = _try_feed(candidate, policy, deadline)
        except (FetchError, NotAFeed, FeedAddError):
            if deadline.remaining() <= 0:
                raise FeedAddError(
                    f"Gave up looking for a feed at {address}: the page and the addresses it "
                    f"points to took longer than {policy.total_deadline:g} s together."
                ) from None
            continue
        return canonical_url(found.final_url), parsed
    if page_error.kind != "html":
        # Not a page that could link to a feed, and none of the usual paths had one: the
        # document's own problem is the reason (a JSON Feed, refused entity declarations...).
        raise FeedAddError(str(page_error))
    raise FeedAddError(
        f"No RSS or Atom feed found at {address}: the page links to none and none of the "
        "usual feed paths answered with a feed."
    )


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
    """Save a curator's edit of a feed (title, author, trust, active).

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


def feed_set_trusted(*, feed_ids: list[int], trusted: bool) -> int:
    with transaction.atomic():
        return Feed.objects.filter(pk__in=feed_ids).update(trusted=trusted)


def feed_deactivate(*, feed_ids: list[int], reason: str) -> int:
    with transaction.atomic():
        return Feed.objects.filter(pk__in=feed_ids, active=True).update(
            active=False, deactivated_reason=reason
        )


# --- OPML --------------------------------------------------------------------------------------


@dataclass
class OpmlImportResult:
    added: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{len(self.added)} feed(s) added, {len(self.existing)} already present"
        if self.refused:
            reasons = "; ".join(f"{url}: {why}" for url, why in self.refused[:5])
            text += f", {len(self.refused)} refused ({reasons})"
        return text + "."


def feeds_import_opml(*, content: bytes, trusted: bool = False) -> OpmlImportResult:
    """Add every feed in an OPML document. Addresses get the same safety checks as any feed;
    their content is checked at their first poll, which is due at once."""
    outlines = opml_parse(content)
    policy = fetch_policy()
    result = OpmlImportResult()
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
            _, created = Feed.objects.get_or_create(
                url=url,
                defaults={
                    "title": outline.title[:300],
                    "site_url": _safe_site(outline.html_url),
                    "trusted": trusted,
                    "next_poll_at": timezone.now(),
                },
            )
        (result.added if created else result.existing).append(url)
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
