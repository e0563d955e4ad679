"""The fitted model's lifecycle: built off the request path, shared by every process.

A fitted model is pickled into the database (FittedModel) tagged with the catalog version
it was built from. Each process keeps the one it loaded in memory and reloads only when a
newer one is stored. When the catalog moves ahead of the stored model, requests keep using
the stored one (slightly stale) and a refit is scheduled; only the very first request on
an empty store waits for a fit.
"""

from __future__ import annotations

import logging
import pickle
import threading
import time
import zlib
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F

from recommender import selectors
from recommender.engine import Model, fit
from recommender.models import CatalogVersion, FittedModel

logger = logging.getLogger(__name__)

MODELS_KEPT = 2


@dataclass(frozen=True)
class LoadedModel:
    row_id: int
    catalog_version: int
    model: Model | None  # None: the catalog has no approved resources


_loaded: LoadedModel | None = None
_lock = threading.Lock()


def catalog_version() -> int:
    return CatalogVersion.objects.values_list("version", flat=True).filter(pk=1).first() or 0


def catalog_version_bump() -> int:
    """Record that approved content may have changed. Returns the new version."""
    with transaction.atomic():
        updated = CatalogVersion.objects.filter(pk=1).update(version=F("version") + 1)
        if not updated:
            CatalogVersion.objects.get_or_create(pk=1, defaults={"version": 1})
    return catalog_version()


def model_refit() -> FittedModel:
    """Fit on the approved catalog as it is now and store the result (the refit task's body)."""
    version = catalog_version()
    started = time.perf_counter()
    documents = selectors.engine_documents()
    model = fit(documents) if documents else None
    payload = zlib.compress(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL), 1)
    elapsed = time.perf_counter() - started
    row = FittedModel.objects.create(
        catalog_version=version,
        payload=payload,
        documents=len(documents),
        fit_seconds=elapsed,
    )
    stale = FittedModel.objects.order_by("-id").values_list("pk", flat=True)[MODELS_KEPT:]
    FittedModel.objects.filter(pk__in=list(stale)).delete()
    logger.info(
        "Recommender refit: %s documents, catalog v%s, %.2f s, %s KiB stored",
        len(documents),
        version,
        elapsed,
        len(payload) // 1024,
    )
    return row


def current_model() -> Model | None:
    """The model for this request: the newest stored one, loaded once per process.

    Returns None when the catalog has no approved resources.
    """
    global _loaded
    latest = FittedModel.objects.order_by("-id").values_list("pk", "catalog_version").first()
    if latest is None:
        # The very first request on an empty store: nothing to serve but a fresh fit.
        row = model_refit()
        latest = (row.pk, row.catalog_version)
    row_id, version = latest
    loaded = _loaded
    if loaded is None or loaded.row_id != row_id:
        with _lock:
            if _loaded is None or _loaded.row_id != row_id:
                payload = FittedModel.objects.values_list("payload", flat=True).get(pk=row_id)
                model = pickle.loads(zlib.decompress(payload))  # noqa: S301 - our own payload
                _loaded = LoadedModel(row_id=row_id, catalog_version=version, model=model)
            loaded = _loaded
    if catalog_version() > loaded.catalog_version:
        # Serve the stored model now; a refit brings the new content within seconds.
        from recommender.services import refit_schedule

        refit_schedule()
    return loaded.model


def forget_loaded_model() -> None:
    """Drop this process's in-memory model (tests, and after deleting stored models)."""
    global _loaded
    _loaded = None
