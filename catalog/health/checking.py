"""Checking claimed links: hosts side by side, each host's links one at a time at a polite rate.

`links_check` is what a worker task, `manage.py check_links` and the benchmark run. Within a
host batch the next request waits until the host's next allowed time (the interval after the
previous request, or a Retry-After); a host that asks us to wait gets its remaining links back,
due when it said, and the rest of the batch moves on. Each thread uses its own database
connection (closed when its work ends); inside a transaction (a test, a caller's atomic block)
everything runs on the caller's connection, one host after another.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from catalog.feeds.fetch import FetchSession, shared_session
from catalog.health import hosts
from catalog.health.links import LinkOutcome, Outcome, link_check_url
from catalog.health.models import ResourceLink
from catalog.health.services import link_policy, link_record
from catalog.models import Status

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckReport:
    link_id: int
    status: str  # the link's status after the check ("skipped": nothing was checked)
    outcome: str = ""
    error: str = ""


def links_check(
    *,
    batches: Sequence[hosts.HostBatch],
    concurrency: int | None = None,
    host_interval: float | None = None,
    session: FetchSession | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_report: Callable[[CheckReport], None] | None = None,
) -> list[CheckReport]:
    """Check the links of claimed host batches; returns a report per link looked at."""
    workers = max(1, min(concurrency or settings.LINK_CHECK_CONCURRENCY, len(batches)))
    interval = settings.LINK_CHECK_HOST_INTERVAL if host_interval is None else host_interval
    session = session or shared_session(link_policy())

    def run(batch: hosts.HostBatch) -> list[CheckReport]:
        return _host_check(batch, interval, session, sleep, on_report)

    if workers == 1 or connection.in_atomic_block:
        return [report for batch in batches for report in run(batch)]

    def threaded(batch: hosts.HostBatch) -> list[CheckReport]:
        close_old_connections()
        try:
            return run(batch)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="link-check") as pool:
        return [report for reports in pool.map(threaded, batches) for report in reports]


def _host_check(
    batch: hosts.HostBatch,
    interval: float,
    session: FetchSession,
    sleep: Callable[[float], None],
    on_report: Callable[[CheckReport], None] | None,
) -> list[CheckReport]:
    reports: list[CheckReport] = []
    next_allowed = hosts.host_next_request_at(batch.host)
    try:
        for index, link_id in enumerate(batch.link_ids):
            wait = (next_allowed - timezone.now()).total_seconds()
            if wait > max(interval, 0):
                # Told to wait longer than our own pace (Retry-After): give the rest back.
                hosts.link_release(link_ids=batch.link_ids[index:], next_check_at=next_allowed)
                break
            if wait > 0:
                sleep(wait)
            report, outcome = link_check(link_id=link_id, session=session)
            reports.append(report)
            if on_report is not None:
                on_report(report)
            next_allowed = _next_request_at(outcome, interval)
    except BaseException:
        hosts.link_release(link_ids=batch.link_ids[len(reports) :])
        raise
    finally:
        hosts.host_release(host=batch.host, next_request_at=next_allowed)
    return reports


def _next_request_at(outcome: LinkOutcome | None, interval: float) -> datetime:
    now = timezone.now()
    pace = now + timedelta(seconds=interval)
    if outcome is not None and outcome.outcome == Outcome.RATE_LIMITED and outcome.retry_after:
        return max(pace, now + timedelta(seconds=outcome.retry_after))
    return pace


def link_check(
    *, link_id: int, session: FetchSession | None = None
) -> tuple[CheckReport, LinkOutcome | None]:
    """Check one claimed link now and record the outcome (the caller holds its host)."""
    link = ResourceLink.objects.select_related("resource").filter(pk=link_id).first()
    if link is None:
        return CheckReport(link_id=link_id, status="skipped", error="no such link"), None
    resource = link.resource
    if resource.status != Status.APPROVED or not resource.url:
        hosts.link_release(link_ids=[link_id])
        return CheckReport(link_id=link_id, status="skipped", error="not a public address"), None
    outcome = link_check_url(resource.url, session=session or shared_session(link_policy()))
    link = link_record(link=link, outcome=outcome)
    return (
        CheckReport(
            link_id=link_id, status=link.status, outcome=outcome.outcome, error=outcome.error
        ),
        outcome,
    )


def link_check_now(
    *, resource_id: int, session: FetchSession | None = None, max_wait: float | None = None
) -> CheckReport:
    """A curator's "re-check now": check one resource at once if its host is free (waiting
    out at most the host's interval); otherwise leave it due for the next dispatch."""
    link = ResourceLink.objects.filter(pk=resource_id).first()
    if link is None or not link.host:
        return CheckReport(link_id=resource_id, status="skipped", error="no address to check")
    interval = settings.LINK_CHECK_HOST_INTERVAL
    limit = interval if max_wait is None else max_wait
    now = timezone.now()
    if not hosts.host_claim(host=link.host, now=now, resting_ok=True):
        return CheckReport(link_id=resource_id, status=link.status, error="host busy; queued")
    next_allowed = hosts.host_next_request_at(link.host)
    try:
        wait = (next_allowed - timezone.now()).total_seconds()
        if wait > limit or not hosts.link_claim(link_id=resource_id, now=now):
            return CheckReport(link_id=resource_id, status=link.status, error="queued")
        if wait > 0:
            time.sleep(wait)
        report, outcome = link_check(link_id=resource_id, session=session)
        next_allowed = _next_request_at(outcome, interval)
        return report
    finally:
        hosts.host_release(host=link.host, next_request_at=next_allowed)
