"""Serialised resources ("cards") for queues, cached per process (by recommender.runtime).

A queue shows the same few hundred resources to every learner. Serialising one with its tags,
authors, areas and path places costs four prefetch queries and DRF field building on every
request; here it costs that once per resource version. A card is keyed by the resource's
`updated_at` (every edit, approval or rejection moves it) and a five-minute bucket, so a
renamed tag shows within minutes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from django.db.models import prefetch_related_objects

from catalog import selectors as catalog_selectors
from catalog.models import Resource
from catalog.serializers import ResourceSerializer

MAX_CARDS = 50_000
BUCKET_SECONDS = 300


class CardCache:
    """The cards of recently shown resources; owned by the runtime, one per process."""

    def __init__(self) -> None:
        self._cards: dict[tuple[int, float, int], dict[str, Any]] = {}

    def cards(self, resources: Sequence[Resource]) -> list[dict[str, Any]]:
        """The serialised form of each resource, in order (fetching relations only for misses)."""
        bucket = int(time.time() // BUCKET_SECONDS)
        keys = [(r.pk, r.updated_at.timestamp(), bucket) for r in resources]
        missing = [r for r, key in zip(resources, keys, strict=True) if key not in self._cards]
        if missing:
            prefetch_related_objects(missing, *catalog_selectors.RESOURCE_PREFETCH)
            if len(self._cards) + len(missing) > MAX_CARDS:
                self._cards.clear()
            for resource, card in zip(
                missing, ResourceSerializer(missing, many=True).data, strict=True
            ):
                self._cards[(resource.pk, resource.updated_at.timestamp(), bucket)] = card
        return [self._cards[key] for key in keys]

    def clear(self) -> None:
        self._cards.clear()
