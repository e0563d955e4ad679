"""Curators' one-click labelling: apply the labels the nearest approved neighbours suggest."""

from __future__ import annotations

from django.db import transaction

from catalog import services as catalog_services
from catalog.models import Resource
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
        stage = suggestion.get("stage")
        catalog_services.resource_labels_add(
            resource=resource,
            tags=tags,
            areas=areas,
            stage=stage[0] if stage and stage[1] >= MIN_SHARE else "",
        )
        if tags or areas or stage:
            changed += 1
    return changed
