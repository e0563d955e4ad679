from __future__ import annotations

import socket
import threading

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from catalog.feeds.poll import polling_threads_stop
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


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The cache outlives a test's database; start each test with an empty one."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_model_store(monkeypatch, settings, tmp_path):
    """Each test has its own database, so no process may keep a model from another test
    (row ids repeat between tests, hence a model directory per test too)."""
    from recommender.runtime import runtime

    settings.MODEL_DIR = tmp_path / "model"
    runtime.reset()
    # Tests change the catalog between requests faster than a process re-checks it.
    monkeypatch.setattr(runtime, "freshness_seconds", 0.0)
    yield
    runtime.reset()


@pytest.fixture(autouse=True)
def catalog_door(monkeypatch):
    """Fail any test in which project code changed the catalog without the services' notice."""
    from tests.catalog_door import watch

    door = watch(monkeypatch)
    yield door
    door.disconnect()
    missing = door.unnotified()
    assert not missing, (
        "Catalog rows changed without going through catalog.services (no change notification "
        f"followed): {missing}"
    )


_LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}


@pytest.fixture(autouse=True)
def _no_outside_network(monkeypatch):
    """Tests talk to 127.0.0.1 only: name lookups for anything else fail as if offline.

    This keeps a stray real address (the seed's feeds, a generated URL) from leaving the
    machine, and makes such a fetch fail fast and deterministically.
    """
    real_getaddrinfo = socket.getaddrinfo

    def local_only(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name in _LOCAL_NAMES or name.startswith("127."):
            return real_getaddrinfo(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, f"tests resolve only loopback names ({name})")

    monkeypatch.setattr(socket, "getaddrinfo", local_only)


@pytest.fixture(autouse=True)
def _polling_threads_stopped():
    """Feed polling threads keep their database connections from one batch to the next; a
    test's end is the end of its batches (and PostgreSQL cannot drop the test database while
    a connection is open)."""
    yield
    polling_threads_stop()


@pytest.fixture
def redis_that_hangs():
    """A port that accepts connections and never answers, as a paused or wedged Redis does."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()
