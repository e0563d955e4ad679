from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterator

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from tqdm import tqdm

from catalog.feeds import poll, schedule
from catalog.feeds.store import PollReport
from catalog.models import Feed
from kubelearn.wording import counted

# Below this many feeds per process a second process costs more (start-up, connections)
# than it saves.
_FEEDS_PER_PROCESS = 20


def _default_processes() -> int:
    # Parsing and sanitising are CPU work that threads cannot spread over cores (the GIL);
    # processes can. Leave the database and the web server room on small machines.
    return max(1, min(os.cpu_count() or 1, 4))


def _poll_chunk(job: tuple[list[int], int]) -> list[PollReport]:
    """In a child process: poll some feeds, then close the connections this process opened."""
    feed_ids, concurrency = job
    try:
        return poll.feeds_poll(feed_ids=feed_ids, concurrency=concurrency)
    finally:
        connections.close_all()


class Command(BaseCommand):
    # A poller runs often and from cron, beat or a shell loop: Django's system checks (which
    # import every template tag library) would cost it more than polling a round of
    # unchanged feeds. `manage.py check` and the server still run them.
    requires_system_checks: list[str] = []
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
        parser.add_argument(
            "--concurrency",
            type=int,
            default=None,
            metavar="N",
            help="Feeds in flight per process (default: FEEDS_POLL_CONCURRENCY, 4).",
        )
        parser.add_argument(
            "--processes",
            type=int,
            default=None,
            metavar="N",
            help="Processes polling side by side (default: the CPU count, at most 4; "
            "fewer for few feeds).",
        )

    def handle(self, *args, **options):
        concurrency = options["concurrency"] or settings.FEEDS_POLL_CONCURRENCY
        processes = options["processes"] or _default_processes()
        if concurrency < 1 or processes < 1:
            raise CommandError("--concurrency and --processes must be at least 1.")
        self.concurrency, self.processes = concurrency, processes
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
        by_id = {feed.pk: feed for feed in feeds}
        started = time.perf_counter()
        with tqdm(total=len(feeds), desc="Polling feeds", unit="feed", disable=not feeds) as bar:
            reports = {report.feed_id: report for report in self._poll(list(by_id), bar)}
        elapsed = time.perf_counter() - started
        self._summary([(feed, reports[feed.pk]) for feed in feeds if feed.pk in reports])
        if feeds:
            self.stdout.write(
                f"Polled in {elapsed:.2f} s ({self.used_processes} process(es), "
                f"up to {self.concurrency} feeds in flight in each)."
            )

    def _poll(self, feed_ids: list[int], bar: tqdm | None = None) -> Iterator[PollReport]:
        """Poll the feeds: in this process, or split between child processes.

        Network errors are recorded on each feed (and retried on schedule); they come back
        as failed reports.
        """
        processes = min(self.processes, max(1, len(feed_ids) // _FEEDS_PER_PROCESS))
        if connection.in_atomic_block:
            processes = 1
        self.used_processes = processes
        if processes == 1:
            # (Inside a transaction, as in tests, other connections would not see its rows.)
            yield from poll.feeds_poll(
                feed_ids=feed_ids,
                concurrency=self.concurrency,
                on_report=(lambda _report: bar.update()) if bar is not None else None,
            )
            return
        # Small chunks, handed out as processes free up, balance the load and move the bar.
        size = max(1, min(4 * self.concurrency, len(feed_ids) // (4 * processes) or 1))
        jobs = [
            (feed_ids[start : start + size], self.concurrency)
            for start in range(0, len(feed_ids), size)
        ]
        # Children must not share the parent's database sockets: close them before forking.
        connections.close_all()
        context = multiprocessing.get_context("fork")
        with context.Pool(processes) as pool:
            for reports in pool.imap_unordered(_poll_chunk, jobs):
                if bar is not None:
                    bar.update(len(reports))
                yield from reports

    def _summary(self, rows) -> None:
        if not rows:
            self.stdout.write("No active feeds to poll.")
            return
        header = f"{'feed':<48} {'new':>5} {'upd':>5} {'same':>5} {'skip':>5}  outcome"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        totals = [0, 0, 0, 0, 0]
        held = 0
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
            held += report.held
            line = (
                f"{name:<48} {report.new:>5} {report.updated:>5} {report.unchanged:>5} "
                f"{report.skipped:>5}  {report.outcome}"
            )
            self.stdout.write(self.style.ERROR(line) if failed else line)
            if report.error:  # whole, on its own line: cut to fit the row, it lost the reason
                self.stdout.write(f"    {report.error}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(rows)} feeds: {totals[0]} new, {totals[1]} updated, {totals[2]} unchanged, "
                f"{totals[3]} skipped, {totals[4]} failed."
            )
        )
        if held:
            self.stdout.write(
                f"{counted(held, 'author edit')} of reviewed resources "
                f"{'waits' if held == 1 else 'wait'} for a curator: "
                "the admin's Author updates (/admin/catalog/authorupdate/)."
            )

    def _watch(self, seconds: int) -> None:
        self.stdout.write(f"Polling due feeds every {seconds} s (Ctrl+C to stop).")
        self.stdout.flush()
        while True:
            for report in self._poll(schedule.feeds_claim_due()):
                self.stdout.write(
                    f"feed {report.feed_id}: {report.outcome}, {report.new} new"
                    + (f" ({report.error})" if report.error else "")
                )
            self.stdout.flush()  # a background process writes to a pipe or file, not a tty
            time.sleep(seconds)
