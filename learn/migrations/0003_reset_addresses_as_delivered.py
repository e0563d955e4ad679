"""Rewrite the accounts' reset addresses as mail is delivered to them (learn.emails.
mailbox_address): the reset form looks up that form, so an address stored with an
international domain ("x@ZOË.org") would no longer be found. The rule is copied here, as a
migration must not change when the code does."""

from django.db import migrations


def _as_delivered(email: str) -> str | None:
    local, at, domain = email.strip().rpartition("@")
    if not (local and at and domain) or local.startswith('"') or domain.startswith("["):
        return None
    try:
        return f"{local}@{domain.encode('idna').decode('ascii').lower()}"
    except UnicodeError:
        return None


def addresses_as_delivered(apps, schema_editor):
    User = apps.get_model("auth", "User")
    users = list(User.objects.exclude(email="").values_list("pk", "email"))
    spellings = {email.lower() for _, email in users}
    for pk, email in users:
        delivered = _as_delivered(email)
        if delivered is None or delivered == email:
            continue
        if delivered.lower() != email.lower() and delivered.lower() in spellings:
            continue  # another account has that mailbox's other spelling: left for a curator
        spellings.add(delivered.lower())
        User.objects.filter(pk=pk).update(email=delivered)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("learn", "0002_pending_email"),
    ]

    operations = [migrations.RunPython(addresses_as_delivered, migrations.RunPython.noop)]
