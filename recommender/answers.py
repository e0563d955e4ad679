"""A learner's computed `next` and queue answers, cached until something they depend on moves.

Computing a queue reads the learner's progress and profile, ranks the catalog and serialises
the resources; a learner asks again and again between changes (every page load, every app
refresh). An answer is kept in the shared cache under the learner and is served while three
things are unchanged:

* the learner's *answer version*, a random token replaced by every progress or profile
  write (`learner_changed`, called by recommender.services, also on commit);
* the stored model the answer was ranked with and the catalog version (`runtime.stamp()`),
  so a refit recomputes it, and the catalog's read version (catalog.pages), which every
  catalog write moves at once: an edited, approved or withdrawn resource shows immediately;
* and RECOMMENDER_RESPONSE_CACHE_SECONDS (0 turns caching off), which bounds how stale
  anything else may get (a renamed tag, the fading weight of old progress).

A request reads the version and the answers in one cache round trip. The version is read
before the learner's rows, so an answer computed from rows that changed meanwhile is stored
under the old version and never served.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache

from catalog import pages

# Answers for this many different parameter sets (limit, minutes) are kept per learner.
MAX_ANSWERS = 16
_VERSION_SECONDS = 24 * 3600


def _keys(user_id: int) -> tuple[str, str]:
    return f"recommender:learner:{user_id}:version", f"recommender:learner:{user_id}:answers"


def answer_cached(
    *, user_id: int, name: str, stamp: tuple[int, int], compute: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """The learner's answer called `name` (e.g. "queue:10:"), computed only when stale."""
    seconds = settings.RECOMMENDER_RESPONSE_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    version_key, answers_key = _keys(user_id)
    found = cache.get_many([version_key, answers_key, pages.VERSION_KEY])
    full_stamp = [*stamp, found.get(pages.VERSION_KEY) or pages.version()]
    version = found.get(version_key)
    if version is None:
        version = uuid.uuid4().hex
        if not cache.add(version_key, version, timeout=_VERSION_SECONDS):
            version = cache.get(version_key) or version
    stored = found.get(answers_key)
    current = (
        stored is not None
        and stored.get("version") == version
        and stored.get("stamp") == full_stamp
    )
    items: dict[str, dict[str, Any]] = dict(stored["items"]) if current and stored else {}
    if name in items:
        return items[name]
    answer = compute()
    if len(items) >= MAX_ANSWERS:
        items = {}
    items[name] = answer
    cache.set(
        answers_key, {"version": version, "stamp": full_stamp, "items": items}, timeout=seconds
    )
    return answer


def learner_changed(*, user_id: int) -> None:
    """Forget the learner's cached answers (their progress or profile changed)."""
    cache.set(_keys(user_id)[0], uuid.uuid4().hex, timeout=_VERSION_SECONDS)
