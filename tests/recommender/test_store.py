from __future__ import annotations

import pytest

from catalog.models import Status
from recommender import services, store
from recommender.engine import Learner, recommend
from recommender.models import FittedModel, ModelPart
from recommender.runtime import WarmingUp, runtime
from tests.factories import LearningPathFactory, PathStepFactory, ResourceFactory


@pytest.mark.django_db
def test_without_a_broker_the_first_read_on_an_empty_store_runs_the_queued_refit():
    ResourceFactory.create_batch(3)
    first = runtime.model()
    assert first is not None and first.n_docs == 3
    assert FittedModel.objects.count() == 1
    assert runtime.model() is first
    assert FittedModel.objects.count() == 1


@pytest.mark.django_db
def test_with_a_broker_a_read_on_an_empty_store_never_fits_and_queues_one_refit(monkeypatch):
    from recommender import tasks

    queued = []
    monkeypatch.setattr(tasks.recommender_refit, "apply_async", lambda **kw: queued.append(kw))
    ResourceFactory.create_batch(3)
    with pytest.raises(WarmingUp):
        runtime.model()
    with pytest.raises(WarmingUp):
        runtime.model()
    assert FittedModel.objects.count() == 0
    assert len(queued) == 1  # debounced: the second read does not queue another


@pytest.mark.django_db
def test_a_warming_up_queue_answers_with_the_path_order_and_a_note(alice_api, monkeypatch):
    from recommender import tasks

    monkeypatch.setattr(tasks.recommender_refit, "apply_async", lambda **kw: None)
    path = LearningPathFactory(slug="kubernetes-from-zero-to-secure")
    steps = [PathStepFactory(path=path, position=n).resource for n in (1, 2, 3)]
    body = alice_api.get("/api/me/queue/", {"limit": 2}).json()
    assert "warming up" in body["note"]
    assert [item["resource"]["id"] for item in body["results"]] == [steps[0].pk, steps[1].pk]
    first = alice_api.get("/api/me/next/").json()
    assert first["recommendation"]["resource"]["id"] == steps[0].pk
    assert "warming up" in first["detail"]
    assert FittedModel.objects.count() == 0


@pytest.mark.django_db
def test_a_newer_stored_model_is_loaded_by_a_process_holding_an_older_one():
    ResourceFactory.create_batch(2)
    old = runtime.model()
    ResourceFactory(status=Status.APPROVED)
    services.catalog_version_bump()
    services.model_refit()  # what the refit task does, in another process
    new = runtime.model()
    assert new is not old and new.n_docs == 3


@pytest.mark.django_db
def test_a_stale_model_is_served_while_one_refit_is_scheduled(monkeypatch):
    from recommender import tasks

    ResourceFactory.create_batch(2)
    model = runtime.model()
    scheduled = []
    monkeypatch.setattr(tasks, "refit_schedule", lambda: scheduled.append(1))
    services.catalog_version_bump()
    assert runtime.model() is model  # no request waits for the refit
    assert runtime.model() is model
    assert scheduled == [1]  # once per catalog version, however many reads ask


@pytest.mark.django_db
def test_only_the_latest_models_are_kept():
    ResourceFactory()
    for _ in range(4):
        services.model_refit()
    assert FittedModel.objects.count() == store.MODELS_KEPT


def _files(directory) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


@pytest.mark.django_db
def test_a_model_bigger_than_one_part_is_stored_in_several_and_read_back_identical(
    monkeypatch, settings, tmp_path
):
    monkeypatch.setattr(store, "PART_BYTES", 256)
    ResourceFactory.create_batch(40)
    row = services.model_refit()
    written = _files(store.model_path(row.pk))
    parts = ModelPart.objects.filter(model=row)
    assert parts.filter(index__gt=0).exists()  # some file took several parts
    assert max(len(bytes(data)) for data in parts.values_list("data", flat=True)) <= 256
    assert row.stored_bytes == sum(len(data) for data in written.values())
    # Another machine: an empty MODEL_DIR, filled from the database.
    settings.MODEL_DIR = tmp_path / "elsewhere"
    runtime.reset()
    model = runtime.model()
    assert model is not None and model.n_docs == 40
    assert _files(store.model_path(row.pk)) == written


@pytest.mark.django_db
def test_a_refit_that_fails_while_writing_leaves_the_stored_model_in_use(monkeypatch):
    ResourceFactory.create_batch(3)
    served = runtime.model()
    before = set(FittedModel.objects.values_list("pk", flat=True))

    def broken(model, directory):
        (directory / "matrix.data.npy").write_bytes(b"half a model")
        raise OSError("disk full")

    monkeypatch.setattr(store, "model_save", broken)
    services.catalog_version_bump()
    with pytest.raises(OSError, match="disk full"):
        services.model_refit()
    assert set(FittedModel.objects.values_list("pk", flat=True)) == before
    assert [p.name for p in store.model_dir().iterdir() if not p.name.startswith(".lock")] == [
        f"model-{pk}" for pk in before
    ]
    assert runtime.model() is served


@pytest.mark.django_db
def test_a_reader_never_maps_a_half_materialised_model(monkeypatch, settings, tmp_path):
    ResourceFactory.create_batch(3)
    row = services.model_refit()
    settings.MODEL_DIR = tmp_path / "elsewhere"
    runtime.reset()
    real = store._parts_write

    def interrupted(directory, parts):
        real(directory, parts[:2])
        raise ConnectionError("database went away")

    monkeypatch.setattr(store, "_parts_write", interrupted)
    with pytest.raises(ConnectionError):
        runtime.model()
    assert not store.model_path(row.pk).exists()
    assert not [p for p in store.model_dir().iterdir() if p.name.startswith(".tmp")]
    monkeypatch.setattr(store, "_parts_write", real)
    assert runtime.model().n_docs == 3


@pytest.mark.django_db
def test_a_process_keeps_serving_its_model_after_newer_ones_prune_its_directory():
    ResourceFactory.create_batch(3)
    old = runtime.model()
    old_dir = store.model_path(FittedModel.objects.get().pk)
    for _ in range(store.MODELS_KEPT + 1):
        services.model_refit()
    assert not old_dir.exists()
    # Its files are unlinked, not overwritten: the mapped arrays still read.
    assert len(recommend(old, Learner(interactions=(), focus={}))) == 3
    kept = sorted(p.name for p in store.model_dir().glob("model-*"))
    assert kept == sorted(f"model-{pk}" for pk in FittedModel.objects.values_list("pk", flat=True))


@pytest.mark.django_db
def test_pruning_removes_scratch_left_by_a_crashed_writer_but_not_a_live_one():
    import os
    import time

    ResourceFactory.create_batch(2)
    crashed = store.model_dir() / ".tmp-4242-crashed"
    writing = store.model_dir() / ".tmp-4343-writing"
    for path in (crashed, writing):
        path.mkdir()
        (path / "matrix.data.npy").write_bytes(b"half a model")
    hours_ago = time.time() - store.SCRATCH_ABANDONED_SECONDS - 60
    os.utime(crashed, (hours_ago, hours_ago))
    services.model_refit()  # prunes after storing
    assert not crashed.exists()
    assert (writing / "matrix.data.npy").exists()


@pytest.mark.django_db(transaction=True)
def test_a_model_fitted_elsewhere_is_copied_in_the_background_while_the_loaded_one_serves():
    import shutil

    ResourceFactory.create_batch(2)
    old = runtime.model()
    ResourceFactory(status=Status.APPROVED)
    row = services.model_refit()
    shutil.rmtree(store.model_path(row.pk))  # as if another machine had fitted it
    assert runtime.model() is old  # no request waits for the copy
    runtime._fetcher.join()
    assert store.model_is_local(row.pk)
    assert runtime.model().n_docs == 3
