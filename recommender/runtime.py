"""The recommender's per-process runtime state, in one object: what a web process holds.

`runtime` owns the fitted model this process loaded, the check of whether a newer one is
stored, and the caches derived from it (security area names, serialised resource cards).
Reads never fit: when no model is stored yet, `model()` queues a refit and answers "warming
up", and the queue falls back to the learning path's order. Writes (version bumps, refits)
are services (recommender.services), run by the refit task (recommender.tasks).

Tests call `runtime.reset()`; nothing else keeps recommender state at module level.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from catalog.models import Deprecation, Resource
from catalog.selectors import ResourceHealth
from recommender import selectors, store, tasks
from recommender.cards import CardCache
from recommender.engine import Model
from recommender.models import FittedModel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedModel:
    row_id: int
    catalog_version: int
    model: Model | None  # None: the catalog has no approved resources


class WarmingUp(Exception):
    """No fitted model is stored yet; a refit has been queued."""


class Runtime:
    # How long a process trusts its view of "latest stored model / catalog version" before
    # checking the database again: a second of staleness saves two queries per request.
    freshness_seconds = 1.0
    label_names_seconds = 60.0
    outdated_seconds = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget everything this process holds (tests; after deleting stored models)."""
        self._loaded: LoadedModel | None = None
        self._fetcher: threading.Thread | None = None
        self._catalog_version = 0
        self._checked_at = 0.0
        self._refit_requested_for: int | None = None
        self._label_names: selectors.LabelNames | None = None
        self._label_names_at = 0.0
        # Resources without an address by catalog version, off the path only (True) or all.
        self._unlinked: dict[bool, tuple[int, frozenset[int]]] = {}
        self._alternatives: tuple[int, dict[int, frozenset[int]]] | None = None
        self._outdated: tuple[float, dict[int, frozenset[int]]] | None = None
        self._deprecations: tuple[float, dict[str, Deprecation]] | None = None
        self._cards = CardCache()

    # --- The model ------------------------------------------------------------------------------

    def model(self) -> Model | None:
        """The model for this request: the newest stored one, loaded once per process.

        Returns None when the catalog has no approved resources. Raises WarmingUp when no
        model is stored at all (a refit is queued; without a broker it has run already, and
        its model is returned instead).
        """
        loaded = self._loaded
        if loaded is not None and time.monotonic() - self._checked_at < self.freshness_seconds:
            return loaded.model
        latest = store.latest_model()
        if latest is None:
            tasks.refit_schedule()
            latest = store.latest_model()  # an in-process (eager) refit has stored one
            if latest is None:
                raise WarmingUp
        row_id, version = latest
        if loaded is not None and loaded.row_id != row_id and not store.model_is_local(row_id):
            # Fitted on another machine: copying it from the database can take a while for a
            # large catalog (1.5 GiB at 1M resources), so it happens beside the requests,
            # which keep the loaded model until the copy is complete.
            self._fetch_in_background(row_id)
        elif loaded is None or loaded.row_id != row_id:
            with self._lock:
                if self._loaded is None or self._loaded.row_id != row_id:
                    # Built completely before it replaces the old one: a request sees the
                    # old model or the new one, never a mix.
                    try:
                        model = store.model_load_stored(row_id)
                    except FittedModel.DoesNotExist:
                        # Pruned by a newer refit since we asked: the next request loads that.
                        if loaded is None:
                            raise WarmingUp from None
                        return loaded.model
                    self._loaded = LoadedModel(row_id=row_id, catalog_version=version, model=model)
                loaded = self._loaded
        current = store.catalog_version()
        self._catalog_version = current
        if current > loaded.catalog_version and self._refit_requested_for != current:
            # Serve the stored model now; a refit brings the new content within seconds.
            # Once per catalog version per process: a list page asking per row costs nothing.
            self._refit_requested_for = current
            tasks.refit_schedule()
        self._checked_at = time.monotonic()
        return loaded.model

    def _fetch_in_background(self, row_id: int) -> None:
        with self._lock:
            if self._fetcher is not None and self._fetcher.is_alive():
                return
            self._fetcher = threading.Thread(
                target=self._fetch, args=(row_id,), name=f"model-{row_id}", daemon=True
            )
            self._fetcher.start()

    @staticmethod
    def _fetch(row_id: int) -> None:
        try:
            store.model_materialise(row_id)
        except Exception:  # the next request tries again; the loaded model keeps serving
            logger.exception("Could not copy recommender model #%s into MODEL_DIR", row_id)
        finally:
            connection.close()  # this thread's own connection

    def stamp(self) -> tuple[int, int]:
        """(stored model row, catalog version) as of the last `model()` call: what a cached
        answer computed from this model must match to be served."""
        loaded = self._loaded
        return (loaded.row_id if loaded else 0, self._catalog_version)

    # --- Derived caches ---------------------------------------------------------------------------

    def label_names(self) -> selectors.LabelNames:
        """Security area and tag names by slug, kept a minute: they seldom change, and a tag
        named since is quoted by its slug meanwhile."""
        if self._label_names is None or (
            time.monotonic() - self._label_names_at > self.label_names_seconds
        ):
            self._label_names = selectors.label_names()
            self._label_names_at = time.monotonic()
        return self._label_names

    def unlinked_off_path(self) -> frozenset[int]:
        """Approved resources with no address that are not path steps, per catalog version.

        The queue leaves them out: a learner could not open them. (A path step without an
        address stays: the path names it, and its page offers a web search.)
        """
        return self._unlinked_ids(off_path=True)

    def unlinked(self) -> frozenset[int]:
        """Approved resources with no address, path steps too, per catalog version: no one's
        similar reading (a learner could only search the web for them)."""
        return self._unlinked_ids(off_path=False)

    def _unlinked_ids(self, *, off_path: bool) -> frozenset[int]:
        version = self._catalog_version
        cached = self._unlinked.get(off_path)
        if cached is None or cached[0] != version:
            cached = (version, frozenset(selectors.unlinked_ids(off_path=off_path)))
            self._unlinked[off_path] = cached
        return cached[1]

    def path_alternatives(self) -> dict[int, frozenset[int]]:
        """Path steps of which a learner needs one, each with its alternatives, per catalog
        version (a path's steps change with it)."""
        version = self._catalog_version
        if self._alternatives is None or self._alternatives[0] != version:
            self._alternatives = (version, selectors.path_alternatives())
        return self._alternatives[1]

    def outdated_path_steps(self) -> frozenset[int]:
        """Path steps flagged as outdated, kept a minute: a focus starts the path past them
        when another step serves it. Flags change with a nightly scan or a curator's
        review, and do not move the catalog version (nothing is refitted for them)."""
        return frozenset(self.outdated_successors())

    def outdated_successors(self) -> dict[int, frozenset[int]]:
        """The outdated path steps with the resources named as their successors, kept a
        minute as `outdated_path_steps` says."""
        kept = self._outdated
        if kept is None or time.monotonic() - kept[0] > self.outdated_seconds:
            kept = self._outdated = (time.monotonic(), selectors.outdated_path_steps())
        return kept[1]

    def deprecations(self) -> dict[str, Deprecation]:
        """The deprecations table by slug (a dozen rows), kept a minute as the outdated
        steps are: cards ask whether a flag names their resource itself."""
        kept = self._deprecations
        if kept is None or time.monotonic() - kept[0] > self.outdated_seconds:
            kept = self._deprecations = (time.monotonic(), selectors.deprecations())
        return kept[1]

    def superseded_successor(self, card: dict[str, Any]) -> int | None:
        """The id of the resource about today's way when this card's resource *is* the
        removed thing (Katacoda, the platform shut down in 2022), not one that only mentions
        it. No query (the deprecations are kept a minute)."""
        flags = [flag for flag in card.get("staleness", ()) if flag.get("successor")]
        if not flags:
            return None
        known = self.deprecations()
        for flag in flags:
            deprecation = known.get(flag["deprecation"])
            if (
                deprecation is not None
                and deprecation.is_named_by(card["title"])
                and flag["successor"] != card.get("id")
            ):
                return int(flag["successor"])
        return None

    def cards(self, resources: Sequence[Resource]) -> list[dict[str, Any]]:
        """Serialised resources, cached per resource version (see recommender.cards)."""
        return self._cards.cards(resources)

    def health(self, resources: Sequence[Resource]) -> dict[int, ResourceHealth]:
        """Health notes of these resources, cached beside their cards."""
        return self._cards.health(resources)


runtime = Runtime()
