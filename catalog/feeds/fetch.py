"""Step 4: fetch feed documents from addresses that users typed in, without trusting them.

Every feed address points at a server we do not control, so each fetch is treated as
hostile input (the defences live in the steps before this one; ``fetch()`` ties them
together and follows redirects by hand):

* Server-side request forgery: a user must not be able to make us talk to
  loopback, the cloud metadata service (169.254.169.254), the cluster network
  or anything else that is not on the public internet. Every address a host
  resolves to is checked (not just the first), on the first request and on
  every redirect hop.
* DNS rebinding: checking a name and then letting the HTTP stack resolve it
  again would let a hostile DNS server answer "public" to the check and
  "127.0.0.1" to the connect. The transport below resolves once, checks, and
  connects to exactly the address it checked, while TLS still verifies the
  certificate against the original host name (via httpcore's ``sni_hostname``
  request extension).
* Resource exhaustion: a wall-clock deadline spans the whole fetch (DNS,
  redirects, slow-drip bodies), and the body is capped *after* decompression,
  with our own bounded decompressor, so a gzip bomb costs at most the cap in
  memory rather than whatever a single network read inflates to.

Non-2xx responses are results, not exceptions: callers need the status of a
410, 429 or 503 (and its Retry-After) to schedule the next poll.

This module, like every step up to parsing, is deliberately free of Django imports so it
can be used and tested on its own (Celery workers, management commands, plain pytest).
"""

from __future__ import annotations

import email.utils
import logging
import math
import os
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from catalog.feeds.address import (
    DEFAULT_POLICY,
    ContentDecodingError,
    FetchError,
    FetchPolicy,
    FetchTimeout,
    NetworkError,
    TooManyRedirects,
    UnsafeURLError,
    split_url,
)
from catalog.feeds.decoding import drain, read_body
from catalog.feeds.transport import Deadline, PinnedTransport, deadline_active

logger = logging.getLogger(__name__)

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_PERMANENT_REDIRECT_STATUSES = frozenset({301, 308})

_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, "
    "application/json;q=0.8, */*;q=0.5"
)
# Only encodings our bounded decompressor understands. httpx would otherwise
# advertise br/zstd whenever those optional packages happen to be installed.
_ACCEPT_ENCODING = "gzip, deflate"


@dataclass(frozen=True)
class FetchResult:
    """What the poller needs from a response, whatever its status.

    ``permanent_url`` is set only when the fetch went through at least one
    redirect, every hop was permanent (301/308), and the final response was
    2xx or 304: then the stored feed address should be updated. A permanent
    redirect that ends in an error page is not trusted enough to rewrite the
    stored address.

    For a 304 whose response omits ETag/Last-Modified, the values that were
    sent are echoed back, so callers can always store ``etag``/
    ``last_modified`` as-is.
    """

    status: int
    final_url: str
    permanent_url: str | None
    content: bytes
    etag: str | None
    last_modified: str | None
    content_type: str | None
    retry_after: int | None
    cache_max_age: int | None
    elapsed: float
    redirects: int = 0

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def ok(self) -> bool:
        """2xx or 304: the feed is alive and the stored copy is (now) current."""
        return 200 <= self.status < 300 or self.status == 304


# --------------------------------------------------------------------------
# Header parsing
# --------------------------------------------------------------------------


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> int | None:
    """Retry-After as whole seconds from now (delta-seconds or HTTP-date).

    Dates in the past give 0; anything unparseable gives None rather than an
    error, because a broken header must not fail an otherwise good fetch.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # HTTP-dates are always GMT
    now = now or datetime.now(UTC)
    return max(0, math.ceil((when - now).total_seconds()))


def parse_cache_max_age(value: str | None) -> int | None:
    """The max-age directive of a Cache-Control header, in seconds."""
    if not value:
        return None
    for directive in value.split(","):
        name, _, argument = directive.strip().partition("=")
        if name.strip().lower() == "max-age":
            argument = argument.strip().strip('"')
            if argument.isascii() and argument.isdigit():
                return int(argument)
            return None
    return None


_HEADER_VALUE_RE = re.compile(r"[\x20-\x7e\t]*")


def _safe_header_value(value: str | None) -> str | None:
    # Stored validators came from a server; never let one smuggle a newline
    # (or anything h11 would reject) into our request.
    if value and _HEADER_VALUE_RE.fullmatch(value):
        return value
    if value:
        logger.debug("Dropping unsendable validator %r", value)
    return None


# --------------------------------------------------------------------------
# Sessions: connections kept alive between fetches
# --------------------------------------------------------------------------


class FetchSession:
    """One policy and a pinned transport that keeps connections alive between fetches.

    A poller fetching many feeds from one host (a blog platform, a planet) otherwise pays a
    TCP (and TLS) handshake per feed. Safe to share between threads. Every request still
    resolves and checks its address first (see `PinnedTransport`); only then is a kept-alive
    connection to that same name and checked address picked. No cookies are kept: each fetch
    gets a client of its own around the shared transport.
    """

    def __init__(self, policy: FetchPolicy = DEFAULT_POLICY) -> None:
        self.policy = policy
        self.transport = PinnedTransport(policy, keep_alive=True)

    def close(self) -> None:
        self.transport.close()


_sessions: dict[tuple[int, FetchPolicy, int], FetchSession] = {}
_sessions_lock = threading.Lock()


def shared_session(policy: FetchPolicy) -> FetchSession:
    """This process's session for ``policy``.

    Keyed by process id too: a forked worker (Celery prefork, `poll_feeds` processes) must
    never write to sockets its parent opened. And by the SSL context's identity, which the
    policy's equality ignores.
    """
    key = (os.getpid(), policy, id(policy.ssl_context))
    with _sessions_lock:
        session = _sessions.get(key)
        if session is None:
            session = _sessions[key] = FetchSession(policy)
        return session


def sessions_close() -> None:
    """Close this process's shared sessions (their idle connections)."""
    with _sessions_lock:
        sessions = list(_sessions.values())
        _sessions.clear()
    for session in sessions:
        session.close()


# --------------------------------------------------------------------------
# fetch()
# --------------------------------------------------------------------------


# A timeout this close to the deadline's end was the deadline's doing.
_DEADLINE_SLACK = 0.05


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    policy: FetchPolicy = DEFAULT_POLICY,
    deadline: Deadline | None = None,
    session: FetchSession | None = None,
    method: str = "GET",
    accept: str = _ACCEPT,
    read_content: bool = True,
) -> FetchResult:
    """GET a feed address safely, following redirects by hand.

    ``method``, ``accept`` and ``read_content`` are for the link checker
    (catalog.health.links): a HEAD, or a GET whose body is not wanted at all
    (``read_content=False``: the response is closed unread and ``content`` is
    empty). Every hop is the same method; the address rules, the deadline and
    the caps are the same as for a feed.

    ``deadline`` lets several fetches share one budget (feed discovery tries many
    addresses within one); by default each fetch gets ``policy.total_deadline``.
    ``session``: reuse its kept-alive connections, under its policy (``policy`` is then
    ignored); without one the fetch opens and closes its own.

    Every redirect hop is re-checked and pinned (by the transport). Conditional
    headers are sent when validators are given, and kept across redirects:
    they describe the feed, not one URL of it.

    Returns a FetchResult for any final status (including 4xx/5xx). Raises a
    FetchError subclass when there is no usable response at all.
    """
    if session is not None:
        policy = session.policy
    deadline = deadline or Deadline(policy.total_deadline)
    deadline.check("before starting")
    split_url(url)  # refuse obviously bad addresses before doing anything

    headers = {
        "User-Agent": policy.user_agent,
        "Accept": accept,
        "Accept-Encoding": _ACCEPT_ENCODING,
    }
    sent_etag = _safe_header_value(etag)
    sent_last_modified = _safe_header_value(last_modified)
    if sent_etag:
        headers["If-None-Match"] = sent_etag
    if sent_last_modified:
        headers["If-Modified-Since"] = sent_last_modified

    transport = session.transport if session is not None else PinnedTransport(policy, deadline)
    client = httpx.Client(
        transport=transport,
        headers=headers,
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(
            policy.read_timeout, connect=policy.connect_timeout, pool=policy.connect_timeout
        ),
    )
    current = url
    hops = 0
    all_permanent = True
    try:
        with deadline_active(deadline), _closing(client, keep_transport=session is not None):
            while True:
                logger.debug("Fetching %s (hop %d)", current, hops)
                response = client.send(client.build_request(method, current), stream=True)
                try:
                    status = response.status_code
                    location = response.headers.get("location")
                    if status in _REDIRECT_STATUSES and location:
                        if hops >= policy.max_redirects:
                            raise TooManyRedirects(
                                f"Gave up after {policy.max_redirects} redirects "
                                f"(the last one pointed from {current} to {location}).",
                                url=url,
                            )
                        target = _redirect_target(current, location)
                        all_permanent = all_permanent and status in _PERMANENT_REDIRECT_STATUSES
                        logger.debug("Redirect %d from %s to %s", status, current, target)
                        # Read its (small) body so the next hop can reuse the connection.
                        drain(response, limit=policy.max_error_body_bytes, deadline=deadline)
                        hops += 1
                        current = target
                        continue
                    return _build_result(
                        response,
                        url=current,
                        hops=hops,
                        all_permanent=all_permanent,
                        policy=policy,
                        deadline=deadline,
                        sent_etag=sent_etag,
                        sent_last_modified=sent_last_modified,
                        read_content=read_content and method != "HEAD",
                    )
                finally:
                    response.close()
    except UnsafeURLError as exc:
        if hops and exc.url is None:
            # Refused by the transport on a redirect hop: say so, since the
            # user never typed this address.
            raise UnsafeURLError(f"Refusing redirect to {current}: {exc}", url=current) from exc
        if exc.url is None:
            exc.url = current
        raise
    except FetchError as exc:
        if exc.url is None:
            exc.url = current
        raise
    except httpx.TimeoutException as exc:
        if deadline.remaining() <= _DEADLINE_SLACK:
            # A socket wait cut short by the deadline (not by the per-read timeout): say so.
            raise FetchTimeout(
                f"Gave up fetching {current}: it took longer than the {deadline.seconds:g}s "
                "total deadline.",
                url=current,
            ) from exc
        raise FetchTimeout(f"Timed out fetching {current}: {_describe(exc)}.", url=current) from exc
    except httpx.TransportError as exc:
        raise NetworkError(f"Could not fetch {current}: {_describe(exc)}.", url=current) from exc
    except httpx.HTTPError as exc:  # e.g. a header httpx cannot represent
        raise FetchError(f"Could not fetch {current}: {_describe(exc)}.", url=current) from exc


class _closing:
    """Close a one-fetch client (and so its transport); leave a session's transport open."""

    def __init__(self, client: httpx.Client, *, keep_transport: bool) -> None:
        self._client = client
        self._keep_transport = keep_transport

    def __enter__(self) -> httpx.Client:
        return self._client

    def __exit__(self, *exc_info: object) -> None:
        if not self._keep_transport:
            self._client.close()


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.rstrip(".")


def _redirect_target(current: str, location: str) -> str:
    try:
        target = str(httpx.URL(current).join(location.strip()))
    except (httpx.InvalidURL, ValueError) as exc:
        raise UnsafeURLError(f"The server redirected to an invalid address {location!r}.") from exc
    # Scheme/credential checks now; DNS checks happen in the transport when
    # the hop is actually requested.
    try:
        split_url(target)
    except UnsafeURLError as exc:
        raise UnsafeURLError(f"Refusing redirect to {target}: {exc}", url=target) from exc
    return target


def _build_result(
    response: httpx.Response,
    *,
    url: str,
    hops: int,
    all_permanent: bool,
    policy: FetchPolicy,
    deadline: Deadline,
    sent_etag: str | None,
    sent_last_modified: str | None,
    read_content: bool = True,
) -> FetchResult:
    status = response.status_code
    if status == 304:
        content = b""
        # Nothing to read, but reading it marks the connection reusable for the next feed.
        drain(response, limit=policy.max_error_body_bytes, deadline=deadline)
    elif not read_content:
        content = b""
    else:
        success = 200 <= status < 300
        try:
            content = read_body(
                response,
                limit=policy.max_bytes if success else policy.max_error_body_bytes,
                strict=success,
                deadline=deadline,
                url=url,
            )
        except ContentDecodingError:
            if success:
                raise
            logger.debug("Undecodable body on %d response from %s", status, url)
            content = b""

    etag = response.headers.get("etag")
    last_modified = response.headers.get("last-modified")
    if status == 304:
        etag = etag or sent_etag
        last_modified = last_modified or sent_last_modified
    good = 200 <= status < 300 or status == 304
    cache_control = ", ".join(response.headers.get_list("cache-control")) or None
    return FetchResult(
        status=status,
        final_url=url,
        permanent_url=url if hops and all_permanent and good else None,
        content=content,
        etag=etag,
        last_modified=last_modified,
        content_type=response.headers.get("content-type"),
        retry_after=parse_retry_after(response.headers.get("retry-after")),
        cache_max_age=parse_cache_max_age(cache_control),
        elapsed=deadline.elapsed(),
        redirects=hops,
    )
