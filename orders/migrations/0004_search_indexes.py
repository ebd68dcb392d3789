"""Indexes for the order search on PostgreSQL: e-mail in any case, names by prefix.

Django compares `UPPER(column::text)` for iexact/istartswith; these expression indexes match
it (text_pattern_ops so that LIKE 'PREFIX%' can use them under any collation). With them every
branch of the search's OR has an index, and PostgreSQL combines them (BitmapOr) instead of
reading the whole table. SQLite needs nothing: it is for small installations.
"""

from django.db import migrations

INDEXES = {
    "order_email_upper_idx": "UPPER((email)::text)",
    "order_first_name_prefix_idx": "UPPER((first_name)::text) text_pattern_ops",
    "order_last_name_prefix_idx": "UPPER((last_name)::text) text_pattern_ops",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, expression in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON orders_order ({expression})")
    # statistics for the new expressions, or the planner guesses and reads the table
    schema_editor.execute("ANALYZE orders_order")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_numbering_and_keyset_indexes")]

    operations = [migrations.RunPython(create, drop)]
