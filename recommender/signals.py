"""The recommender listens to the catalog: a change bumps the version and schedules a refit."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from catalog.signals import catalog_changed
from recommender import services, tasks


@receiver(catalog_changed, dispatch_uid="recommender.catalog_changed")
def on_catalog_changed(sender: Any, **kwargs: Any) -> None:
    services.catalog_version_bump()
    tasks.refit_schedule()
