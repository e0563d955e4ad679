"""The recommender listens to the catalog: a change bumps the version and schedules a refit."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from catalog.signals import catalog_changed


@receiver(catalog_changed, dispatch_uid="recommender.catalog_changed")
def on_catalog_changed(sender: Any, **kwargs: Any) -> None:
    # Imported when the catalog changes, not when Django starts: services bring the engine
    # (numpy, scipy), which processes that never fit a model (the poller) need not load.
    from recommender import services, tasks

    services.catalog_version_bump()
    tasks.refit_schedule()
