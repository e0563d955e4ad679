"""docker-compose.yml cannot run here (no Docker engine), so it is checked by parsing it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("web", "worker", "beat")


def test_compose_runs_the_full_stack():
    assert set(SERVICES) == {"web", "worker", "beat", "db", "redis"}


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_share_one_image_and_the_environment_they_need(name):
    service = SERVICES[name]
    assert service["build"] == "."
    assert service["image"] == "kubelearn:latest"
    env = service["environment"]
    for variable in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "DEBUG"):
        assert variable in env, (name, variable)
    assert env["DEBUG"] == "0"
    assert env["DATABASE_URL"].startswith("postgres://") and "@db:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379/")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_database_and_redis(name):
    depends = SERVICES[name]["depends_on"]
    assert depends["db"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", ["web", "worker", "db", "redis"])
def test_long_running_services_have_health_checks(name):
    assert SERVICES[name]["healthcheck"]["test"]


def test_commands_start_gunicorn_worker_and_beat():
    assert "gunicorn kubelearn.wsgi:application" in SERVICES["web"]["command"]
    assert "migrate" in SERVICES["web"]["command"]
    assert SERVICES["worker"]["command"].startswith("celery -A kubelearn worker")
    assert SERVICES["beat"]["command"].startswith("celery -A kubelearn beat")


def test_secret_key_must_be_supplied_not_defaulted():
    assert SERVICES["web"]["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?")


def test_dockerfile_installs_pinned_requirements_and_runs_unprivileged():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile
    assert "USER kubelearn" in dockerfile


@pytest.mark.django_db
def test_health_endpoint_reports_the_database(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
