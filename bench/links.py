"""Link checking benchmark: resources checked per second over loopback, per-host limits on.

1,000 resources (--resources) on 50 hosts (--hosts): each host is its own loopback address
(127.0.0.2, 127.0.0.3, …, one threaded HTTP server each, in a child process; no DNS). The
pipeline claims the links host by host and checks them (`catalog.health.checking.links_check`:
HEAD through the feed fetcher's safe transport, SSRF checks, recording, history) with
--concurrency hosts side by side, each host's links one at a time at least --host-interval
seconds apart. The baseline, measured in the same run, is bare `httpx` HEAD requests in the
same shape: the same hosts side by side, the same interval per host, nothing recorded.

Usage:
  .venv/bin/python bench/links.py [--resources 1000] [--hosts 50] [--concurrency 8]
                                  [--host-interval 0.1] [--runs 3]

The database is a fresh SQLite file in a scratch folder unless DATABASE_URL points at
PostgreSQL: then a scratch database is made on that server and dropped afterwards. The scratch
folder is removed at the end.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.feeds import scratch_database  # noqa: E402


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _serve(addresses: list[str], port: int, ready: multiprocessing.synchronize.Event) -> None:
    servers = [ThreadingHTTPServer((address, port), _Handler) for address in addresses]
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    ready.set()
    threading.Event().wait()


def _free_port(addresses: list[str]) -> int:
    while True:
        with socket.socket() as probe:
            probe.bind((addresses[0], 0))
            port = probe.getsockname()[1]
        try:
            for address in addresses[1:]:
                with socket.socket() as other:
                    other.bind((address, port))
            return port
        except OSError:
            continue


def _host_groups(urls: list[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for url in urls:
        groups.setdefault(url.split("/")[2], []).append(url)
    return groups


def baseline(urls: list[str], concurrency: int, interval: float) -> float:
    """Bare httpx HEADs, each host's one at a time `interval` apart; returns seconds."""
    import httpx

    def host(group: list[str]) -> None:
        with httpx.Client(trust_env=False, timeout=10) as client:
            last = 0.0
            for url in group:
                wait = last + interval - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                last = time.monotonic()
                client.head(url).raise_for_status()

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(host, _host_groups(urls).values()))
    return time.monotonic() - started


def pipeline(concurrency: int, interval: float, per_host: int) -> tuple[float, int]:
    """Claim every link and check it with the project's checker; returns (seconds, checked)."""
    from django.utils import timezone

    from catalog.health import checking, hosts
    from catalog.health.models import LinkCheck, LinkHost, ResourceLink

    ResourceLink.objects.update(next_check_at=timezone.now(), claimed_until=None)
    LinkHost.objects.all().delete()
    LinkCheck.objects.all().delete()
    started = time.monotonic()
    checked = 0
    while True:
        batches = hosts.links_claim_due(limit=100_000, per_host=per_host)
        if not batches:
            break
        reports = checking.links_check(
            batches=batches, concurrency=concurrency, host_interval=interval
        )
        checked += len(reports)
    seconds = time.monotonic() - started
    statuses = set(ResourceLink.objects.values_list("status", flat=True))
    if statuses != {"ok"}:
        raise SystemExit(f"Some checks did not come back ok: {statuses}")
    return seconds, checked


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--host-interval", type=float, default=0.1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="kubelearn-bench-links-"))
    drop_database: Callable[[], None] = lambda: None  # noqa: E731
    server: multiprocessing.Process | None = None
    try:
        database_url, drop_database = scratch_database(scratch)
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "kubelearn.settings",
                "DEBUG": "0",
                "SECRET_KEY": "benchmark-only-not-secret",
                "KUBELEARN_VAR_DIR": str(scratch),
                "DATABASE_URL": database_url,
                "FEEDS_ALLOWED_NETWORKS": "127.0.0.0/8",
                "LOG_LEVEL": "WARNING",
            }
        )
        os.environ.pop("REDIS_URL", None)
        addresses = [f"127.0.0.{n + 2}" for n in range(args.hosts)]
        port = _free_port(addresses)
        ready = multiprocessing.Event()
        server = multiprocessing.Process(target=_serve, args=(addresses, port, ready), daemon=True)
        server.start()
        if not ready.wait(20):
            raise SystemExit("the loopback servers did not start")
        measure(args, addresses, port)
    finally:
        if server is not None:
            server.terminate()
            server.join(5)
        drop_database()
        shutil.rmtree(scratch, ignore_errors=True)


def measure(args: argparse.Namespace, addresses: list[str], port: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from catalog.health.services import links_sync
    from catalog.models import Resource, Status

    call_command("migrate", verbosity=0)
    urls = [
        f"http://{addresses[n % len(addresses)]}:{port}/post-{n}" for n in range(args.resources)
    ]
    # Set-up rows, written directly (the benchmark is not a catalog writer).
    Resource.objects.bulk_create(
        Resource(title=f"Post {n}", slug=f"post-{n}", url=url, status=Status.APPROVED)
        for n, url in enumerate(urls)
    )
    links_sync()
    per_host = -(-args.resources // args.hosts)
    floor = (per_host - 1) * args.host_interval
    print(
        f"{args.resources} resources on {args.hosts} loopback hosts, {args.concurrency} hosts "
        f"side by side, {args.host_interval:g} s between requests to one host "
        f"(lower bound {floor:.1f} s per host), {args.runs} runs, database "
        f"{django.db.connection.vendor}"
    )
    ours, bare = [], []
    for _ in range(args.runs):
        bare.append(baseline(urls, args.concurrency, args.host_interval))
        seconds, checked = pipeline(args.concurrency, args.host_interval, per_host)
        if checked != args.resources:
            raise SystemExit(f"checked {checked} of {args.resources}")
        ours.append(seconds)
    ours_s, bare_s = statistics.median(ours), statistics.median(bare)
    print(f"baseline (bare httpx HEAD): {bare_s:.2f} s, {args.resources / bare_s:.0f} resources/s")
    rate = args.resources / ours_s
    print(f"link checker (claim, HEAD, record): {ours_s:.2f} s, {rate:.0f} resources/s")
    print(f"ratio (checker time / baseline time): {ours_s / bare_s:.2f}x  (medians of {args.runs})")


if __name__ == "__main__":
    main()
