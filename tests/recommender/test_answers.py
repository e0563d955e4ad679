"""A learner's `next` and queue are cached until their progress, profile or the catalog moves."""

from __future__ import annotations

import pytest

from catalog.models import LearningPath
from catalog.seeding import seed_catalog_load
from recommender import queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def seed(db):
    seed_catalog_load()
    return LearningPath.objects.get()


@pytest.fixture
def rankings(monkeypatch):
    """How many times the engine ranked a queue ("next": the one-item queue `next` builds)."""
    calls = []
    real_queue = queue.recommend_queue

    def recommend_queue(*args, **kwargs):
        calls.append("next" if kwargs.get("limit") == 1 else "queue")
        return real_queue(*args, **kwargs)

    monkeypatch.setattr(queue, "recommend_queue", recommend_queue)
    return calls


def first_step(path) -> int:
    return path.steps.order_by("position").values_list("resource_id", flat=True)[0]


def test_a_repeated_next_is_answered_from_the_cache(alice_api, seed, rankings):
    first = alice_api.get("/api/me/next/").json()
    again = alice_api.get("/api/me/next/").json()
    assert again == first
    assert rankings == ["next"]


def test_a_progress_change_invalidates_the_cached_next(alice_api, seed, rankings):
    step = first_step(seed)
    assert alice_api.get("/api/me/next/").json()["recommendation"]["resource"]["id"] == step
    alice_api.put(f"/api/me/progress/{step}/", {"state": "completed"}, format="json")
    after = alice_api.get("/api/me/next/").json()
    assert after["recommendation"]["resource"]["id"] != step
    assert rankings == ["next", "next"]


def test_forgetting_progress_invalidates_the_cached_queue(alice_api, seed, rankings):
    step = first_step(seed)
    alice_api.put(f"/api/me/progress/{step}/", {"state": "completed"}, format="json")
    done = [item["resource"]["id"] for item in alice_api.get("/api/me/queue/").json()["results"]]
    alice_api.delete(f"/api/me/progress/{step}/")
    body = alice_api.get("/api/me/queue/").json()
    assert step not in done
    assert body["results"][0]["resource"]["id"] == step


def test_a_profile_change_invalidates_the_cached_queue(alice_api, seed, rankings):
    alice_api.get("/api/me/queue/", {"limit": 5})
    alice_api.patch("/api/me/profile/", {"minutes_budget": 30}, format="json")
    body = alice_api.get("/api/me/queue/", {"limit": 5}).json()
    assert body["minutes_budget"] == 30
    assert rankings == ["queue", "queue"]


def test_queues_of_different_lengths_are_cached_apart(alice_api, seed, rankings):
    short = alice_api.get("/api/me/queue/", {"limit": 2}).json()
    long = alice_api.get("/api/me/queue/", {"limit": 6}).json()
    assert (short["count"], long["count"]) == (2, 6)
    assert alice_api.get("/api/me/queue/", {"limit": 2}).json() == short
    assert rankings == ["queue", "queue"]


def test_one_learners_progress_leaves_anothers_cached_answer_alone(
    alice_api, bob_api, seed, rankings
):
    bob_api.get("/api/me/next/")
    alice_api.put(f"/api/me/progress/{first_step(seed)}/", {"state": "completed"}, format="json")
    bob_api.get("/api/me/next/")
    assert rankings == ["next"]


def test_a_catalog_change_invalidates_every_cached_answer(alice_api, curator_api, seed, rankings):
    step = first_step(seed)
    alice_api.get("/api/me/next/")
    curator_api.patch(f"/api/resources/{step}/", {"title": "Renamed"}, format="json")
    assert alice_api.get("/api/me/next/").json()["recommendation"]["resource"]["title"] == (
        "Renamed"
    )
    assert rankings == ["next", "next"]


def test_with_the_answer_cache_off_every_request_ranks_again(alice_api, seed, rankings, settings):
    settings.RECOMMENDER_RESPONSE_CACHE_SECONDS = 0
    alice_api.get("/api/me/next/")
    alice_api.get("/api/me/next/")
    assert rankings == ["next", "next"]
