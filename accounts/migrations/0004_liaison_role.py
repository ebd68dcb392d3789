from django.db import migrations

from accounts.roles import sync_roles


class Migration(migrations.Migration):
    """The liaison role: reads their clients' orders through the customer API."""

    dependencies = [
        ("accounts", "0003_idempotency_keys"),
        ("orders", "0002_sync_roles"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
