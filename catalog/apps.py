from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from catalog import search, services

        # SQLite's full-text index lives outside the models; a table rebuild by any later
        # migration drops its triggers, so it is checked after every migrate.
        post_migrate.connect(search.index_ensure_after_migrate, sender=self)
        # After auth's own handler has made the catalog's permissions (auth's app is first).
        post_migrate.connect(services.curators_group_ensure, sender=self)
