"""Write-side logic for learners (progress, profile) and for keeping the model fresh."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from catalog.models import Resource, SecurityArea
from recommender.models import FocusArea, LearnerProfile, Progress, ProgressState

logger = logging.getLogger(__name__)

REFIT_DEBOUNCE_SECONDS = 5
_REFIT_KEY = "recommender:refit-scheduled"


def progress_set(
    *, user: AbstractBaseUser, resource: Resource, state: str, rating: int | None
) -> tuple[Progress, bool]:
    """Create or replace the learner's progress on a resource. Returns (row, created).

    Idempotent: the same call twice leaves one row in the same state.
    """
    with transaction.atomic():
        progress, created = Progress.objects.select_for_update().get_or_create(
            user=user, resource=resource, defaults={"state": state, "rating": rating}
        )
        if not created:
            progress.state = state
            progress.rating = rating
        if state == ProgressState.COMPLETED and progress.completed_at is None:
            progress.completed_at = timezone.now()
        elif state != ProgressState.COMPLETED:
            progress.completed_at = None
        progress.save()
    return progress, created


def progress_forget(*, user: AbstractBaseUser, resource_id: int) -> bool:
    deleted, _ = Progress.objects.filter(user=user, resource_id=resource_id).delete()
    return bool(deleted)


def profile_update(
    *,
    user: AbstractBaseUser,
    focus: Mapping[str, float] | None = None,
    level: int | type[...] | None = ...,
    minutes_budget: int | type[...] | None = ...,
) -> LearnerProfile:
    """Update the parts of a profile that were given (`...` means "leave as it is").

    `focus` replaces the whole focus: {area slug: weight in (0, 1]}.
    """
    with transaction.atomic():
        profile, _ = LearnerProfile.objects.select_for_update().get_or_create(user=user)
        if level is not ...:
            profile.level = level
        if minutes_budget is not ...:
            profile.minutes_budget = minutes_budget
        profile.save()
        if focus is not None:
            areas = dict(SecurityArea.objects.filter(slug__in=focus).values_list("slug", "pk"))
            profile.focus.all().delete()
            FocusArea.objects.bulk_create(
                FocusArea(profile=profile, area_id=areas[slug], weight=weight)
                for slug, weight in focus.items()
            )
    return profile


def refit_schedule() -> None:
    """Queue one refit; changes within the debounce window share it.

    With no broker (CELERY_TASK_ALWAYS_EAGER) the refit runs here, in-process.
    """
    if not cache.add(_REFIT_KEY, 1, timeout=REFIT_DEBOUNCE_SECONDS * 6):
        return
    from recommender.tasks import recommender_refit

    try:
        recommender_refit.apply_async(countdown=REFIT_DEBOUNCE_SECONDS)
    except Exception as exc:  # broker unreachable: keep serving the stored model
        cache.delete(_REFIT_KEY)
        logger.error("Could not queue a recommender refit: %s", exc)


def refit_done() -> None:
    cache.delete(_REFIT_KEY)
