"""Tests for catalog.feeds (address, transport, decoding, fetch, discovery) on real servers.

No httpx mocking: every fetch goes through real sockets to a pytest-httpserver
instance on 127.0.0.1. Because that is a loopback address, tests allow exactly
127.0.0.1/32 through the policy (not "all private networks"), so a redirect or
DNS answer pointing anywhere else is still refused.

A guard on socket.connect blocks (and records) any attempt to connect outside
loopback. It makes "refused before any connection" assertable, and it ensures
a regression can never send traffic to 10.x or 169.254.169.254 from a test.
"""

from __future__ import annotations

import gzip
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from catalog.feeds.address import (
    ContentDecodingError,
    FetchError,
    FetchPolicy,
    FetchTimeout,
    NetworkError,
    ResponseTooLarge,
    TooManyRedirects,
    UnsafeURLError,
    check_url,
    resolve_public_addresses,
)
from catalog.feeds.discovery import COMMON_FEED_PATHS, candidate_feed_urls, discover_feed_urls
from catalog.feeds.fetch import fetch, parse_cache_max_age, parse_retry_after
from tests.netguard import loopback_only

LOOPBACK_ONLY = ("127.0.0.1/32",)
# Loopback allowed, every other limit at its default.
POLICY = FetchPolicy(allowed_networks=LOOPBACK_ONLY)
FAST = FetchPolicy(
    allowed_networks=LOOPBACK_ONLY, connect_timeout=1.0, read_timeout=0.5, total_deadline=3.0
)
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def httpserver() -> Iterator[HTTPServer]:
    """A module-local pytest-httpserver bound to 127.0.0.1 (not "localhost").

    Shadows the plugin's session fixture so this module does not depend on
    how other modules or a conftest configure the shared server. Threaded,
    because the slow-response handlers must not block later tests.
    """
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture(autouse=True)
def _reset_server(httpserver: HTTPServer) -> Iterator[None]:
    yield
    httpserver.clear()


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record every outgoing TCP connect; refuse any that leaves loopback."""
    return loopback_only(monkeypatch)


def _fake_dns(
    monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]
) -> dict[str, list[str]]:
    """Make getaddrinfo answer for test-only names; returns the call log.

    Each name maps to a list of addresses: the first call gets the first one,
    later calls the next ones (the last repeats), to simulate DNS rebinding.
    """
    real = socket.getaddrinfo
    calls: dict[str, list[str]] = {name: [] for name in answers}

    def fake_getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        name = host.decode() if isinstance(host, bytes) else host
        if name not in answers:
            return real(host, port, *args, **kwargs)
        sequence = answers[name]
        address = sequence[min(len(calls[name]), len(sequence) - 1)]
        calls[name].append(address)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sockaddr = (address, int(port), 0, 0) if family == socket.AF_INET6 else (address, int(port))
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    return calls


def _seen(server: HTTPServer, path: str) -> list[Request]:
    """Requests the server received for ``path`` during this test.

    Filtering by path matters: a slow handler from an earlier test (the
    client gave up on it) can finish and land in the log after clear().
    """
    return [request for request, _response in server.log if request.path == path]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------
# Plain responses
# --------------------------------------------------------------------------


def test_200_returns_body_and_caching_headers(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        RSS,
        content_type="application/rss+xml",
        headers={
            "ETag": '"v1"',
            "Last-Modified": "Wed, 21 Oct 2026 07:28:00 GMT",
            "Cache-Control": "public, max-age=900",
        },
    )
    url = httpserver.url_for("/feed.xml")

    result = fetch(url, policy=POLICY)

    assert result.status == 200
    assert result.ok and not result.not_modified
    assert result.content == RSS
    assert result.final_url == url
    assert result.permanent_url is None
    assert result.etag == '"v1"'
    assert result.last_modified == "Wed, 21 Oct 2026 07:28:00 GMT"
    assert result.content_type == "application/rss+xml"
    assert result.cache_max_age == 900
    assert result.retry_after is None
    assert 0 <= result.elapsed < 5


def test_sends_user_agent_and_feed_accept_headers(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(RSS)

    fetch(httpserver.url_for("/feed"), policy=POLICY)

    (request,) = _seen(httpserver, "/feed")
    assert request.headers["User-Agent"] == POLICY.user_agent
    assert "application/rss+xml" in request.headers["Accept"]
    # Only encodings the bounded decoder understands.
    assert request.headers["Accept-Encoding"] == "gzip, deflate"
    assert "If-None-Match" not in request.headers


def test_304_sends_conditional_headers(httpserver: HTTPServer) -> None:
    # The handler only matches when both validators arrive; otherwise the
    # server answers 500 and the status assertion fails.
    httpserver.expect_request(
        "/feed",
        headers={
            "If-None-Match": '"abc"',
            "If-Modified-Since": "Wed, 21 Oct 2026 07:28:00 GMT",
        },
    ).respond_with_data(b"", status=304, headers={"ETag": '"abc"'})

    result = fetch(
        httpserver.url_for("/feed"),
        etag='"abc"',
        last_modified="Wed, 21 Oct 2026 07:28:00 GMT",
        policy=POLICY,
    )

    assert result.status == 304
    assert result.not_modified and result.ok
    assert result.content == b""
    assert _seen(httpserver, "/feed")[0].headers["If-None-Match"] == '"abc"'


def test_304_without_validators_echoes_the_sent_ones(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(b"", status=304)

    result = fetch(
        httpserver.url_for("/feed"), etag='W/"7"', last_modified="yesterday", policy=POLICY
    )

    assert result.etag == 'W/"7"'
    assert result.last_modified == "yesterday"


def test_validator_with_newline_is_not_sent(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(RSS)

    result = fetch(httpserver.url_for("/feed"), etag='"a"\r\nX-Injected: 1', policy=POLICY)

    assert result.status == 200
    headers = _seen(httpserver, "/feed")[0].headers
    assert "If-None-Match" not in headers
    assert "X-Injected" not in headers


def test_410_is_a_result_not_an_exception(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gone").respond_with_data("feed removed", status=410)

    result = fetch(httpserver.url_for("/gone"), policy=POLICY)

    assert result.status == 410
    assert not result.ok
    assert result.content == b"feed removed"


def test_429_retry_after_seconds(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "120"}
    )

    result = fetch(httpserver.url_for("/feed"), policy=POLICY)

    assert result.status == 429
    assert result.retry_after == 120


def test_503_retry_after_http_date(httpserver: HTTPServer) -> None:
    when = datetime.now(UTC) + timedelta(seconds=300)
    httpserver.expect_request("/feed").respond_with_data(
        "maintenance", status=503, headers={"Retry-After": format_datetime(when, usegmt=True)}
    )

    result = fetch(httpserver.url_for("/feed"), policy=POLICY)

    assert result.status == 503
    assert result.retry_after is not None
    assert 290 <= result.retry_after <= 301


def test_error_body_is_truncated_not_fatal(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(b"e" * 500_000, status=500)
    policy = FetchPolicy(allowed_networks=LOOPBACK_ONLY, max_error_body_bytes=1000)

    result = fetch(httpserver.url_for("/feed"), policy=policy)

    assert result.status == 500
    assert result.content == b"e" * 1000


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120),
        (" 0 ", 0),
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0),  # in the past
        ("Wed, 01 Jan 2031 00:01:40 GMT", 100),
    ],
)
def test_parse_retry_after(value: str | None, expected: int | None) -> None:
    now = datetime(2031, 1, 1, tzinfo=UTC)
    assert parse_retry_after(value, now=now) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("max-age=300", 300),
        ("public, MAX-AGE=60, must-revalidate", 60),
        ('max-age="45"', 45),
        ("s-maxage=10", None),
        ("no-cache", None),
        ("max-age=-1", None),
        (None, None),
    ],
)
def test_parse_cache_max_age(value: str | None, expected: int | None) -> None:
    assert parse_cache_max_age(value) == expected


# --------------------------------------------------------------------------
# Size limits and compression
# --------------------------------------------------------------------------


def test_streamed_body_over_limit_raises(httpserver: HTTPServer) -> None:
    def handler(_request: Request) -> Response:
        # A generator makes werkzeug send chunked encoding: no Content-Length,
        # so only the streaming counter can stop it.
        return Response(b"x" * 4096 for _ in range(64))  # 256 KiB

    httpserver.expect_request("/big").respond_with_handler(handler)
    policy = FetchPolicy(allowed_networks=LOOPBACK_ONLY, max_bytes=64 * 1024)

    with pytest.raises(ResponseTooLarge, match="larger than the 64 KiB limit") as info:
        fetch(httpserver.url_for("/big"), policy=policy)
    assert not info.value.retryable


def test_body_exactly_at_limit_is_accepted(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/exact").respond_with_data(b"x" * 1024)
    policy = FetchPolicy(allowed_networks=LOOPBACK_ONLY, max_bytes=1024)

    assert len(fetch(httpserver.url_for("/exact"), policy=policy).content) == 1024


def test_announced_content_length_over_limit_is_refused_before_reading(
    httpserver: HTTPServer,
) -> None:
    def handler(_request: Request) -> Response:
        def body() -> Iterator[bytes]:
            yield b""  # sends the headers
            time.sleep(2)  # would trip the read timeout if we waited for the body
            yield b"x"

        return Response(body(), headers={"Content-Length": str(50 * 1024 * 1024)})

    httpserver.expect_request("/announced").respond_with_handler(handler)
    policy = FetchPolicy(allowed_networks=LOOPBACK_ONLY, read_timeout=0.5, max_bytes=1024)

    started = time.monotonic()
    with pytest.raises(
        ResponseTooLarge,
        match=r"announced a 50 MiB body \(Content-Length: 52,428,800 bytes\), more than",
    ):
        fetch(httpserver.url_for("/announced"), policy=policy)
    assert time.monotonic() - started < 0.5


def test_gzip_body_is_decoded(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gz").respond_with_data(
        gzip.compress(RSS), headers={"Content-Encoding": "gzip"}
    )

    assert fetch(httpserver.url_for("/gz"), policy=POLICY).content == RSS


def test_raw_deflate_body_is_decoded(httpserver: HTTPServer) -> None:
    raw_deflate = zlib.compress(RSS)[2:-4]  # strip the zlib header and checksum
    httpserver.expect_request("/deflate").respond_with_data(
        raw_deflate, headers={"Content-Encoding": "deflate"}
    )

    assert fetch(httpserver.url_for("/deflate"), policy=POLICY).content == RSS


def test_unrequested_content_encoding_is_an_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/br").respond_with_data(b"???", headers={"Content-Encoding": "br"})

    with pytest.raises(ContentDecodingError, match="br"):
        fetch(httpserver.url_for("/br"), policy=POLICY)


# Serves one gzip bomb from a separate process. tracemalloc counts every
# thread of this process, and an in-process werkzeug server reacting to the
# client hanging up mid-body allocates several MiB of its own, which would
# blur what the client under test allocates.
_BOMB_SERVER = """
import http.server, sys
body = open(sys.argv[1], "rb").read()

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@pytest.fixture(scope="module")
def gzip_bomb_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # 50 MiB of zeros compress to about 50 KB: far below the 1 MiB cap used
    # below, so only the decompressed size can trip it.
    bomb = gzip.compress(bytes(50 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 100_000
    path = tmp_path_factory.mktemp("bomb") / "bomb.gz"
    path.write_bytes(bomb)
    process = subprocess.Popen(
        [sys.executable, "-c", _BOMB_SERVER, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}/feed.xml"
    finally:
        process.kill()
        process.wait(timeout=5)


def test_gzip_bomb_is_cut_off_without_inflating_it(gzip_bomb_url: str) -> None:
    policy = FetchPolicy(allowed_networks=LOOPBACK_ONLY, max_bytes=1024 * 1024)
    with pytest.raises(ResponseTooLarge):
        fetch(gzip_bomb_url, policy=policy)  # warm-up: lazy imports, first-use caches

    tracemalloc.start()
    try:
        with pytest.raises(ResponseTooLarge, match="after decompression"):
            fetch(gzip_bomb_url, policy=policy)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # Decoding with httpx's iter_bytes() peaks above 50 MiB here, because one
    # network read inflates in a single unbounded decompress() call. The
    # bounded decoder never holds much more than the 1 MiB cap.
    assert peak < 8 * 1024 * 1024, f"peak traced memory {peak} bytes"


# --------------------------------------------------------------------------
# Timeouts
# --------------------------------------------------------------------------


def test_slow_server_hits_read_timeout(httpserver: HTTPServer) -> None:
    def handler(_request: Request) -> Response:
        time.sleep(1.5)
        return Response(RSS)

    httpserver.expect_request("/slow").respond_with_handler(handler)

    started = time.monotonic()
    with pytest.raises(FetchTimeout) as info:
        fetch(httpserver.url_for("/slow"), policy=FAST)
    assert info.value.retryable
    assert time.monotonic() - started < 1.2


def test_slow_drip_body_hits_total_deadline(httpserver: HTTPServer) -> None:
    def handler(_request: Request) -> Response:
        def drip() -> Iterator[bytes]:
            for _ in range(40):
                yield b"<item/>"
                time.sleep(0.1)  # well inside the read timeout: only the deadline can stop it

        return Response(drip())

    httpserver.expect_request("/drip").respond_with_handler(handler)
    policy = FetchPolicy(allowed_networks=LOOPBACK_ONLY, read_timeout=1.0, total_deadline=0.8)

    started = time.monotonic()
    with pytest.raises(FetchTimeout, match="total deadline"):
        fetch(httpserver.url_for("/drip"), policy=policy)
    assert 0.7 < time.monotonic() - started < 1.5


def test_total_deadline_spans_redirect_hops(httpserver: HTTPServer) -> None:
    def slow_redirect(request: Request) -> Response:
        time.sleep(0.3)
        hop = int(request.args.get("n", "0"))
        return Response(status=302, headers={"Location": f"/hop?n={hop + 1}"})

    httpserver.expect_request("/hop").respond_with_handler(slow_redirect)
    # Each hop is far inside the read timeout; five of them are not inside
    # the total deadline.
    policy = FetchPolicy(allowed_networks=LOOPBACK_ONLY, read_timeout=1.0, total_deadline=0.8)

    with pytest.raises(FetchTimeout):
        fetch(httpserver.url_for("/hop"), policy=policy)
    assert len(_seen(httpserver, "/hop")) <= 3


@pytest.fixture
def header_dripping_server() -> Iterator[str]:
    """A raw socket server that sends its status line and headers one byte every 0.1 s, for
    up to 8 s: every read is far inside the read timeout, only a deadline can stop it."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    stop = threading.Event()

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            head = (
                b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                + b"X-Pad: "
                + (b"a" * 200)
            )
            for byte in head:
                if stop.wait(0.1):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/feed.xml"
    finally:
        stop.set()
        listener.close()
        thread.join(timeout=5)


def test_headers_dripping_a_byte_at_a_time_hit_the_total_deadline(
    header_dripping_server: str,
) -> None:
    policy = FetchPolicy(allowed_networks=LOOPBACK_ONLY, read_timeout=1.0, total_deadline=1.0)

    started = time.monotonic()
    with pytest.raises(FetchTimeout, match="total deadline"):
        fetch(header_dripping_server, policy=policy)
    assert time.monotonic() - started < 2.5


# --------------------------------------------------------------------------
# Redirects
# --------------------------------------------------------------------------


def test_all_permanent_redirects_give_permanent_url(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data("", status=301, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data(
        "", status=308, headers={"Location": httpserver.url_for("/c")}
    )
    httpserver.expect_request("/c").respond_with_data(RSS)

    result = fetch(httpserver.url_for("/a"), policy=POLICY)

    assert result.status == 200
    assert result.content == RSS
    assert result.final_url == httpserver.url_for("/c")
    assert result.permanent_url == httpserver.url_for("/c")
    assert result.redirects == 2


def test_temporary_redirect_in_chain_gives_no_permanent_url(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data("", status=301, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data("", status=302, headers={"Location": "/c"})
    httpserver.expect_request("/c").respond_with_data(RSS)

    result = fetch(httpserver.url_for("/a"), policy=POLICY)

    assert result.final_url == httpserver.url_for("/c")
    assert result.permanent_url is None


def test_permanent_redirect_to_error_page_gives_no_permanent_url(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data("", status=301, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data("not here", status=404)

    result = fetch(httpserver.url_for("/a"), policy=POLICY)

    assert result.status == 404
    assert result.permanent_url is None


def test_conditional_headers_survive_redirects(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": "/new"}
    )
    httpserver.expect_request("/new", headers={"If-None-Match": '"e"'}).respond_with_data(
        "", status=304
    )

    result = fetch(httpserver.url_for("/old"), etag='"e"', policy=POLICY)

    assert result.status == 304
    assert result.permanent_url == httpserver.url_for("/new")


def test_redirect_loop_raises_too_many_redirects(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/loop").respond_with_data(
        "", status=302, headers={"Location": "/loop"}
    )
    policy = FetchPolicy(allowed_networks=LOOPBACK_ONLY, max_redirects=5)

    with pytest.raises(TooManyRedirects) as info:
        fetch(httpserver.url_for("/loop"), policy=policy)
    assert not info.value.retryable
    # The original request plus five followed redirects, then we stop.
    assert len(_seen(httpserver, "/loop")) == 6


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/feed",
        "http://[::1]/feed",
        "http://[::ffff:169.254.169.254]/",
        "http://0x7f000001/",
    ],
)
def test_redirect_to_private_address_is_refused_before_connecting(
    httpserver: HTTPServer, connections: list[tuple[str, int]], target: str
) -> None:
    httpserver.expect_request("/r").respond_with_data("", status=302, headers={"Location": target})

    with pytest.raises(UnsafeURLError) as info:
        fetch(httpserver.url_for("/r"), policy=POLICY)

    assert not info.value.retryable
    # Only the test server was ever contacted.
    assert {host for host, _port in connections} == {"127.0.0.1"}


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://example.com/feed"])
def test_redirect_to_other_scheme_is_refused(httpserver: HTTPServer, target: str) -> None:
    httpserver.expect_request("/r").respond_with_data("", status=301, headers={"Location": target})

    with pytest.raises(UnsafeURLError, match="http:// and https://"):
        fetch(httpserver.url_for("/r"), policy=POLICY)


# --------------------------------------------------------------------------
# Address safety with the default policy
# --------------------------------------------------------------------------


def test_default_policy_refuses_the_local_test_server(
    httpserver: HTTPServer, connections: list[tuple[str, int]]
) -> None:
    httpserver.expect_request("/feed").respond_with_data(RSS)
    url = f"http://127.0.0.1:{httpserver.port}/feed"

    with pytest.raises(UnsafeURLError, match="loopback"):
        fetch(url)
    with pytest.raises(UnsafeURLError, match="loopback"):
        check_url(url, allow_private_networks=False)
    assert connections == []
    assert _seen(httpserver, "/feed") == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://localhost/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://10.0.0.1/", "private"),
        ("http://172.16.5.4/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://100.64.0.1/", "carrier-grade NAT"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://[ff02::1]/", "multicast"),
        ("http://240.0.0.1/", "private|reserved"),
        ("http://255.255.255.255/", "private|reserved"),
        ("http://[fc00::1]/", "private"),
        ("http://[fd12:3456::1]/", "private"),
        ("http://[fec0::1]/", "site-local"),
        ("http://[::ffff:127.0.0.1]/", "IPv4-mapped address embedding 127.0.0.1"),
        ("http://[::ffff:a9fe:a9fe]/", "IPv4-mapped address embedding 169.254.169.254"),
        ("http://[2002:7f00:1::]/", "6to4 address embedding 127.0.0.1"),
        ("http://[2002:a00:1::]/", "6to4 address embedding 10.0.0.1"),
        ("http://[64:ff9b::a9fe:a9fe]/", "NAT64 address embedding 169.254.169.254"),
        ("http://[64:ff9b:1::1]/", "NAT64"),
        # Teredo with obfuscated client 127.0.0.1 (0x7f000001 ^ 0xffffffff).
        ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "Teredo address embedding 127.0.0.1"),
        ("http://2130706433/", "non-standard form"),
        ("http://0x7f000001/", "non-standard form"),
        ("http://0x7f.1/", "non-standard form"),
        ("http://017700000001/", "non-standard form"),
        ("http://127.1/", "non-standard form"),
        ("http://127.000.000.001/", "non-standard form|not a valid address"),
        ("http://192.168.1.1./", "non-standard form"),
        ("ftp://example.com/feed.xml", "http:// and https://"),
        ("file:///etc/passwd", "http:// and https://"),
        ("javascript:alert(1)", "http:// and https://"),
        ("gopher://example.com:70/", "http:// and https://"),
        ("example.com/feed", "must start with http"),
        ("http:///feed", "no host"),
        ("http://user:secret@example.com/feed", "user name or password"),
        ("http://example.com:99999/", "out of range|not a valid address"),
        ("", "empty"),
    ],
)
def test_default_policy_refuses_unsafe_addresses(
    connections: list[tuple[str, int]], url: str, reason: str
) -> None:
    with pytest.raises(UnsafeURLError, match=reason) as checked:
        check_url(url, allow_private_networks=False)
    with pytest.raises(UnsafeURLError, match=reason) as fetched:
        fetch(url)

    assert isinstance(checked.value, ValueError)  # usable as a validation error
    assert not fetched.value.retryable
    assert connections == []


@pytest.mark.parametrize(
    "url",
    ["http://93.184.216.34/feed", "https://[2606:4700:4700::1111]/feed", "http://8.8.8.8:8080/"],
)
def test_public_ip_literals_pass_the_check(url: str) -> None:
    # No DNS and no connection: check_url only classifies the literal.
    check_url(url, allow_private_networks=False)


def test_allow_private_networks_switches_the_check_off() -> None:
    assert resolve_public_addresses("10.1.2.3", 80, True) == ["10.1.2.3"]
    check_url("http://[::1]:8080/", allow_private_networks=True)


def test_allowed_networks_is_exact(connections: list[tuple[str, int]]) -> None:
    assert resolve_public_addresses("127.0.0.1", 80, False, allowed_networks=LOOPBACK_ONLY) == [
        "127.0.0.1"
    ]
    # IPv4-mapped spelling of an allowed address is the same address.
    check_url(
        "http://[::ffff:127.0.0.1]/", allow_private_networks=False, allowed_networks=LOOPBACK_ONLY
    )
    with pytest.raises(UnsafeURLError):
        check_url("http://127.0.0.2/", allow_private_networks=False, allowed_networks=LOOPBACK_ONLY)


def test_name_with_any_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def mixed(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host != "mixed.kubelearn.test":
            return real(host, port, *args, **kwargs)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", mixed)

    with pytest.raises(UnsafeURLError, match=r"'mixed.kubelearn.test' resolves to 10\.0\.0\.7"):
        check_url("http://mixed.kubelearn.test/", allow_private_networks=False)


def test_unresolvable_host_is_a_retryable_network_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulated NXDOMAIN, so the test neither depends on nor sends real DNS.
    real = socket.getaddrinfo

    def nxdomain(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host == "feeds.kubelearn.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", nxdomain)

    with pytest.raises(NetworkError, match="Could not resolve host") as info:
        fetch("http://feeds.kubelearn.invalid/rss", policy=FAST)
    assert info.value.retryable


def test_policy_rejects_bad_configuration() -> None:
    with pytest.raises(ValueError):
        FetchPolicy(allowed_networks=("not-a-cidr",))
    with pytest.raises(ValueError):
        FetchPolicy(allowed_networks="127.0.0.1/32")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        FetchPolicy(total_deadline=0)


# --------------------------------------------------------------------------
# DNS pinning and TLS
# --------------------------------------------------------------------------


def test_connection_goes_to_the_checked_address_not_a_rebound_one(
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    connections: list[tuple[str, int]],
) -> None:
    # First lookup: the allowed test server. Any later lookup: a private
    # address. Without pinning, httpcore would resolve the name again when
    # connecting, reach 10.0.0.1 (blocked by the guard) and fail.
    calls = _fake_dns(monkeypatch, {"rebind.kubelearn.test": ["127.0.0.1", "10.0.0.1"]})
    httpserver.expect_request("/feed").respond_with_data(RSS)
    url = f"http://rebind.kubelearn.test:{httpserver.port}/feed"

    result = fetch(url, policy=POLICY)

    assert result.status == 200
    assert result.final_url == url
    assert calls["rebind.kubelearn.test"] == ["127.0.0.1"]  # resolved exactly once
    assert connections == [("127.0.0.1", httpserver.port)]
    # The virtual host still sees the name the user typed.
    (request,) = _seen(httpserver, "/feed")
    assert request.headers["Host"] == f"rebind.kubelearn.test:{httpserver.port}"


def test_each_redirect_hop_is_resolved_and_checked(
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    connections: list[tuple[str, int]],
) -> None:
    _fake_dns(monkeypatch, {"internal.kubelearn.test": ["10.20.30.40"]})
    httpserver.expect_request("/r").respond_with_data(
        "", status=301, headers={"Location": "http://internal.kubelearn.test/admin"}
    )

    with pytest.raises(
        UnsafeURLError, match=r"'internal\.kubelearn\.test' resolves to 10\.20\.30\.40"
    ):
        fetch(httpserver.url_for("/r"), policy=POLICY)
    assert {host for host, _port in connections} == {"127.0.0.1"}


def test_connection_refused_is_retryable_network_error() -> None:
    with pytest.raises(NetworkError) as info:
        fetch(f"http://127.0.0.1:{_closed_port()}/feed", policy=FAST)
    assert info.value.retryable
    assert isinstance(info.value, FetchError)


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A throwaway CA and a certificate for "localhost" only (no IP SAN)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl command not available to make test certificates")
    d = tmp_path_factory.mktemp("tls")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    run(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=kubelearn test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    run("req", *ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost")
    (d / "leaf.ext").write_text(
        "subjectAltName=DNS:localhost\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid,issuer\n"
    )
    run(
        "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext",
    )  # fmt: skip
    return {"ca": d / "ca.pem", "cert": d / "leaf.pem", "key": d / "leaf.key"}


@pytest.fixture(scope="module")
def tls_server(tls_files: dict[str, Path]) -> Iterator[HTTPServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_files["cert"], tls_files["key"])
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context, threaded=True)
    server.start()
    server.expect_request("/feed").respond_with_data(RSS)
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def tls_policy(tls_files: dict[str, Path]) -> FetchPolicy:
    return FetchPolicy(
        allowed_networks=LOOPBACK_ONLY,
        ssl_context=ssl.create_default_context(cafile=str(tls_files["ca"])),
        connect_timeout=2.0,
    )


def test_https_verifies_certificate_against_the_typed_host_name(
    tls_server: HTTPServer, tls_policy: FetchPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pin "localhost" to 127.0.0.1 so the test does not depend on /etc/hosts
    # listing ::1 too. The connection goes to the IP, but the certificate
    # (valid for "localhost" only, no IP SAN) must be checked against the
    # name: if the pinned IP were used as server_hostname this would fail.
    _fake_dns(monkeypatch, {"localhost": ["127.0.0.1"]})

    result = fetch(f"https://localhost:{tls_server.port}/feed", policy=tls_policy)

    assert result.status == 200
    assert result.content == RSS


def test_https_certificate_for_another_name_is_rejected(
    tls_server: HTTPServer, tls_policy: FetchPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Same server, same IP, but the typed name is not on the certificate.
    _fake_dns(monkeypatch, {"evil.kubelearn.test": ["127.0.0.1"]})

    with pytest.raises(NetworkError, match=r"certificate|hostname") as info:
        fetch(f"https://evil.kubelearn.test:{tls_server.port}/feed", policy=tls_policy)
    assert info.value.retryable


def test_https_to_ip_literal_checks_the_ip_not_a_name(
    tls_server: HTTPServer, tls_policy: FetchPolicy
) -> None:
    with pytest.raises(NetworkError, match=r"certificate|IP address mismatch"):
        fetch(f"https://127.0.0.1:{tls_server.port}/feed", policy=tls_policy)


def test_https_with_default_trust_store_rejects_private_ca(tls_server: HTTPServer) -> None:
    with pytest.raises(NetworkError, match="certificate"):
        fetch(f"https://127.0.0.1:{tls_server.port}/feed", policy=POLICY)


# --------------------------------------------------------------------------
# Discovery
# --------------------------------------------------------------------------


def test_discover_feed_urls_resolves_relative_links() -> None:
    html = b"""<!doctype html><html><head>
    <link rel="stylesheet" href="/style.css">
    <link rel="alternate" type="application/rss+xml" title="RSS" href="/feed.xml">
    <LINK REL="Alternate" TYPE="application/atom+xml; charset=utf-8" HREF="atom.xml#top">
    <link rel="alternate" type="application/feed+json" href="https://cdn.example.org/feed.json">
    <link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/1">
    <link rel="alternate" hreflang="de" href="/de/">
    <link rel="alternate" type="application/rss+xml" href="/feed.xml">
    <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
    </head><body></body></html>"""

    found = discover_feed_urls("https://blog.example.com/posts/index.html", html)

    assert found == [
        "https://blog.example.com/feed.xml",
        "https://blog.example.com/posts/atom.xml",
        "https://cdn.example.org/feed.json",
    ]


def test_discover_feed_urls_honours_base_href() -> None:
    html = (
        b'<head><base href="https://static.example.com/blog/">'
        b'<link rel="alternate" type="application/atom+xml" href="atom.xml"/></head>'
    )

    assert discover_feed_urls("https://example.com/", html) == [
        "https://static.example.com/blog/atom.xml"
    ]


def test_discover_feed_urls_on_page_without_feeds_or_garbage() -> None:
    assert discover_feed_urls("https://example.com/", b"<html><head></head></html>") == []
    assert discover_feed_urls("https://example.com/", b"\xff\xfe<<link rel=") == []


def test_discovered_link_can_be_fetched(httpserver: HTTPServer) -> None:
    page = (
        b'<html><head><link rel="alternate" type="application/rss+xml" href="feed/rss">'
        b"</head></html>"
    )
    httpserver.expect_request("/blog/").respond_with_data(page, content_type="text/html")
    httpserver.expect_request("/blog/feed/rss").respond_with_data(RSS)

    page_result = fetch(httpserver.url_for("/blog/"), policy=POLICY)
    (feed_url,) = discover_feed_urls(page_result.final_url, page_result.content)

    assert feed_url == httpserver.url_for("/blog/feed/rss")
    assert fetch(feed_url, policy=POLICY).content == RSS


def test_candidate_feed_urls_use_the_page_origin() -> None:
    candidates = candidate_feed_urls("https://Example.com:8443/some/page?x=1#top")

    assert candidates[0] == "https://example.com:8443/feed"
    assert candidates == [f"https://example.com:8443{path}" for path in COMMON_FEED_PATHS]
    assert "https://example.com:8443/feeds/posts/default" in candidates
    with pytest.raises(UnsafeURLError):
        candidate_feed_urls("ftp://example.com/")


@pytest.mark.parametrize(
    ("count", "said"),
    [
        (1, "1 byte"),
        (900, "900 bytes"),
        (65536, "64 KiB"),
        (10 * 1024 * 1024, "10 MiB"),
        (int(2.5 * 1024 * 1024), "2.5 MiB"),
        (1536, "1.5 KiB"),
    ],
)
def test_sizes_are_said_in_the_units_people_read(count: int, said: str) -> None:
    # A feed's failure said "more than the 10485760 byte limit".
    from kubelearn.wording import spoken_size

    assert spoken_size(count) == said
