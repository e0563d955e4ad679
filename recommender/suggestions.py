"""Curators' one-click labelling: apply the labels the nearest approved neighbours suggest."""

from __future__ import annotations

from django.db import transaction

from catalog.models import Resource, SecurityArea, Tag
from recommender import queue

# A label is applied when at least this share of the neighbours' weighted vote carries it.
MIN_SHARE = 0.4


@transaction.atomic
def suggestions_apply(*, resources: list[Resource]) -> int:
    """Add suggested tags and areas and set the suggested stage. Returns how many changed.

    Labels are only added, never removed: what a curator or the author set stays.
    """
    changed = 0
    for resource in resources:
        suggestion = queue.resource_suggestions(resource=resource)
        if not suggestion:
            continue
        tags = [slug for slug, share in suggestion.get("tags", []) if share >= MIN_SHARE]
        areas = [slug for slug, share in suggestion.get("areas", []) if share >= MIN_SHARE]
        if tags:
            resource.tags.add(*Tag.objects.filter(slug__in=tags))
        if areas:
            resource.security_areas.add(*SecurityArea.objects.filter(slug__in=areas))
        stage = suggestion.get("stage")
        if stage and stage[1] >= MIN_SHARE and resource.stage != stage[0]:
            Resource.objects.filter(pk=resource.pk).update(stage=stage[0])
        if tags or areas or stage:
            changed += 1
    return changed
