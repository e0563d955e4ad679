"""Logging: an outage is said, not shouted (kubelearn.logs)."""

from __future__ import annotations

import logging

import pytest

from kubelearn.logs import OncePerInterval


def test_the_same_message_is_let_through_once_per_interval_then_counted():
    held = OncePerInterval(seconds=60)
    record = logging.makeLogRecord({"name": "kubelearn.cache", "msg": "Exception ignored"})
    assert held.filter(record) is True
    assert [held.filter(logging.makeLogRecord(vars(record))) for _ in range(5)] == [False] * 5
    held._last[("kubelearn.cache", "Exception ignored")] = (-1e9, 5)  # the minute is over
    later = logging.makeLogRecord({**vars(record), "msg": "Exception ignored"})
    assert held.filter(later) is True
    assert later.msg == "Exception ignored (5 more like it in the last 60 s)"


def test_another_message_is_not_held_back_by_the_first():
    held = OncePerInterval(seconds=60)
    first = logging.makeLogRecord({"name": "kubelearn.cache", "msg": "Exception ignored"})
    other = logging.makeLogRecord({"name": "kubelearn.cache", "msg": "Something else"})
    assert held.filter(first) and held.filter(other)


@pytest.mark.django_db
def test_with_redis_gone_a_request_logs_the_cache_error_once(settings, client, caplog):
    # Each API request logged 7-9 tracebacks of the same ignored error (an operator's
    # walk-through): 430 lines for one GET /api/resources/.
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2},
        }
    }
    settings.DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    settings.DJANGO_REDIS_LOGGER = "kubelearn.cache"
    # The settings' filter on that logger, fresh (another test may have logged through it);
    # one per time logging was configured in this process.
    logger = logging.getLogger("kubelearn.cache")
    filters = [each for each in logger.filters if isinstance(each, OncePerInterval)]
    assert filters
    for held in filters:
        held._last.clear()
    with caplog.at_level(logging.ERROR, logger="kubelearn.cache"):
        for _ in range(3):
            assert client.get("/api/resources/").status_code == 200
    logged = [r for r in caplog.records if r.name == "kubelearn.cache"]
    assert len(logged) == 1, [r.getMessage() for r in logged]
