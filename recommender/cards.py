"""Serialised resources ("cards") for queues, cached per process (by recommender.runtime).

A queue shows the same few hundred resources to every learner. Serialising one with its tags,
authors, areas and path places costs four prefetch queries and DRF field building on every
request; here it costs that once per resource version. A card is keyed by the resource's
`updated_at` (every edit, approval or rejection moves it, and so does every change of its
link health or staleness flags: catalog.services.resource_health_changed) and a five-minute
bucket, so a renamed tag shows within minutes. Beside each card the cache keeps the resource's
health notes (a failing link, outdated advice) built from the same rows, so a queue's health
reasons cost no query of their own and always agree with the card they annotate.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from django.db.models import prefetch_related_objects

from catalog import selectors as catalog_selectors
from catalog.models import Resource
from catalog.selectors import ResourceHealth
from catalog.serializers import ResourceSerializer

MAX_CARDS = 50_000
BUCKET_SECONDS = 300


class CardCache:
    """The cards of recently shown resources; owned by the runtime, one per process."""

    def __init__(self) -> None:
        self._cards: dict[tuple[int, float, int], tuple[dict[str, Any], ResourceHealth | None]] = {}

    def cards(self, resources: Sequence[Resource]) -> list[dict[str, Any]]:
        """The serialised form of each resource, in order (fetching relations only for misses)."""
        return [card for card, _ in self._entries(resources)]

    def health(self, resources: Sequence[Resource]) -> dict[int, ResourceHealth]:
        """Health notes of those resources that have any (see catalog.selectors.health_of)."""
        return {
            resource.pk: health
            for resource, (_, health) in zip(resources, self._entries(resources), strict=True)
            if health is not None
        }

    def _entries(
        self, resources: Sequence[Resource]
    ) -> list[tuple[dict[str, Any], ResourceHealth | None]]:
        bucket = int(time.time() // BUCKET_SECONDS)
        keys = [(r.pk, r.updated_at.timestamp(), bucket) for r in resources]
        missing = {key: r for r, key in zip(resources, keys, strict=True) if key not in self._cards}
        if missing:
            fetched = list(missing.values())
            prefetch_related_objects(fetched, *catalog_selectors.RESOURCE_PREFETCH)
            if len(self._cards) + len(fetched) > MAX_CARDS:
                self._cards.clear()
            cards = ResourceSerializer(fetched, many=True).data
            for key, resource, card in zip(missing, fetched, cards, strict=True):
                self._cards[key] = (card, catalog_selectors.health_of(resource))
        return [self._cards[key] for key in keys]

    def clear(self) -> None:
        self._cards.clear()
