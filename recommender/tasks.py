from __future__ import annotations

from celery import shared_task

from recommender import services, store


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def recommender_refit() -> int:
    """Refit the engine on the approved catalog; returns the stored model's id."""
    try:
        row = store.model_refit()
    finally:
        services.refit_done()
    if store.catalog_version() > row.catalog_version:
        services.refit_schedule()  # the catalog moved on while we were fitting
    return row.pk
