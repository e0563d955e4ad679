from __future__ import annotations

from collections.abc import Callable

import pytest

from catalog.models import Feed


@pytest.fixture
def add_feed(curator_api, django_capture_on_commit_callbacks) -> Callable:
    """POST an address to /api/feeds/ and let the in-process worker check it, as it would
    once the request's transaction commits. Returns (response, the feed row or None)."""

    def add(address: str, **fields):
        with django_capture_on_commit_callbacks(execute=True):
            response = curator_api.post("/api/feeds/", {"url": address, **fields}, format="json")
        if response.status_code not in (200, 202):
            return response, None
        return response, Feed.objects.filter(pk=response.json()["id"]).first()

    return add
