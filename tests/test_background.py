"""kubelearn.background: without a broker, tasks that wait on other servers run beside the
request, so the request answers at once and the work is still done."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from celery import Celery, shared_task
from werkzeug import Response

from catalog.models import Feed, FeedState, Resource
from kubelearn import background
from kubelearn.celery import app
from tests.feedbuilder import rss

pytestmark = pytest.mark.django_db(transaction=True)

ADDED: list[int] = []


@shared_task(base=background.OffRequestTask, name="tests.background.fails")
def fails() -> None:
    raise RuntimeError("a task that fails in the background")


@shared_task(base=background.OffRequestTask, name="tests.background.adds")
def adds(number: int) -> None:
    ADDED.append(number)


@pytest.fixture
def off_request(settings):
    settings.TASKS_OFF_REQUEST = True
    settings.FEEDS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    yield
    assert background.wait_idle(timeout=30)


def test_adding_a_feed_answers_before_its_slow_server_does_and_the_check_still_happens(
    off_request, curator_api, httpserver
):
    # A curator's walk-through waited 10 s in the admin for a slow blog with `make run`.
    answer = threading.Event()

    def slow_feed(request):
        answer.wait(timeout=20)
        return Response(
            rss([{"title": "Pod security in practice", "link": "https://blog.example.org/pss/"}]),
            content_type="application/rss+xml",
        )

    httpserver.expect_request("/feed.xml").respond_with_handler(slow_feed)
    started = time.monotonic()
    response = curator_api.post("/api/feeds/", {"url": httpserver.url_for("/feed.xml")})
    took = time.monotonic() - started
    assert response.status_code == 202, response.json()
    assert took < 5  # the server has not answered yet: it waits for the event
    assert Feed.objects.get(pk=response.json()["id"]).state == FeedState.CHECKING

    answer.set()
    assert background.wait_idle(timeout=30)
    feed = Feed.objects.get(pk=response.json()["id"])
    assert feed.state == FeedState.READY
    assert Resource.objects.filter(feed=feed, title="Pod security in practice").exists()


def test_a_task_that_fails_in_the_background_is_logged_and_the_next_one_runs(off_request, caplog):
    ADDED.clear()
    with caplog.at_level(logging.ERROR, logger="kubelearn.background"):
        fails.delay()
        adds.delay(7)
        assert background.wait_idle(timeout=10)
    assert ADDED == [7]
    assert "tests.background.fails failed" in caplog.text


def test_tasks_run_where_they_are_sent_when_the_setting_is_off(settings):
    settings.TASKS_OFF_REQUEST = False
    ADDED.clear()
    adds.delay(3)
    assert ADDED == [3]  # already run, in this thread


def test_every_tasks_soft_time_limit_is_within_its_hard_one():
    # Celery refuses to send a task whose soft limit is above its hard one: links_dispatch
    # (hard 60 s, the global soft 120 s) was never sent, and link checks never ran under beat
    # (an operator's walk-through).
    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert "catalog.health.tasks.links_dispatch" in ours
    for name, task in ours.items():
        soft = task.soft_time_limit or app.conf.task_soft_time_limit
        hard = task.time_limit or app.conf.task_time_limit
        assert not (soft and hard and soft > hard), (name, soft, hard)


def test_queueing_a_task_gives_up_within_seconds_when_redis_hangs(redis_that_hangs, settings):
    # "Poll now" took 28 s to say the queue was unavailable (an operator's walk-through).
    app = Celery("hanging")
    app.config_from_object(settings, namespace="CELERY")
    app.conf.update(broker_url=redis_that_hangs, task_always_eager=False)
    started = time.monotonic()
    with pytest.raises(Exception):  # noqa: B017 (kombu raises several types)
        app.send_task("catalog.tasks.feed_poll", args=[1])
    assert time.monotonic() - started < 8
