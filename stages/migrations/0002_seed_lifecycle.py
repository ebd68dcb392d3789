from django.db import migrations

# slug, name, position, terminal, colour, allowed next
LIFECYCLE = [
    ("received", "Received", 10, False, "#607d8b", ["in-production", "on-hold", "cancelled"]),
    (
        "in-production",
        "In production",
        20,
        False,
        "#1e88e5",
        ["quality-check", "on-hold", "cancelled"],
    ),
    (
        "quality-check",
        "Quality check",
        30,
        False,
        "#8e24aa",
        ["in-production", "shipped", "complete", "on-hold", "cancelled"],
    ),
    ("shipped", "Shipped", 40, False, "#f9a825", ["complete", "on-hold"]),
    ("complete", "Complete", 50, True, "#43a047", []),
    (
        "on-hold",
        "On hold",
        60,
        False,
        "#fb8c00",
        ["received", "in-production", "quality-check", "shipped", "cancelled"],
    ),
    ("cancelled", "Cancelled", 70, True, "#e53935", []),
]


def seed(apps, schema_editor):
    Stage = apps.get_model("stages", "Stage")
    stages = {}
    for slug, name, position, terminal, colour, _ in LIFECYCLE:
        stages[slug], _ = Stage.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "position": position,
                "is_terminal": terminal,
                "colour": colour,
            },
        )
    for slug, *_, allowed in LIFECYCLE:
        stages[slug].allowed_next.add(*(stages[next_slug] for next_slug in allowed))


class Migration(migrations.Migration):
    dependencies = [("stages", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
