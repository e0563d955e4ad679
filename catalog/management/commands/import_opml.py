from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.feeds.services import OpmlError, feeds_import_opml


class Command(BaseCommand):
    help = "Add the feeds listed in an OPML file (feeds already present are left alone)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--trusted", action="store_true", help="Approve their entries at once.")

    def handle(self, *args, **options):
        try:
            result = feeds_import_opml(
                content=options["file"].read_bytes(), trusted=options["trusted"]
            )
        except (OSError, OpmlError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(result.summary()))
