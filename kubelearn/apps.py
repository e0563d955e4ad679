from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.contrib.admin import autodiscover
from django.contrib.admin.apps import SimpleAdminConfig
from django.contrib.admin.checks import check_admin_app, check_dependencies
from django.core import checks


class AdminDiscoveredOnDemandConfig(SimpleAdminConfig):
    """The admin, with every app's ``admin.py`` imported by the URLconf (``kubelearn.urls``) and
    by the admin's own system checks, not at every start of Django: importing them (and the
    forms, widgets and filters they pull in) took 150 ms of the 0.65 s that ``manage.py
    poll_feeds`` and each Celery worker spend starting, and neither ever serves the admin."""

    def ready(self) -> None:
        checks.register(check_dependencies, checks.Tags.admin)
        checks.register(check_discovered_admin, checks.Tags.admin)


def check_discovered_admin(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    # The checks run in no set order: the URL checks, which import the URLconf, may come after
    # this one, so it discovers the ModelAdmins itself before checking them.
    autodiscover()
    return check_admin_app(app_configs, **kwargs)
