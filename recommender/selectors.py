"""Reads for the recommender: the catalog as engine Documents, a learner as an engine Learner."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet
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
    """Every approved resource as an engine Document (about five queries, any catalog size)."""
    path = primary_path()
    positions: dict[int, int] = {}
    if path is not None:
        steps = PathStep.objects.filter(path=path, resource__status="approved").order_by("position")
        # Re-number over approved steps only, so a hidden step never blocks the path.
        for position, resource_id in enumerate(steps.values_list("resource_id", flat=True), 1):
            positions[resource_id] = position
    resources = (
        catalog_selectors.approved_resources()
        .annotate(completions=Count("progress", filter=Q(progress__state=ProgressState.COMPLETED)))
        .prefetch_related("tags", "security_areas")
        .order_by("pk")
    )
    return [
        Document(
            id=resource.pk,
            title=resource.title,
            summary=resource.summary,
            tags=tuple(tag.slug for tag in resource.tags.all()),
            areas=tuple(area.slug for area in resource.security_areas.all()),
            kind=resource.kind,
            stage=resource.stage,
            difficulty=resource.difficulty,
            minutes=resource.estimated_minutes,
            path_position=positions.get(resource.pk),
            popularity=float(resource.completions),
        )
        for resource in resources
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
    return dict(SecurityArea.objects.values_list("slug", "name"))


def resources_by_id(ids: list[int]) -> dict[int, Resource]:
    """Approved resources for a recommendation list, with what the list shows, in 4 queries."""
    queryset = catalog_selectors.resource_list(user=None).filter(pk__in=ids)
    return {resource.pk: resource for resource in queryset}
