"""Redis gone: the API keeps answering, and queueing work says so instead of failing."""

from __future__ import annotations

import time

import pytest
from django.core.cache import caches
from django.test import override_settings

from catalog.models import Feed
from kubelearn.celery import app as celery_app
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1
DEAD_CACHE = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": DEAD_REDIS,
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
        },
    }
}


@pytest.fixture
def redis_gone():
    # Django rebuilds its cache handlers when CACHES changes (test signal handler).
    with override_settings(CACHES=DEAD_CACHE):
        assert type(caches["default"]).__module__.startswith("django_redis")
        assert caches["default"].get("anything") is None  # the dead Redis, error ignored
        yield


def test_the_api_keeps_answering_with_the_cache_down(api, redis_gone):
    ResourceFactory(title="Still served")
    started = time.monotonic()
    response = api.get("/api/resources/")
    assert response.status_code == 200
    assert [r["title"] for r in response.json()["results"]] == ["Still served"]
    assert time.monotonic() - started < 10


def test_poll_now_answers_503_when_the_broker_is_down(curator_api, monkeypatch):
    feed = Feed.objects.create(url="https://blog.example.org/feed.xml")
    monkeypatch.setattr(celery_app.conf, "task_always_eager", False)
    monkeypatch.setattr(celery_app.conf, "broker_url", DEAD_REDIS)
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    try:
        started = time.monotonic()
        response = curator_api.post(f"/api/feeds/{feed.pk}/poll/")
        assert response.status_code == 503
        assert "unavailable" in response.json()["detail"]
        assert time.monotonic() - started < 30
    finally:
        celery_app._pool = None
        celery_app.amqp._producer_pool = None
    feed.refresh_from_db()
    assert feed.claimed_until is None  # the scheduler will still poll it
