"""Settings for the test suite: the real settings module, with test-only overrides.

The environment still chooses the database (CI sets DATABASE_URL to PostgreSQL;
locally the default is SQLite).
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-not-secret")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
# Throttling has its own tests with tight rates; elsewhere it would only make tests flaky.
os.environ.setdefault("THROTTLE_ANON", "100000/min")
os.environ.setdefault("THROTTLE_USER", "100000/min")
os.environ.setdefault("THROTTLE_AUTH", "100000/min")
os.environ.setdefault("THROTTLE_SIGNIN_FAILURES", "100000/min")

from kubelearn.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests run tasks in-process unless an integration test starts a real worker.
CELERY_TASK_ALWAYS_EAGER = True
TASKS_OFF_REQUEST = False  # tasks run where they are sent (tests/test_background.py: beside)
CELERY_BROKER_URL = "memory://localhost/"  # a host name, or kombu warns on every task
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# schemathesis calls the WSGI app in-process with Host: localhost.
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so a real Celery worker process can share the test database.
    # One file per test run, so two runs on one machine never share a database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_db_{os.getpid()}.sqlite3")}
