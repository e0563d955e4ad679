from __future__ import annotations

import time
from collections import Counter
from typing import cast

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from catalog.health import checking, hosts, staleness, tasks
from catalog.health.models import LinkStatus, ResourceLink
from catalog.health.services import links_recheck, links_sync
from catalog.models import Status


class Command(BaseCommand):
    help = (
        "Check resources' addresses now, in this process, host by host at the polite per-host "
        "rate, and print how many are ok, redirected, failing or gone. Without options: the "
        "links that are due. --watch keeps checking due links, for running without Celery beat."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="Check every approved resource now, due or not."
        )
        parser.add_argument(
            "--resource", type=int, action="append", help="Resource id (repeatable)."
        )
        parser.add_argument(
            "--watch",
            type=int,
            nargs="?",
            const=60,
            metavar="SECONDS",
            help="Keep running: every SECONDS (default 60), check the share of due links; "
            "every hour, scan the catalog for outdated advice (what beat does otherwise).",
        )
        parser.add_argument("--concurrency", type=int, default=None, metavar="N")

    def handle(self, *args, **options):
        if options["concurrency"] is not None and options["concurrency"] < 1:
            raise CommandError("--concurrency must be at least 1.")
        self.concurrency = options["concurrency"]
        if options["watch"]:
            self._watch(options["watch"])
            return
        links_sync()
        if options["resource"]:
            found = set(
                ResourceLink.objects.filter(pk__in=options["resource"]).values_list("pk", flat=True)
            )
            missing = sorted(set(options["resource"]) - found)
            if missing:
                raise CommandError(f"No approved resource with an address: {missing}")
            links_recheck(resource_ids=options["resource"])
        elif options["all"]:
            links_recheck(resource_ids=list(ResourceLink.objects.values_list("pk", flat=True)))
        due = set(
            ResourceLink.objects.filter(next_check_at__lte=timezone.now())
            .exclude(status=LinkStatus.RETIRED)
            .filter(resource__status=Status.APPROVED, resource__url__isnull=False)
            .values_list("pk", flat=True)
        )
        statuses: Counter[str] = Counter()
        with tqdm(total=len(due), unit="link", disable=not due) as bar:

            def done(report: checking.CheckReport) -> None:
                statuses[report.status] += 1
                bar.update(1)

            while due:
                batches = hosts.links_claim_due(limit=len(due))
                if batches:
                    checking.links_check(
                        batches=batches, concurrency=self.concurrency, on_report=done
                    )
                    continue
                # What is left waits for its host (resting between requests, or another
                # checker's); a link put off by a Retry-After is no longer due.
                waiting = ResourceLink.objects.filter(
                    pk__in=due,
                    next_check_at__lte=timezone.now(),
                    resource__status=Status.APPROVED,
                    resource__url__isnull=False,
                ).exclude(status=LinkStatus.RETIRED)
                if not waiting.exists():
                    break
                time.sleep(0.5)
        summary = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
        self.stdout.write(f"Checked {sum(statuses.values())} links: {summary or 'none due'}.")

    def _watch(self, seconds: int) -> None:
        # Without beat nothing else runs the hourly staleness scan (beat's schedule says how
        # often): this loop does, or outdated advice would never be flagged under `make run`.
        scan_every = cast(float, settings.CELERY_BEAT_SCHEDULE["staleness-scan"]["schedule"])
        self.stdout.write(
            f"Checking due links every {seconds}s and outdated advice every "
            f"{scan_every / 60:g} min; Ctrl+C to stop."
        )
        next_scan = time.monotonic()
        try:
            while True:
                if time.monotonic() >= next_scan:
                    report = staleness.staleness_scan()
                    next_scan = time.monotonic() + scan_every
                    if report.raised or report.cleared:
                        self.stdout.write(
                            f"Outdated advice: {report.raised} flags raised, "
                            f"{report.cleared} cleared."
                        )
                batches = tasks.links_claim_slice()
                if batches:
                    reports = checking.links_check(batches=batches, concurrency=self.concurrency)
                    self.stdout.write(f"Checked {len(reports)} links.")
                time.sleep(seconds)
        except KeyboardInterrupt:
            return
