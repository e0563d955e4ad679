"""Checking one address: HEAD through the feed fetcher's safe transport, a GET where HEAD is
refused, and the outcome classified for catalog.health.services to record.

No Django here (like the fetch steps it builds on): the same SSRF rules, pinned DNS, total
deadline and caps as feed polling apply, because this is the same `fetch()` on the same kind
of session. A link check never reads a body: HEAD has none, and the fallback GET is closed
unread (``read_content=False``), so a check costs a status line and headers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import httpx

from catalog.feeds.address import (
    FetchError,
    FetchTimeout,
    TooManyRedirects,
    UnsafeURLError,
    split_url,
)
from catalog.feeds.fetch import FetchResult, FetchSession, fetch

logger = logging.getLogger(__name__)

# Statuses some servers give HEAD but not GET (refused methods, and misconfigured servers that
# answer HEAD with 403/404): a GET decides. A real 404 or 410 costs one more request, which is
# also a second opinion before a resource moves towards "gone".
HEAD_REFUSED = frozenset({400, 403, 404, 405, 410, 501})
NOT_FOUND = frozenset({404, 410})
# Asked to wait without a Retry-After: come back after this long (not a failure).
DEFAULT_RATE_LIMIT_SECONDS = 3600
_ACCEPT = "text/html, application/xhtml+xml, application/pdf;q=0.9, */*;q=0.8"


class Outcome:
    """How one check ended (LinkCheck.outcome)."""

    OK = "ok"
    REDIRECTED = "redirected"
    NOT_FOUND = "not_found"  # 404 / 410: counts towards "gone"
    FAILED = "failed"  # other 4xx/5xx, DNS, timeouts, resets, refused addresses
    RATE_LIMITED = "rate_limited"  # 429, or 503 with Retry-After: wait, not a failure


@dataclass(frozen=True)
class LinkOutcome:
    outcome: str
    url: str
    http_status: int | None = None
    final_url: str = ""
    # Set when every redirect hop was permanent (301/308) and the end answered 2xx.
    permanent_url: str | None = None
    error: str = ""
    retry_after: int | None = None
    elapsed: float = 0.0
    method: str = "HEAD"

    @property
    def alive(self) -> bool:
        return self.outcome in (Outcome.OK, Outcome.REDIRECTED)


def link_check_url(url: str, *, session: FetchSession) -> LinkOutcome:
    """Check one address. Never raises for anything the address or its server does."""
    try:
        split_url(url)
    except UnsafeURLError as exc:
        return LinkOutcome(Outcome.FAILED, url, error=f"Refused: {exc}")
    try:
        result = _fetch(url, "HEAD", session)
        method = "HEAD"
        if result.status in HEAD_REFUSED:
            result = _fetch(url, "GET", session)
            method = "GET"
    except UnsafeURLError as exc:
        return LinkOutcome(Outcome.FAILED, url, error=f"Refused (not a public address): {exc}")
    except TooManyRedirects as exc:
        return LinkOutcome(Outcome.FAILED, url, error=str(exc))
    except FetchTimeout as exc:
        return LinkOutcome(Outcome.FAILED, url, error=f"Timed out: {exc}")
    except FetchError as exc:
        return LinkOutcome(Outcome.FAILED, url, error=str(exc))
    except httpx.HTTPError as exc:  # pragma: no cover - fetch() wraps these
        return LinkOutcome(Outcome.FAILED, url, error=f"{type(exc).__name__}: {exc}")
    return classify(url, result, method=method)


def _fetch(url: str, method: str, session: FetchSession) -> FetchResult:
    return fetch(url, session=session, method=method, accept=_ACCEPT, read_content=False)


def classify(url: str, result: FetchResult, *, method: str = "HEAD") -> LinkOutcome:
    """The outcome of a response (pure: tested without a server)."""
    status = result.status
    base = LinkOutcome(
        Outcome.OK,
        url,
        http_status=status,
        final_url=result.final_url,
        elapsed=result.elapsed,
        method=method,
    )
    if status == 429 or (status == 503 and result.retry_after is not None):
        wait = result.retry_after if result.retry_after is not None else DEFAULT_RATE_LIMIT_SECONDS
        return replace(
            base,
            outcome=Outcome.RATE_LIMITED,
            retry_after=wait,
            error=f"HTTP {status}: asked to wait",
        )
    if 200 <= status < 300:
        if result.redirects:
            return replace(base, outcome=Outcome.REDIRECTED, permanent_url=result.permanent_url)
        return base
    if status in NOT_FOUND:
        return replace(base, outcome=Outcome.NOT_FOUND, error=f"HTTP {status}")
    if 300 <= status < 400:
        return replace(
            base, outcome=Outcome.FAILED, error=f"HTTP {status} without a usable address"
        )
    return replace(base, outcome=Outcome.FAILED, error=f"HTTP {status}")


def host_key(url: str) -> str:
    """The politeness unit of an address: lower-case host and port ("example.org:443")."""
    try:
        _, host, port = split_url(url)
    except UnsafeURLError:
        return ""
    return f"{host.lower()}:{port}"[:300]


def is_https_upgrade(old: str, new: str) -> bool:
    """http://host/x → https://host/x (same host, same path and query): safe to apply alone."""
    try:
        before, after = httpx.URL(old), httpx.URL(new)
    except (httpx.InvalidURL, ValueError):
        return False
    return (
        before.scheme == "http"
        and after.scheme == "https"
        and before.host.lower() == after.host.lower()
        and before.port in (None, 80)
        and after.port in (None, 443)
        and before.raw_path == after.raw_path
    )
