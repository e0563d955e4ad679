"""Reads for the recommender: the catalog as engine Documents, a learner as an engine Learner."""

from __future__ import annotations

import time
from collections import defaultdict

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, QuerySet
from django.utils import timezone

from catalog import selectors as catalog_selectors
from catalog.models import LearningPath, PathStep, Resource, SecurityArea
from recommender.engine import Document, Interaction, Learner
from recommender.models import LearnerProfile, Progress, ProgressState


def primary_path() -> LearningPath | None:
    """The learning path the recommender follows (setting RECOMMENDER_PATH_SLUG)."""
    return (
        LearningPath.objects.filter(slug=settings.RECOMMENDER_PATH_SLUG).first()
        or LearningPath.objects.order_by("pk").first()
    )


def engine_documents() -> list[Document]:
    """Every approved resource as an engine Document, in five flat queries.

    Plain tuples rather than model instances: at 100k resources, instances with prefetched
    relations cost several hundred MiB in the refit worker for nothing.
    """
    path = primary_path()
    positions: dict[int, int] = {}
    if path is not None:
        steps = PathStep.objects.filter(path=path, resource__status="approved").order_by("position")
        # Re-number over approved steps only, so a hidden step never blocks the path.
        for position, resource_id in enumerate(steps.values_list("resource_id", flat=True), 1):
            positions[resource_id] = position
    approved = catalog_selectors.approved_resources()
    tags: dict[int, list[str]] = defaultdict(list)
    for resource_id, slug in Resource.tags.through.objects.filter(
        resource__in=approved
    ).values_list("resource_id", "tag__slug"):
        tags[resource_id].append(slug)
    areas: dict[int, list[str]] = defaultdict(list)
    for resource_id, slug in Resource.security_areas.through.objects.filter(
        resource__in=approved
    ).values_list("resource_id", "securityarea__slug"):
        areas[resource_id].append(slug)
    completions = dict(
        Progress.objects.filter(state=ProgressState.COMPLETED, resource__in=approved)
        .values("resource_id")
        .annotate(n=Count("pk"))
        .values_list("resource_id", "n")
    )
    rows = approved.order_by("pk").values_list(
        "pk", "title", "summary", "kind", "stage", "difficulty", "estimated_minutes"
    )
    return [
        Document(
            id=pk,
            title=title,
            summary=summary,
            tags=tuple(sorted(tags.get(pk, ()))),
            areas=tuple(sorted(areas.get(pk, ()))),
            kind=kind,
            stage=stage,
            difficulty=difficulty,
            minutes=minutes,
            path_position=positions.get(pk),
            popularity=float(completions.get(pk, 0)),
        )
        for pk, title, summary, kind, stage, difficulty, minutes in rows.iterator(chunk_size=5000)
    ]


def learner_profile(*, user: AbstractBaseUser) -> LearnerProfile | None:
    return LearnerProfile.objects.filter(user=user).prefetch_related("focus__area").first()


def engine_learner(*, user: AbstractBaseUser) -> Learner:
    """The learner's progress and profile as the engine sees them."""
    now = timezone.now()
    interactions = tuple(
        Interaction(
            doc_id=resource_id,
            state=state,
            rating=rating,
            age_days=max((now - updated_at).total_seconds() / 86400, 0.0),
        )
        for resource_id, state, rating, updated_at in Progress.objects.filter(
            user=user
        ).values_list("resource_id", "state", "rating", "updated_at")
    )
    profile = learner_profile(user=user)
    focus = {item.area.slug: item.weight for item in profile.focus.all()} if profile else {}
    return Learner(
        interactions=interactions,
        focus=focus,
        level=profile.level if profile else None,
        minutes_budget=profile.minutes_budget if profile else None,
    )


def progress_list(*, user: AbstractBaseUser) -> QuerySet[Progress]:
    return Progress.objects.filter(user=user).select_related("resource")


def area_names() -> dict[str, str]:
    """Security area names by slug, kept a minute per process: they change about never."""
    global _area_names, _area_names_at
    if _area_names is None or time.monotonic() - _area_names_at > 60:
        _area_names = dict(SecurityArea.objects.values_list("slug", "name"))
        _area_names_at = time.monotonic()
    return _area_names


_area_names: dict[str, str] | None = None
_area_names_at = 0.0


def forget_area_names() -> None:
    global _area_names
    _area_names = None


def resources_by_id(ids: list[int]) -> dict[int, Resource]:
    """The approved resources among `ids` (one query; relations are fetched by the cards)."""
    queryset = catalog_selectors.approved_resources().filter(pk__in=ids)
    return {resource.pk: resource for resource in queryset}
