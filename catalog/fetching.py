"""Fetch feed documents from addresses that users typed in, without trusting them.

Every feed address points at a server we do not control, so this module treats
each fetch as hostile input:

* Server-side request forgery: a user must not be able to make us talk to
  loopback, the cloud metadata service (169.254.169.254), the cluster network
  or anything else that is not on the public internet. Every address a host
  resolves to is checked (not just the first), on the first request and on
  every redirect hop.
* DNS rebinding: checking a name and then letting the HTTP stack resolve it
  again would let a hostile DNS server answer "public" to the check and
  "127.0.0.1" to the connect. The transport below resolves once, checks, and
  connects to exactly the address it checked, while TLS still verifies the
  certificate against the original host name (via httpcore's ``sni_hostname``
  request extension).
* Resource exhaustion: a wall-clock deadline spans the whole fetch (DNS,
  redirects, slow-drip bodies), and the body is capped *after* decompression,
  with our own bounded decompressor, so a gzip bomb costs at most the cap in
  memory rather than whatever a single network read inflates to.

Non-2xx responses are results, not exceptions: callers need the status of a
410, 429 or 503 (and its Retry-After) to schedule the next poll.

This module is deliberately free of Django imports so it can be used and tested
on its own (Celery workers, management commands, plain pytest).
"""

from __future__ import annotations

import email.utils
import functools
import ipaddress
import logging
import math
import re
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import certifi
import httpx

logger = logging.getLogger(__name__)

__all__ = [
    "COMMON_FEED_PATHS",
    "DEFAULT_POLICY",
    "ContentDecodingError",
    "FetchError",
    "FetchPolicy",
    "FetchResult",
    "FetchTimeout",
    "NetworkError",
    "ResponseTooLarge",
    "TooManyRedirects",
    "UnsafeURLError",
    "candidate_feed_urls",
    "check_url",
    "discover_feed_urls",
    "fetch",
    "parse_cache_max_age",
    "parse_retry_after",
    "resolve_public_addresses",
]

_MIB = 1024 * 1024

# Longer addresses are never real feeds, and a cap keeps log lines and error
# messages bounded.
MAX_URL_LENGTH = 2048

# When a name resolves to several addresses (IPv4 + IPv6, round robin) we try a
# few of them on connection failure, like a browser would, but not dozens.
_MAX_ADDRESSES_TRIED = 3

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_PERMANENT_REDIRECT_STATUSES = frozenset({301, 308})

_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, "
    "application/json;q=0.8, */*;q=0.5"
)
# Only encodings our bounded decompressor understands. httpx would otherwise
# advertise br/zstd whenever those optional packages happen to be installed.
_ACCEPT_ENCODING = "gzip, deflate"


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


class FetchError(Exception):
    """Base class for every way a fetch can fail.

    ``retryable`` tells the poller whether trying again later can help
    (network trouble, timeouts) or whether the address itself is the problem.
    """

    retryable: bool = False

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class UnsafeURLError(FetchError, ValueError):
    """The address is not one we are willing to fetch (scheme, credentials,
    private or otherwise non-public destination). Also a ValueError so form
    and serializer validation can treat it like any other bad value."""


class NetworkError(FetchError):
    """DNS failure, refused connection, TLS failure, broken HTTP framing."""

    retryable = True


class FetchTimeout(FetchError):
    """Connect, read or total deadline exceeded."""

    retryable = True


class ResponseTooLarge(FetchError):
    """The (decompressed) body is larger than the policy allows."""


class TooManyRedirects(FetchError):
    """More redirect hops than the policy allows (includes redirect loops)."""


class ContentDecodingError(FetchError):
    """Corrupt compressed body, or a Content-Encoding we did not ask for."""


# --------------------------------------------------------------------------
# Policy and result
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for one fetch. The defaults are meant for production polling.

    ``allow_private_networks`` switches the address check off entirely (local
    development against a feed on localhost). ``allowed_networks`` is the
    narrower tool: CIDRs that are allowed even though they are not public,
    e.g. ``("127.0.0.1/32",)`` in tests or an internal mirror's subnet.

    ``ssl_context`` is for private CAs and tests; ``None`` means the system's
    usual verification against certifi's bundle. Hostname checking is always
    on: the context must have ``check_hostname=True``.
    """

    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_deadline: float = 30.0
    max_bytes: int = 10 * _MIB
    # Bodies of error responses (404, 410, 429, 503...) are only kept for
    # diagnostics, so they get a much smaller cap and are truncated instead of
    # failing the fetch.
    max_error_body_bytes: int = 64 * 1024
    max_redirects: int = 5
    allow_private_networks: bool = False
    allowed_networks: tuple[str, ...] = ()
    user_agent: str = "kubelearn-feed-fetcher/1.0 (+https://github.com/kubelearn)"
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Fail when the policy is built (settings load), not on the first poll.
        for value, name in (
            (self.connect_timeout, "connect_timeout"),
            (self.read_timeout, "read_timeout"),
            (self.total_deadline, "total_deadline"),
        ):
            if not value > 0:
                raise ValueError(f"FetchPolicy.{name} must be positive, got {value!r}")
        if self.max_bytes <= 0 or self.max_error_body_bytes < 0:
            raise ValueError("FetchPolicy byte limits must be positive")
        if self.max_redirects < 0:
            raise ValueError("FetchPolicy.max_redirects must not be negative")
        if isinstance(self.allowed_networks, str):
            raise ValueError("FetchPolicy.allowed_networks must be a tuple of CIDRs, not a string")
        # Accept any iterable but store a tuple, so the policy stays hashable.
        object.__setattr__(self, "allowed_networks", tuple(self.allowed_networks))
        for cidr in self.allowed_networks:
            ipaddress.ip_network(cidr, strict=False)  # raises ValueError if malformed
        if self.ssl_context is not None and not self.ssl_context.check_hostname:
            raise ValueError("FetchPolicy.ssl_context must verify host names")


DEFAULT_POLICY = FetchPolicy()


@dataclass(frozen=True)
class FetchResult:
    """What the poller needs from a response, whatever its status.

    ``permanent_url`` is set only when the fetch went through at least one
    redirect, every hop was permanent (301/308), and the final response was
    2xx or 304: then the stored feed address should be updated. A permanent
    redirect that ends in an error page is not trusted enough to rewrite the
    stored address.

    For a 304 whose response omits ETag/Last-Modified, the values that were
    sent are echoed back, so callers can always store ``etag``/
    ``last_modified`` as-is.
    """

    status: int
    final_url: str
    permanent_url: str | None
    content: bytes
    etag: str | None
    last_modified: str | None
    content_type: str | None
    retry_after: int | None
    cache_max_age: int | None
    elapsed: float
    redirects: int = 0

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def ok(self) -> bool:
        """2xx or 304: the feed is alive and the stored copy is (now) current."""
        return 200 <= self.status < 300 or self.status == 304


# --------------------------------------------------------------------------
# Address checks
# --------------------------------------------------------------------------

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Ranges that Python's is_global/is_private do not (or not in every 3.11 patch
# release) classify as non-public, checked explicitly.
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")

_HOSTNAME_RE = re.compile(r"[a-z0-9_.-]+", re.IGNORECASE)
# WHATWG URL parsing treats a host whose last label is numeric as an IPv4
# address ("0x7f.1", "2130706433", "127.1"). Such spellings only exist to
# confuse filters, so they are refused outright.
_NUMERIC_LABEL_RE = re.compile(r"(0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)


@functools.lru_cache(maxsize=32)
def _parse_networks(cidrs: tuple[str, ...]) -> tuple[_IPNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _forbidden_reason(ip: _IPAddress) -> str | None:
    """Why ``ip`` is not a public internet address, or None if it is.

    ``is_global`` alone is not enough: depending on the Python patch release it
    calls multicast global, and it knows nothing about IPv4 addresses embedded
    in IPv6 transition ranges, which reach the embedded IPv4 host.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        embedded: list[tuple[str, ipaddress.IPv4Address]] = []
        if ip.ipv4_mapped is not None:
            embedded.append(("IPv4-mapped", ip.ipv4_mapped))
        if ip.sixtofour is not None:
            embedded.append(("6to4", ip.sixtofour))
        if ip.teredo is not None:
            server, client = ip.teredo
            embedded.extend((("Teredo", server), ("Teredo", client)))
        if ip in _NAT64_WELL_KNOWN:
            embedded.append(("NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
        for kind, v4 in embedded:
            inner = _forbidden_reason(v4)
            if inner is not None:
                return f"an {kind} address embedding {v4} ({inner})"
        if ip in _NAT64_LOCAL_USE:
            return "a local-use NAT64 address"
        if ip.is_site_local:
            return "a site-local address"

    if ip.is_unspecified or (isinstance(ip, ipaddress.IPv4Address) and ip in _THIS_NETWORK):
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (this includes cloud metadata services)"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "a carrier-grade NAT address"
    if ip.is_private:
        return "a private network address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        return "not a public internet address"
    return None


def _is_allowed(
    ip: _IPAddress, allow_private_networks: bool, allowed_networks: tuple[str, ...]
) -> bool:
    if allow_private_networks:
        return True
    candidates: list[_IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        candidates.append(ip.ipv4_mapped)
    for network in _parse_networks(tuple(allowed_networks)):
        if any(c.version == network.version and c in network for c in candidates):
            return True
    return _forbidden_reason(ip) is None


def _refuse_ip(
    host: str, ip: _IPAddress, allow_private_networks: bool, allowed_networks: tuple[str, ...]
) -> None:
    if _is_allowed(ip, allow_private_networks, allowed_networks):
        return
    reason = _forbidden_reason(ip) or "not allowed by the fetch policy"
    if host == str(ip):
        message = f"{ip} is {reason}; feeds can only be fetched from public internet addresses."
    else:
        message = (
            f"{host!r} resolves to {ip}, which is {reason}; "
            "feeds can only be fetched from public internet addresses."
        )
    raise UnsafeURLError(message)


def _literal_ip(host: str) -> _IPAddress | None:
    """Return the IP if ``host`` is an IP literal; refuse ambiguous spellings."""
    if "%" in host:
        # IPv6 zone identifiers (fe80::1%25eth0) pick a local interface.
        raise UnsafeURLError(f"Host {host!r} contains a zone identifier or escaped characters.")
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise UnsafeURLError(f"Host {host!r} is not a valid IPv6 address.") from exc
    try:
        # Strict: four decimal octets, no leading zeros.
        return ipaddress.IPv4Address(host)
    except ValueError:
        pass
    last_label = host.rstrip(".").rsplit(".", 1)[-1]
    looks_numeric = bool(_NUMERIC_LABEL_RE.fullmatch(last_label))
    try:
        socket.inet_aton(host)
        looks_numeric = True
    except OSError:
        pass
    if looks_numeric:
        raise UnsafeURLError(
            f"Host {host!r} looks like an IP address written in a non-standard form "
            "(decimal, octal, hexadecimal or shortened); use a host name or a dotted "
            "address like 203.0.113.7."
        )
    return None


def _getaddrinfo(host: str, port: int, timeout: float | None) -> list[tuple]:
    """getaddrinfo() with a timeout, because the C resolver has none of its own.

    The lookup runs in a daemon thread; on timeout we stop waiting and let it
    finish in the background. That leaks a thread for as long as the resolver
    hangs, which is preferable to a poller worker hanging with it.
    """
    if timeout is None:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    outcome: dict[str, object] = {}

    def lookup() -> None:
        try:
            outcome["result"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except BaseException as exc:  # handed to the waiting thread below
            outcome["error"] = exc

    worker = threading.Thread(target=lookup, name="feed-dns-lookup", daemon=True)
    worker.start()
    worker.join(max(timeout, 0.0))
    if worker.is_alive():
        raise FetchTimeout(f"DNS lookup for {host!r} took longer than {timeout:.1f}s.")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["result"]  # type: ignore[return-value]


def resolve_public_addresses(
    host: str,
    port: int,
    allow_private_networks: bool,
    *,
    allowed_networks: tuple[str, ...] = (),
    timeout: float | None = None,
) -> list[str]:
    """Resolve ``host`` and return its addresses, refusing if ANY is non-public.

    Refusing on any (rather than filtering the bad ones out) is deliberate: a
    name that mixes public and private addresses is either misconfigured or an
    attack, and quietly picking the public one would make behaviour depend on
    record order.

    Raises UnsafeURLError for non-public addresses, NetworkError when the name
    does not resolve, FetchTimeout when resolution exceeds ``timeout``.
    """
    host = host.strip("[]")
    literal = _literal_ip(host)
    if literal is not None:
        _refuse_ip(host, literal, allow_private_networks, allowed_networks)
        return [str(literal)]
    if not _HOSTNAME_RE.fullmatch(host):
        raise UnsafeURLError(
            f"Host {host!r} contains characters that are not allowed in host names."
        )

    try:
        infos = _getaddrinfo(host, port, timeout)
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise NetworkError(f"Could not resolve host {host!r}: {reason}.") from exc
    except OSError as exc:
        raise NetworkError(f"Could not resolve host {host!r}: {exc}.") from exc

    addresses: list[str] = []
    for family, _type, _proto, _canonname, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        # IPv6 sockaddrs may carry a scope ("fe80::1%eth0"); check the address.
        text = str(sockaddr[0]).split("%", 1)[0]
        ip = ipaddress.ip_address(text)
        _refuse_ip(host, ip, allow_private_networks, allowed_networks)
        if str(ip) not in addresses:
            addresses.append(str(ip))
    if not addresses:
        raise NetworkError(f"Host {host!r} has no IPv4 or IPv6 address.")
    return addresses


def _split_url(url: str) -> tuple[httpx.URL, str, int]:
    """Syntactic checks that need no DNS: scheme, host, credentials, port.

    Returns the parsed URL, the ASCII (IDNA) host and the effective port.
    """
    if not isinstance(url, str) or not url:
        raise UnsafeURLError("The feed address is empty.")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURLError(f"The feed address is longer than {MAX_URL_LENGTH} characters.")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise UnsafeURLError(f"{url!r} is not a valid address: {exc}.") from exc
    scheme = parsed.scheme
    if not scheme:
        raise UnsafeURLError(f"{url!r} must start with http:// or https://.")
    if scheme not in ("http", "https"):
        raise UnsafeURLError(
            f"Only http:// and https:// feed addresses are supported, not {scheme}:."
        )
    if parsed.userinfo:
        raise UnsafeURLError(
            "Feed addresses must not contain a user name or password (user:pass@host)."
        )
    host = parsed.raw_host.decode("ascii")
    if not host:
        raise UnsafeURLError(f"{url!r} has no host name.")
    port = parsed.port or (443 if scheme == "https" else 80)
    if not 0 < port < 65536:
        raise UnsafeURLError(f"Port {port} is out of range.")
    return parsed, host, port


def check_url(
    url: str,
    *,
    allow_private_networks: bool,
    allowed_networks: tuple[str, ...] = (),
) -> None:
    """Validate a user-supplied feed address, including where it resolves to.

    Meant for form/serializer validation ("this address can never be
    fetched"). fetch() does the same checks itself on every hop and pins the
    connection to the checked address, so passing check_url() earlier is not
    a licence to fetch later: DNS may have changed in between.

    Raises UnsafeURLError (a ValueError) with a message fit for the user;
    NetworkError if the host does not resolve.
    """
    _, host, port = _split_url(url)
    resolve_public_addresses(
        host, port, allow_private_networks, allowed_networks=tuple(allowed_networks)
    )


# --------------------------------------------------------------------------
# Transport: resolve once, check, connect to exactly that address
# --------------------------------------------------------------------------


class _Deadline:
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

        httpcore applies ``read`` per socket read, so a server that drips a
        byte every few seconds never trips it; the body loop checks the
        deadline between chunks for that. Capping ``read`` by the remaining
        budget here bounds how far a single blocked read can overrun it.
        """
        remaining = self.check("before sending the request")
        return {
            "connect": min(policy.connect_timeout, remaining),
            "read": min(policy.read_timeout, remaining),
            "write": min(policy.read_timeout, remaining),
            "pool": min(policy.connect_timeout, remaining),
        }


@functools.lru_cache(maxsize=1)
def _default_ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle costs milliseconds; a poller fetches thousands of
    # feeds, and SSLContext is safe to share between threads.
    return ssl.create_default_context(cafile=certifi.where())


class _PinnedTransport(httpx.BaseTransport):
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

    def __init__(self, policy: FetchPolicy, deadline: _Deadline) -> None:
        self._policy = policy
        self._deadline = deadline
        self._inner = httpx.HTTPTransport(
            verify=policy.ssl_context or _default_ssl_context(),
            trust_env=False,  # an env proxy would bypass pinning entirely
            http2=False,
            retries=0,
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=0),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        # Re-check syntax too: this transport must be safe even if a caller
        # hands it a request that fetch() did not build.
        _, host, port = _split_url(str(request.url))
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
        is_literal = _literal_ip(host) is not None
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


# --------------------------------------------------------------------------
# Body reading: bounded decompression
# --------------------------------------------------------------------------


class _OverLimit(Exception):
    """Decoded output passed the limit; ``kept`` is this call's output up to it."""

    def __init__(self, kept: bytes) -> None:
        super().__init__()
        self.kept = kept


_GZIP_MAGIC = b"\x1f\x8b"


class _BoundedDecoder:
    """Content-Encoding decoder that never inflates past ``limit`` bytes.

    httpx's own decoders call ``decompress(chunk)`` without a size bound, so
    one 64 KiB network read of a gzip bomb inflates to ~64 MiB before any
    caller-side counting can stop it. zlib's ``max_length`` lets us stop at
    the cap instead.
    """

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        codings = [
            c.strip().lower()
            for c in (content_encoding or "").split(",")
            if c.strip() and c.strip().lower() != "identity"
        ]
        if len(codings) > 1:
            raise ContentDecodingError(
                f"Stacked Content-Encoding {content_encoding!r} is not supported."
            )
        self.kind = codings[0] if codings else None
        if self.kind == "x-gzip":
            self.kind = "gzip"
        if self.kind not in (None, "gzip", "deflate"):
            raise ContentDecodingError(
                f"The server used Content-Encoding {self.kind!r}, which was not requested."
            )
        self.limit = limit
        self.total = 0
        self._pending = b""
        self._z: zlib._Decompress | None = None  # type: ignore[name-defined]
        if self.kind == "gzip":
            self._z = zlib.decompressobj(zlib.MAX_WBITS | 16)

    def _count(self, piece: bytes) -> bytes:
        before = self.total
        self.total += len(piece)
        if self.total > self.limit:
            raise _OverLimit(piece[: self.limit - before])
        return piece

    def feed(self, data: bytes) -> bytes:
        if self.kind is None:
            return self._count(data)
        if self._z is None:
            # "deflate" is meant to be zlib-wrapped but many servers send raw
            # deflate; sniff the two-byte zlib header like browsers do.
            self._pending += data
            if len(self._pending) < 2:
                return b""
            data, self._pending = self._pending, b""
            zlib_header = (data[0] & 0x0F) == 8 and ((data[0] << 8) | data[1]) % 31 == 0
            self._z = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
        out: list[bytes] = []
        while data:
            if self._z.eof:
                # Concatenated gzip members are legal; anything else after the
                # end of the stream is padding we ignore (as httpx does).
                if self.kind == "gzip" and data.startswith(_GZIP_MAGIC):
                    self._z = zlib.decompressobj(zlib.MAX_WBITS | 16)
                else:
                    break
            try:
                # +1 so that hitting exactly the limit is allowed, one more is not.
                piece = self._z.decompress(data, self.limit - self.total + 1)
            except zlib.error as exc:
                raise ContentDecodingError(f"Corrupt {self.kind} response body: {exc}.") from exc
            try:
                out.append(self._count(piece))
            except _OverLimit as over:
                raise _OverLimit(b"".join(out) + over.kept) from None
            data = self._z.unused_data if self._z.eof else self._z.unconsumed_tail
        return b"".join(out)

    def flush(self) -> bytes:
        if self.kind is None:
            return b""
        try:
            if self._z is None:
                # Fewer than two bytes of deflate data in the whole body.
                if not self._pending:
                    return b""
                return self._count(zlib.decompress(self._pending, -zlib.MAX_WBITS))
            return self._count(self._z.flush())
        except zlib.error as exc:
            raise ContentDecodingError(f"Corrupt {self.kind} response body: {exc}.") from exc


def _read_body(
    response: httpx.Response,
    *,
    limit: int,
    strict: bool,
    deadline: _Deadline,
    url: str,
) -> bytes:
    """Read and decode the body, at most ``limit`` decoded bytes.

    ``strict``: raise ResponseTooLarge past the limit (feed bodies). Otherwise
    truncate silently (error bodies, kept only for diagnostics).
    """
    if strict:
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise ResponseTooLarge(
                f"The server announced a {int(declared)} byte body (Content-Length), "
                f"more than the {limit} byte limit.",
                url=url,
            )
    decoder = _BoundedDecoder(response.headers.get("content-encoding"), limit)
    parts: list[bytes] = []
    chunks: Iterator[bytes] = response.iter_raw()
    try:
        for chunk in chunks:
            deadline.check("while reading the response body")
            parts.append(decoder.feed(chunk))
        parts.append(decoder.flush())
    except _OverLimit as over:
        if strict:
            raise ResponseTooLarge(
                f"The response body is larger than the {limit} byte limit "
                "(counted after decompression).",
                url=url,
            ) from None
        # Diagnostics only: keep what fits and stop reading (closing the
        # response drops the connection instead of draining the rest).
        parts.append(over.kept)
        return b"".join(parts)
    return b"".join(parts)


# --------------------------------------------------------------------------
# Header parsing
# --------------------------------------------------------------------------


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> int | None:
    """Retry-After as whole seconds from now (delta-seconds or HTTP-date).

    Dates in the past give 0; anything unparseable gives None rather than an
    error, because a broken header must not fail an otherwise good fetch.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # HTTP-dates are always GMT
    now = now or datetime.now(UTC)
    return max(0, math.ceil((when - now).total_seconds()))


def parse_cache_max_age(value: str | None) -> int | None:
    """The max-age directive of a Cache-Control header, in seconds."""
    if not value:
        return None
    for directive in value.split(","):
        name, _, argument = directive.strip().partition("=")
        if name.strip().lower() == "max-age":
            argument = argument.strip().strip('"')
            if argument.isascii() and argument.isdigit():
                return int(argument)
            return None
    return None


_HEADER_VALUE_RE = re.compile(r"[\x20-\x7e\t]*")


def _safe_header_value(value: str | None) -> str | None:
    # Stored validators came from a server; never let one smuggle a newline
    # (or anything h11 would reject) into our request.
    if value and _HEADER_VALUE_RE.fullmatch(value):
        return value
    if value:
        logger.debug("Dropping unsendable validator %r", value)
    return None


# --------------------------------------------------------------------------
# fetch()
# --------------------------------------------------------------------------


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    policy: FetchPolicy = DEFAULT_POLICY,
) -> FetchResult:
    """GET a feed address safely, following redirects by hand.

    Every redirect hop is re-checked and pinned (by the transport). Conditional
    headers are sent when validators are given, and kept across redirects:
    they describe the feed, not one URL of it.

    Returns a FetchResult for any final status (including 4xx/5xx). Raises a
    FetchError subclass when there is no usable response at all.
    """
    deadline = _Deadline(policy.total_deadline)
    _split_url(url)  # refuse obviously bad addresses before doing anything

    headers = {
        "User-Agent": policy.user_agent,
        "Accept": _ACCEPT,
        "Accept-Encoding": _ACCEPT_ENCODING,
    }
    sent_etag = _safe_header_value(etag)
    sent_last_modified = _safe_header_value(last_modified)
    if sent_etag:
        headers["If-None-Match"] = sent_etag
    if sent_last_modified:
        headers["If-Modified-Since"] = sent_last_modified

    transport = _PinnedTransport(policy, deadline)
    client = httpx.Client(
        transport=transport,
        headers=headers,
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(
            policy.read_timeout, connect=policy.connect_timeout, pool=policy.connect_timeout
        ),
    )
    current = url
    hops = 0
    all_permanent = True
    try:
        with client:
            while True:
                logger.debug("Fetching %s (hop %d)", current, hops)
                response = client.send(client.build_request("GET", current), stream=True)
                try:
                    status = response.status_code
                    location = response.headers.get("location")
                    if status in _REDIRECT_STATUSES and location:
                        if hops >= policy.max_redirects:
                            raise TooManyRedirects(
                                f"Gave up after {policy.max_redirects} redirects "
                                f"(the last one pointed from {current} to {location}).",
                                url=url,
                            )
                        target = _redirect_target(current, location)
                        all_permanent = all_permanent and status in _PERMANENT_REDIRECT_STATUSES
                        logger.debug("Redirect %d from %s to %s", status, current, target)
                        hops += 1
                        current = target
                        continue
                    return _build_result(
                        response,
                        url=current,
                        hops=hops,
                        all_permanent=all_permanent,
                        policy=policy,
                        deadline=deadline,
                        sent_etag=sent_etag,
                        sent_last_modified=sent_last_modified,
                    )
                finally:
                    response.close()
    except UnsafeURLError as exc:
        if hops and exc.url is None:
            # Refused by the transport on a redirect hop: say so, since the
            # user never typed this address.
            raise UnsafeURLError(f"Refusing redirect to {current}: {exc}", url=current) from exc
        if exc.url is None:
            exc.url = current
        raise
    except FetchError as exc:
        if exc.url is None:
            exc.url = current
        raise
    except httpx.TimeoutException as exc:
        raise FetchTimeout(f"Timed out fetching {current}: {_describe(exc)}.", url=current) from exc
    except httpx.TransportError as exc:
        raise NetworkError(f"Could not fetch {current}: {_describe(exc)}.", url=current) from exc
    except httpx.HTTPError as exc:  # e.g. a header httpx cannot represent
        raise FetchError(f"Could not fetch {current}: {_describe(exc)}.", url=current) from exc


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.rstrip(".")


def _redirect_target(current: str, location: str) -> str:
    try:
        target = str(httpx.URL(current).join(location.strip()))
    except (httpx.InvalidURL, ValueError) as exc:
        raise UnsafeURLError(f"The server redirected to an invalid address {location!r}.") from exc
    # Scheme/credential checks now; DNS checks happen in the transport when
    # the hop is actually requested.
    try:
        _split_url(target)
    except UnsafeURLError as exc:
        raise UnsafeURLError(f"Refusing redirect to {target}: {exc}", url=target) from exc
    return target


def _build_result(
    response: httpx.Response,
    *,
    url: str,
    hops: int,
    all_permanent: bool,
    policy: FetchPolicy,
    deadline: _Deadline,
    sent_etag: str | None,
    sent_last_modified: str | None,
) -> FetchResult:
    status = response.status_code
    if status == 304:
        content = b""
    else:
        success = 200 <= status < 300
        try:
            content = _read_body(
                response,
                limit=policy.max_bytes if success else policy.max_error_body_bytes,
                strict=success,
                deadline=deadline,
                url=url,
            )
        except ContentDecodingError:
            if success:
                raise
            logger.debug("Undecodable body on %d response from %s", status, url)
            content = b""

    etag = response.headers.get("etag")
    last_modified = response.headers.get("last-modified")
    if status == 304:
        etag = etag or sent_etag
        last_modified = last_modified or sent_last_modified
    good = 200 <= status < 300 or status == 304
    cache_control = ", ".join(response.headers.get_list("cache-control")) or None
    return FetchResult(
        status=status,
        final_url=url,
        permanent_url=url if hops and all_permanent and good else None,
        content=content,
        etag=etag,
        last_modified=last_modified,
        content_type=response.headers.get("content-type"),
        retry_after=parse_retry_after(response.headers.get("retry-after")),
        cache_max_age=parse_cache_max_age(cache_control),
        elapsed=deadline.elapsed(),
        redirects=hops,
    )


# --------------------------------------------------------------------------
# Feed discovery
# --------------------------------------------------------------------------

# Deliberately not plain application/json: WordPress and others advertise REST
# endpoints as rel="alternate" type="application/json", which are not feeds.
_FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/rdf+xml",
    }
)

COMMON_FEED_PATHS = (
    "/feed",
    "/feed/",
    "/rss",
    "/rss.xml",
    "/atom.xml",
    "/feed.xml",
    "/index.xml",
    "/feeds/posts/default",
)


class _FeedLinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base_href: str | None = None
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: (value or "") for name, value in attrs}
        if tag == "base" and self.base_href is None and values.get("href", "").strip():
            self.base_href = values["href"].strip()
            return
        if tag != "link":
            return
        rels = values.get("rel", "").lower().split()
        mime = values.get("type", "").split(";", 1)[0].strip().lower()
        href = values.get("href", "").strip()
        if "alternate" in rels and mime in _FEED_TYPES and href:
            self.hrefs.append(href)


def discover_feed_urls(page_url: str, html: bytes) -> list[str]:
    """Feed addresses advertised by an HTML page, absolute, in page order.

    Only ``<link rel="alternate">`` with a feed media type counts. Relative
    hrefs are resolved against ``<base href>`` if present, else the page URL.
    Results are not safety-checked: fetch() does that when they are used.
    """
    parser = _FeedLinkParser()
    # Hrefs are ASCII in practice; a lossy decode cannot hide a link.
    parser.feed(html.decode("utf-8", errors="replace"))
    parser.close()
    base = urljoin(page_url, parser.base_href) if parser.base_href else page_url
    found: list[str] = []
    for href in parser.hrefs:
        absolute, _fragment = urldefrag(urljoin(base, href))
        if urlsplit(absolute).scheme in ("http", "https") and absolute not in found:
            found.append(absolute)
    return found


def candidate_feed_urls(page_url: str) -> list[str]:
    """Conventional feed locations on the page's origin, to probe when a page
    advertises none. Raises UnsafeURLError for non-http(s) addresses."""
    parsed, _host, _port = _split_url(page_url)
    origin = f"{parsed.scheme}://{parsed.netloc.decode('ascii')}"
    return [origin + path for path in COMMON_FEED_PATHS]
