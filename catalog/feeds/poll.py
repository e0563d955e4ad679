"""One poll of one feed, end to end: fetch (safely), parse, store entries, schedule the next.

Everything here is safe to run twice: entries are upserted by (feed, entry key) and, across
feeds, by canonical address, so a redelivered task, two feeds carrying one post, or a worker
killed mid-poll never create a duplicate.

`feeds_poll` polls several feeds with a bounded number in flight: most of a poll's wall time
on a real network is waiting for servers, and threads overlap those waits. They only wait:
the calling thread reads the documents and writes the polls, because CPU-bound threads would
take turns at the GIL at a cost above the work they share. The feed row lock in `feed_poll`
keeps two polls of one feed from writing at once, whoever runs them.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from catalog.addresses import canonical_url
from catalog.feeds.address import FetchError, FetchPolicy
from catalog.feeds.fetch import FetchResult, fetch, shared_session
from catalog.feeds.parse import (
    NotAFeed,
    ParsedFeed,
    ReadDocument,
    document_entries,
    document_fingerprint,
    document_read,
)
from catalog.feeds.schedule import PollRecord, polls_record
from catalog.feeds.store import PollReport, entries_store
from catalog.models import Feed, FeedPoll, Resource

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

# A poll's outcome when its feed was deleted while it ran (never stored: there is no feed).
DELETED = "deleted"
# ... and when it was gone before the poll started.
MISSING = "missing"


def fetch_policy() -> FetchPolicy:
    return FetchPolicy(
        allow_private_networks=settings.FEEDS_ALLOW_PRIVATE_NETWORKS,
        allowed_networks=tuple(settings.FEEDS_ALLOWED_NETWORKS),
        max_bytes=settings.FEEDS_MAX_BYTES,
        connect_timeout=settings.FEEDS_CONNECT_TIMEOUT,
        read_timeout=settings.FEEDS_READ_TIMEOUT,
        total_deadline=settings.FEEDS_TOTAL_DEADLINE,
    )


@dataclass
class _Fetched:
    """A feed's fetch and parse, done outside any transaction: what writing its poll needs."""

    feed_id: int
    started: datetime
    report: PollReport
    result: FetchResult | None = None
    parsed: ParsedFeed | None = None
    # A network error worth a retry soon, re-raised by `feed_poll` once it is recorded.
    retry_error: FetchError | None = None
    # The fetch or parse raised (a bug): reported, not written (the claim's lease expires).
    crashed: bool = False
    # The fetched document's fingerprint, remembered on the feed once its entries are stored.
    document_fingerprint: str = ""
    # A fetched document not read yet (its fingerprint): `_parse` reads it.
    unparsed: str = ""


# What fetching a feed needs to read of it; the rest of the row is read under the lock.
_FETCH_FIELDS = ("url", "etag", "last_modified", "document_fingerprint")


def feed_poll(*, feed_id: int) -> PollReport:
    """Poll one feed now and record the outcome on the feed and in its poll history.

    Network and parsing happen outside any transaction; the entries, the feed's health and
    the history row are then written in one transaction (one commit per poll).

    Network errors that deserve a retry are re-raised as `FetchError` with
    `retryable=True` *after* the failure is recorded, so the task can retry with backoff.
    """
    feed = Feed.objects.only(*_FETCH_FIELDS).get(pk=feed_id)
    fetched = _fetch_and_parse(feed)
    _polls_write([fetched])
    if fetched.retry_error is not None and fetched.report.outcome != DELETED:
        raise fetched.retry_error
    return fetched.report


def _fetch_and_parse(feed: Feed) -> _Fetched:
    """Fetch (safely) and parse one feed. Fetch errors and documents that are not feeds are
    outcomes in the report; anything else (a bug) is raised."""
    fetched = _fetch(feed)
    _parse(fetched)
    return fetched


def _fetch(feed: Feed) -> _Fetched:
    """The network half of a poll: fetch the feed and judge the response. A document to read
    is left in ``fetched.unparsed`` for `_parse`."""
    fetched = _Fetched(feed_id=feed.pk, started=timezone.now(), report=PollReport(feed.pk))
    report = fetched.report
    try:
        fetched.result = result = fetch(
            feed.url,
            etag=feed.etag or None,
            last_modified=feed.last_modified or None,
            # Connections stay open between polls, per host name and checked address.
            session=shared_session(fetch_policy()),
        )
    except FetchError as exc:
        report.outcome = FeedPoll.Outcome.FAILED
        report.error = str(exc)
        if exc.retryable:
            fetched.retry_error = exc
        return fetched
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
        fingerprint = document_fingerprint(result.content, url=result.final_url)
        if fingerprint == feed.document_fingerprint:
            # A 200 with the very bytes whose entries are stored: as good as a 304.
            report.outcome = FeedPoll.Outcome.NOT_MODIFIED
        else:
            fetched.unparsed = fingerprint
    return fetched


def _parse(fetched: _Fetched) -> None:
    """The reading half of a poll: parse the fetched document, if there is one to read."""
    document = _read(fetched)
    if document is not None:
        known = _known_fingerprints({fetched.feed_id: document.fingerprints})
        _entries_make(fetched, document, known.get(fetched.feed_id, {}))


def _read(fetched: _Fetched) -> ReadDocument | None:
    """Check and read the fetched document, if there is one (a document that is not a feed
    fails the poll)."""
    result = fetched.result
    if result is None or not fetched.unparsed:
        return None
    try:
        return document_read(result.content, url=result.final_url, content_type=result.content_type)
    except NotAFeed as exc:
        fetched.unparsed = ""
        fetched.report.outcome = FeedPoll.Outcome.FAILED
        fetched.report.error = str(exc)
        return None


def _entries_make(fetched: _Fetched, document: ReadDocument, known_keys: dict[str, str]) -> None:
    """Make the read document's entries, but those stored already as they are."""
    fetched.parsed = parsed = document_entries(document, known_keys)
    fetched.report.warning = parsed.warning or ""
    fetched.report.skipped = parsed.skipped_without_link
    if not parsed.time_dependent:
        fetched.document_fingerprint = fetched.unparsed
    fetched.unparsed = ""


def _polls_write(batch: Sequence[_Fetched]) -> list[BaseException]:
    """Write fetched polls in one transaction: each feed's entries, then every poll's record
    with a few set-based statements (`polls_record`). Returns the unexpected errors of feeds
    whose entries could not be stored (their reports say so; the others are written).

    The feed rows are locked first, in id order. A curator may have deleted a feed while it
    was fetched: then there is nothing to write for it (saving would bring the row back), and
    feeds_delete takes the same lock, so a delete never races our insert of entries and
    history.
    """
    errors: list[BaseException] = []
    with transaction.atomic():
        _relax_commit_durability()
        locked = {
            feed.pk: feed
            for feed in Feed.objects.select_for_update()
            .filter(pk__in=[fetched.feed_id for fetched in batch])
            .order_by("pk")
        }
        records: list[PollRecord] = []
        for fetched in batch:
            report = fetched.report
            feed = locked.get(fetched.feed_id)
            if feed is None:
                logger.info("Feed %s was deleted during its poll; nothing stored", report.feed_id)
                report.outcome = DELETED
                report.new = report.updated = report.unchanged = report.held = 0
                continue
            try:
                if fetched.result is not None and (fetched.parsed or fetched.result.permanent_url):
                    # All of a document or none of it; the batch's other polls still count.
                    with transaction.atomic():
                        changed = _feed_write(feed, fetched)
                else:
                    # Nothing to store (unchanged, failed): no savepoint to pay.
                    changed = _validators_of_the_same_document(feed, fetched)
            except Exception as exc:
                logger.exception("Storing feed %s's entries failed unexpectedly", feed.pk)
                errors.append(exc)
                report.outcome = FeedPoll.Outcome.FAILED
                report.error = f"internal error: {type(exc).__name__}"
                report.new = report.updated = report.held = 0
                report.new_resource_ids.clear()
                changed = []
            result = fetched.result
            records.append(
                PollRecord(
                    feed,
                    report,
                    started=fetched.started,
                    retry_after=result.retry_after if result else None,
                    max_age=result.cache_max_age if result else None,
                    changed=changed,
                )
            )
        polls_record(records)
    return errors


def _feed_write(feed: Feed, fetched: _Fetched) -> list[str]:
    """Store a fetched document's entries and what it says about its feed (on the locked
    row). Returns the names of the feed's fields this changed."""
    changed: list[str] = []
    result, parsed = fetched.result, fetched.parsed
    if result is not None and parsed is not None:
        _update_validators(feed, result)
        entries_store(feed, parsed, fetched.report)
        # Only now: the document's entries are stored (in this savepoint, with it).
        feed.document_fingerprint = fetched.document_fingerprint
        changed += ["etag", "last_modified", "document_fingerprint"]
        if not feed.title and parsed.title:
            feed.title = parsed.title[:300]
            changed.append("title")
        if not feed.site_url and parsed.site_url:
            feed.site_url = parsed.site_url
            changed.append("site_url")
    if (
        result is not None
        and result.permanent_url
        and result.permanent_url != feed.url
        and _move_feed(feed, result.permanent_url)
    ):
        changed.append("url")
    return changed


def _validators_of_the_same_document(feed: Feed, fetched: _Fetched) -> list[str]:
    """A 200 with the bytes whose entries are stored (found by document fingerprint) still
    brings its ETag and Last-Modified: keep them, so that the next poll can be a 304 instead
    of the whole document again (a feed whose validators were lost gets them back)."""
    result = fetched.result
    if (
        result is None
        or result.status != 200
        or fetched.report.outcome != FeedPoll.Outcome.NOT_MODIFIED
    ):
        return []
    _update_validators(feed, result)
    return ["etag", "last_modified"]


def _known_fingerprints(
    fingerprints_by_feed: dict[int, Sequence[str]],
) -> dict[int, dict[str, str]]:
    """Which of these entry fingerprints each feed's resources carry, in one query:
    {feed id: {fingerprint: entry key}}."""
    wanted = {fp for fingerprints in fingerprints_by_feed.values() for fp in fingerprints}
    if not wanted:
        return {}
    rows = (
        Resource.objects.filter(
            feed_id__in=list(fingerprints_by_feed), entry_fingerprint__in=wanted
        )
        .exclude(entry_key="")
        .values_list("feed_id", "entry_fingerprint", "entry_key")
    )
    known: dict[int, dict[str, str]] = {}
    for feed_id, fingerprint, entry_key in rows:
        if fingerprint in fingerprints_by_feed[feed_id]:
            known.setdefault(feed_id, {})[fingerprint] = entry_key
    return known


def _relax_commit_durability() -> None:
    """PostgreSQL: don't wait for the WAL flush when committing polls.

    A crash may lose the last moments of polls, never corrupt anything, and polling is
    idempotent: the next poll stores what was lost. Waiting for the disk on every commit
    would otherwise be most of the cost of unchanged (304) feeds.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _update_validators(feed: Feed, result: FetchResult) -> None:
    feed.etag = (result.etag or "")[:500]
    feed.last_modified = (result.last_modified or "")[:100]


def _move_feed(feed: Feed, new_url: str) -> bool:
    """Follow a permanent redirect (already checked hop by hop by the fetcher). Returns
    whether the feed's address changed."""
    new_url = canonical_url(new_url)
    if Feed.objects.filter(url=new_url).exclude(pk=feed.pk).exists():
        logger.warning(
            "Feed %s moved to %s, which is already a feed; keeping both", feed.pk, new_url
        )
        return False
    logger.info("Feed %s moved permanently: %s -> %s", feed.pk, feed.url, new_url)
    feed.url = new_url
    return True


# At most this many fetched polls are written in one transaction.
WRITE_GROUP_MAX = 50
# Once one poll is ready to write, the writer waits this long (seconds) for each next one to
# join its transaction: fetches started together end together, and one transaction for them
# costs a few statements where one each costs a few statements each. (A gap this short on a
# real network is nothing; on loopback it halves the transactions of an unchanged round.)
WRITE_LINGER = 0.01


def feeds_poll(
    *,
    feed_ids: Sequence[int],
    concurrency: int = 1,
    on_report: Callable[[PollReport], None] | None = None,
) -> list[PollReport]:
    """Poll several feeds, at most ``concurrency`` fetched at a time; reports in ``feed_ids``
    order.

    The feeds are read in one query; polling threads fetch them (network waits overlap),
    and this thread parses and writes what they hand over, several polls per transaction
    with set-based statements (`_polls_write`): an unchanged feed costs its share of a few
    statements instead of a transaction of its own.

    A feed whose poll failed with a network error gets a report with ``retryable`` set (the
    failure is recorded on the feed already); a feed that no longer exists gets outcome
    ``missing``. Any other exception is raised once every other feed has been polled, so
    one broken feed never costs the others their poll.

    Inside a transaction (a caller's ``atomic`` block, a test) feeds are fetched one at a
    time on this thread: other connections would not see the caller's uncommitted rows.
    ``on_report`` is called (from this thread) as each poll is written.
    """
    ids = list(feed_ids)
    position = {feed_id: index for index, feed_id in enumerate(ids)}
    reports: list[PollReport | None] = [None] * len(ids)
    errors: list[BaseException] = []
    feeds = Feed.objects.only(*_FETCH_FIELDS).in_bulk(ids)
    for feed_id in ids:
        if feed_id not in feeds:
            logger.info("Feed %s no longer exists; nothing to poll", feed_id)
            reports[position[feed_id]] = PollReport(feed_id=feed_id, outcome=MISSING)
    todo = [feeds[feed_id] for feed_id in dict.fromkeys(ids) if feed_id in feeds]

    def guarded(feed_id: int, step: Callable[[], _T]) -> _T | _Fetched:
        """What ``step`` returns or, if it raised (a bug), the feed's crashed poll."""
        try:
            return step()
        except Exception as exc:
            logger.exception("Polling feed %s failed unexpectedly", feed_id)
            errors.append(exc)
            report = PollReport(feed_id=feed_id, outcome=FeedPoll.Outcome.FAILED)
            report.error = f"internal error: {type(exc).__name__}"
            return _Fetched(feed_id, timezone.now(), report, crashed=True)

    def fetch_one(feed: Feed) -> _Fetched:
        """The network half, on a polling thread (never raises: a crash is a report)."""
        return guarded(feed.pk, lambda: _fetch(feed))

    def read(fetched: _Fetched) -> tuple[_Fetched, ReadDocument | None]:
        document = guarded(fetched.feed_id, lambda: _read(fetched))
        return (document, None) if isinstance(document, _Fetched) else (fetched, document)

    def make(fetched: _Fetched, document: ReadDocument, known: dict[str, str]) -> _Fetched:
        return guarded(fetched.feed_id, lambda: _entries_make(fetched, document, known)) or fetched

    def known_fingerprints(documents: dict[int, ReadDocument]) -> dict[int, dict[str, str]]:
        try:
            return _known_fingerprints({i: d.fingerprints for i, d in documents.items()})
        except Exception as exc:  # a bug: every entry is made again (and stored once, by key)
            logger.exception("Looking up %s feeds' entry fingerprints failed", len(documents))
            errors.append(exc)
            return {}

    def write(group: list[_Fetched]) -> None:
        # Documents are read here, on the one thread that also writes, not on the polling
        # threads: CPU-bound threads would take turns holding the GIL, and those turns cost
        # more CPU than the parsing they share (the polling threads only wait on the network).
        # The stored fingerprints of all the group's entries are looked up in one query.
        read_group = [read(fetched) for fetched in group]
        documents = {fetched.feed_id: doc for fetched, doc in read_group if doc is not None}
        known = known_fingerprints(documents) if documents else {}
        group = [
            make(fetched, document, known.get(fetched.feed_id, {})) if document else fetched
            for fetched, document in read_group
        ]
        fetched_ok = [fetched for fetched in group if not fetched.crashed]
        try:
            if fetched_ok:
                errors.extend(_polls_write(fetched_ok))
        except Exception as exc:  # the whole transaction is lost: say so for each of its feeds
            logger.exception("Writing %s polls failed unexpectedly", len(fetched_ok))
            errors.append(exc)
            for fetched in fetched_ok:
                fetched.report = PollReport(
                    feed_id=fetched.feed_id,
                    outcome=FeedPoll.Outcome.FAILED,
                    error=f"internal error: {type(exc).__name__}",
                )
        for fetched in group:
            report = fetched.report
            if fetched.retry_error is not None and report.outcome != DELETED:
                report.retryable = True
            reports[position[report.feed_id]] = report
            if on_report is not None:
                on_report(report)

    workers = max(1, min(concurrency, len(todo)))
    if workers == 1 or connection.in_atomic_block:
        group: list[_Fetched] = []
        for feed in todo:
            group.append(fetch_one(feed))
            if len(group) >= WRITE_GROUP_MAX:
                write(group)
                group = []
        write(group)
    else:
        _fetch_in_threads(todo, workers, fetch_one, write)
    if errors:
        raise errors[0]
    return [report for report in reports if report is not None]


def _fetch_in_threads(
    feeds: list[Feed],
    workers: int,
    fetch_one: Callable[[Feed], _Fetched],
    write: Callable[[list[_Fetched]], None],
) -> None:
    """Fetch ``feeds`` on ``workers`` polling threads while this thread writes the fetched
    polls in groups: whatever has arrived, and what arrives within WRITE_LINGER of
    the last one."""
    pending = iter(feeds)
    pending_lock = threading.Lock()
    done: queue.SimpleQueue[_Fetched] = queue.SimpleQueue()

    def work() -> None:
        while True:
            with pending_lock:
                feed = next(pending, None)
            if feed is None:
                return
            done.put(fetch_one(feed))  # never raises: a crash is a report

    helpers = _polling_threads().run([work] * workers)
    try:
        received = 0
        while received < len(feeds):
            group = [done.get()]
            received += 1
            while received < len(feeds) and len(group) < WRITE_GROUP_MAX:
                try:
                    group.append(done.get(timeout=WRITE_LINGER))
                except queue.Empty:
                    break
                received += 1
            write(group)
    finally:
        for helper in helpers:
            helper.result()


# --- Polling threads ----------------------------------------------------------------------------

# A polling thread that has had nothing to do for this long gives its database connection back.
IDLE_CLOSE_SECONDS = 5.0


class _PollingThreads:
    """Threads that outlive one batch, so that a batch of unchanged feeds does not pay for
    starting them.

    They only fetch and do not touch the database (the calling thread reads and writes); any
    connection one opened all the same is checked before every job as Django does before a
    request (``CONN_MAX_AGE``, health checks) and closed after ``IDLE_CLOSE_SECONDS`` without
    work, or when stopped: a PostgreSQL connection is a server process.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], None], Future[None]] | None] = (
            queue.SimpleQueue()
        )
        self._threads: list[_PollingThread] = []
        self._lock = threading.Lock()

    def run(self, jobs: list[Callable[[], None]]) -> list[Future[None]]:
        """Hand each job to a thread: as many threads are started as there are jobs beyond the
        idle ones, so the jobs run side by side (unless another caller's jobs take an idle
        thread first; then one waits, which costs parallelism, never correctness)."""
        futures: list[Future[None]] = []
        with self._lock:
            self._threads = [thread for thread in self._threads if thread.is_alive()]
            missing = len(jobs) - sum(1 for thread in self._threads if thread.idle)
            for _ in range(max(0, missing)):
                thread = _PollingThread(self._serve, f"feed-poll-{len(self._threads)}")
                self._threads.append(thread)
                thread.start()
            for job in jobs:
                future: Future[None] = Future()
                futures.append(future)
                self._jobs.put((job, future))
        return futures

    def _serve(self, me: _PollingThread) -> None:
        try:
            while True:
                me.idle = True
                try:
                    item = self._jobs.get(timeout=IDLE_CLOSE_SECONDS)
                except queue.Empty:
                    connection.close()  # idle: give the connection back
                    continue
                me.idle = False
                if item is None:
                    return
                job, future = item
                if not future.set_running_or_notify_cancel():
                    continue
                close_old_connections()
                try:
                    job()
                except BaseException as exc:
                    future.set_exception(exc)
                else:
                    future.set_result(None)
        finally:
            connection.close()

    def stop(self) -> None:
        """End every thread, closing its connection (tests; a process about to exit)."""
        with self._lock:
            threads, self._threads = self._threads, []
            for _ in threads:
                self._jobs.put(None)
        for thread in threads:
            thread.join(timeout=10)


class _PollingThread(threading.Thread):
    def __init__(self, serve: Callable[[_PollingThread], None], name: str) -> None:
        super().__init__(target=serve, args=(self,), name=name, daemon=True)
        self.idle = False


_threads_by_process: dict[int, _PollingThreads] = {}
_threads_lock = threading.Lock()


def _polling_threads() -> _PollingThreads:
    # Per process id: a forked child (a Celery prefork worker) starts threads of its own.
    with _threads_lock:
        return _threads_by_process.setdefault(os.getpid(), _PollingThreads())


def polling_threads_stop() -> None:
    """Stop this process's polling threads and close their database connections."""
    with _threads_lock:
        threads = _threads_by_process.pop(os.getpid(), None)
    if threads is not None:
        threads.stop()
