"""Fitted models and the catalog version as stored in the database, and their serialisation.

A fitted model is pickled (compressed) into FittedModel, tagged with the catalog version it was
built from. This module only reads rows and (de)serialises payloads: writing them is the
refit service's job (recommender.services.model_refit), and keeping one loaded per process is
the runtime's (recommender.runtime).
"""

from __future__ import annotations

import io
import pickle
import zlib
from typing import Any

from recommender.engine import Model
from recommender.models import CatalogVersion, FittedModel

# How many fitted models are kept; older rows are deleted after each refit.
MODELS_KEPT = 2


def catalog_version() -> int:
    return CatalogVersion.objects.values_list("version", flat=True).filter(pk=1).first() or 0


def latest_model() -> tuple[int, int] | None:
    """(row id, catalog version) of the newest stored model, or None when none is stored."""
    return FittedModel.objects.order_by("-id").values_list("pk", "catalog_version").first()


def model_load(row_id: int) -> Model | None:
    """The stored model of this row (None: it was fitted on a catalog with nothing approved)."""
    payload = FittedModel.objects.values_list("payload", flat=True).get(pk=row_id)
    return loads(bytes(payload))


class _CompressingWriter:
    """A file-like sink that compresses as pickle writes, so the uncompressed pickle of a
    large model never exists in memory whole (it is several times the compressed size)."""

    def __init__(self) -> None:
        self._compressor = zlib.compressobj(1)
        self._chunks: list[bytes] = []

    def write(self, data: Any) -> int:
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

    def readinto(self, buffer: Any) -> int:
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


def dumps(model: Model | None) -> bytes:
    sink = _CompressingWriter()
    pickle.dump(model, sink, protocol=pickle.HIGHEST_PROTOCOL)
    return sink.getvalue()


def loads(payload: bytes) -> Model | None:
    reader = io.BufferedReader(_DecompressingReader(payload), buffer_size=1 << 20)
    return pickle.load(reader)  # noqa: S301 - our own payload, written by dumps
