from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # Without Redis the cache lives in the database; create its table with the schema, so no
    # deployment path (make run, compose, a bare `migrate`) can forget `createcachetable`.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("recommender", "0001_initial")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
