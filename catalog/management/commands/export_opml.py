import sys

from django.core.management.base import BaseCommand

from catalog.feeds.services import feeds_export_opml
from catalog.models import Feed


class Command(BaseCommand):
    help = "Write every feed as OPML to standard output (or --output FILE)."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="File to write instead of standard output.")

    def handle(self, *args, **options):
        content = feeds_export_opml(feeds=Feed.objects.select_related("author"))
        if options["output"]:
            with open(options["output"], "wb") as handle:
                handle.write(content)
            self.stdout.write(self.style.SUCCESS(f"Wrote {options['output']}."))
        else:
            sys.stdout.buffer.write(content)
