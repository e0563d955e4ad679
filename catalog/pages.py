"""Public pages of the resource list, cached per catalog read version.

Every learner (anonymous or signed in, curators aside) sees the same approved catalog, so a
page of `/api/resources/` — filters, search, order and page included — is the same for all
of them until the catalog changes. Pages are cached under a read version that
`catalog.services` moves on every write: at once (so a writer's next read is fresh) and
again when the transaction commits (so a page read from the database before the commit,
and cached after the first move, is not served afterwards).

The version is a random token, not a counter: if the cache loses it, the next one is new,
and no page stored under an older token can come back.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache

VERSION_KEY = "catalog:read-version"
PAGE_KEY = "catalog:page:{version}:{digest}"


def version() -> str | None:
    """The current read version (made on first use); None while the cache is unreachable."""
    current = cache.get(VERSION_KEY)
    if current is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        current = cache.get(VERSION_KEY)
    return None if current is None else str(current)


def version_bump() -> None:
    """Make every cached page unreachable (catalog.services calls this on each write)."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def page_key(*, address: str, params: dict[str, list[str]]) -> str | None:
    """The cache key of one page: the read version, the address and the sorted query.

    None when no version can be read (Redis down): then nothing may be cached or served,
    since a write's version move may have been lost as well.
    """
    current = version()
    if current is None:
        return None
    canonical = (
        address
        + "?"
        + "&".join(f"{name}={value}" for name in sorted(params) for value in params[name])
    )
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
    return PAGE_KEY.format(version=current, digest=digest)


def enabled() -> bool:
    return settings.CATALOG_PAGE_CACHE_SECONDS > 0


def page_get(key: str) -> Any:
    """The cached page (a response's data), or None."""
    return cache.get(key)


def page_set(key: str, page: Any) -> None:
    cache.set(key, page, timeout=settings.CATALOG_PAGE_CACHE_SECONDS)
