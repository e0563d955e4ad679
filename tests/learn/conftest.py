from __future__ import annotations

import pytest
from django.test import Client

from catalog.models import LearningPath
from catalog.seeding import seed_catalog_load


@pytest.fixture
def seed(db) -> LearningPath:
    seed_catalog_load()
    return LearningPath.objects.get()


@pytest.fixture
def alice_web(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def bob_web(bob) -> Client:
    client = Client()
    client.force_login(bob)
    return client


def path_ids(path: LearningPath) -> list[int]:
    return list(path.steps.order_by("position").values_list("resource_id", flat=True))


def undo_token(client) -> str:
    """The token the latest Undo message's form sends (learn.views._undo_offer)."""
    kept = client.session.get("learn_undo")
    return kept["token"] if kept else ""
