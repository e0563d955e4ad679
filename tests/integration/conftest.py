"""Real Redis and real `celery worker` processes for integration tests.

Redis database 11 (or TEST_REDIS_URL) belongs to this suite; it is flushed before and after.
Locally a missing Redis skips these tests; in CI (CI=true) it fails them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.db import connection

from kubelearn.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/11")


@pytest.fixture
def redis_url():
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"Redis is required in CI and is not answering at {TEST_REDIS_URL}: {exc}")
        pytest.skip(f"Redis not available at {TEST_REDIS_URL}")
    client.flushdb()
    yield TEST_REDIS_URL
    client.flushdb()


def _database_url() -> str:
    """The test database, as a URL another process can open."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        name = settings["NAME"]
        if name == ":memory:" or "mode=memory" in str(name):
            pytest.fail("integration tests need a file-backed SQLite test database")
        return f"sqlite:///{name}"
    user = settings.get("USER") or "postgres"
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{settings['NAME']}"


class Worker:
    """A `celery worker` subprocess that can be started, killed with SIGKILL and restarted."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = open(self.log_dir / f"worker-{self.starts}.log", "wb")  # noqa: SIM115
        self.name = f"test-{uuid.uuid4().hex[:8]}@localhost"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "kubelearn",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "-n",
                self.name,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited at start; see {log.name}: {self.log()}")
            if "ready." in self.log():
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready after 30 s: {self.log()}")

    def log(self) -> str:
        path = self.log_dir / f"worker-{self.starts}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no ack, exactly like an OOM kill or a lost node."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture
def celery_worker(transactional_db, redis_url, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kubelearn.settings",
        "DEBUG": "0",
        "SECRET_KEY": "integration-test-only",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url,
        "FEEDS_ALLOWED_NETWORKS": "127.0.0.1/32",
        # Redeliver an unacknowledged message quickly after its worker died.
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        "KUBELEARN_VAR_DIR": str(tmp_path),
    }
    env.pop("CELERY_BROKER_URL", None)
    previous = {
        "broker_url": celery_app.conf.broker_url,
        "task_always_eager": celery_app.conf.task_always_eager,
        "broker_transport_options": celery_app.conf.broker_transport_options,
    }
    celery_app.conf.update(
        broker_url=redis_url,
        task_always_eager=False,
        broker_transport_options={**previous["broker_transport_options"], "visibility_timeout": 3},
    )
    _reset_broker_connections()
    worker = Worker(env, tmp_path)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
        celery_app.conf.update(**previous)
        _reset_broker_connections()


def _reset_broker_connections() -> None:
    """Forget pooled connections so the next publish uses the broker URL now configured.

    (Closing the old pool instead breaks producers that still hold a reference to it.)
    """
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
