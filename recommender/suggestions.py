"""Curators' one-click labelling: apply the labels the nearest approved neighbours suggest."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from catalog import services as catalog_services
from catalog.models import Resource

# A label is applied when at least this share of the neighbours' weighted vote carries it.
MIN_SHARE = 0.4


@dataclass(frozen=True)
class ApplicableLabels:
    tags: list[str]
    areas: list[str]
    stage: str


def suggestions_applicable(suggestion: dict) -> ApplicableLabels:
    """The labels of a suggestion that carry at least MIN_SHARE of the vote."""
    stage = suggestion.get("stage")
    return ApplicableLabels(
        tags=[slug for slug, share in suggestion.get("tags", []) if share >= MIN_SHARE],
        areas=[slug for slug, share in suggestion.get("areas", []) if share >= MIN_SHARE],
        stage=stage[0] if stage and stage[1] >= MIN_SHARE else "",
    )


@transaction.atomic
def suggestions_apply(*, resources: list[Resource]) -> int:
    """Add suggested tags and areas and set the suggested stage. Returns how many changed.

    Labels are only added, never removed: what a curator or the author set stays.
    """
    # Imported on first use: the queue brings the engine (numpy, scipy) and the API's
    # serializers, which every process starting Django (the poller, commands) would pay for.
    from recommender import queue

    changed = 0
    for resource in resources:
        suggestion = queue.resource_suggestions(resource=resource)
        if not suggestion:
            continue
        labels = suggestions_applicable(suggestion)
        if catalog_services.resource_labels_add(
            resource=resource, tags=labels.tags, areas=labels.areas, stage=labels.stage
        ):
            changed += 1
    return changed
