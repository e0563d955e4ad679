"""Health check for Celery beat: exit 0 while beat keeps dispatching its periodic jobs."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_celery_beat.models import PeriodicTask


class Command(BaseCommand):
    help = (
        "Exit non-zero unless every periodic job of CELERY_BEAT_SCHEDULE that runs at least "
        "every --max-age seconds ran within --max-age seconds (docker-compose's beat healthcheck)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--max-age", type=int, default=300, metavar="SECONDS")

    def handle(self, *args, **options):
        max_age = timedelta(seconds=options["max_age"])
        window = max_age.total_seconds()
        # Only jobs that are due more often than the window can be judged by it.
        names = [
            name
            for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
            if isinstance(entry["schedule"], int | float) and entry["schedule"] < window
        ]
        last_runs = dict(
            PeriodicTask.objects.filter(name__in=names).values_list("name", "last_run_at")
        )
        cutoff = timezone.now() - max_age
        stale = [name for name in names if not last_runs.get(name) or last_runs[name] < cutoff]
        if stale:
            raise CommandError(f"Beat has not run {', '.join(stale)} since {cutoff:%H:%M:%S}.")
        self.stdout.write(f"Beat healthy: {', '.join(names) or 'no frequent jobs'} ran recently.")
