"""Polling many feeds fast without giving up a safety rule: kept-alive connections, several
feeds in flight, fingerprints that skip unchanged entries, set-based storing and claiming."""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import feedparser
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.feeds import entries, poll, sanitise, schedule, store, tasks
from catalog.feeds.address import FetchPolicy, UnsafeURLError
from catalog.feeds.fetch import FetchSession, fetch
from catalog.feeds.parse import parse_feed
from catalog.models import Feed, FeedPoll, Resource
from tests.feedbuilder import posts, rss
from tests.netguard import loopback_only

FEEDS = Path(__file__).parent / "samples"
LOOPBACK = FetchPolicy(allowed_networks=("127.0.0.1/32",), total_deadline=5.0)


# --- A keep-alive feed server (pytest-httpserver closes every connection) ---------------------


class KeepAliveServer:
    """HTTP/1.1 on 127.0.0.1 that keeps connections open; counts requests in flight."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.delay = 0.0
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with server.lock:
                    server.in_flight += 1
                    server.most_in_flight = max(server.most_in_flight, server.in_flight)
                try:
                    time.sleep(server.delay)
                    status, headers, body = server.routes.get(self.path, (404, {}, b"missing"))
                    etag = headers.get("ETag")
                    if status == 200 and etag and self.headers.get("If-None-Match") == etag:
                        status, body = 304, b""
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    with server.lock:
                        server.in_flight -= 1

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that gave up (the deadline test) is expected, not news

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def feed(self, path: str, body: bytes, etag: str | None = None) -> str:
        """Serve ``body`` at ``path``; with ``etag``, a matching If-None-Match gets a 304."""
        headers = {"Content-Type": "application/rss+xml"}
        if etag:
            headers["ETag"] = etag
        self.routes[path] = (200, headers, body)
        return f"http://127.0.0.1:{self.port}{path}"

    def redirect(self, path: str, location: str, body: bytes = b"") -> str:
        self.routes[path] = (301, {"Location": location}, body)
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def keepalive() -> Iterator[KeepAliveServer]:
    server = KeepAliveServer()
    yield server
    server.close()


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every outgoing TCP connect, recorded; anything but loopback is refused."""
    return loopback_only(monkeypatch)


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> None:
    """Test-only names answer from ``answers`` (one address per lookup, the last repeats)."""
    real = socket.getaddrinfo
    calls: dict[str, int] = dict.fromkeys(answers, 0)

    def lookup(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host not in answers:
            return real(host, port, *args, **kwargs)
        address = answers[host][min(calls[host], len(answers[host]) - 1)]
        calls[host] += 1
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", lookup)


# --- Kept-alive connections --------------------------------------------------------------------


def test_a_session_reuses_one_connection_for_fetches_from_one_host(keepalive, connects):
    urls = [keepalive.feed(f"/{n}.xml", rss(posts(1))) for n in range(3)]
    session = FetchSession(LOOPBACK)
    try:
        assert [fetch(url, session=session).status for url in urls] == [200, 200, 200]
    finally:
        session.close()
    assert connects == [("127.0.0.1", keepalive.port)]


def test_unchanged_feeds_304_reuse_the_kept_alive_connection(keepalive, connects):
    # A 304 has no body, but closing it unread used to drop the connection: every unchanged
    # feed of a host then paid a new connection (and a TLS handshake).
    urls = [keepalive.feed(f"/{n}.xml", rss(posts(1)), etag=f'"v{n}"') for n in range(3)]
    session = FetchSession(LOOPBACK)
    try:
        etags = [fetch(url, session=session).etag for url in urls]
        statuses = [
            fetch(url, etag=etag, session=session).status
            for url, etag in zip(urls, etags, strict=True)
        ]
    finally:
        session.close()
    assert statuses == [304, 304, 304]
    assert connects == [("127.0.0.1", keepalive.port)]


def test_a_redirect_hop_reuses_the_kept_alive_connection(keepalive, connects):
    target = keepalive.feed("/new.xml", rss(posts(1)))
    moved = keepalive.redirect("/old.xml", target, body=b"<p>Moved</p>")
    session = FetchSession(LOOPBACK)
    try:
        results = [fetch(moved, session=session) for _ in range(2)]
    finally:
        session.close()
    assert [(r.status, r.redirects) for r in results] == [(200, 1), (200, 1)]
    assert connects == [("127.0.0.1", keepalive.port)]


def test_a_large_redirect_body_is_not_read_to_keep_a_connection(keepalive, connects):
    # Draining is for small bodies: a redirect carrying megabytes costs a connection, not the
    # time to read it.
    target = keepalive.feed("/new.xml", rss(posts(1)))
    moved = keepalive.redirect("/old.xml", target, body=b"x" * (LOOPBACK.max_error_body_bytes + 1))
    session = FetchSession(LOOPBACK)
    try:
        assert fetch(moved, session=session).status == 200
    finally:
        session.close()
    assert len(connects) == 2


def test_a_fetch_without_a_session_keeps_nothing_alive(keepalive, connects):
    urls = [keepalive.feed(f"/{n}.xml", rss(posts(1))) for n in range(2)]
    for url in urls:
        fetch(url, policy=LOOPBACK)
    assert len(connects) == 2


def test_a_kept_alive_connection_is_never_shared_between_host_names(
    keepalive, connects, monkeypatch
):
    # Same address, two names: a TLS connection verified for one name must never carry the
    # other's requests, so each name gets connections of its own.
    fake_dns(monkeypatch, {"a.kubelearn.test": ["127.0.0.1"], "b.kubelearn.test": ["127.0.0.1"]})
    keepalive.feed("/feed.xml", rss(posts(1)))
    session = FetchSession(LOOPBACK)
    try:
        for name in ("a", "b", "a", "b"):
            fetch(f"http://{name}.kubelearn.test:{keepalive.port}/feed.xml", session=session)
    finally:
        session.close()
    assert len(connects) == 2


def test_a_kept_alive_connection_does_not_skip_the_address_check_when_dns_changes(
    keepalive, connects, monkeypatch
):
    # The first lookup is allowed and leaves a connection open; the name then rebinds to a
    # private address. The next fetch must be refused, not sent down the open connection.
    fake_dns(monkeypatch, {"rebind.kubelearn.test": ["127.0.0.1", "10.0.0.1"]})
    keepalive.feed("/feed.xml", rss(posts(1)))
    url = f"http://rebind.kubelearn.test:{keepalive.port}/feed.xml"
    session = FetchSession(LOOPBACK)
    try:
        assert fetch(url, session=session).status == 200
        with pytest.raises(UnsafeURLError, match=r"10\.0\.0\.1"):
            fetch(url, session=session)
    finally:
        session.close()
    assert connects == [("127.0.0.1", keepalive.port)]


def test_a_redirect_to_a_private_address_is_refused_on_a_kept_alive_session(
    keepalive, connects, monkeypatch
):
    fake_dns(monkeypatch, {"internal.kubelearn.test": ["10.20.30.40"]})
    first = keepalive.feed("/feed.xml", rss(posts(1)))
    moved = keepalive.redirect("/moved.xml", "http://internal.kubelearn.test/admin")
    session = FetchSession(LOOPBACK)
    try:
        assert fetch(first, session=session).status == 200
        with pytest.raises(UnsafeURLError, match="Refusing redirect"):
            fetch(moved, session=session)
    finally:
        session.close()
    assert {host for host, _port in connects} == {"127.0.0.1"}


def test_the_deadline_holds_on_a_kept_alive_connection(keepalive):
    url = keepalive.feed("/feed.xml", rss(posts(1)))
    session = FetchSession(FetchPolicy(allowed_networks=("127.0.0.1/32",), total_deadline=0.5))
    try:
        fetch(url, session=session)  # leaves the connection open
        keepalive.delay = 2.0
        started = time.monotonic()
        with pytest.raises(Exception, match=r"deadline|[Tt]imed out"):
            fetch(url, session=session)
        assert time.monotonic() - started < 1.5
    finally:
        keepalive.delay = 0
        session.close()


# --- Several feeds in flight ---------------------------------------------------------------------


@pytest.fixture
def local_feeds(settings):
    settings.FEEDS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.FEEDS_TOTAL_DEADLINE = 5.0


@pytest.mark.django_db(transaction=True)
def test_feeds_poll_keeps_at_most_concurrency_feeds_in_flight(keepalive, local_feeds):
    keepalive.delay = 0.2
    feeds = [
        Feed.objects.create(url=keepalive.feed(f"/{n}.xml", rss(posts(2, prefix=f"f{n}"))))
        for n in range(8)
    ]
    reports = poll.feeds_poll(feed_ids=[feed.pk for feed in feeds], concurrency=3)
    assert [report.feed_id for report in reports] == [feed.pk for feed in feeds]
    assert {report.new for report in reports} == {2}
    assert keepalive.most_in_flight == 3
    assert Resource.objects.count() == 16


@pytest.mark.django_db(transaction=True)
def test_two_polls_of_one_feed_at_once_store_each_entry_once(keepalive, local_feeds):
    keepalive.delay = 0.1
    feed = Feed.objects.create(url=keepalive.feed("/feed.xml", rss(posts(6))))
    reports: list[store.PollReport] = []

    def poll_in_a_thread() -> None:
        try:
            reports.extend(poll.feeds_poll(feed_ids=[feed.pk], concurrency=2))
        finally:
            connection.close()

    threads = [threading.Thread(target=poll_in_a_thread) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(reports) == 3
    assert sum(report.new for report in reports) == 6
    assert Resource.objects.count() == 6
    assert Resource.objects.values("entry_key").distinct().count() == 6


@pytest.mark.django_db(transaction=True)
def test_one_feed_named_twice_in_a_batch_is_polled_once(keepalive, local_feeds):
    feed = Feed.objects.create(url=keepalive.feed("/feed.xml", rss(posts(2))))
    reports = poll.feeds_poll(feed_ids=[feed.pk, feed.pk], concurrency=2)
    assert [(report.feed_id, report.new) for report in reports] == [(feed.pk, 2)]
    assert FeedPoll.objects.filter(feed=feed).count() == 1


@pytest.mark.django_db
def test_a_round_of_unchanged_feeds_takes_the_same_statements_for_2_or_8_feeds(
    keepalive, local_feeds
):
    # Read the feeds, lock them, their recent dates, their health, their history, its
    # pruning: a few statements for the whole round, none per feed.
    def statements_for(count: int) -> int:
        feeds = [
            Feed.objects.create(
                url=keepalive.feed(
                    f"/{count}-{n}.xml", rss(posts(2, prefix=f"{count}-{n}")), '"v1"'
                )
            )
            for n in range(count)
        ]
        ids = [feed.pk for feed in feeds]
        poll.feeds_poll(feed_ids=ids)
        with CaptureQueriesContext(connection) as queries:
            reports = poll.feeds_poll(feed_ids=ids)
        assert {report.outcome for report in reports} == {FeedPoll.Outcome.NOT_MODIFIED}
        return len(queries.captured_queries)

    assert statements_for(2) == statements_for(8)


@pytest.mark.django_db(transaction=True)
def test_feeds_fetched_together_are_written_in_one_transaction(keepalive, local_feeds, monkeypatch):
    # The writer (this thread) waits WRITE_LINGER for each next poll; a long linger here so
    # that a loaded machine cannot split the group.
    monkeypatch.setattr(poll, "WRITE_LINGER", 2.0)
    keepalive.delay = 0.05
    feeds = [
        Feed.objects.create(url=keepalive.feed(f"/{n}.xml", rss(posts(1, prefix=f"t{n}")), '"v"'))
        for n in range(6)
    ]
    ids = [feed.pk for feed in feeds]
    poll.feeds_poll(feed_ids=ids, concurrency=3)
    with CaptureQueriesContext(connection) as queries:
        reports = poll.feeds_poll(feed_ids=ids, concurrency=3)
    assert [report.outcome for report in reports] == ["not_modified"] * 6
    # One transaction writes one history INSERT for all its polls (PostgreSQL and SQLite alike).
    histories = [q for q in queries.captured_queries if "INSERT INTO" in q["sql"]]
    assert len(histories) == 1, [q["sql"][:60] for q in queries.captured_queries]


@pytest.mark.django_db
def test_polls_written_together_keep_each_feeds_own_outcome(keepalive, local_feeds):
    hourly = Feed.objects.create(
        url=keepalive.feed("/hourly.xml", rss(posts(3, prefix="h", hours_apart=2)))
    )
    daily = Feed.objects.create(
        url=keepalive.feed("/daily.xml", rss(posts(3, prefix="d", hours_apart=96)))
    )
    missing = Feed.objects.create(
        url=f"http://127.0.0.1:{keepalive.port}/404.xml", consecutive_failures=2
    )
    keepalive.routes["/gone.xml"] = (410, {}, b"")
    gone = Feed.objects.create(url=f"http://127.0.0.1:{keepalive.port}/gone.xml")
    reports = poll.feeds_poll(feed_ids=[hourly.pk, daily.pk, missing.pk, gone.pk])
    assert [report.outcome for report in reports] == ["ok", "ok", "failed", "gone"]
    for feed in (hourly, daily, missing, gone):
        feed.refresh_from_db()
    # Half the median gap between entries, at least 15 minutes: each feed's own.
    assert (hourly.poll_interval, daily.poll_interval) == (3600, 24 * 3600)
    assert (hourly.title, daily.title) == ("A Kubernetes blog", "A Kubernetes blog")
    assert missing.consecutive_failures == 3 and missing.last_error == "HTTP 404"
    assert missing.next_poll_at > timezone.now() + timezone.timedelta(minutes=50)
    assert not gone.active and "410" in gone.deactivated_reason
    assert [feed.last_status for feed in (hourly, daily, missing, gone)] == [200, 200, 404, 410]
    assert FeedPoll.objects.count() == 4


@pytest.mark.django_db
def test_an_error_storing_one_feed_keeps_the_other_polls_of_its_transaction(
    keepalive, local_feeds, monkeypatch
):
    broken = Feed.objects.create(url=keepalive.feed("/broken.xml", rss(posts(2, prefix="b"))))
    fine = Feed.objects.create(url=keepalive.feed("/fine.xml", rss(posts(2, prefix="f"))))
    real_store = poll.entries_store

    def store_or_fail(feed, parsed, report):  # type: ignore[no-untyped-def]
        real_store(feed, parsed, report)
        if feed.pk == broken.pk:
            raise RuntimeError("a bug")

    monkeypatch.setattr(poll, "entries_store", store_or_fail)
    with pytest.raises(RuntimeError, match="a bug"):
        poll.feeds_poll(feed_ids=[broken.pk, fine.pk])
    assert set(Resource.objects.values_list("feed_id", flat=True)) == {fine.pk}
    assert FeedPoll.objects.get(feed=fine).new == 2
    failed = FeedPoll.objects.get(feed=broken)
    assert (failed.outcome, failed.error, failed.new) == (
        "failed",
        "internal error: RuntimeError",
        0,
    )


@pytest.mark.django_db(transaction=True)
def test_polling_threads_only_fetch_and_the_calling_thread_parses(
    keepalive, local_feeds, monkeypatch
):
    # Parsing on the polling threads made them take turns holding the GIL, which cost more
    # CPU than the parsing they shared: they wait on the network, the caller reads.
    fetched_on: list[str] = []
    parsed_on: list[str] = []
    real_fetch, real_read = poll.fetch, poll.document_read

    def fetch_noting_thread(*args, **kwargs):  # type: ignore[no-untyped-def]
        fetched_on.append(threading.current_thread().name)
        return real_fetch(*args, **kwargs)

    def parse_noting_thread(*args, **kwargs):  # type: ignore[no-untyped-def]
        parsed_on.append(threading.current_thread().name)
        return real_read(*args, **kwargs)

    monkeypatch.setattr(poll, "fetch", fetch_noting_thread)
    monkeypatch.setattr(poll, "document_read", parse_noting_thread)
    feeds = [
        Feed.objects.create(url=keepalive.feed(f"/{n}.xml", rss(posts(2, prefix=f"p{n}"))))
        for n in range(4)
    ]
    reports = poll.feeds_poll(feed_ids=[feed.pk for feed in feeds], concurrency=3)
    assert [report.new for report in reports] == [2, 2, 2, 2]
    assert len(fetched_on) == 4 and threading.current_thread().name not in fetched_on
    assert parsed_on == [threading.current_thread().name] * 4


@pytest.mark.django_db(transaction=True)
def test_a_bug_parsing_one_feed_keeps_the_other_polls_of_the_batch(
    keepalive, local_feeds, monkeypatch
):
    broken = Feed.objects.create(url=keepalive.feed("/broken.xml", rss(posts(2, prefix="b"))))
    fine = Feed.objects.create(url=keepalive.feed("/fine.xml", rss(posts(2, prefix="f"))))
    real_read = poll.document_read

    def read_or_fail(content, **kwargs):  # type: ignore[no-untyped-def]
        if kwargs["url"].endswith("/broken.xml"):
            raise RuntimeError("a parser bug")
        return real_read(content, **kwargs)

    monkeypatch.setattr(poll, "document_read", read_or_fail)
    with pytest.raises(RuntimeError, match="a parser bug"):
        poll.feeds_poll(feed_ids=[broken.pk, fine.pk], concurrency=2)
    assert set(Resource.objects.values_list("feed_id", flat=True)) == {fine.pk}
    assert FeedPoll.objects.get(feed=fine).new == 2
    # The broken feed's poll is not written: its claim runs out and it is polled again later.
    assert not FeedPoll.objects.filter(feed=broken).exists()


@pytest.mark.django_db(transaction=True)
def test_feeds_poll_reports_a_deleted_feed_and_polls_the_others(keepalive, local_feeds):
    feed = Feed.objects.create(url=keepalive.feed("/feed.xml", rss(posts(2))))
    reports = poll.feeds_poll(feed_ids=[feed.pk, feed.pk + 1000], concurrency=2)
    assert [report.outcome for report in reports] == ["ok", "missing"]


@pytest.mark.django_db
def test_feeds_poll_inside_a_transaction_polls_on_its_own_connection(keepalive, local_feeds):
    # The test's transaction holds the feed row uncommitted: other threads could not see it.
    feed = Feed.objects.create(url=keepalive.feed("/feed.xml", rss(posts(2))))
    (report,) = poll.feeds_poll(feed_ids=[feed.pk], concurrency=4)
    assert report.new == 2


@pytest.mark.django_db(transaction=True)
def test_poll_feeds_command_polls_every_feed_with_processes_and_threads(keepalive, local_feeds):
    for n in range(6):
        Feed.objects.create(url=keepalive.feed(f"/{n}.xml", rss(posts(3, prefix=f"f{n}"))))
    out = StringIO()
    call_command("poll_feeds", "--concurrency", "2", "--processes", "2", stdout=out)
    assert "6 feeds: 18 new, 0 updated, 0 unchanged, 0 skipped, 0 failed." in out.getvalue()
    assert Resource.objects.count() == 18


@pytest.mark.django_db
def test_poll_feeds_command_refuses_a_concurrency_below_one():
    with pytest.raises(Exception, match="at least 1"):
        call_command("poll_feeds", "--concurrency", "-1", stdout=StringIO())


@pytest.mark.django_db
def test_dispatch_queues_claimed_feeds_in_batches(settings, monkeypatch):
    settings.FEEDS_POLL_BATCH = 3
    feeds = [Feed.objects.create(url=f"https://blog{n}.example.org/feed.xml") for n in range(7)]
    queued: list[list[int]] = []
    monkeypatch.setattr(tasks.feeds_poll_batch, "delay_on_commit", queued.append)
    assert tasks.feeds_dispatch() == 7
    assert [len(batch) for batch in queued] == [3, 3, 1]
    assert sorted(pk for batch in queued for pk in batch) == sorted(feed.pk for feed in feeds)


def test_a_rounds_last_batches_shrink_so_the_workers_finish_together():
    batches = schedule.poll_batches(list(range(300)), 16)
    assert [len(batch) for batch in batches] == [16] * 17 + [14, 7, 4, 3]
    assert [feed_id for batch in batches for feed_id in batch] == list(range(300))


@pytest.mark.parametrize(("count", "size"), [(0, 16), (1, 16), (5, 16), (33, 16), (10, 1), (9, 4)])
def test_batches_hold_every_claimed_feed_once_and_never_more_than_the_size(count, size):
    batches = schedule.poll_batches(list(range(count)), size)
    assert [feed_id for batch in batches for feed_id in batch] == list(range(count))
    assert all(0 < len(batch) <= size for batch in batches)


def test_a_batch_of_feeds_that_all_stall_to_the_deadline_ends_within_its_time_limit(settings):
    """Every fetch of a batch may take FEEDS_TOTAL_DEADLINE, FEEDS_POLL_CONCURRENCY at a time:
    the batch's soft time limit must leave parsing and storing room after the last round
    (or a larger default batch would have its polls cut off and redelivered, forever)."""
    rounds = math.ceil(settings.FEEDS_POLL_BATCH / settings.FEEDS_POLL_CONCURRENCY)
    fetching = rounds * settings.FEEDS_TOTAL_DEADLINE
    assert (
        fetching + 30
        <= tasks.feeds_poll_batch.soft_time_limit
        < (tasks.feeds_poll_batch.time_limit)
    )


@pytest.mark.django_db(transaction=True)
def test_a_batch_task_polls_its_feeds_and_retries_network_failures_alone(
    keepalive, local_feeds, monkeypatch
):
    good = Feed.objects.create(url=keepalive.feed("/feed.xml", rss(posts(2))))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    down = Feed.objects.create(url=f"http://127.0.0.1:{closed_port}/feed.xml")
    retried: list[tuple] = []
    monkeypatch.setattr(tasks.feed_poll, "apply_async", lambda args, **kwargs: retried.append(args))
    result = tasks.feeds_poll_batch([good.pk, down.pk])
    assert result == {"feeds": 2, "new": 2, "retrying": 1}
    assert retried == [(down.pk,)]
    down.refresh_from_db()
    assert down.consecutive_failures == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_a_failed_poll_is_recorded_once_not_retried_at_once(
    local_feeds,
):
    # No broker: tasks run in-process, where a retry would run at once, not after its backoff.
    assert tasks.feed_poll.app.conf.task_always_eager  # as without a broker (test settings)
    down = Feed.objects.create(url=f"http://127.0.0.1:{_closed_port()}/feed.xml")
    tasks.feed_poll.delay(down.pk)
    down.refresh_from_db()
    assert down.consecutive_failures == 1
    assert FeedPoll.objects.filter(feed=down, outcome="failed").count() == 1


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_a_batch_queues_no_retry_of_its_failed_feed(local_feeds):
    assert tasks.feeds_poll_batch.app.conf.task_always_eager
    down = Feed.objects.create(url=f"http://127.0.0.1:{_closed_port()}/feed.xml")
    tasks.feeds_poll_batch.delay([down.pk])
    down.refresh_from_db()
    assert down.consecutive_failures == 1
    assert FeedPoll.objects.filter(feed=down).count() == 1


@pytest.mark.django_db
def test_claiming_due_feeds_takes_one_statement_and_claims_each_once():
    for n in range(5):
        Feed.objects.create(url=f"https://blog{n}.example.org/feed.xml")
    with CaptureQueriesContext(connection) as queries:
        claimed = schedule.feeds_claim_due()
    updates = [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(claimed) == 5 and len(updates) == 1
    assert schedule.feeds_claim_due() == []


# --- Fingerprints: unchanged entries are not sanitised again ----------------------------------


@pytest.fixture
def sanitised(monkeypatch) -> list[str]:
    """Every entry body that goes through the sanitiser."""
    calls: list[str] = []
    real = entries.clean_html

    def counting(body, base_url, fragment_base):  # type: ignore[no-untyped-def]
        calls.append(body)
        return real(body, base_url, fragment_base)

    monkeypatch.setattr(entries, "clean_html", counting)
    return calls


@pytest.mark.django_db
def test_entries_with_an_unchanged_fingerprint_are_not_sanitised_again(
    keepalive, local_feeds, sanitised
):
    items = posts(4)
    feed = Feed.objects.create(url=keepalive.feed("/feed.xml", rss(items)))
    assert poll.feed_poll(feed_id=feed.pk).new == 4
    assert len(sanitised) == 4

    sanitised.clear()
    # No validators: a full 200 every time. The same bytes are not even parsed; other bytes
    # with the same entries are parsed, and their entries are known by their fingerprints.
    assert poll.feed_poll(feed_id=feed.pk).outcome == FeedPoll.Outcome.NOT_MODIFIED
    keepalive.feed("/feed.xml", rss(items, title="Renamed"))
    again = poll.feed_poll(feed_id=feed.pk)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 4)
    assert sanitised == []

    items[1] = {**items[1], "description": "<p>Rewritten by its author.</p>"}
    keepalive.feed("/feed.xml", rss(items))
    edited = poll.feed_poll(feed_id=feed.pk)
    assert (edited.new, edited.updated, edited.unchanged) == (0, 1, 3)
    assert sanitised == ["<p>Rewritten by its author.</p>"]
    assert Resource.objects.get(entry_key=items[1]["guid"]).summary == "Rewritten by its author."


@pytest.mark.django_db
def test_a_batch_looks_up_its_feeds_known_entries_in_one_query_and_skips_them(
    keepalive, local_feeds, sanitised
):
    items = {n: posts(3, prefix=f"k{n}") for n in range(3)}
    feeds = [Feed.objects.create(url=keepalive.feed(f"/{n}.xml", rss(items[n]))) for n in range(3)]
    ids = [feed.pk for feed in feeds]
    assert [report.new for report in poll.feeds_poll(feed_ids=ids)] == [3, 3, 3]
    sanitised.clear()
    for n in range(3):  # other bytes, the same entries
        keepalive.feed(f"/{n}.xml", rss(items[n], title=f"Renamed {n}"))
    with CaptureQueriesContext(connection) as queries:
        reports = poll.feeds_poll(feed_ids=ids)
    assert [(report.new, report.unchanged) for report in reports] == [(0, 3)] * 3
    assert sanitised == []
    lookups = [q for q in queries.captured_queries if "entry_fingerprint" in q["sql"]]
    assert len(lookups) == 1, [q["sql"][:80] for q in lookups]


@pytest.mark.django_db
def test_a_failed_fingerprint_lookup_makes_the_entries_again_and_loses_no_poll(
    keepalive, local_feeds, monkeypatch
):
    feeds = [
        Feed.objects.create(url=keepalive.feed(f"/{n}.xml", rss(posts(2, prefix=f"l{n}"))))
        for n in range(2)
    ]
    ids = [feed.pk for feed in feeds]
    poll.feeds_poll(feed_ids=ids)
    for n in range(2):
        keepalive.feed(f"/{n}.xml", rss(posts(2, prefix=f"l{n}"), title="Renamed"))

    def lookup_bug(fingerprints_by_feed):  # type: ignore[no-untyped-def]
        raise RuntimeError("a lookup bug")

    monkeypatch.setattr(poll, "_known_fingerprints", lookup_bug)
    with pytest.raises(RuntimeError, match="a lookup bug"):
        poll.feeds_poll(feed_ids=ids)
    # Both polls are written; the entries were made again and found stored, by key.
    assert [FeedPoll.objects.filter(feed=feed).count() for feed in feeds] == [2, 2]
    assert list(FeedPoll.objects.order_by("-pk").values_list("unchanged", flat=True)[:2]) == [2, 2]
    assert Resource.objects.count() == 4


@pytest.mark.django_db
def test_one_post_carried_by_two_feeds_of_one_batch_is_one_resource(keepalive, local_feeds):
    shared = posts(2, prefix="shared")
    first = Feed.objects.create(url=keepalive.feed("/a.xml", rss(shared)))
    second = Feed.objects.create(
        url=keepalive.feed("/b.xml", rss([{**shared[0], "guid": "other-id"}, *posts(1)]))
    )
    reports = poll.feeds_poll(feed_ids=[first.pk, second.pk])
    assert [(report.new, report.unchanged) for report in reports] == [(2, 0), (1, 1)]
    assert Resource.objects.count() == 3
    assert Resource.objects.filter(url__contains="shared").count() == 2


@pytest.mark.django_db
def test_resources_stored_before_fingerprints_get_one_and_are_skipped_after(
    keepalive, local_feeds, sanitised
):
    feed = Feed.objects.create(url=keepalive.feed("/feed.xml", rss(posts(3))))
    poll.feed_poll(feed_id=feed.pk)
    # As the migrations leave older rows and feeds.
    Resource.objects.update(entry_fingerprint="")
    Feed.objects.update(document_fingerprint="")
    sanitised.clear()
    report = poll.feed_poll(feed_id=feed.pk)
    assert (report.new, report.unchanged, len(sanitised)) == (0, 3, 3)
    assert not Resource.objects.filter(entry_fingerprint="").exists()
    sanitised.clear()
    poll.feed_poll(feed_id=feed.pk)
    assert sanitised == []


def test_a_fingerprint_changes_with_the_base_address_and_the_pipeline_version(monkeypatch):
    document = feedparser.parse(rss(posts(1)))
    entry = document.entries[0]
    now = timezone.now()
    one = entries.entry_fingerprint(entry, feed_url="https://a.example/", feed_authors=[], now=now)
    same = entries.entry_fingerprint(entry, feed_url="https://a.example/", feed_authors=[], now=now)
    other = entries.entry_fingerprint(
        entry, feed_url="https://b.example/", feed_authors=[], now=now
    )
    monkeypatch.setattr(entries, "PIPELINE_VERSION", "next")
    bumped = entries.entry_fingerprint(
        entry, feed_url="https://a.example/", feed_authors=[], now=now
    )
    assert one == same and len({one, other, bumped}) == 3


def test_a_known_fingerprint_still_counts_in_the_duplicate_check():
    document = (FEEDS / "duplicate_guids.xml").read_bytes()
    fresh = parse_feed(document, url="https://blog.example.org/feed.xml")
    known = {entry.fingerprint: entry.key for entry in fresh.entries}
    again = parse_feed(
        document,
        url="https://blog.example.org/feed.xml",
        known=lambda fingerprints: {fp: known[fp] for fp in fingerprints if fp in known},
    )
    assert again.entries == () and again.unchanged == len(fresh.entries)


# --- Storing: set-based and idempotent ------------------------------------------------------------


@pytest.mark.django_db
def test_storing_one_document_twice_creates_nothing_the_second_time():
    feed = Feed.objects.create(url="https://blog.example.org/feed.xml")
    parsed = parse_feed(rss(posts(10)), url=feed.url)
    first, second = store.PollReport(feed_id=feed.pk), store.PollReport(feed_id=feed.pk)
    store.entries_store(feed, parsed, first)
    with CaptureQueriesContext(connection) as queries:
        store.entries_store(feed, parsed, second)
    assert (first.new, second.new, second.unchanged) == (10, 0, 10)
    assert Resource.objects.count() == 10
    # One read; no per-entry writes for entries that did not change.
    assert len(queries.captured_queries) <= 3


@pytest.mark.django_db
def test_storing_a_document_takes_the_same_number_of_queries_for_5_or_40_entries():
    # Not 50: on SQLite a bulk insert is cut into statements of at most 999 parameters, about
    # 47 resources of 21 columns (a real bound, not a query per entry).
    def queries_for(count: int) -> int:
        feed = Feed.objects.create(url=f"https://blog{count}.example.org/feed.xml")
        parsed = parse_feed(rss(posts(count, prefix=f"p{count}")), url=feed.url)
        with CaptureQueriesContext(connection) as queries:
            store.entries_store(feed, parsed, store.PollReport(feed_id=feed.pk))
        return len(queries.captured_queries)

    assert queries_for(5) == queries_for(40)


@pytest.mark.django_db
def test_poll_history_keeps_the_newest_polls_only(keepalive, local_feeds, monkeypatch):
    monkeypatch.setattr(schedule, "POLLS_KEPT_PER_FEED", 3)
    feed = Feed.objects.create(url=keepalive.feed("/feed.xml", rss(posts(1))))
    for _ in range(5):
        poll.feed_poll(feed_id=feed.pk)
    assert FeedPoll.objects.filter(feed=feed).count() == 3


# --- Plain text of sanitised HTML without a second parse ---------------------------------------


def _text_by_html_parser(clean: str) -> str:
    """The reference: what sanitise read from nh3's output with html.parser before."""
    from html.parser import HTMLParser

    class Collector(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
            if tag in sanitise._BREAK_TAGS:
                self.parts.append(" ")

        def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
            if tag in sanitise._BREAK_TAGS:
                self.parts.append(" ")

        def handle_data(self, data):  # type: ignore[no-untyped-def]
            self.parts.append(data)

    collector = Collector()
    collector.feed(clean)
    collector.close()
    return " ".join("".join(collector.parts).split())


HOSTILE_BODIES = [
    '<p title="a > b">x</p><br>y',
    "<table><tr><td>a</td><td>b</td></tr></table>tail",
    "&amp;lt;p&amp;gt;double&amp;lt;/p&amp;gt; escaped",
    "<script>alert(1)</script><style>p{}</style>kept",
    '<a href="/x" onclick="evil()">link &quot;q&quot; &nbsp; &#x27;</a><img src="x" alt="a>b">',
    "kubectl logs <pod-name> and List<String>",
    "<ul><li>one<li>two</ul><pre>\n  code &lt;tag&gt;</pre>",
    "<p>unclosed <b>bold <i>both</p> after",
]


@pytest.mark.parametrize("sample", sorted(FEEDS.glob("*.xml")), ids=lambda path: path.name)
def test_text_of_sanitised_html_matches_an_html_parser_on_sample_feeds(sample):
    document = feedparser.parse(sample.read_bytes(), sanitize_html=False)
    bodies = [entries._entry_body(entry)[0] for entry in document.entries] + HOSTILE_BODIES
    for body in bodies:
        clean = sanitise.clean_html(body, "https://blog.example.org/", None)
        expected = _text_by_html_parser(clean)
        if "<" not in expected:  # text that is markup again takes further passes either way
            assert sanitise.sanitised_text(clean) == expected, body
            assert sanitise.sanitised_text(clean) == sanitise.plain_text(clean), body
        assert " ".join(sanitise._strip_once(body).split()) == _text_by_html_parser(
            sanitise._TEXT_CLEANER.clean(sanitise._protect_literal_angles(body))
        ), body


@pytest.mark.django_db
def test_the_feed_rows_update_writes_each_feed_its_own_values_and_nothing_else():
    feeds = [Feed.objects.create(url=f"https://blog{n}.example.org/feed.xml") for n in range(3)]
    untouched = Feed.objects.create(url="https://other.example.org/feed.xml", title="Other")
    when = timezone.now()
    for n, feed in enumerate(feeds):
        feed.title = f"Blog {n}: “quotes”, 'single' and % signs"  # differs per feed
        feed.last_error = ""  # the same for every feed
        feed.consecutive_failures = n
        feed.active = n != 1
        feed.next_poll_at = when + timedelta(minutes=n)
        feed.last_status = None if n == 0 else 200
    fields = [
        "title",
        "last_error",
        "consecutive_failures",
        "active",
        "next_poll_at",
        "last_status",
    ]
    schedule._rows_update(feeds, fields)
    for feed in feeds:
        stored = Feed.objects.get(pk=feed.pk)
        assert [getattr(stored, name) for name in fields] == [
            getattr(feed, name) for name in fields
        ]
    assert Feed.objects.get(pk=untouched.pk).title == "Other"
