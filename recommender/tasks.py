"""The refit task, and the one way to queue it (debounced, so a burst of changes shares it)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache

from recommender import services, store

logger = logging.getLogger(__name__)

REFIT_DEBOUNCE_SECONDS = 5
_REFIT_KEY = "recommender:refit-scheduled"


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def recommender_refit() -> int:
    """Refit the engine on the approved catalog; returns the stored model's id."""
    try:
        row = services.model_refit()
    finally:
        cache.delete(_REFIT_KEY)
    if store.catalog_version() > row.catalog_version:
        refit_schedule()  # the catalog moved on while we were fitting
    return row.pk


def refit_schedule() -> bool:
    """Queue one refit; changes within the debounce window share it. True when queued now.

    With no broker (CELERY_TASK_ALWAYS_EAGER) the refit runs here, in-process: that is the
    development setup without Redis, where there is no worker to wait for.
    """
    if not cache.add(_REFIT_KEY, 1, timeout=REFIT_DEBOUNCE_SECONDS * 6):
        return False
    try:
        recommender_refit.apply_async(countdown=REFIT_DEBOUNCE_SECONDS)
    except Exception as exc:  # broker unreachable: keep serving the stored model
        cache.delete(_REFIT_KEY)
        logger.error("Could not queue a recommender refit: %s", exc)
        return False
    return True
