from __future__ import annotations

import numpy as np
import pytest

from catalog.models import Status
from recommender import store
from recommender.models import FittedModel
from tests.factories import ResourceFactory


def test_stored_payload_round_trips_large_arrays():
    """Large numpy buffers reach the writer as PickleBuffers under protocol 5."""
    payload = {"matrix": np.arange(3_000_000, dtype=np.float32), "names": ["etcd", "rbac"]}
    restored = store._loads(store._dumps(payload))
    assert np.array_equal(restored["matrix"], payload["matrix"])
    assert restored["names"] == ["etcd", "rbac"]


@pytest.mark.django_db
def test_the_first_request_on_an_empty_store_fits_and_later_ones_reuse_it():
    ResourceFactory.create_batch(3)
    first = store.current_model()
    assert first is not None and first.n_docs == 3
    assert FittedModel.objects.count() == 1
    assert store.current_model() is first
    assert FittedModel.objects.count() == 1


@pytest.mark.django_db
def test_a_newer_stored_model_is_loaded_by_a_process_holding_an_older_one():
    ResourceFactory.create_batch(2)
    old = store.current_model()
    ResourceFactory(status=Status.APPROVED)
    store.catalog_version_bump()
    store.model_refit()  # what the refit task does, in another process
    new = store.current_model()
    assert new is not old and new.n_docs == 3


@pytest.mark.django_db
def test_a_stale_model_is_served_while_a_refit_is_scheduled(monkeypatch):
    ResourceFactory.create_batch(2)
    model = store.current_model()
    scheduled = []
    monkeypatch.setattr("recommender.services.refit_schedule", lambda: scheduled.append(1))
    store.catalog_version_bump()
    assert store.current_model() is model  # no request waits for the refit
    assert scheduled == [1]


@pytest.mark.django_db
def test_only_the_latest_models_are_kept():
    ResourceFactory()
    for _ in range(4):
        store.model_refit()
    assert FittedModel.objects.count() == store.MODELS_KEPT
