from django.db import migrations


def create_curators_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.get_or_create(name="curators")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_curators_group, migrations.RunPython.noop)]
