from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from tests.netguard import loopback_only


@pytest.fixture(autouse=True)
def local_links_allowed(settings):
    # The test server listens on 127.0.0.1: allow exactly that network, nothing else private.
    settings.FEEDS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.FEEDS_READ_TIMEOUT = 1.0
    settings.FEEDS_TOTAL_DEADLINE = 3.0
    settings.LINK_CHECK_HOST_INTERVAL = 0


@pytest.fixture(scope="module")
def linkserver() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture(autouse=True)
def _reset_server(linkserver: HTTPServer) -> Iterator[None]:
    yield
    linkserver.clear()


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record every outgoing TCP connect; refuse any that leaves loopback."""
    return loopback_only(monkeypatch)


@pytest.fixture
def resetting_server() -> Iterator[str]:
    """A host that accepts connections and resets them at once (RST, no answer)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/post"
    stop.set()
    thread.join(timeout=2)
    listener.close()
