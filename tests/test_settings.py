"""Configuration comes from the environment, and production settings are deploy-safe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def process_env(env: dict[str, str]) -> dict[str, str]:
    """The environment of a new kubelearn process: this one's, without the test overrides it
    runs with, plus ``env``."""
    overridden = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT"}
    base = {k: v for k, v in os.environ.items() if k not in overridden}
    base["DJANGO_SETTINGS_MODULE"] = "kubelearn.settings"
    return {**base, **env}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=process_env(env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_configuration_passes_check_deploy_without_warnings(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "DEBUG": "0",
            "SECRET_KEY": "a-very-long-random-production-secret-" + "x7Qp" * 10,
            "ALLOWED_HOSTS": "kubelearn.example.org",
            "KUBELEARN_VAR_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_manage(
        "check", env={"DEBUG": "0", "SECRET_KEY": "", "KUBELEARN_VAR_DIR": str(tmp_path)}
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_a_malformed_boolean_fails_loudly(tmp_path):
    result = run_manage("check", env={"DEBUG": "ture", "KUBELEARN_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "DEBUG='ture' is not a boolean" in result.stderr


def test_development_generates_and_keeps_a_secret_key(tmp_path):
    env = {"DEBUG": "1", "SECRET_KEY": "", "KUBELEARN_VAR_DIR": str(tmp_path)}
    assert run_manage("check", env=env).returncode == 0
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50
    assert run_manage("check", env=env).returncode == 0
    assert (tmp_path / "secret_key").read_text() == key


SHOW_WIRING = (
    "from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], "
    "s.CELERY_BROKER_URL, s.CELERY_TASK_ALWAYS_EAGER)"
)


def test_database_url_and_redis_url_switch_to_postgresql_and_redis(tmp_path):
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        SHOW_WIRING,
        env={
            "DEBUG": "1",
            "KUBELEARN_VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://127.0.0.1:5432/kubelearn",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "django_redis.cache.RedisCache",
        "redis://127.0.0.1:6379/3",
        "False",
    ]


def test_embedded_default_is_sqlite_with_in_process_tasks(tmp_path):
    env = {"DEBUG": "1", "KUBELEARN_VAR_DIR": str(tmp_path), "DATABASE_URL": "", "REDIS_URL": ""}
    result = run_manage("shell", "--no-imports", "-c", SHOW_WIRING, env=env)
    assert result.returncode == 0, result.stderr
    engine, cache, broker, eager = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert cache == "django.core.cache.backends.db.DatabaseCache"
    assert broker.startswith("memory://")
    assert eager == "True"


@pytest.mark.parametrize(("proxies", "header"), [("0", "None"), ("1", "HTTP_X_FORWARDED_PROTO")])
def test_x_forwarded_proto_is_believed_only_behind_a_trusted_proxy(tmp_path, proxies, header):
    # Without a proxy any client could make a request look like HTTPS: a penetration test's
    # header put https:// links in mails from a plain-HTTP server.
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print((settings.SECURE_PROXY_SSL_HEADER or [None])[0])",
        env={"DEBUG": "1", "KUBELEARN_VAR_DIR": str(tmp_path), "TRUSTED_PROXY_COUNT": proxies},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [header]
