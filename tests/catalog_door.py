"""The catalog's single door, enforced on every test: a writer that skips it fails the suite.

Every write to what learners can see (approved resources, tags, authors, security areas,
learning paths and their steps) made by project code must be followed, in the same test, by
the change notification that only `catalog.services` sends. Writes made by test code itself
(factories, fixtures) are set-up, not writers, and are not checked. Bulk `update()` and
`bulk_create()` send no model signals; the services that use them are covered by the
per-writer tests in tests/catalog/test_catalog_changes.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.db.models.signals import m2m_changed, post_delete, post_save

from catalog import services
from catalog.models import Author, LearningPath, PathStep, Resource, SecurityArea, Status, Tag

ROOT = Path(__file__).resolve().parent.parent
PROJECT_DIRS = tuple(str(ROOT / name) + "/" for name in ("catalog", "recommender", "kubelearn"))
WATCHED = (Tag, Author, SecurityArea, LearningPath, PathStep, Resource)
M2M_THROUGH = (Resource.tags.through, Resource.authors.through, Resource.security_areas.through)


def _project_frame() -> str | None:
    """The innermost project (non-test, non-migration) frame of the current call, if any."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        # A model's own save() is not a writer: whoever called it is.
        if (
            filename.startswith(PROJECT_DIRS)
            and "/migrations/" not in filename
            and not filename.endswith("/models.py")
        ):
            return f"{filename[len(str(ROOT)) + 1 :]}:{frame.f_lineno}"
        frame = frame.f_back
    return None


def _relevant(instance: object) -> bool:
    if isinstance(instance, Resource):
        # Pending and rejected resources are invisible to learners: no refit needed.
        return instance.status == Status.APPROVED
    return True


class CatalogDoor:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def on_write(self, sender, instance=None, **kwargs) -> None:
        if kwargs.get("raw") or not _relevant(instance):
            return
        if not str(kwargs.get("action", "post_")).startswith("post_"):
            return  # m2m_changed also fires before the change
        where = _project_frame()
        if where is not None:
            self.events.append(("write", f"{type(instance).__name__} {instance.pk} at {where}"))

    def on_notify(self) -> None:
        self.events.append(("notify", ""))

    def unnotified(self) -> list[str]:
        """Writes with no notification after them."""
        missing: list[str] = []
        for kind, what in self.events:
            if kind == "write":
                missing.append(what)
            else:
                missing.clear()
        return missing

    def connect(self) -> None:
        for model in WATCHED:
            post_save.connect(self.on_write, sender=model, dispatch_uid=f"door-save-{model}")
            post_delete.connect(self.on_write, sender=model, dispatch_uid=f"door-del-{model}")
        for through in M2M_THROUGH:
            m2m_changed.connect(self.on_write, sender=through, dispatch_uid=f"door-m2m-{through}")

    def disconnect(self) -> None:
        for model in WATCHED:
            post_save.disconnect(sender=model, dispatch_uid=f"door-save-{model}")
            post_delete.disconnect(sender=model, dispatch_uid=f"door-del-{model}")
        for through in M2M_THROUGH:
            m2m_changed.disconnect(sender=through, dispatch_uid=f"door-m2m-{through}")


def watch(monkeypatch) -> CatalogDoor:
    """Start watching catalog writes and notifications for one test."""
    door = CatalogDoor()
    real_notify = services._catalog_changed

    def notify() -> None:
        door.on_notify()
        real_notify()

    monkeypatch.setattr(services, "_catalog_changed", notify)
    door.connect()
    return door
