"""Template filters of the catalog's admin pages."""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from catalog.admin import LEARNERS_DATA_KEPT

register = template.Library()


@register.filter
def keeps_learners_data(perms_lacking: Iterable[str]) -> bool:
    """Whether a delete page was refused because learners used what it would delete
    (catalog.admin.ResourceAdmin.get_deleted_objects)."""
    return LEARNERS_DATA_KEPT in set(perms_lacking or ())
