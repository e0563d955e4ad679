import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog.feeds import poll, schedule
from catalog.feeds.address import FetchError
from catalog.feeds.store import PollReport
from catalog.models import Feed


class Command(BaseCommand):
    help = (
        "Poll feeds now, in this process, and print what each poll brought "
        "(new, updated, unchanged, skipped, failed). --watch keeps polling due feeds, "
        "for running without Celery beat."
    )

    def add_arguments(self, parser):
        parser.add_argument("--feed", type=int, action="append", help="Feed id (repeatable).")
        parser.add_argument(
            "--watch",
            type=int,
            nargs="?",
            const=60,
            metavar="SECONDS",
            help="Keep running: every SECONDS (default 60), poll the feeds that are due.",
        )

    def handle(self, *args, **options):
        if options["watch"]:
            self._watch(options["watch"])
            return
        if options["feed"]:
            feeds = list(Feed.objects.filter(pk__in=options["feed"]))
            missing = set(options["feed"]) - {feed.pk for feed in feeds}
            if missing:
                raise CommandError(f"No feed with id {', '.join(map(str, sorted(missing)))}.")
        else:
            feeds = list(Feed.objects.filter(active=True))
        rows = []
        for feed in tqdm(feeds, desc="Polling feeds", unit="feed", disable=not feeds):
            rows.append((feed, self._poll(feed.pk)))
        self._summary(rows)

    def _poll(self, feed_id: int) -> PollReport:
        try:
            return poll.feed_poll(feed_id=feed_id)
        except FetchError as exc:  # recorded on the feed already; retried on schedule
            return PollReport(feed_id=feed_id, outcome="failed", error=str(exc))

    def _summary(self, rows) -> None:
        if not rows:
            self.stdout.write("No active feeds to poll.")
            return
        header = f"{'feed':<48} {'new':>5} {'upd':>5} {'same':>5} {'skip':>5}  outcome"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        totals = [0, 0, 0, 0, 0]
        for feed, report in rows:
            name = (feed.title or feed.url)[:48]
            failed = report.outcome == "failed"
            totals = [
                totals[0] + report.new,
                totals[1] + report.updated,
                totals[2] + report.unchanged,
                totals[3] + report.skipped,
                totals[4] + int(failed),
            ]
            outcome = report.outcome + (f": {report.error[:60]}" if report.error else "")
            line = (
                f"{name:<48} {report.new:>5} {report.updated:>5} {report.unchanged:>5} "
                f"{report.skipped:>5}  {outcome}"
            )
            self.stdout.write(self.style.ERROR(line) if failed else line)
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(rows)} feeds: {totals[0]} new, {totals[1]} updated, {totals[2]} unchanged, "
                f"{totals[3]} skipped, {totals[4]} failed."
            )
        )

    def _watch(self, seconds: int) -> None:
        self.stdout.write(f"Polling due feeds every {seconds} s (Ctrl+C to stop).")
        self.stdout.flush()
        while True:
            for feed_id in schedule.feeds_claim_due():
                report = self._poll(feed_id)
                self.stdout.write(
                    f"feed {feed_id}: {report.outcome}, {report.new} new"
                    + (f" ({report.error})" if report.error else "")
                )
            self.stdout.flush()  # a background process writes to a pipe or file, not a tty
            time.sleep(seconds)
