"""The recommender listens to the catalog: a change bumps the version and schedules a refit."""

from __future__ import annotations

from django.dispatch import receiver

from catalog.signals import catalog_changed
from recommender import services, store


@receiver(catalog_changed, dispatch_uid="recommender.catalog_changed")
def on_catalog_changed(sender, **kwargs) -> None:
    store.catalog_version_bump()
    services.refit_schedule()
