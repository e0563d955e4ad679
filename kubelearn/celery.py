"""The Celery app, in the standard Celery-with-Django shape."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kubelearn.settings")

app = Celery("kubelearn")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Feed tasks live in the catalog's feeds package, not in catalog/tasks.py.
app.autodiscover_tasks(["catalog.feeds"])
# So do catalog health's (link checks, staleness).
app.autodiscover_tasks(["catalog.health"])
