"""Step 2: the HTTP transport that resolves once, checks, and connects to exactly that address.

DNS rebinding: checking a name and then letting the HTTP stack resolve it again would let a
hostile DNS server answer "public" to the check and "127.0.0.1" to the connect. This transport
resolves once, checks, and connects to exactly the address it checked, while TLS still verifies
the certificate against the original host name (via httpcore's ``sni_hostname`` request
extension). A wall-clock deadline spans the whole fetch.
"""

from __future__ import annotations

import functools
import logging
import ssl
import time
from collections.abc import Iterable

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


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every operation waits at most what is left of the deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def _budget(self, timeout: float | None, doing: str) -> float:
        remaining = self._deadline.remaining()
        if remaining <= 0:
            raise httpcore.ReadTimeout(
                f"the fetch took longer than its {self._deadline.seconds:g}s total deadline "
                f"({doing})"
            )
        return remaining if timeout is None else min(timeout, remaining)

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
    one fetch's deadline (redirect hops included, since they share it)."""

    def __init__(self, deadline: Deadline) -> None:
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
        remaining = self._deadline.remaining()
        if remaining <= 0:
            raise httpcore.ConnectTimeout("the fetch's total deadline passed before connecting")
        stream = self._inner.connect_tcp(
            host,
            port,
            remaining if timeout is None else min(timeout, remaining),
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
        self._inner.sleep(min(seconds, max(self._deadline.remaining(), 0)))


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
    check. Keep-alive is therefore disabled; a feed fetch rarely makes more
    than one request to a host anyway.
    """

    def __init__(self, policy: FetchPolicy, deadline: Deadline) -> None:
        self._policy = policy
        self._deadline = deadline
        self._inner = httpx.HTTPTransport(
            verify=policy.ssl_context or _default_ssl_context(),
            trust_env=False,  # an env proxy would bypass pinning entirely
            http2=False,
            retries=0,
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=0),
        )
        # httpx has no public hook for httpcore's network backend; its pool keeps it in this
        # attribute (httpcore 1.0, pinned) and hands it to every new connection.
        self._inner._pool._network_backend = DeadlineNetworkBackend(deadline)

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
            try:
                return self._inner.handle_request(pinned)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing was sent yet, so trying the next address is safe.
                logger.debug("Connection to %s (%s) failed: %s", host, address, exc)
                last_error = exc
        if last_error is None:  # pragma: no cover - addresses is never empty
            raise NetworkError(f"No address to connect to for {host!r}.")
        raise last_error

    def close(self) -> None:
        self._inner.close()
