import os
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from catalog.selectors import CURATORS_GROUP


class Command(BaseCommand):
    help = (
        "Create a curator account unless a superuser already exists. The password is "
        "CURATOR_PASSWORD from the environment, or generated and printed once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default=os.environ.get("CURATOR_USERNAME") or "curator")

    def handle(self, *args, **options):
        Group.objects.get_or_create(name=CURATORS_GROUP)
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("A superuser already exists; no curator account created.")
            return
        given = os.environ.get("CURATOR_PASSWORD")
        password = given or secrets.token_urlsafe(16)
        user = User.objects.create_superuser(options["username"], email="", password=password)
        user.groups.add(Group.objects.get(name=CURATORS_GROUP))
        if given:
            self.stdout.write(f"Curator account {user.username!r} created with CURATOR_PASSWORD.")
            return
        bar = "=" * 64
        self.stdout.write(
            self.style.WARNING(
                f"\n{bar}\n Local curator account created (shown only this once):\n"
                f"   username: {user.username}\n   password: {password}\n"
                f" Sign in at /admin/ on the address the server prints below.\n{bar}\n"
            )
        )
