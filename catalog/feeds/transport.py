"""Step 2: the HTTP transport that resolves once, checks, and connects to exactly that address.

DNS rebinding: checking a name and then letting the HTTP stack resolve it again would let a
hostile DNS server answer "public" to the check and "127.0.0.1" to the connect. This transport
resolves once, checks, and connects to exactly the address it checked, while TLS still verifies
the certificate against the original host name (via httpcore's ``sni_hostname`` request
extension). A wall-clock deadline spans the whole fetch.

A poller keeps one `PinnedTransport(keep_alive=True)` per process (see `fetch.FetchSession`):
connections are then reused per (scheme, host name, port, checked address), never across names,
and the address check still runs on every request, redirect hops included, before a pooled
connection is picked. The deadline of the fetch in progress is looked up on every socket
operation, so a kept-alive connection obeys whichever fetch is using it.
"""

from __future__ import annotations

import functools
import logging
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import certifi
import httpcore
import httpx

from catalog.feeds.address import (
    FetchPolicy,
    FetchTimeout,
    NetworkError,
    literal_ip,
    resolve_public_addresses,
    split_url,
)

logger = logging.getLogger(__name__)

# When a name resolves to several addresses (IPv4 + IPv6, round robin) we try a
# few of them on connection failure, like a browser would, but not dozens.
_MAX_ADDRESSES_TRIED = 3
# A kept-alive pool per (scheme, host, port, address), at most this many pools per process:
# the least recently used is closed beyond it.
_MAX_POOLS = 256
_MAX_CONNECTIONS_PER_POOL = 8


# --------------------------------------------------------------------------
# Transport: resolve once, check, connect to exactly that address
# --------------------------------------------------------------------------


class Deadline:
    """Wall-clock budget for one fetch, shared by every hop and body read."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._start = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def remaining(self) -> float:
        return self.seconds - self.elapsed()

    def check(self, during: str) -> float:
        remaining = self.remaining()
        if remaining <= 0:
            raise FetchTimeout(
                f"Gave up {during}: the fetch took longer than its "
                f"{self.seconds:g}s total deadline."
            )
        return remaining

    def timeouts(self, policy: FetchPolicy) -> dict[str, float]:
        """httpcore timeouts for the next request, never beyond the deadline.

        httpcore applies ``read`` per socket read, so a server that drips a byte every
        second never trips it: DeadlineNetworkBackend caps every socket operation by what
        is left of the deadline, so the deadline holds while the status line, the headers
        and the body trickle in alike.
        """
        remaining = self.check("before sending the request")
        return {
            "connect": min(policy.connect_timeout, remaining),
            "read": min(policy.read_timeout, remaining),
            "write": min(policy.read_timeout, remaining),
            "pool": min(policy.connect_timeout, remaining),
        }


# The deadline of the fetch this thread (or task) is running. A kept-alive connection outlives
# the fetch that opened it, so its stream asks here, on every operation, whose budget applies.
_active_deadline: ContextVar[Deadline | None] = ContextVar("feed_fetch_deadline", default=None)


@contextmanager
def deadline_active(deadline: Deadline) -> Iterator[None]:
    """Make ``deadline`` the one every pooled socket operation in this context obeys."""
    token = _active_deadline.set(deadline)
    try:
        yield
    finally:
        _active_deadline.reset(token)


def _budget_of(deadline: Deadline | None, timeout: float | None, doing: str) -> float | None:
    if deadline is None:
        # Outside any fetch (a pool closing its idle connections): nothing to cap.
        return timeout
    remaining = deadline.remaining()
    if remaining <= 0:
        raise httpcore.ReadTimeout(
            f"the fetch took longer than its {deadline.seconds:g}s total deadline ({doing})"
        )
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every operation waits at most what is left of the deadline.

    ``deadline`` None: the deadline of the fetch in progress (``deadline_active``), for
    connections kept alive from one fetch to the next.
    """

    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline | None) -> None:
        self._inner = inner
        self._deadline = deadline

    def _budget(self, timeout: float | None, doing: str) -> float | None:
        return _budget_of(self._deadline or _active_deadline.get(), timeout, doing)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._budget(timeout, "reading the response"))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._budget(timeout, "sending the request"))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(
            ssl_context, server_hostname, self._budget(timeout, "during the TLS handshake")
        )
        return _DeadlineStream(inner, self._deadline)

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


class DeadlineNetworkBackend(httpcore.NetworkBackend):
    """httpcore's own sockets, with every connect, TLS handshake, read and write capped by
    one fetch's deadline (redirect hops included, since they share it).

    ``deadline`` None: whichever fetch is in progress (``deadline_active``) when the socket
    is used, for pools that keep connections alive between fetches.
    """

    def __init__(self, deadline: Deadline | None) -> None:
        self._inner = httpcore.SyncBackend()
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        deadline = self._deadline or _active_deadline.get()
        if deadline is not None and deadline.remaining() <= 0:
            raise httpcore.ConnectTimeout("the fetch's total deadline passed before connecting")
        stream = self._inner.connect_tcp(
            host,
            port,
            _budget_of(deadline, timeout, "connecting"),
            local_address,
            socket_options,
        )
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:  # pragma: no cover - feeds are fetched over TCP only
        raise httpcore.ConnectError("Unix sockets are not used for fetching feeds.")

    def sleep(self, seconds: float) -> None:
        deadline = self._deadline or _active_deadline.get()
        if deadline is not None:
            seconds = min(seconds, max(deadline.remaining(), 0))
        self._inner.sleep(seconds)


@functools.lru_cache(maxsize=1)
def _default_ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle costs milliseconds; a poller fetches thousands of
    # feeds, and SSLContext is safe to share between threads.
    return ssl.create_default_context(cafile=certifi.where())


class PinnedTransport(httpx.BaseTransport):
    """An httpx transport that refuses non-public destinations and pins DNS.

    For every request (so every redirect hop, whoever sends it) it resolves
    the host once, checks every address, then rewrites the request URL to the
    checked IP. The original ``Host`` header is kept (httpx set it from the
    original URL), and the original name is passed as httpcore's
    ``sni_hostname`` extension, which httpcore uses both for SNI and as
    ``server_hostname`` for certificate verification. So the certificate is
    still checked against the name the user typed, while the socket can only
    go to the address we vetted: no second DNS lookup, no rebinding window.

    Rewriting the URL (instead of a custom httpcore network backend) keeps us
    on public httpx/httpcore APIs. Its one catch is that httpcore's pool is
    keyed by (scheme, IP, port): a kept-alive TLS connection made for one name
    could be reused for another name on the same IP without a new certificate
    check. So without ``keep_alive`` nothing is kept alive (one fetch), and with
    it every (scheme, name, port, checked address) gets a pool of its own: a
    connection is only ever reused for the name its certificate was checked
    against, and only to the address the check of *this* request allowed.

    ``deadline``: the one budget of a single fetch. None (with ``keep_alive``):
    the transport serves many fetches, each running under ``deadline_active``.
    """

    def __init__(
        self, policy: FetchPolicy, deadline: Deadline | None = None, *, keep_alive: bool = False
    ) -> None:
        if deadline is None and not keep_alive:
            raise ValueError("a one-fetch PinnedTransport needs that fetch's deadline")
        self._policy = policy
        self._fixed_deadline = deadline
        self._keep_alive = keep_alive
        self._lock = threading.Lock()
        self._pools: OrderedDict[tuple[str, str, int, str], httpx.HTTPTransport] = OrderedDict()
        self._single = None if keep_alive else self._new_inner(max_keepalive=0)

    def _new_inner(self, *, max_keepalive: int) -> httpx.HTTPTransport:
        inner = httpx.HTTPTransport(
            verify=self._policy.ssl_context or _default_ssl_context(),
            trust_env=False,  # an env proxy would bypass pinning entirely
            http2=False,
            retries=0,
            limits=httpx.Limits(
                max_connections=_MAX_CONNECTIONS_PER_POOL,
                max_keepalive_connections=max_keepalive,
            ),
        )
        # httpx has no public hook for httpcore's network backend; its pool keeps it in this
        # attribute (httpcore 1.0, pinned) and hands it to every new connection.
        inner._pool._network_backend = DeadlineNetworkBackend(self._fixed_deadline)
        return inner

    def _inner_for(self, scheme: str, host: str, port: int, address: str) -> httpx.HTTPTransport:
        if self._single is not None:
            return self._single
        key = (scheme, host, port, address)
        evicted: httpx.HTTPTransport | None = None
        with self._lock:
            inner = self._pools.get(key)
            if inner is None:
                inner = self._pools[key] = self._new_inner(max_keepalive=_MAX_CONNECTIONS_PER_POOL)
                if len(self._pools) > _MAX_POOLS:
                    _, evicted = self._pools.popitem(last=False)
            else:
                self._pools.move_to_end(key)
        if evicted is not None:
            evicted.close()
        return inner

    @property
    def _deadline(self) -> Deadline:
        deadline = self._fixed_deadline or _active_deadline.get()
        if deadline is None:
            raise RuntimeError("a shared PinnedTransport is used inside deadline_active() only")
        return deadline

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        # Re-check syntax too: this transport must be safe even if a caller
        # hands it a request that fetch() did not build.
        _, host, port = split_url(str(request.url))
        remaining = self._deadline.check(f"before resolving {host}")
        addresses = resolve_public_addresses(
            host,
            port,
            self._policy.allow_private_networks,
            allowed_networks=self._policy.allowed_networks,
            timeout=min(self._policy.connect_timeout, remaining),
        )
        # SNI must be a name; for an IP-literal URL the certificate is checked
        # against the IP, which httpcore does by default.
        is_literal = literal_ip(host) is not None
        last_error: httpx.TransportError | None = None
        for address in addresses[:_MAX_ADDRESSES_TRIED]:
            extensions = dict(request.extensions)
            extensions["timeout"] = self._deadline.timeouts(self._policy)
            if not is_literal:
                # RFC 6066: SNI carries the name without a trailing dot.
                extensions["sni_hostname"] = host.rstrip(".")
            pinned = httpx.Request(
                request.method,
                request.url.copy_with(host=address),
                headers=request.headers,  # includes Host: <original name>
                stream=request.stream,
                extensions=extensions,
            )
            logger.debug("Connecting to %s (%s) port %s", host, address, port)
            inner = self._inner_for(request.url.scheme, host, port, address)
            try:
                return inner.handle_request(pinned)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing was sent yet, so trying the next address is safe.
                logger.debug("Connection to %s (%s) failed: %s", host, address, exc)
                last_error = exc
        if last_error is None:  # pragma: no cover - addresses is never empty
            raise NetworkError(f"No address to connect to for {host!r}.")
        raise last_error

    def close(self) -> None:
        with self._lock:
            inners = list(self._pools.values())
            self._pools.clear()
        if self._single is not None:
            inners.append(self._single)
        for inner in inners:
            inner.close()
