"""HTTP API benchmark: gunicorn on PostgreSQL with a 10k catalog, loaded by wrk.

What a user compares us with is the cheapest authenticated endpoint of the same server, so
each endpoint's throughput is printed as a ratio to `GET /api/me/profile/` measured in the
same run, beside req/s, p50 and p99:

  /api/me/profile/ (reference) · /api/me/next/ · /api/me/queue/?limit=10 ·
  /api/resources/?page_size=20 · /api/resources/?search=rbac

Steps: a scratch PostgreSQL database (dropped afterwards), the synthetic catalog of
bench/recommender.py (shaped like the seed) with learners who have progress, focus and API
tokens, one recommender fit, then `gunicorn --workers 2` on 127.0.0.1 and `wrk` (Debian's
package) against each endpoint in turn, rotating through the learners' tokens. Resource
pages are cached per catalog version (catalog.pages) and a learner's `next` / queue answers
until their progress or profile changes (recommender.answers); a second server with both
caches off measures the uncached paths too (skip with --no-uncached). After the cached run
the gunicorn workers' RSS and PSS are printed. Any 5xx response fails the run.

Usage: .venv/bin/python bench/api.py [--docs 10000] [--learners 200] [--duration 5]
       [--rounds 3] [--connections 16] [--threads 2] [--workers 2]
       [--redis-url redis://127.0.0.1:6379/5]
Endpoints take turns, `--rounds` times over (`--duration` seconds each time): req/s is over
all rounds, p50 and p99 the median of the rounds', and the ratio the median of each round's
ratio to the reference measured in that round.
The PostgreSQL server is BENCH_DATABASE_URL's (any database on it; default
postgres://postgres@127.0.0.1:5432/postgres); the scratch database is created beside it.
With --redis-url (or BENCH_REDIS_URL) the cache — throttling, cached pages — is on Redis as
in production, under a key prefix removed afterwards; otherwise in the scratch database.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REFERENCE = "/api/me/profile/"
# (path, target throughput as a share of the reference's; None: no target)
ENDPOINTS: list[tuple[str, float | None]] = [
    (REFERENCE, None),
    ("/api/me/next/", 0.8),
    ("/api/me/queue/?limit=10", 0.6),
    ("/api/resources/?page_size=20", 0.6),
    ("/api/resources/?search=rbac", 0.4),
]
TIMES = "\N{MULTIPLICATION SIGN}"
UNCACHED = [
    REFERENCE,
    "/api/me/next/",
    "/api/me/queue/?limit=10",
    "/api/resources/?page_size=20",
    "/api/resources/?search=rbac",
]

# wrk: rotate through the learners' tokens, count 5xx per thread, print one JSON line.
WRK_SCRIPT = """
local tokens = {%(tokens)s}
local path = %(path)s
local threads = {}
local next_id = 0
count_5xx = 0
counter = 0

function setup(thread)
    next_id = next_id + 1
    thread:set("offset", next_id * 7919)
    table.insert(threads, thread)
end

function init(args)
    counter = offset or 0
end

function request()
    counter = counter + 1
    local token = tokens[(counter %% #tokens) + 1]
    return wrk.format("GET", path, {["Authorization"] = "Token " .. token})
end

function response(status, headers, body)
    if status >= 500 then
        count_5xx = count_5xx + 1
    end
end

function done(summary, latency, requests)
    local total_5xx = 0
    for _, thread in ipairs(threads) do
        total_5xx = total_5xx + thread:get("count_5xx")
    end
    io.write(string.format(
        'BENCH {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, '
        .. '"non_2xx": %%d, "socket_errors": %%d, "5xx": %%d}\\n',
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        summary.errors.status,
        summary.errors.connect + summary.errors.read + summary.errors.write
            + summary.errors.timeout,
        total_5xx))
end
"""


def _database_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _admin(base: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(_database_url(base, "postgres"), autocommit=True) as connection:
        connection.execute(statement)


def _environment(database_url: str, redis_url: str | None, prefix: str, scratch: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kubelearn.settings",
        # Production settings: DEBUG would keep every query in memory and slow each request.
        "DEBUG": "0",
        "SECRET_KEY": "benchmark-only-not-secret",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "KUBELEARN_VAR_DIR": scratch,
        "DATABASE_URL": database_url,
        "THROTTLE_USER": "100000000/min",
        "THROTTLE_ANON": "100000000/min",
        "LOG_LEVEL": "WARNING",
        # Static files are not collected for a benchmark; whitenoise would warn per worker.
        "PYTHONWARNINGS": "ignore:No directory at",
        "CACHE_KEY_PREFIX": prefix,
        # Nothing is queued during the run; an in-process broker leaves nothing behind.
        "CELERY_BROKER_URL": "memory://localhost/",
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def _prepare(args: argparse.Namespace, env: dict) -> list[str]:
    """Migrate and fill the scratch database, fit the model; returns the learners' tokens."""
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from bench.recommender import _populate
    from recommender import services

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    started = time.perf_counter()
    tokens = _populate(args.docs, args.learners, args.seed)
    with connections["default"].cursor() as cursor:
        # Planner statistics, as autovacuum would have them for a catalog that grew over time.
        cursor.execute("VACUUM ANALYZE")
    populated = time.perf_counter() - started
    started = time.perf_counter()
    services.model_refit()
    print(
        f"catalog: {args.docs:,} resources, {len(tokens):,} learners "
        f"({populated:.1f} s); model fitted in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    connections.close_all()
    return tokens


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, token: str) -> int:
    # Always http://127.0.0.1:<port>/… built by this script.
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


class Server:
    """gunicorn on loopback, started and stopped by this script only."""

    def __init__(self, *, env: dict, workers: int, scratch: str, label: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = Path(scratch) / f"gunicorn-{label}.log"
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "kubelearn.wsgi:application",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--error-logfile",
                str(self.log),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )

    def wait_ready(self, token: str, deadline_s: float = 60.0) -> None:
        until = time.monotonic() + deadline_s
        while time.monotonic() < until:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            try:
                if _get(self.base + REFERENCE, token) == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit("gunicorn did not answer within a minute")

    def warm(self, paths: list[str], tokens: list[str], rounds: int = 12) -> None:
        """Every worker loads the model and fills its caches before anything is timed."""
        for n in range(rounds):
            for path in paths:
                status = _get(self.base + path, tokens[n % len(tokens)])
                if status != 200:
                    raise SystemExit(f"{path} answered {status} before the run")

    def worker_memory(self) -> list[dict]:
        """RSS and PSS (shared pages split between the processes mapping them) of each
        gunicorn worker, in MiB: the fitted model's arrays are mapped, so they count once."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        rows = []
        for child in children:
            fields = {}
            for line in Path(f"/proc/{child}/smaps_rollup").read_text().splitlines()[1:]:
                key, _, rest = line.partition(":")
                fields[key] = int(rest.split()[0]) / 1024
            rows.append({"rss_mib": round(fields["Rss"], 1), "pss_mib": round(fields["Pss"], 1)})
        return rows

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wrk(server: Server, path: str, tokens: list[str], args: argparse.Namespace, scratch: str):
    script = Path(scratch) / "rotate.lua"
    script.write_text(
        WRK_SCRIPT % {"tokens": ", ".join(json.dumps(t) for t in tokens), "path": json.dumps(path)}
    )
    output = subprocess.run(
        [
            "wrk",
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{args.duration}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            server.base + path,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"^BENCH (\{.*\})$", output.stdout, re.MULTILINE)
    if match is None:
        raise SystemExit(f"unexpected wrk output:\n{output.stdout}\n{output.stderr}")
    result = json.loads(match.group(1))
    result["per_s"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def _measure(server: Server, paths: list[str], tokens: list[str], args, scratch) -> dict:
    """Each endpoint in turn, `args.rounds` times over: a slow spell on this shared machine
    then hits every endpoint alike, and each ratio is taken within one round."""
    rounds: list[dict] = []
    for number in range(1, args.rounds + 1):
        print(f" round {number}/{args.rounds}", flush=True)
        results = {}
        for path in paths:
            results[path] = row = _wrk(server, path, tokens, args, scratch)
            print(
                f"  {path:<32} {row['per_s']:8.1f} req/s  p50 {row['p50_us'] / 1000:7.1f} ms"
                f"  p99 {row['p99_us'] / 1000:7.1f} ms  non-2xx {row['non_2xx']}"
                f"  5xx {row['5xx']}",
                flush=True,
            )
        rounds.append(results)
    combined = {}
    for path in paths:
        rows = [results[path] for results in rounds]
        combined[path] = {
            "per_s": sum(r["requests"] for r in rows) / sum(r["duration_us"] / 1e6 for r in rows),
            "p50_us": statistics.median(r["p50_us"] for r in rows),
            "p99_us": statistics.median(r["p99_us"] for r in rows),
            "ratio": statistics.median(
                r["per_s"] / results[REFERENCE]["per_s"]
                for r, results in zip(rows, rounds, strict=True)
            ),
            "5xx": sum(r["5xx"] for r in rows),
            "non_2xx": sum(r["non_2xx"] for r in rows),
        }
    return combined


def _table(results: dict, uncached: dict) -> str:
    lines = [
        f"| endpoint | req/s | p50 ms | p99 ms | {TIMES} profile | target |",
        "| --- | --- | --- | --- | --- | --- |",
    ]

    def add(rows: dict, suffix: str, targets: dict) -> None:
        for path, row in rows.items():
            target = targets.get(path)
            ratio = "reference" if path == REFERENCE else f"{row['ratio']:.2f}{TIMES}"
            lines.append(
                f"| `{path}`{suffix} | {row['per_s']:.0f} | {row['p50_us'] / 1000:.1f} | "
                f"{row['p99_us'] / 1000:.1f} | {ratio} | "
                f"{f'≥ {target}{TIMES}' if target else '—'} |"
            )

    add(results, "", dict(ENDPOINTS))
    if uncached:
        add(uncached, " (caches off)", {})
    return "\n".join(lines)


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _commit() -> str:
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return head + (" (with uncommitted changes)" if dirty else "")


def _redis_clean(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--duration", type=int, default=5, help="seconds per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3, help="passes over all endpoints")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL"))
    parser.add_argument("--no-uncached", action="store_true", help="skip the page-cache-off run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db-prefix", default="kubelearn_bench_api_", help="scratch DB name")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    base = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    name = f"{args.db_prefix}{os.getpid()}"
    prefix = f"kubelearn-bench-api-{os.getpid()}"
    scratch = tempfile.mkdtemp(prefix="kubelearn-bench-api-")
    env = _environment(_database_url(base, name), args.redis_url, prefix, scratch)
    servers: list[Server] = []
    failed_5xx = 0
    print(f"commit {_commit()}; load average before {_load()}", flush=True)
    _admin(base, f'CREATE DATABASE "{name}"')
    try:
        tokens = _prepare(args, env)
        paths = [path for path, _ in ENDPOINTS]
        print(
            f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, {args.rounds} rounds, "
            f"gunicorn --workers {args.workers}, "
            f"cache: {'Redis' if args.redis_url else 'database'}",
            flush=True,
        )
        server = Server(env=env, workers=args.workers, scratch=scratch, label="cached")
        servers.append(server)
        server.wait_ready(tokens[0])
        server.warm(paths, tokens)
        results = _measure(server, paths, tokens, args, scratch)
        memory = server.worker_memory()
        server.stop()
        uncached: dict = {}
        if not args.no_uncached:
            print("page cache and learner answer cache off:", flush=True)
            server = Server(
                env={
                    **env,
                    "CATALOG_PAGE_CACHE_SECONDS": "0",
                    "RECOMMENDER_RESPONSE_CACHE_SECONDS": "0",
                },
                workers=args.workers,
                scratch=scratch,
                label="uncached",
            )
            servers.append(server)
            server.wait_ready(tokens[0])
            server.warm(UNCACHED, tokens)
            uncached = _measure(server, UNCACHED, tokens, args, scratch)
            server.stop()
        failed_5xx = sum(row["5xx"] for rows in (results, uncached) for row in rows.values())
        print(f"\nload average after {_load()}\n")
        print(_table(results, uncached))
        print(
            "\ngunicorn workers after the run (MiB): "
            + ", ".join(f"RSS {m['rss_mib']:.0f} / PSS {m['pss_mib']:.0f}" for m in memory)
        )
        if failed_5xx:
            for server in servers:
                print(f"--- {server.log.name}\n{server.log.read_text()[-3000:]}")
    finally:
        for server in servers:
            server.stop()
        _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if args.redis_url:
            _redis_clean(args.redis_url, prefix)
        shutil.rmtree(scratch, ignore_errors=True)
    if failed_5xx:
        raise SystemExit(f"FAILED: {failed_5xx} responses were 5xx")


if __name__ == "__main__":
    main()
