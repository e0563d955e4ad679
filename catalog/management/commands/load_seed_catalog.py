from pathlib import Path

from django.core.management.base import BaseCommand

from catalog.seeding import SEED_FILE, seed_catalog_load


class Command(BaseCommand):
    help = "Load the seed learning catalog (idempotent: a second run changes nothing)."

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=SEED_FILE)

    def handle(self, *args, **options):
        report = seed_catalog_load(path=options["file"])
        if report.changes:
            created = ", ".join(f"{n} {m}" for m, n in report.created.items()) or "nothing"
            updated = ", ".join(f"{n} {m}" for m, n in report.updated.items()) or "nothing"
            self.stdout.write(
                self.style.SUCCESS(f"Seed catalog: created {created}; updated {updated}.")
            )
        else:
            self.stdout.write("Seed catalog already up to date: nothing changed.")
