"""Network guards for tests that make real connections: loopback only, every attempt recorded."""

from __future__ import annotations

import ipaddress
import socket

import pytest


def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record every outgoing TCP connect as (host, port); refuse any that leaves loopback.

    Returns the list the attempts are appended to, for tests that assert what was contacted.
    """
    attempts: list[tuple[str, int]] = []
    real_connect = socket.socket.connect

    def guarded_connect(sock: socket.socket, address: object) -> None:
        if isinstance(address, tuple) and sock.family in (socket.AF_INET, socket.AF_INET6):
            host, port = str(address[0]), int(address[1])
            attempts.append((host, port))
            if not ipaddress.ip_address(host.split("%", 1)[0]).is_loopback:
                raise ConnectionRefusedError(f"test guard: blocked connection to {host}")
        real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    return attempts
