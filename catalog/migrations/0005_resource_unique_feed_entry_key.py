"""Enforce the natural key polling upserts by: one resource per (feed, entry key).

Safe on existing data: before the constraint is added, any duplicates a race could have left
behind are resolved by keeping the oldest row's key and clearing the key of the others. No row
is deleted (a curator may have labelled or approved any of them); a later poll still finds the
cleared ones by their canonical address, so nothing is stored twice.
"""

from django.db import migrations, models
from django.db.models import Count


def clear_duplicate_entry_keys(apps, schema_editor):
    Resource = apps.get_model("catalog", "Resource")
    duplicates = (
        Resource.objects.exclude(entry_key="")
        .filter(feed__isnull=False)
        .values("feed_id", "entry_key")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    for group in duplicates.iterator():
        ids = list(
            Resource.objects.filter(feed_id=group["feed_id"], entry_key=group["entry_key"])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Resource.objects.filter(pk__in=ids[1:]).update(entry_key="")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_pendingresource"),
    ]

    operations = [
        migrations.RunPython(clear_duplicate_entry_keys, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="resource",
            constraint=models.UniqueConstraint(
                condition=models.Q(("entry_key", ""), _negated=True),
                fields=("feed", "entry_key"),
                name="resource_unique_feed_entry_key",
            ),
        ),
    ]
