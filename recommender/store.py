"""The fitted model's lifecycle: built off the request path, shared by every process.

A fitted model is pickled into the database (FittedModel) tagged with the catalog version
it was built from. Each process keeps the one it loaded in memory and reloads only when a
newer one is stored. When the catalog moves ahead of the stored model, requests keep using
the stored one (slightly stale) and a refit is scheduled; only the very first request on
an empty store waits for a fit.
"""

from __future__ import annotations

import io
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
    """Fit on the approved catalog as it is now and store the result (the refit task's body).

    The returned row carries `timings` (seconds for read, fit, dump and store) for operators
    and benchmarks; they are also logged.
    """
    version = catalog_version()
    clock = time.perf_counter()
    documents = selectors.engine_documents()
    count = len(documents)
    timings = {"read": time.perf_counter() - clock}
    clock = time.perf_counter()
    model = fit(documents) if documents else None
    del documents  # free the catalog copy before pickling: peak memory is the limit here
    timings["fit"] = time.perf_counter() - clock
    clock = time.perf_counter()
    payload = _dumps(model)
    del model  # the stored copy is what every process (this one included) will load
    timings["dump"] = time.perf_counter() - clock
    clock = time.perf_counter()
    row = FittedModel.objects.create(
        catalog_version=version,
        payload=payload,
        documents=count,
        fit_seconds=timings["read"] + timings["fit"] + timings["dump"],
    )
    stale = FittedModel.objects.order_by("-id").values_list("pk", flat=True)[MODELS_KEPT:]
    FittedModel.objects.filter(pk__in=list(stale)).delete()
    timings["store"] = time.perf_counter() - clock
    row.timings = timings  # type: ignore[attr-defined]
    logger.info(
        "Recommender refit: %s documents, catalog v%s, %s KiB stored; seconds: %s",
        count,
        version,
        len(payload) // 1024,
        ", ".join(f"{name} {seconds:.2f}" for name, seconds in timings.items()),
    )
    return row


# How long a process trusts its view of "latest stored model / catalog version" before
# checking the database again: a second of staleness saves two queries per request.
FRESHNESS_SECONDS = 1.0
_checked_at = 0.0


def current_model() -> Model | None:
    """The model for this request: the newest stored one, loaded once per process.

    Returns None when the catalog has no approved resources.
    """
    global _loaded, _checked_at
    loaded = _loaded
    if loaded is not None and time.monotonic() - _checked_at < FRESHNESS_SECONDS:
        return loaded.model
    latest = FittedModel.objects.order_by("-id").values_list("pk", "catalog_version").first()
    if latest is None:
        # The very first request on an empty store: nothing to serve but a fresh fit.
        row = model_refit()
        latest = (row.pk, row.catalog_version)
    row_id, version = latest
    if loaded is None or loaded.row_id != row_id:
        with _lock:
            if _loaded is None or _loaded.row_id != row_id:
                payload = FittedModel.objects.values_list("payload", flat=True).get(pk=row_id)
                model = _loads(bytes(payload))
                del payload
                _loaded = LoadedModel(row_id=row_id, catalog_version=version, model=model)
            loaded = _loaded
    if catalog_version() > loaded.catalog_version:
        # Serve the stored model now; a refit brings the new content within seconds.
        from recommender.services import refit_schedule

        refit_schedule()
    _checked_at = time.monotonic()
    return loaded.model


class _CompressingWriter:
    """A file-like sink that compresses as pickle writes, so the uncompressed pickle of a
    large model never exists in memory whole (it is several times the compressed size)."""

    def __init__(self) -> None:
        self._compressor = zlib.compressobj(1)
        self._chunks: list[bytes] = []

    def write(self, data) -> int:
        # Protocol 5 hands large buffers (numpy arrays) over as PickleBuffer objects.
        view = memoryview(data)
        self._chunks.append(self._compressor.compress(view))
        return view.nbytes

    def getvalue(self) -> bytes:
        self._chunks.append(self._compressor.flush())
        return b"".join(self._chunks)


class _DecompressingReader(io.RawIOBase):
    """The reverse: pickle reads from the compressed payload, a chunk at a time."""

    def __init__(self, payload: bytes) -> None:
        self._payload = memoryview(payload)
        self._offset = 0
        self._decompressor = zlib.decompressobj()
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending and not self._decompressor.eof:
            chunk = self._payload[self._offset : self._offset + (1 << 20)]
            self._offset += len(chunk)
            self._pending = self._decompressor.decompress(chunk) if chunk else b""
            if not chunk:
                self._pending += self._decompressor.flush()
                break
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


def _dumps(model: Model | None) -> bytes:
    sink = _CompressingWriter()
    pickle.dump(model, sink, protocol=pickle.HIGHEST_PROTOCOL)
    return sink.getvalue()


def _loads(payload: bytes) -> Model | None:
    reader = io.BufferedReader(_DecompressingReader(payload), buffer_size=1 << 20)
    return pickle.load(reader)  # noqa: S301 - our own payload, written by _dumps


def forget_loaded_model() -> None:
    """Drop this process's in-memory model (tests, and after deleting stored models)."""
    global _loaded, _checked_at
    _loaded = None
    _checked_at = 0.0
