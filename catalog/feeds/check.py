"""Checking an address a curator added: is it a feed, or a page that links to one?

Runs in a worker (catalog.tasks.feed_check), never in the request that added the address, so
a stranger's slow server holds no web worker. The address is fetched under the same rules as
every poll (no private networks, size caps, one total deadline for the page and every
candidate together).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from catalog.addresses import InvalidAddress, canonical_url
from catalog.feeds.address import (
    FetchError,
    FetchPolicy,
    UnsafeURLError,
    check_url,
    is_ip_literal,
    literal_ip,
    split_url,
)
from catalog.feeds.discovery import candidate_feed_urls, discover_feed_urls
from catalog.feeds.fetch import FetchResult, fetch
from catalog.feeds.parse import NotAFeed, ParsedFeed, parse_feed
from catalog.feeds.poll import fetch_policy
from catalog.feeds.transport import Deadline
from catalog.models import Feed, FeedState

logger = logging.getLogger(__name__)


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


def feed_address_policy_check(address: str) -> None:
    """Refuse at once an IP-literal or localhost address the fetch policy forbids (no lookup
    is needed to know that 10.0.0.1 is private); host names are resolved and checked by the
    worker."""
    _, host, _ = split_url(address)
    try:
        # An address in a non-standard numeric form (2130706433, 0x7f000001, 127.1) is refused
        # by every fetch; refused here too, it leaves no feed row that can only fail (a
        # walk-through's two did, in the background).
        literal_ip(host.strip("[]"))
    except UnsafeURLError as exc:
        raise FeedAddError(str(exc)) from exc
    # localhost names are loopback by definition (RFC 6761): no stranger's DNS to ask either.
    if not (is_ip_literal(host) or host == "localhost" or host.endswith(".localhost")):
        return
    policy = fetch_policy()
    try:
        check_url(
            address,
            allow_private_networks=policy.allow_private_networks,
            allowed_networks=policy.allowed_networks,
        )
    except FetchError as exc:
        raise FeedAddError(str(exc)) from exc


def feed_check(*, feed_id: int) -> Feed | None:
    """Fetch a CHECKING feed's address, find its feed, and make it READY (or FAILED, saying why).

    Runs in a worker. Idempotent: a feed that is no longer CHECKING (checked already,
    deleted) is left alone, so a redelivered task does nothing twice.
    """
    feed = Feed.objects.filter(pk=feed_id, state=FeedState.CHECKING).first()
    if feed is None:
        return None
    address = feed.added_address or feed.url
    try:
        feed_url, parsed = _feed_find(address)
    except FeedAddError as exc:
        return _check_failed(feed_id, str(exc))
    with transaction.atomic():
        feed = Feed.objects.select_for_update().filter(pk=feed_id).first()
        if feed is None or feed.state != FeedState.CHECKING:
            return feed  # deleted or finished by someone else while we fetched
        twin = Feed.objects.filter(url=feed_url).exclude(pk=feed_id).first()
        if twin is not None:
            return _check_failed(
                feed_id,
                f"{address} leads to {feed_url}, which is already followed as feed #{twin.pk}.",
            )
        feed.url = feed_url
        feed.site_url = parsed.site_url or ""
        feed.title = (feed.title or parsed.title)[:300]
        feed.state = FeedState.READY
        feed.next_poll_at = timezone.now()
        feed.claimed_until = None
        feed.save()
    logger.info("Feed %s checked: %s", feed_id, feed_url)
    return feed


def _check_failed(feed_id: int, reason: str) -> Feed | None:
    Feed.objects.filter(pk=feed_id, state=FeedState.CHECKING).update(
        state=FeedState.FAILED, active=False, last_error=reason, claimed_until=None
    )
    logger.info("Feed %s failed its check: %s", feed_id, reason)
    return Feed.objects.filter(pk=feed_id).first()


def _feed_find(address: str) -> tuple[str, ParsedFeed]:
    policy = fetch_policy()
    try:
        check_url(
            address,
            allow_private_networks=policy.allow_private_networks,
            allowed_networks=policy.allowed_networks,
        )
    except FetchError as exc:  # unsafe, or a host name that does not resolve
        raise FeedAddError(str(exc)) from exc
    return feed_discover(address, policy)


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
        # Most fetch errors name the address already ("Could not fetch …: refused").
        reason = str(exc)
        raise FeedAddError(
            reason if address in reason else f"Could not fetch {address}: {reason}"
        ) from exc
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
