"""Feed polling through real Redis and a real `celery worker` process."""

from __future__ import annotations

import threading
import time

import pytest
from werkzeug import Response

from catalog.feeds.tasks import feed_poll, feeds_dispatch
from catalog.models import Feed, Resource, Status
from tests.feedbuilder import posts, rss

pytestmark = pytest.mark.integration


def wait_until(condition, *, timeout: float = 40, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_beat_dispatch_polls_a_local_feed_into_pending_resources(celery_worker, httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss(posts(4)), content_type="application/rss+xml"
    )
    feed = Feed.objects.create(url=httpserver.url_for("/feed.xml"))
    # What beat sends every minute, through the broker, to the worker.
    feeds_dispatch.delay()
    wait_until(lambda: Resource.objects.filter(feed=feed).count() == 4, what="4 resources")
    assert set(Resource.objects.values_list("status", flat=True)) == {Status.PENDING}
    wait_until(lambda: Feed.objects.get(pk=feed.pk).last_success_at is not None, what="feed health")
    feed.refresh_from_db()
    assert feed.claimed_until is None and feed.consecutive_failures == 0


def test_a_worker_killed_mid_poll_leaves_every_entry_stored_exactly_once(celery_worker, httpserver):
    entries = posts(8)
    request_arrived = threading.Event()
    release = threading.Event()

    def held_until_released(request):
        request_arrived.set()
        release.wait(timeout=20)
        return Response(rss(entries), content_type="application/rss+xml")

    # The first request hangs (the worker is killed while waiting for it); later ones answer.
    httpserver.expect_ordered_request("/feed.xml").respond_with_handler(held_until_released)
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss(entries), content_type="application/rss+xml"
    )
    feed = Feed.objects.create(url=httpserver.url_for("/feed.xml"))

    feed_poll.delay(feed.pk)
    # Generous: a worker starting on a busy 2-core machine can take a while to pick it up.
    assert request_arrived.wait(timeout=90), celery_worker.log()
    celery_worker.kill()
    release.set()
    assert Resource.objects.count() == 0

    # The unacknowledged message is redelivered to a fresh worker after the visibility timeout.
    celery_worker.start()
    wait_until(lambda: Resource.objects.count() == 8, what="redelivered poll", timeout=60)

    # And polling again, for good measure, still stores nothing twice.
    feed_poll.delay(feed.pk)
    wait_until(lambda: feed.polls.count() >= 2, what="second poll recorded")
    assert Resource.objects.count() == 8
    assert Resource.objects.values("entry_key").distinct().count() == 8
