"""Feed polling benchmark: a few hundred local feeds of ~25 entries each, served from loopback.

Prints, from one run on this machine, every figure beside its baseline measured in the same run:
  - the pipeline's time per feed (fetch + parse + sanitise + store, one feed at a time, one
    process) vs a bare `feedparser.parse` of the same bytes with the options the pipeline uses,
  - with --side-by-side and newsboat installed (Debian package `newsboat`): the first poll and
    the all-unchanged (304) poll of every feed by `newsboat -x reload` (2 reload threads), by
    `manage.py poll_feeds` (its defaults) and by Celery (2 worker processes, beat's dispatch
    task sent once), medians of --runs runs, with their ratios to newsboat.

The feeds are files served by nginx (Debian `nginx-light`) when it is installed, else by a
threaded Python server in a process of its own; the same server serves every contender.

Usage:
  .venv/bin/python bench/feeds.py [--feeds 300] [--entries 25] [--side-by-side] [--runs 3]

Python processes started here find compiled bytecode (kept in the scratch folder), as an
installed service does.

The database is a fresh SQLite file in a scratch folder unless DATABASE_URL points at
PostgreSQL: then a scratch database is created on that server and dropped afterwards. Celery
uses BENCH_REDIS_URL (default redis://127.0.0.1:6379/4), which is flushed before and after.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_REDIS = "redis://127.0.0.1:6379/4"


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


# --- The feed server ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited at start (code {process.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} is not listening on port {port}")


def serve(folder: Path, scratch: Path) -> tuple[subprocess.Popen, int, str]:
    """Serve ``folder`` on 127.0.0.1 with ETag/Last-Modified and 304s. Returns (process, port,
    server name)."""
    port = _free_port()
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx:
        conf = scratch / "nginx.conf"
        temp = scratch / "nginx-temp"
        temp.mkdir()
        user = "user root;" if os.geteuid() == 0 else ""  # workers must read the scratch folder
        conf.write_text(
            f"""{user}
worker_processes 1;
pid {scratch}/nginx.pid;
error_log {scratch}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    types {{ application/rss+xml xml; }}
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        root {folder};
        etag on;
    }}
}}
"""
        )
        process = subprocess.Popen(
            [nginx, "-p", str(scratch), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(port, process, "nginx")
        return process, port, "nginx (1 worker process)"
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(folder), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_port(port, process, "the Python feed server")
    return process, port, "a threaded Python server (nginx is not installed)"


def _serve_forever(folder: Path, port: int) -> None:
    """The fallback server: files with ETag and Last-Modified, 304 on a matching validator."""
    from email.utils import formatdate
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    files = {f"/{path.name}": path.read_bytes() for path in folder.iterdir()}
    modified = formatdate(time.time(), usegmt=True)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like nginx

        def do_GET(self) -> None:
            body = files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            etag = f'"{hash(self.path) & 0xFFFFFFFF:x}-{len(body)}"'
            if self.headers.get("If-None-Match") == etag or (
                self.headers.get("If-Modified-Since") == modified
                and not self.headers.get("If-None-Match")
            ):
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", modified)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


# --- The database ------------------------------------------------------------------------------


def scratch_database(scratch: Path) -> tuple[str, Callable[[], None]]:
    """A database URL for this run and a function that removes the database."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{scratch / 'bench.sqlite3'}", lambda: None
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'kubelearn'}_bench_{os.getpid()}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit(parts._replace(path=f"/{name}")), drop


@contextmanager
def stage_timers() -> Iterator[Counter[str]]:
    """Seconds spent in each step of `feed_poll`, summed over the polls run inside the block.

    Only the pipeline's own calls are timed (feedparser through the parse module's reference
    to it), so the bare feedparser baseline timed beside them is not counted here."""
    from catalog.feeds import parse, poll

    spent: Counter[str] = Counter()
    patched: list[tuple[object, str, object]] = []

    def timed(owner: object, name: str, label: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - started

        patched.append((owner, name, original))
        setattr(owner, name, wrapper)

    class _Feedparser:  # the parse module's view of feedparser, with parse() timed
        def __getattr__(self, name: str) -> object:
            return getattr(parse_feedparser, name)

    parse_feedparser = parse.feedparser
    proxy = _Feedparser()
    patched.append((parse, "feedparser", parse_feedparser))
    parse.feedparser = proxy  # type: ignore[assignment]
    timed(proxy, "parse", "feedparser.parse")
    timed(parse, "parse_entry", "entries (clean, sanitise, key)")
    timed(poll, "fetch", "fetch")
    # parse_feed's two steps and the stored-fingerprint lookup between them, as one figure.
    timed(poll, "document_read", "parse_feed")
    timed(poll, "_known_fingerprints", "parse_feed")
    timed(poll, "document_entries", "parse_feed")
    timed(poll, "entries_store", "store entries")
    timed(poll, "polls_record", "poll record")
    try:
        yield spent
    finally:
        for owner, name, original in reversed(patched):
            setattr(owner, name, original)


def print_stages(spent: Counter[str], total: float, count: int) -> None:
    """Where a feed's time goes: each step in ms per feed and as a share of the whole."""
    # parse_feed contains feedparser and the entries: show its own remainder.
    spent["decode, checks, dedupe (parse_feed)"] = (
        spent.pop("parse_feed", 0.0)
        - spent["feedparser.parse"]
        - spent["entries (clean, sanitise, key)"]
    )
    spent["feed row, lock, commit (the rest)"] = total - sum(spent.values())
    for label, seconds in spent.most_common():
        if seconds < 0.5e-6 * count:
            continue  # a step this poll never reached (nothing to parse after a 304)
        print(f"    {label:<38} {seconds / count * 1000:6.2f} ms  {seconds / total:6.1%}")


# --- Contenders --------------------------------------------------------------------------------


def newsboat_runs(urls: list[str], scratch: Path, runs: int) -> tuple[list[float], list[float]]:
    home = scratch / "newsboat"
    home.mkdir()
    (home / "urls").write_text("\n".join(urls) + "\n")
    (home / "config").write_text("reload-threads 2\n")
    env = {**os.environ, "HOME": str(home)}
    firsts, unchanged = [], []
    for run in range(runs):
        cache = home / f"cache-{run}.db"
        command = ["newsboat", "-x", "reload", "-u", str(home / "urls"), "-c", str(cache)]
        command += ["-C", str(home / "config")]
        for times in (firsts, unchanged):
            started = time.perf_counter()
            subprocess.run(command, env=env, check=True, capture_output=True, timeout=600)
            times.append(time.perf_counter() - started)
    return firsts, unchanged


def feeds_reset(*, forget_entries: bool) -> None:
    """Every feed due now; with ``forget_entries``, as if never polled (first poll)."""
    from django.utils import timezone

    from catalog.models import Feed, FeedPoll, Resource

    if forget_entries:
        Resource.objects.filter(feed__isnull=False).delete()
        FeedPoll.objects.all().delete()
        Feed.objects.update(etag="", last_modified="", title="", document_fingerprint="")
    Feed.objects.update(next_poll_at=timezone.now(), claimed_until=None, last_polled_at=None)


def poll_feeds_runs(
    env: dict[str, str], runs: int, expected: int
) -> tuple[list[float], list[float]]:
    from catalog.models import Feed, Resource

    command = [sys.executable, str(ROOT / "manage.py"), "poll_feeds"]
    # Untimed: a start that imports what poll_feeds imports, so the timed runs find compiled
    # bytecode as an installed service does (pip and the image compile it ahead of time).
    subprocess.run([*command, "--help"], env=env, cwd=ROOT, check=True, capture_output=True)
    firsts, unchanged, polled_first, polled_304 = [], [], [], []
    for _ in range(runs):
        feeds_reset(forget_entries=True)
        for times, polled in ((firsts, polled_first), (unchanged, polled_304)):
            started = time.perf_counter()
            done = subprocess.run(
                command, env=env, cwd=ROOT, check=True, capture_output=True, timeout=900, text=True
            )
            times.append(time.perf_counter() - started)
            found = re.search(r"Polled in ([0-9.]+) s", done.stdout)
            assert found, done.stdout[-2000:]
            polled.append(float(found.group(1)))
            feeds_reset(forget_entries=False)
        assert Resource.objects.count() == expected, Resource.objects.count()
        assert Feed.objects.filter(last_status=304).count() == Feed.objects.count()
    return firsts, unchanged, polled_first, polled_304


def celery_runs(
    env: dict[str, str], redis_url: str, scratch: Path, runs: int, expected: int
) -> tuple[list[float], list[float]]:
    import redis

    from catalog.feeds.tasks import feeds_dispatch
    from catalog.models import Feed, Resource

    broker = redis.Redis.from_url(redis_url)
    broker.flushdb()
    log = scratch / "celery.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "kubelearn", "worker", "--pool=prefork",
         "--concurrency=2", "--loglevel=INFO", "-n", f"bench-{os.getpid()}@localhost",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text(errors="replace"):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"celery worker did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        count = Feed.objects.count()

        def one_run() -> float:
            started_at = time.perf_counter()
            feeds_dispatch.delay()
            while Feed.objects.filter(last_polled_at__isnull=False).count() < count:
                if time.perf_counter() - started_at > 600:
                    raise RuntimeError("Celery did not poll every feed within 10 minutes")
                time.sleep(0.02)
            return time.perf_counter() - started_at

        firsts, unchanged = [], []
        for _ in range(runs):
            feeds_reset(forget_entries=True)
            firsts.append(one_run())
            feeds_reset(forget_entries=False)
            unchanged.append(one_run())
            assert Resource.objects.count() == expected, Resource.objects.count()
            assert Feed.objects.filter(last_status=304).count() == count
        return firsts, unchanged
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        broker.flushdb()


def redis_available(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.exceptions.RedisError:
        return False


def _print_load(when: str) -> None:
    one, five, fifteen = os.getloadavg()
    print(f"load average {when}: {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} CPUs)")


# --- Main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=300)
    parser.add_argument("--entries", type=int, default=25)
    parser.add_argument("--runs", type=int, default=3, help="runs per side-by-side figure")
    parser.add_argument("--side-by-side", action="store_true", help="compare with newsboat")
    parser.add_argument("--no-celery", action="store_true", help="leave Celery out")
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve_forever(Path(args.serve[0]), int(args.serve[1]))
        return

    scratch = Path(tempfile.mkdtemp(prefix="kubelearn-bench-"))
    drop_database: Callable[[], None] = lambda: None  # noqa: E731
    try:
        database_url, drop_database = scratch_database(scratch)
        redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "kubelearn.settings",
            "DEBUG": "0",  # production settings: DEBUG keeps every query in memory
            "SECRET_KEY": "benchmark-only-not-secret",
            "KUBELEARN_VAR_DIR": str(scratch),
            "DATABASE_URL": database_url,
            "FEEDS_ALLOWED_NETWORKS": "127.0.0.1/32",
            "LOG_LEVEL": "WARNING",
            # Compiled bytecode in the scratch folder (removed with it), even where the
            # environment says not to write any: a process that compiles every module from
            # source at each start measures the machine's setting, not kubelearn.
            "PYTHONPYCACHEPREFIX": str(scratch / "pycache"),
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.pop("REDIS_URL", None)
        env.pop("CELERY_BROKER_URL", None)
        os.environ.update(env)
        run_celery = args.side_by_side and not args.no_celery and redis_available(redis_url)
        if run_celery:
            # The benchmark sends beat's dispatch task through this broker.
            os.environ["REDIS_URL"] = env["REDIS_URL"] = redis_url
        measure(args, scratch, env, run_celery=run_celery, redis_url=redis_url)
    finally:
        drop_database()
        shutil.rmtree(scratch, ignore_errors=True)


def measure(
    args: argparse.Namespace,
    scratch: Path,
    env: dict[str, str],
    *,
    run_celery: bool,
    redis_url: str,
) -> None:
    import django

    django.setup()
    import feedparser
    import feedparser.api
    from django.core.management import call_command
    from django.db import connection

    from catalog.feeds import expat, poll
    from catalog.models import Feed, Resource

    call_command("migrate", verbosity=0)
    documents = build_feeds(args.feeds, args.entries)
    folder = scratch / "feeds"
    folder.mkdir()
    for n, document in enumerate(documents):
        (folder / f"{n}.xml").write_bytes(document)
    server, port, server_name = serve(folder, scratch)
    try:
        urls = [f"http://127.0.0.1:{port}/{n}.xml" for n in range(args.feeds)]
        Feed.objects.bulk_create([Feed(url=url) for url in urls])
        feeds = list(Feed.objects.order_by("pk"))
        expected = args.feeds * args.entries
        size_kib = len(documents[0]) // 1024
        print(
            f"feeds: {args.feeds} x {args.entries} entries ({size_kib} KiB each), "
            f"db: {connection.vendor}, served by {server_name}"
        )
        _print_load("at start")

        # Baseline, same bytes, same run: feedparser alone, with the options the pipeline uses,
        # timed feed by feed between the pipeline's polls so both see the same machine load.
        # Wall time and this process's CPU time (the pipeline's own work, without the
        # server's) are both kept.
        bare_wall = bare_cpu = poll_wall = poll_cpu = 0.0
        for feed, document in zip(feeds, documents, strict=True):
            wall, cpu = time.perf_counter(), time.process_time()
            feedparser.parse(io.BytesIO(document), sanitize_html=False, resolve_relative_uris=False)
            bare_wall += time.perf_counter() - wall
            bare_cpu += time.process_time() - cpu
            wall, cpu = time.perf_counter(), time.process_time()
            poll.feed_poll(feed_id=feed.pk)
            poll_wall += time.perf_counter() - wall
            poll_cpu += time.process_time() - cpu
        assert Resource.objects.count() == expected, Resource.objects.count()
        started = time.perf_counter()
        for feed in feeds:
            assert poll.feed_poll(feed_id=feed.pk).outcome == "not_modified"
        per_304 = (time.perf_counter() - started) / len(feeds)
        # Where the time goes: a second pass over fresh copies of the same feeds (timers add
        # a little overhead, so the figures above are taken without them).
        feeds_reset(forget_entries=True)
        with stage_timers() as first_spent:
            started = time.perf_counter()
            for feed in feeds:
                poll.feed_poll(feed_id=feed.pk)
            staged_first = time.perf_counter() - started
        with stage_timers() as unchanged_spent:
            started = time.perf_counter()
            for feed in feeds:
                poll.feed_poll(feed_id=feed.pk)
            staged_304 = time.perf_counter() - started
        started = time.perf_counter()
        for document in documents[:50]:  # for reference: a plain call sanitises too
            feedparser.parse(io.BytesIO(document))
        bare_default = (time.perf_counter() - started) / len(documents[:50])
        # For reference: feedparser's stock XML reader, without expat's text buffering.
        feedparser.api.PREFERRED_XML_PARSERS.remove(expat.__name__)
        try:
            started = time.perf_counter()
            for document in documents[:50]:
                feedparser.parse(
                    io.BytesIO(document), sanitize_html=False, resolve_relative_uris=False
                )
            bare_stock = (time.perf_counter() - started) / len(documents[:50])
        finally:
            expat.install()

        count = len(feeds)
        per_feed, bare_same = poll_wall / count, bare_wall / count
        rate = expected / poll_wall
        print("\npipeline, one feed at a time in this process (fetch, parse, sanitise, store):")
        print(f"  first poll:   {per_feed * 1000:6.1f} ms per feed ({rate:.0f} entries/s)")
        print(f"  all 304:      {per_304 * 1000:6.1f} ms per feed ({1 / per_304:.0f} feeds/s)")
        print(
            f"  bare feedparser.parse, same bytes, options and XML reader: "
            f"{bare_same * 1000:.1f} ms per feed"
        )
        print(f"  (feedparser.parse with its own sanitiser: {bare_default * 1000:.1f} ms per feed)")
        print(
            f"  (feedparser.parse, same options, its stock XML reader: {bare_stock * 1000:.1f} ms "
            "per feed)"
        )
        print(
            f"  pipeline / bare feedparser: {per_feed / bare_same:.2f}x wall, "
            f"{poll_cpu / bare_cpu:.2f}x CPU ({poll_cpu / count * 1000:.1f} vs "
            f"{bare_cpu / count * 1000:.1f} ms per feed)   (target <= 1.3x)"
        )
        print(f"  where a first poll's time goes ({staged_first / count * 1000:.1f} ms per feed):")
        print_stages(first_spent, staged_first, count)
        print(f"  where an all-304 poll's time goes ({staged_304 / count * 1000:.1f} ms per feed):")
        print_stages(unchanged_spent, staged_304, count)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  peak memory of this process: {peak:.0f} MiB")

        if not args.side_by_side:
            return
        if not shutil.which("newsboat"):
            print("\nnewsboat is not installed (apt-get install newsboat): no side-by-side run.")
            return
        print(
            f"\nside by side, medians of {args.runs} runs (wall time from process start to exit; "
            "Celery: from sending the dispatch task to the last feed's poll record):"
        )
        nb_first, nb_304 = newsboat_runs(urls, scratch, args.runs)
        rows = [("newsboat -x reload, 2 reload threads", nb_first, nb_304)]
        pf_first, pf_304, polled_first, polled_304 = poll_feeds_runs(env, args.runs, expected)
        rows.append(("manage.py poll_feeds (defaults)", pf_first, pf_304))
        rows.append(("  of which polling (its own report)", polled_first, polled_304))
        if run_celery:
            cl_first, cl_304 = celery_runs(env, redis_url, scratch, args.runs, expected)
            rows.append(("Celery, 2 worker processes", cl_first, cl_304))
        else:
            print("  (Celery left out: --no-celery, or no Redis at BENCH_REDIS_URL)")
        base_first, base_304 = statistics.median(nb_first), statistics.median(nb_304)
        header = f"{'first poll':>10} {'ratio':>6}  {'all 304':>8} {'feeds/s':>7} {'ratio':>6}"
        print(f"  {'':<40} {header}")
        for name, firsts, unchanged in rows:
            first, same = statistics.median(firsts), statistics.median(unchanged)
            print(
                f"  {name:<40} {first:>9.2f}s {first / base_first:>5.2f}x "
                f"{same:>8.2f}s {len(feeds) / same:>7.0f} {same / base_304:>5.2f}x"
            )
            each = (
                " ".join(f"{t:.2f}" for t in firsts)
                + " / "
                + " ".join(f"{t:.2f}" for t in unchanged)
            )
            print(f"  {'':<40} runs: {each}")
        _print_load("at end")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
