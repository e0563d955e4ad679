"""Canonical web addresses, so two spellings of one address are one resource.

The rules are those feed readers and link aggregators converge on: lowercase
scheme and host, IDNA host, no fragment, no default port, no tracking
parameters, and an explicit "/" for an empty path. Query parameters that are
kept keep their order: some sites care about it.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING_PREFIXES = ("utm_", "mtm_", "pk_")
_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "ref_src",
        "s_cid",
        "spm",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


_HOST_NAME = re.compile(r"[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*")


class InvalidAddress(ValueError):
    """The text is not an absolute http(s) address."""


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_PARAMS or lowered.startswith(_TRACKING_PREFIXES)


def canonical_url(address: str) -> str:
    """Return the canonical spelling of an absolute http(s) address.

    Raises InvalidAddress for anything else (relative paths, other schemes,
    missing host), so callers can turn it into a field error.
    """
    text = (address or "").strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidAddress(f"{text!r} is not a valid address: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidAddress(f"{text!r} is not an http(s) address.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise InvalidAddress(f"{text!r} has no host.")
    try:
        host = host.encode("idna").decode("ascii").lower() if not host.isascii() else host.lower()
    except UnicodeError as exc:
        raise InvalidAddress(
            f"The host of {text[:200]!r} is not a valid host name: names are letters, digits "
            "and hyphens, at most 253 characters, in dot-separated parts of 1 to 63."
        ) from exc
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    elif not _HOST_NAME.fullmatch(host) or len(host) > 253:
        # Letters, digits, hyphens (and the underscores some real hosts use) in dot-separated
        # parts of 1 to 63: "exa mple.com" or "exa%20mple.com" can never be reached.
        raise InvalidAddress(
            f"The host of {text[:200]!r} is not a valid host name: names are letters, digits "
            "and hyphens, at most 253 characters, in dot-separated parts of 1 to 63."
        )
    netloc = host
    if parts.username or parts.password:
        raise InvalidAddress(f"{text!r} carries credentials; remove the user name and password.")
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{host}:{port}"
    query_pairs = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _is_tracking(name)
    ]
    query = urlencode(query_pairs, doseq=True)
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, query, ""))


def other_spellings(canonical: str) -> set[str]:
    """The spellings of a canonical address that `canonical_url` keeps apart but that are
    nearly always the same page: http or https, with or without "www.", with or without a
    trailing slash. A hint for curators (a feed's entry linked over http was filed again
    beside the catalog's https resource), never a merge: some sites do differ."""
    parts = urlsplit(canonical)
    host = parts.netloc
    bare = host.removeprefix("www.")
    # An IP literal or a one-label host has no "www." twin.
    literal = bare.startswith("[") or bare.split(":")[0].replace(".", "").isdigit()
    hosts = {host} if literal or "." not in bare else {bare, f"www.{bare}"}
    path = parts.path or "/"
    paths = {path} if path == "/" else {path.rstrip("/") or "/", path.rstrip("/") + "/"}
    return {
        urlunsplit((scheme, netloc, spelled, parts.query, ""))
        for scheme in ("http", "https")
        for netloc in hosts
        for spelled in paths
    } - {canonical}
