from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import CuratorFactory, UserFactory


@pytest.fixture
def alice(db):
    """A learner."""
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    """Another learner, to prove alice's data stays hers."""
    return UserFactory(username="bob")


@pytest.fixture
def carol(db):
    """A curator (member of the `curators` group, not staff)."""
    return CuratorFactory(username="carol")


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def alice_api(alice):
    client = APIClient()
    client.force_authenticate(alice)
    return client


@pytest.fixture
def bob_api(bob):
    client = APIClient()
    client.force_authenticate(bob)
    return client


@pytest.fixture
def curator_api(carol):
    client = APIClient()
    client.force_authenticate(carol)
    return client
