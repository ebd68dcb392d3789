from django.db import migrations

from accounts.roles import sync_roles

APPLICATIONS = [
    ("planoauth", "PlanoAuth", "Users, sessions and client registration."),
    ("planoorder", "PlanoOrder", "Online ordering and group orders."),
    ("planox2", "PlanoX2", "Production floor: stages and processing."),
]


def seed_applications(apps, schema_editor):
    Application = apps.get_model("accounts", "Application")
    for slug, name, description in APPLICATIONS:
        Application.objects.get_or_create(
            slug=slug, defaults={"name": name, "description": description}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(seed_applications, migrations.RunPython.noop),
        migrations.RunPython(sync_roles, migrations.RunPython.noop),
    ]
