"""The shared cache's Redis client, with a breaker for a Redis that hangs.

django-redis ignores a failed cache call (IGNORE_EXCEPTIONS) only after its socket timeout:
against a Redis that hangs rather than refuses (paused, wedged, a network that drops packets)
every call waits the whole timeout, and a request making eight of them took eight seconds (an
operator's walk-through). After one call fails, the breaker answers every call of this process
as failed at once for a few seconds, then lets the next one try Redis again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django_redis.client import DefaultClient
from django_redis.exceptions import ConnectionInterrupted

# How long calls skip Redis after one failed.
BREAK_SECONDS = 5.0

_lock = threading.Lock()
_open_until = [0.0]


def breaker_reset() -> None:
    """Close the breaker (tests; a process that knows Redis is back)."""
    with _lock:
        _open_until[0] = 0.0


def _guarded(name: str) -> Callable[..., Any]:
    def call(self: BreakerClient, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() < _open_until[0]:
            raise ConnectionInterrupted(connection=None) from ConnectionError(
                "skipped: Redis failed a call in the last few seconds"
            )
        try:
            return getattr(DefaultClient, name)(self, *args, **kwargs)
        except ConnectionInterrupted:
            with _lock:
                _open_until[0] = time.monotonic() + BREAK_SECONDS
            raise

    call.__name__ = name
    return call


class BreakerClient(DefaultClient):
    """django-redis's client; its cache calls go through the breaker."""

    get = _guarded("get")
    set = _guarded("set")
    add = _guarded("add")
    delete = _guarded("delete")
    get_many = _guarded("get_many")
    set_many = _guarded("set_many")
    delete_many = _guarded("delete_many")
    has_key = _guarded("has_key")
    incr = _guarded("incr")
    decr = _guarded("decr")
    touch = _guarded("touch")
    ttl = _guarded("ttl")
    expire = _guarded("expire")
    clear = _guarded("clear")
