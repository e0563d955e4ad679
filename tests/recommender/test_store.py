from __future__ import annotations

import pytest

from catalog.models import Status
from recommender import services, store
from recommender.models import FittedModel
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
