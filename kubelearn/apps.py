from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.contrib.admin import autodiscover
from django.contrib.admin.apps import SimpleAdminConfig
from django.contrib.admin.checks import check_admin_app, check_dependencies
from django.core import checks
from django.db.backends.signals import connection_created


class KubelearnConfig(AppConfig):
    """Project-wide pieces: management commands, templates, and SQLite's UPPER for Unicode."""

    name = "kubelearn"
    default = True

    def ready(self) -> None:
        connection_created.connect(unicode_upper_for_sqlite, dispatch_uid="kubelearn-upper")
        # Here, not at the top: kubelearn.signin reaches the auth models, not loaded yet then.
        from django.contrib.auth.signals import user_login_failed

        from kubelearn.signin import signin_failure_counted

        user_login_failed.connect(signin_failure_counted, dispatch_uid="kubelearn-signin-failed")


def unicode_upper_for_sqlite(sender: Any, connection: Any, **kwargs: Any) -> None:
    """SQLite's UPPER() folds ASCII letters only, so "Zoé" and "ZOÉ" were two accounts on the
    embedded database (a hostile-input sweep; PostgreSQL's folds them). Python's does what
    PostgreSQL's does for these names (kubelearn.signin.users_named)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("UPPER", 1, _upper, deterministic=True)


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


class AdminDiscoveredOnDemandConfig(SimpleAdminConfig):
    """The admin, with every app's ``admin.py`` imported by the URLconf (``kubelearn.urls``) and
    by the admin's own system checks, not at every start of Django. ``manage.py poll_feeds``
    and Celery workers never serve the admin, and importing them was 8% of the instructions
    poll_feeds ran to start (2.85 -> 2.61 billion, callgrind; README, Benchmarks). Its site
    lets curators in, not only staff (``kubelearn.admin_site``)."""

    default_site = "kubelearn.admin_site.CuratorAdminSite"

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
