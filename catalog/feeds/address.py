"""Step 1 of the feed pipeline: is this address one we may fetch at all?

Every feed address points at a server we do not control. Server-side request forgery: a user
must not be able to make us talk to loopback, the cloud metadata service (169.254.169.254),
the cluster network or anything else that is not on the public internet. Every address a host
resolves to is checked (not just the first), when a feed is added, on the first request and on
every redirect hop (the pinned transport in `transport.py` calls back in here).

Also the fetch errors and the per-fetch limits (FetchPolicy) every later step shares.
Free of Django imports, like every fetch-side module of this package.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import re
import socket
import ssl
import threading
from dataclasses import dataclass, field

import httpx

logger = logging.getLogger(__name__)

_MIB = 1024 * 1024

# Longer addresses are never real feeds, and a cap keeps log lines and error
# messages bounded.
MAX_URL_LENGTH = 2048


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


def literal_ip(host: str) -> _IPAddress | None:
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
    literal = literal_ip(host)
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


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def split_url(url: str) -> tuple[httpx.URL, str, int]:
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
    if not is_ip_literal(host):
        labels = host.rstrip(".").split(".")
        if len(host) > 253 or any(not 0 < len(label) <= 63 for label in labels):
            # DNS limits (RFC 1035): such a name can never resolve, so say so without asking.
            raise UnsafeURLError(
                f"{host[:80]!r} is not a valid host name: names are at most 253 characters, "
                "in dot-separated parts of 1 to 63."
            )
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
    _, host, port = split_url(url)
    resolve_public_addresses(
        host, port, allow_private_networks, allowed_networks=tuple(allowed_networks)
    )
