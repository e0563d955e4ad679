"""Read-side queries for the catalog. Other apps (the recommender) read the catalog here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Prefetch, QuerySet

from catalog import search
from catalog.models import LearningPath, PathStep, Resource, Status

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

CURATORS_GROUP = "curators"


def user_is_curator(user: User | AnonymousUser | None) -> bool:
    """Curators are staff or members of the `curators` group."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return user.groups.filter(name=CURATORS_GROUP).exists()


def resource_list(*, user: User | AnonymousUser | None) -> QuerySet[Resource]:
    """Resources this user may see, with everything a list page shows prefetched.

    Everyone sees approved resources; curators also see pending and rejected ones.
    """
    queryset = Resource.objects.prefetch_related(
        "tags",
        "authors",
        "security_areas",
        Prefetch("path_steps", queryset=PathStep.objects.select_related("path")),
    )
    if not user_is_curator(user):
        queryset = queryset.filter(status=Status.APPROVED)
    return queryset


def approved_resources() -> QuerySet[Resource]:
    return Resource.objects.filter(status=Status.APPROVED)


def path_list(*, user: User | AnonymousUser | None) -> QuerySet[LearningPath]:
    """Learning paths with their ordered steps; non-curators only see approved steps."""
    steps = PathStep.objects.select_related("resource").order_by("position")
    if not user_is_curator(user):
        steps = steps.filter(resource__status=Status.APPROVED)
    return LearningPath.objects.prefetch_related(Prefetch("steps", queryset=steps))


def resource_search(*, resources: QuerySet[Resource], text: str) -> QuerySet[Resource]:
    """`resources` matching a learner's search words, each annotated with `search_rank`.

    The one search the API (`?search=`) and the browse page share; see catalog.search.
    """
    return search.resource_search(resources, text)


# Ordering of a search's results unless the client asked for another one: best match first.
SEARCH_ORDERING = ("-search_rank", "title", "id")
