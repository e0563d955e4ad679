"""Recommender benchmark through the real Django stack.

For each catalog size (default 10k and 100k resources, synthetic but shaped like the seed:
short titles and summaries, tags, security areas, a 40-step path) and a few thousand
learners with progress and focus, in a fresh child process per size:

  - refit: read the approved catalog from the database, fit, pickle and store (seconds),
  - peak memory of that process (RSS high-water mark, MiB),
  - GET /api/me/next/ and /api/me/queue/?limit=10 latency p50/p99 (ms) through Django's
    full request stack (middleware, token auth, DRF, the shared model store),
  - throughput of each relative to a trivial DRF endpoint (GET /api/me/profile/) measured
    in the same run.

Targets at 100k: next p50 < 30 ms in-process, fit < 60 s, memory < 1 GiB.

Usage: .venv/bin/python bench/recommender.py [--sizes 10000 100000] [--learners 2000]
       [--requests 300]
The database is a scratch SQLite file unless BENCH_DATABASE_URL names a scratch database;
BENCH_REDIS_URL (a scratch Redis database) puts the cache on Redis, as in production.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup_django(scratch: str) -> None:
    """Configure Django on the scratch database (a SQLite file in `scratch`)."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "kubelearn.settings",
            # Production settings: DEBUG would keep every query (and its parameters, such as
            # the stored model's bytes) in memory and slow every request.
            "DEBUG": "0",
            "SECRET_KEY": "benchmark-only-not-secret",
            "SECURE_SSL_REDIRECT": "0",
            "KUBELEARN_VAR_DIR": scratch,
            "ALLOWED_HOSTS": "testserver",
            "THROTTLE_USER": "1000000/min",
            "THROTTLE_ANON": "1000000/min",
            "LOG_LEVEL": "WARNING",
        }
    )
    if os.environ.get("BENCH_REDIS_URL"):
        # Production shape: Redis as cache (throttling) and broker.
        os.environ["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
    if os.environ.get("BENCH_DATABASE_URL"):
        os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    import django

    django.setup()


def _populate(n_docs: int, n_learners: int, seed: int) -> list[str]:
    """Fill the scratch database; returns the learners' API tokens."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from bench.recommender_fit import build_catalog
    from catalog.models import LearningPath, PathStep, Resource, SecurityArea, Tag
    from recommender.models import FocusArea, LearnerProfile, Progress

    docs = build_catalog(n_docs, seed)
    tags = {slug: Tag(slug=slug, name=slug) for d in docs for slug in d.tags}
    Tag.objects.bulk_create(tags.values())
    tag_ids = dict(Tag.objects.values_list("slug", "pk"))
    areas = {slug: SecurityArea(slug=slug, name=slug) for d in docs for slug in d.areas}
    SecurityArea.objects.bulk_create(areas.values())
    area_ids = dict(SecurityArea.objects.values_list("slug", "pk"))
    Resource.objects.bulk_create(
        (
            Resource(
                id=d.id,
                title=d.title[:300],
                slug=f"r-{d.id}",
                url=f"https://example.org/r/{d.id}",
                kind=d.kind,
                stage=d.stage,
                difficulty=d.difficulty,
                summary=d.summary,
                estimated_minutes=d.minutes,
                status="approved",
            )
            for d in docs
        ),
        batch_size=2000,
    )
    Resource.tags.through.objects.bulk_create(
        (Resource.tags.through(resource_id=d.id, tag_id=tag_ids[t]) for d in docs for t in d.tags),
        batch_size=5000,
    )
    Resource.security_areas.through.objects.bulk_create(
        (
            Resource.security_areas.through(resource_id=d.id, securityarea_id=area_ids[a])
            for d in docs
            for a in d.areas
        ),
        batch_size=5000,
    )
    path = LearningPath.objects.create(slug="kubernetes-from-zero-to-secure", title="Path")
    PathStep.objects.bulk_create(
        PathStep(path=path, resource_id=d.id, position=d.path_position)
        for d in docs
        if d.path_position
    )

    rnd = random.Random(seed)
    User = get_user_model()
    User.objects.bulk_create(
        (User(username=f"learner{n}", password="!") for n in range(n_learners)), batch_size=2000
    )
    users = list(User.objects.order_by("pk").values_list("pk", flat=True))
    Token.objects.bulk_create(
        (Token(key=f"{pk:040d}", user_id=pk) for pk in users), batch_size=2000
    )
    path_ids = [d.id for d in sorted(docs, key=lambda d: d.path_position or 0) if d.path_position]
    progress = []
    for n, pk in enumerate(users):
        done = path_ids[: rnd.randint(0, len(path_ids) // 2)] if n % 3 else []
        picked = set(done) | set(rnd.sample(range(1, n_docs + 1), rnd.randint(0, 25)))
        for doc_id in picked:
            state = (
                "completed"
                if doc_id in done
                else rnd.choice(["completed", "completed", "skipped", "in_progress", "planned"])
            )
            rating = rnd.randint(1, 5) if state == "completed" and rnd.random() < 0.4 else None
            progress.append(Progress(user_id=pk, resource_id=doc_id, state=state, rating=rating))
    Progress.objects.bulk_create(progress, batch_size=5000)
    LearnerProfile.objects.bulk_create(LearnerProfile(user_id=pk) for pk in users)
    profiles = dict(LearnerProfile.objects.values_list("user_id", "pk"))
    area_pks = list(area_ids.values())
    FocusArea.objects.bulk_create(
        FocusArea(profile_id=profiles[pk], area_id=rnd.choice(area_pks))
        for pk in users
        if rnd.random() < 0.4
    )
    return [f"{pk:040d}" for pk in users]


def _latency(client, tokens: list[str], path: str, requests: int, seed: int) -> dict:
    rnd = random.Random(seed)
    timings = []
    for _ in range(requests):
        token = rnd.choice(tokens)
        started = time.perf_counter()
        response = client.get(path, HTTP_AUTHORIZATION=f"Token {token}")
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code, response.content[:200])
    timings.sort()
    return {
        "p50_ms": statistics.median(timings) * 1000,
        "p99_ms": timings[min(len(timings) - 1, int(len(timings) * 0.99))] * 1000,
        "per_s": len(timings) / sum(timings),
    }


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_populate(n_docs: int, n_learners: int, seed: int) -> dict:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    started = time.perf_counter()
    tokens = _populate(n_docs, n_learners, seed)
    return {"populate_s": time.perf_counter() - started, "learners": len(tokens)}


def phase_refit() -> dict:
    """What the Celery refit task does, alone in its process (as in a worker)."""
    from recommender import services

    started = time.perf_counter()
    row = services.model_refit()  # read + fit + store (parts + MODEL_DIR), end to end
    return {
        "read_s": row.timings["read"],
        "fit_s": row.timings["fit"],
        "refit_s": time.perf_counter() - started,
        "model_kib": row.stored_bytes // 1024,
        "refit_peak_mib": _peak_mib(),
    }


def phase_serve(requests: int, seed: int) -> dict:
    """A web process: load the stored model on first request, then serve."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    tokens = [f"{pk:040d}" for pk in get_user_model().objects.values_list("pk", flat=True)]
    client = Client()
    started = time.perf_counter()
    client.get("/api/me/next/", HTTP_AUTHORIZATION=f"Token {tokens[0]}")
    load_s = time.perf_counter() - started
    return {
        "load_s": load_s,
        "trivial": _latency(client, tokens, "/api/me/profile/", requests, seed),
        "next": _latency(client, tokens, "/api/me/next/", requests, seed + 1),
        "queue": _latency(client, tokens, "/api/me/queue/?limit=10", requests, seed + 2),
        "web_peak_mib": _peak_mib(),
    }


def _child(phase: str, scratch: str, args: argparse.Namespace, size: int) -> dict:
    output = subprocess.run(
        [
            sys.executable,
            __file__,
            "--phase",
            phase,
            "--scratch",
            scratch,
            "--sizes",
            str(size),
            "--learners",
            str(args.learners),
            "--requests",
            str(args.requests),
            "--seed",
            str(args.seed),
        ],
        capture_output=True,
        text=True,
    )
    if output.returncode:
        raise SystemExit(f"{phase} failed:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--phase", choices=["populate", "refit", "serve"], help=argparse.SUPPRESS)
    parser.add_argument("--scratch", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        _setup_django(args.scratch)
        if args.phase == "populate":
            result = phase_populate(args.sizes[0], args.learners, args.seed)
        elif args.phase == "refit":
            result = phase_refit()
        else:
            result = phase_serve(args.requests, args.seed)
        print(json.dumps(result))
        return
    print(f"learners: {args.learners}, requests per endpoint: {args.requests}")
    print(
        f"{'docs':>7} {'read s':>7} {'fit s':>6} {'refit s':>8} {'refit MiB':>10} "
        f"{'web MiB':>8} {'next p50/p99 ms':>16} {'queue p50/p99 ms':>17} {'trivial p50':>12} "
        f"{'next/trivial':>13} {'queue/trivial':>14}"
    )
    for size in args.sizes:
        scratch = tempfile.mkdtemp(prefix="kubelearn-bench-rec-")
        _child("populate", scratch, args, size)
        refit = _child("refit", scratch, args, size)
        serve = _child("serve", scratch, args, size)
        print(
            f"{size:>7} {refit['read_s']:>7.1f} {refit['fit_s']:>6.1f} {refit['refit_s']:>8.1f} "
            f"{refit['refit_peak_mib']:>10.0f} {serve['web_peak_mib']:>8.0f} "
            f"{serve['next']['p50_ms']:>7.1f} / {serve['next']['p99_ms']:>6.1f} "
            f"{serve['queue']['p50_ms']:>8.1f} / {serve['queue']['p99_ms']:>6.1f} "
            f"{serve['trivial']['p50_ms']:>9.1f} ms "
            f"{serve['next']['per_s'] / serve['trivial']['per_s']:>13.2f} "
            f"{serve['queue']['per_s'] / serve['trivial']['per_s']:>14.2f}"
        )
    print(
        "refit = read + fit + store, in its own process (as a worker does); "
        "MiB = peak RSS of that process.\n"
        "ratios = throughput of the endpoint / throughput of the trivial DRF endpoint "
        "(GET /api/me/profile/), same process, same run."
    )


if __name__ == "__main__":
    main()
