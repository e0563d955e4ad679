"""Fitted models: stored in the database in parts, materialised into MODEL_DIR, mapped.

The database is the source of truth, so every host serves the same model: a refit writes the
model's directory (recommender.engine.storage) as ModelPart rows, at most PART_BYTES each,
in the same transaction as its FittedModel row. A process that needs a model looks for
`MODEL_DIR/model-<row id>/`; when it is missing, it materialises it from the parts once per
machine (under a file lock, into a temporary directory renamed into place, so no process
ever maps a half-written model), then maps its arrays read-only. Every process on a machine
thus shares one copy of the model in the page cache instead of unpickling its own.

This module reads rows and moves bytes between the database and MODEL_DIR; deciding when to
refit is the services' job (recommender.services.model_refit), and keeping one model loaded
per process is the runtime's (recommender.runtime).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import transaction

from recommender import engine
from recommender.engine import Model
from recommender.engine.storage import META_FILE, model_load, model_save
from recommender.models import CatalogVersion, FittedModel, ModelPart

logger = logging.getLogger(__name__)

# How many fitted models are kept (rows and local directories); older ones are deleted after
# each refit.
MODELS_KEPT = 2
# One ModelPart's bytes at most: far below PostgreSQL's 1 GB per value, and what a process
# holds in memory at a time while storing or materialising a model.
PART_BYTES = 32 * 1024 * 1024
_PREFIX = "model-"
# A scratch directory this old was left by a process that died while writing a model
# (writing a million-resource model takes minutes, not hours): pruning removes it.
SCRATCH_ABANDONED_SECONDS = 6 * 3600


def catalog_version() -> int:
    return CatalogVersion.objects.values_list("version", flat=True).filter(pk=1).first() or 0


def latest_model() -> tuple[int, int] | None:
    """(row id, catalog version) of the newest stored model, or None when none is stored."""
    return FittedModel.objects.order_by("-id").values_list("pk", "catalog_version").first()


def model_dir() -> Path:
    path = Path(settings.MODEL_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def model_path(row_id: int) -> Path:
    return model_dir() / f"{_PREFIX}{row_id}"


@contextlib.contextmanager
def _locked(name: str = ".lock") -> Iterator[None]:
    """An exclusive lock shared by every process of this machine (a file in MODEL_DIR)."""
    with (model_dir() / name).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    """An empty directory inside MODEL_DIR (same filesystem, so a rename publishes it)."""
    path = model_dir() / f".tmp-{os.getpid()}-{uuid.uuid4().hex}"
    path.mkdir()
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)  # gone already when it was published


def _publish(scratch: Path, row_id: int) -> Path:
    """Rename a complete directory into place; if another process won the race, keep its copy."""
    final = model_path(row_id)
    _fsync_dir(scratch)
    with _locked():
        if not (final / META_FILE).exists():
            if final.exists():
                shutil.rmtree(final)  # left incomplete by a crash: never mapped
            os.replace(scratch, final)
            _fsync_dir(final.parent)
    return final


def model_store(
    model: Model | None, *, catalog_version: int, documents: int, fit_seconds: float
) -> FittedModel:
    """Store a fitted model (None: nothing approved) as a new row with its parts; publish it
    into this machine's MODEL_DIR too, so the refitting process's neighbours need not read
    it back. Older models beyond MODELS_KEPT are deleted (rows and local directories)."""
    with _scratch() as scratch:
        names = model_save(model, scratch) if model is not None else []
        row = files_store(
            scratch,
            names,
            catalog_version=catalog_version,
            documents=documents,
            fit_seconds=fit_seconds,
        )
        if names:
            _publish(scratch, row.pk)
    models_prune()
    return row


def files_store(
    directory: Path, names: list[str], *, catalog_version: int, documents: int, fit_seconds: float
) -> FittedModel:
    """A new FittedModel row with the files of a model directory as its parts, in one
    transaction, reading PART_BYTES at a time."""
    total = sum((directory / name).stat().st_size for name in names)
    with transaction.atomic():
        row = FittedModel.objects.create(
            catalog_version=catalog_version,
            documents=documents,
            fit_seconds=fit_seconds,
            stored_bytes=total,
        )
        for name in names:
            with (directory / name).open("rb") as handle:
                index = 0
                while chunk := handle.read(PART_BYTES):
                    ModelPart.objects.create(model=row, name=name, index=index, data=chunk)
                    index += 1
                if index == 0:  # an empty file still exists
                    ModelPart.objects.create(model=row, name=name, index=0, data=b"")
    return row


def models_prune() -> None:
    """Delete all but the newest MODELS_KEPT rows, local directories of deleted rows, and
    scratch directories abandoned by crashed writers.

    A process still mapping a deleted directory keeps its pages (the files are unlinked, not
    overwritten) until it loads the newer model.
    """
    stale = FittedModel.objects.order_by("-id").values_list("pk", flat=True)[MODELS_KEPT:]
    FittedModel.objects.filter(pk__in=list(stale)).delete()
    kept = set(FittedModel.objects.values_list("pk", flat=True))
    # Only directories older than every kept row: a newer one may belong to a refit that
    # committed after the query above.
    oldest = min(kept, default=0)
    with _locked():
        for path in model_dir().glob(f"{_PREFIX}*"):
            suffix = path.name.removeprefix(_PREFIX)
            if suffix.isdigit() and int(suffix) < oldest:
                shutil.rmtree(path, ignore_errors=True)
                (path.parent / f".lock-{suffix}").unlink(missing_ok=True)
        # Scratch directories of writers that crashed (a live one is renamed or removed
        # within minutes); by age, as the writer may be a process of another container.
        abandoned = time.time() - SCRATCH_ABANDONED_SECONDS
        for path in model_dir().glob(".tmp-*"):
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < abandoned:
                    shutil.rmtree(path, ignore_errors=True)


def model_is_local(row_id: int) -> bool:
    """Whether this machine has the model's directory (complete) already."""
    return (model_path(row_id) / META_FILE).exists()


def model_materialise(row_id: int) -> Path:
    """This machine's directory of a stored model, written from its parts if missing.

    Reads one part at a time, so memory stays at PART_BYTES whatever the model's size.
    Raises FittedModel.DoesNotExist when the row has been deleted meanwhile.
    """
    final = model_path(row_id)
    if (final / META_FILE).exists():
        return final
    parts = list(
        ModelPart.objects.filter(model_id=row_id)
        .order_by("name", "index")
        .values_list("pk", "name")
    )
    if not parts and not FittedModel.objects.filter(pk=row_id).exists():
        raise FittedModel.DoesNotExist(f"no stored model #{row_id}")
    # One process per machine reads the parts; the others wait here, then map its copy.
    with _locked(f".lock-{row_id}"):
        if (final / META_FILE).exists():
            return final
        with _scratch() as scratch:
            _parts_write(scratch, parts)
            path = _publish(scratch, row_id)
    logger.info("Recommender model #%s materialised into %s", row_id, path)
    return path


def _parts_write(directory: Path, parts: list[tuple[int, str]]) -> None:
    """Write the files of a model from its parts (ordered by name, index), then fsync them."""
    for name in dict.fromkeys(name for _, name in parts):
        with (directory / name).open("wb") as handle:
            for pk in (pk for pk, part_name in parts if part_name == name):
                handle.write(ModelPart.objects.values_list("data", flat=True).get(pk=pk))
            handle.flush()
            os.fsync(handle.fileno())


def model_load_stored(row_id: int, documents: int | None = None) -> Model | None:
    """The stored model of this row, memory-mapped (None: fitted on an empty catalog)."""
    if documents is None:
        documents = FittedModel.objects.values_list("documents", flat=True).get(pk=row_id)
    if not documents:
        return None
    model = model_load(model_materialise(row_id))
    engine.prepare(model)  # before the first request needs it
    return model
