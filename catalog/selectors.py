"""Read-side queries for the catalog. Other apps (the recommender) read the catalog here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypedDict

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


def resource_list(
    *, user: User | AnonymousUser | None, relations: bool = True
) -> QuerySet[Resource]:
    """Resources this user may see, with everything a resource's page shows prefetched.

    Everyone sees approved resources; curators also see pending and rejected ones. A list
    passes `relations=False` and reads a page's relations with `resource_relations`.
    """
    queryset = Resource.objects.all()
    if relations:
        queryset = queryset.prefetch_related(
            "tags",
            "authors",
            "security_areas",
            Prefetch("path_steps", queryset=PathStep.objects.select_related("path")),
        )
    if not user_is_curator(user):
        queryset = queryset.filter(status=Status.APPROVED)
    return queryset


class ResourceRelations(TypedDict):
    """A resource's taxonomy and path places, as the API shows them."""

    authors: list[dict[str, Any]]
    tags: list[dict[str, Any]]
    security_areas: list[dict[str, Any]]
    path_steps: list[dict[str, Any]]


def resource_relations(resource_ids: Sequence[int]) -> dict[int, ResourceRelations]:
    """The relations of these resources in four flat queries, without model instances.

    Ordered as the models order them (name; path title, then position).
    """
    found: dict[int, ResourceRelations] = {
        pk: {"authors": [], "tags": [], "security_areas": [], "path_steps": []}
        for pk in resource_ids
    }
    if not found:
        return found
    ids = list(found)
    tags = Resource.tags.through.objects.filter(resource_id__in=ids)
    for pk, slug, name in tags.order_by("tag__name", "tag_id").values_list(
        "resource_id", "tag__slug", "tag__name"
    ):
        found[pk]["tags"].append({"slug": slug, "name": name})
    authors = Resource.authors.through.objects.filter(resource_id__in=ids)
    for pk, slug, name, homepage in authors.order_by("author__name", "author_id").values_list(
        "resource_id", "author__slug", "author__name", "author__homepage"
    ):
        found[pk]["authors"].append({"slug": slug, "name": name, "homepage": homepage})
    areas = Resource.security_areas.through.objects.filter(resource_id__in=ids)
    for pk, slug, name, description in areas.order_by(
        "securityarea__name", "securityarea_id"
    ).values_list(
        "resource_id", "securityarea__slug", "securityarea__name", "securityarea__description"
    ):
        found[pk]["security_areas"].append({"slug": slug, "name": name, "description": description})
    steps = PathStep.objects.filter(resource_id__in=ids)
    for pk, path, position in steps.order_by("path__title", "path_id", "position").values_list(
        "resource_id", "path__slug", "position"
    ):
        found[pk]["path_steps"].append({"path": path, "position": position})
    return found


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
