"""docker-compose.yml and the Dockerfile cannot run here (no Docker engine), so compose is checked
by parsing it, and the image's build steps that matter (static files) are run as written."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
APP_SERVICES = ("web", "worker", "beat")


def test_the_image_compiles_every_project_package_ahead_of_time():
    line = next(line for line in DOCKERFILE.splitlines() if "compileall" in line)
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages, "no project packages found"
    assert packages <= set(shlex.split(line)), sorted(packages - set(shlex.split(line)))


def test_compose_runs_the_full_stack():
    assert set(SERVICES) == {"migrate", "web", "worker", "beat", "db", "redis"}


@pytest.mark.parametrize("name", (*APP_SERVICES, "migrate"))
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


@pytest.mark.parametrize("name", (*APP_SERVICES, "migrate"))
def test_app_services_wait_for_healthy_database_and_redis(name):
    depends = SERVICES[name]["depends_on"]
    assert depends["db"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_start_only_after_migrations_completed(name):
    assert SERVICES[name]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )


def test_migrate_service_runs_once_and_creates_the_curator():
    migrate = SERVICES["migrate"]
    assert migrate["restart"] == "no"
    for step in ("migrate --noinput", "load_seed_catalog", "ensure_local_curator"):
        assert step in migrate["command"]
    assert "CURATOR_PASSWORD" in migrate["environment"]


@pytest.mark.parametrize("name", ["web", "worker", "beat", "db", "redis"])
def test_long_running_services_have_health_checks(name):
    assert SERVICES[name]["healthcheck"]["test"]


def test_beat_health_check_runs_the_check_beat_command():
    assert "check_beat" in SERVICES["beat"]["healthcheck"]["test"]


def test_commands_start_gunicorn_worker_and_beat():
    assert "gunicorn kubelearn.wsgi:application" in SERVICES["web"]["command"]
    assert SERVICES["worker"]["command"].startswith("celery -A kubelearn worker")
    assert SERVICES["beat"]["command"].startswith("celery -A kubelearn beat")


def test_secret_key_must_be_supplied_not_defaulted():
    assert SERVICES["web"]["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?")


def test_database_password_comes_from_the_environment():
    assert SERVICES["db"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert "${POSTGRES_PASSWORD:?" in SERVICES["web"]["environment"]["DATABASE_URL"]


def test_dockerfile_installs_only_runtime_requirements_and_runs_unprivileged():
    assert "pip install --no-cache-dir -r requirements.txt" in DOCKERFILE
    assert "-r requirements-dev.txt" not in DOCKERFILE
    assert "USER kubelearn" in DOCKERFILE
    assert "tests" in (ROOT / ".dockerignore").read_text().split()


def _dockerfile_collectstatic() -> tuple[dict[str, str], list[str]]:
    """The Dockerfile's collectstatic step, as (environment, command)."""
    line = next(
        part for part in DOCKERFILE.replace("\\\n", " ").split("&&") if "collectstatic" in part
    )
    words = shlex.split(line)
    env = dict(word.split("=", 1) for word in words if "=" in word and not word.startswith("-"))
    command = [word for word in words if "=" not in word or word.startswith("-")]
    assert command[0] == "python", command
    return env, [sys.executable, *command[1:]]


_SERVE_WITH_PRODUCTION_SETTINGS = textwrap.dedent(
    """
    import django
    django.setup()
    from django.core.management import call_command
    from django.test import Client
    call_command("migrate", verbosity=0)  # a scratch SQLite database: the cache table lives there
    client = Client()
    for path in ("/admin/login/", "/api/docs/", "/api/redoc/"):
        response = client.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, (path, response.status_code)
        print(path, response.content.decode().count("/static/"))
    page = client.get("/admin/login/").content.decode()
    css = page.split('href="/static/admin/css/base.')[1].split('"')[0]
    assert client.get("/static/admin/css/base." + css).status_code == 200
    print("ok")
    """
)


def test_docker_static_build_serves_the_admin_and_docs_with_production_settings(tmp_path):
    """The image's collectstatic, run as written, must give DEBUG=0 a manifest to serve from."""
    env, command = _dockerfile_collectstatic()
    assert env["DEBUG"] == "0"
    base = {
        key: value for key, value in os.environ.items() if not key.startswith(("DJANGO", "DEBUG"))
    }
    base.pop("DATABASE_URL", None)
    base |= {"STATIC_ROOT": str(tmp_path / "static"), "KUBELEARN_VAR_DIR": str(tmp_path / "var")}
    subprocess.run(
        command,
        env=base | env | {"KUBELEARN_VAR_DIR": str(tmp_path / "var")},
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=240,
    )
    assert (tmp_path / "static" / "staticfiles.json").exists()
    production = base | {
        "DJANGO_SETTINGS_MODULE": "kubelearn.settings",
        "DEBUG": "0",
        "SECRET_KEY": "test-only-" + "x" * 50,
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "0",
    }
    result = subprocess.run(
        [sys.executable, "-c", _SERVE_WITH_PRODUCTION_SETTINGS],
        env=production,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")


def test_swagger_ui_and_redoc_load_nothing_from_other_hosts(client):
    for path in ("/api/docs/", "/api/redoc/"):
        page = client.get(path).content.decode()
        assert "drf_spectacular_sidecar" in page, path
        assert "cdn" not in page.lower() and "https://" not in page, path


@pytest.mark.django_db
def test_health_endpoint_reports_the_database(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def _dispatch_ran(ago: timedelta) -> None:
    """Beat ran its every-minute jobs (feed and link dispatch) `ago`."""
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    for name, task in [
        ("feeds-dispatch", "catalog.tasks.feeds_dispatch"),
        ("links-dispatch", "catalog.health.tasks.links_dispatch"),
    ]:
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": every_minute,
                "last_run_at": timezone.now() - ago,
            },
        )


@pytest.mark.django_db
def test_check_beat_passes_when_the_dispatch_job_ran_recently():
    _dispatch_ran(timedelta(seconds=30))
    call_command("check_beat", "--max-age", "300")


@pytest.mark.django_db
def test_check_beat_fails_when_the_dispatch_job_is_overdue():
    _dispatch_ran(timedelta(minutes=20))
    with pytest.raises(CommandError, match="feeds-dispatch"):
        call_command("check_beat", "--max-age", "300")


@pytest.mark.django_db
def test_check_beat_fails_before_beat_ever_ran():
    with pytest.raises(CommandError):
        call_command("check_beat", "--max-age", "300")


@pytest.mark.django_db
def test_curator_is_created_with_the_password_from_the_environment(monkeypatch):
    from django.contrib.auth import get_user_model

    monkeypatch.setenv("CURATOR_PASSWORD", "a-long-compose-passphrase-7")
    monkeypatch.setenv("CURATOR_USERNAME", "ops")
    call_command("ensure_local_curator")
    user = get_user_model().objects.get(username="ops")
    assert user.is_superuser and user.check_password("a-long-compose-passphrase-7")
