"""The shared cache against a Redis that hangs (kubelearn.rediscache)."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from kubelearn import rediscache


@pytest.fixture
def cache_on_a_redis_that_hangs(settings, redis_that_hangs):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis_that_hangs,
            "OPTIONS": {
                **settings.CACHES["default"].get("OPTIONS", {}),
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
                "CLIENT_CLASS": "kubelearn.rediscache.BreakerClient",
            },
        }
    }
    rediscache.breaker_reset()
    yield
    rediscache.breaker_reset()


def test_after_one_cache_call_times_out_the_next_ones_skip_redis(cache_on_a_redis_that_hangs):
    # A request making eight cache calls against a paused Redis took eight seconds (an
    # operator's walk-through); each call is still answered as a miss.
    started = time.monotonic()
    assert [cache.get(f"key-{n}", "missed") for n in range(8)] == ["missed"] * 8
    cache.set("key", "value")
    assert cache.get_many(["a", "b"]) == {}
    assert time.monotonic() - started < 3  # one timeout (1 s), not ten


def test_the_breaker_lets_a_call_try_redis_again_after_a_few_seconds(
    cache_on_a_redis_that_hangs, monkeypatch
):
    cache.get("key")  # fails: the breaker opens
    clock = time.monotonic() + rediscache.BREAK_SECONDS + 1
    monkeypatch.setattr(rediscache.time, "monotonic", lambda: clock)
    started = time.perf_counter()
    cache.get("key")  # tries Redis again, and waits its timeout
    assert time.perf_counter() - started >= 0.9
