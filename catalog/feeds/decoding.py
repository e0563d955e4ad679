"""Step 3: reading a response body with a cap counted *after* decompression.

Our own bounded decompressor, so a gzip bomb costs at most the cap in memory rather than
whatever a single network read inflates to.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator

import httpx

from catalog.feeds.address import ContentDecodingError, ResponseTooLarge
from catalog.feeds.transport import Deadline
from kubelearn.wording import spoken_size

logger = logging.getLogger(__name__)

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
        self._z: zlib._Decompress | None = None
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


def read_body(
    response: httpx.Response,
    *,
    limit: int,
    strict: bool,
    deadline: Deadline,
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
                f"The server announced a {spoken_size(int(declared))} body (Content-Length: "
                f"{int(declared):,} bytes), more than the {spoken_size(limit)} limit.",
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
                f"The response body is larger than the {spoken_size(limit)} limit "
                "(counted after decompression).",
                url=url,
            ) from None
        # Diagnostics only: keep what fits and stop reading (closing the
        # response drops the connection instead of draining the rest).
        parts.append(over.kept)
        return b"".join(parts)
    return b"".join(parts)


def drain(response: httpx.Response, *, limit: int, deadline: Deadline) -> None:
    """Read and drop a body nobody needs (a 304's, a redirect's), at most ``limit`` bytes.

    Closing a response whose body was not read drops its connection, so on a kept-alive
    session every unchanged feed or redirect hop would cost a new connection (and a TLS
    handshake) to the same host. A body larger than ``limit`` is left unread: the
    connection is dropped, as before, rather than spend more than a small read on it.
    """
    declared = response.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        return
    received = 0
    for chunk in response.iter_raw():
        deadline.check("while reading the response body")
        received += len(chunk)
        if received > limit:
            return
