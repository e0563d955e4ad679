"""Feed polling benchmark: a few hundred local feeds of ~25 entries each.

Prints, from one run on this machine:
  - entries/s on the first poll (fetch + parse + sanitise + upsert),
  - feeds/s when every feed answers 304 Not Modified,
  - the pipeline's time per feed vs a bare `feedparser.parse` of the same bytes (target <= 1.5x),
  - peak memory (RSS high-water mark of this process).

Usage:  .venv/bin/python bench/feeds.py [--feeds 300] [--entries 25]
The database is a fresh SQLite file unless DATABASE_URL is set (use a scratch database).
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build_feeds(count: int, entries: int) -> list[bytes]:
    from tests.feedbuilder import posts, rss

    documents = []
    for n in range(count):
        items = posts(entries, prefix=f"feed{n}-post", hours_apart=6)
        for item in items:
            item["description"] = (
                "<p>A walk through <b>pods</b>, services and RBAC roles, with "
                '<a href="https://kubernetes.io/docs/">links</a> and a '
                "<code>kubectl get pods -A</code> example.</p>" * 4
            )
        documents.append(rss(items, title=f"Blog {n}", link=f"https://blog{n}.example.org/"))
    return documents


def serve(documents: list[bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            index = int(self.path.strip("/").split(".")[0])
            etag = f'"feed-{index}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            body = documents[index]
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=300)
    parser.add_argument("--entries", type=int, default=25)
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="kubelearn-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kubelearn.settings")
    os.environ.update(
        {
            "DEBUG": "0",  # production settings: DEBUG keeps every query in memory
            "SECRET_KEY": "benchmark-only-not-secret",
            "KUBELEARN_VAR_DIR": scratch,
            "FEEDS_ALLOWED_NETWORKS": "127.0.0.1/32",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    import feedparser
    from django.core.management import call_command

    from catalog.feeds import poll
    from catalog.models import Feed, Resource

    call_command("migrate", verbosity=0)
    documents = build_feeds(args.feeds, args.entries)
    server = serve(documents)
    base = f"http://127.0.0.1:{server.server_port}"
    feeds = [Feed.objects.create(url=f"{base}/{n}.xml") for n in range(args.feeds)]

    # Baseline, same bytes, same run: what feedparser alone costs per feed.
    started = time.perf_counter()
    for document in documents:
        feedparser.parse(io.BytesIO(document))
    bare = (time.perf_counter() - started) / len(documents)

    started = time.perf_counter()
    for feed in feeds:
        poll.feed_poll(feed_id=feed.pk)
    first = time.perf_counter() - started
    stored = Resource.objects.count()
    assert stored == args.feeds * args.entries, stored

    started = time.perf_counter()
    for feed in feeds:
        report = poll.feed_poll(feed_id=feed.pk)
        assert report.outcome == "not_modified", report
    conditional = time.perf_counter() - started

    per_feed = first / len(feeds)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine = django.db.connection.vendor
    size_kib = len(documents[0]) // 1024
    print(f"feeds: {args.feeds} x {args.entries} entries ({size_kib} KiB each), db: {engine}")
    print(f"first poll:      {stored / first:8.0f} entries/s   ({per_feed * 1000:.1f} ms per feed)")
    print(f"all 304:         {len(feeds) / conditional:8.0f} feeds/s")
    print(f"bare feedparser: {bare * 1000:8.1f} ms per feed (same bytes)")
    print(f"pipeline / bare feedparser: {per_feed / bare:.2f}x   (target <= 1.5x)")
    print(f"peak memory:     {peak_mib:8.0f} MiB")
    server.shutdown()


if __name__ == "__main__":
    main()
