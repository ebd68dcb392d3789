from django.db import migrations

from accounts.roles import sync_roles


class Migration(migrations.Migration):
    """Give the roles the permissions of the order, stage and group-order models."""

    dependencies = [
        ("accounts", "0002_seed_applications_and_roles"),
        ("orders", "0001_initial"),
        ("stages", "0001_initial"),
        ("group_orders", "0001_initial"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
