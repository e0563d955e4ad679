"""A resource's History (the admin's log of who changed what, and when), whatever the change
came through: the admin logs its own pages' edits; the API and the admin's bulk actions write
here. A decision made through the API was missing from the History a walk-through's curator
read to see who had rejected an item."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model

from catalog.models import Feed, Resource

ADDED, CHANGED = ADDITION, CHANGE


def history_add(*, by: Any, resource_ids: Iterable[int], flag: int, message: str) -> None:
    """One entry per resource, by `by` (an account; nothing is logged for none)."""
    _logged(Resource, by=by, ids=resource_ids, flag=flag, message=message)


def feed_history_add(*, by: Any, feed_ids: Iterable[int], flag: int, message: str) -> None:
    """One entry per feed in its History: who trusted a feed (its entries then skip review),
    stopped trusting it, deactivated it or added it from an OPML file. A walk-through's curator
    found an imported feed's History empty."""
    _logged(Feed, by=by, ids=feed_ids, flag=flag, message=message)


def _logged(model: type[Model], *, by: Any, ids: Iterable[int], flag: int, message: str) -> None:
    ids = list(ids)
    if not ids or by is None or not getattr(by, "is_authenticated", False):
        return
    LogEntry.objects.log_actions(
        user_id=by.pk,
        queryset=model._default_manager.filter(pk__in=ids),
        action_flag=flag,
        change_message=message,
    )


def history_deleted(*, by: Any, resource_id: int, name: str, message: str) -> None:
    """An entry for a resource deleted since (it keeps its name and number, not a link)."""
    if by is None or not getattr(by, "is_authenticated", False):
        return
    LogEntry.objects.create(
        user_id=by.pk,
        content_type_id=ContentType.objects.get_for_model(Resource).pk,
        object_id=str(resource_id),
        object_repr=name[:200],
        action_flag=DELETION,
        change_message=message,
    )
