"""config.bulk_rows.foreign_keys_checked_once: parents locked once instead of a trigger per row."""

import pytest
from django.db import IntegrityError, connection, transaction

from config.bulk_rows import BulkRows, foreign_keys_checked_once
from orders.models import Location, OrderLine
from tests.factories.orders import LocationFactory, OrderFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _replication_role() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        return cursor.fetchone()[0]


def _locks_held_on(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks "
            "WHERE pid = pg_backend_pid() AND relation = %s::regclass",
            [table],
        )
        return cursor.fetchone()[0]


def test_parents_that_exist_are_locked_and_the_triggers_are_off_inside_only():
    location = LocationFactory()
    order = OrderFactory()
    with transaction.atomic():
        with foreign_keys_checked_once({Location: [location.pk, None]}) as quick:
            assert quick  # CI connects as a superuser
            assert _replication_role() == "replica"
            assert _locks_held_on("orders_location") >= 1
            lines = BulkRows(OrderLine, ["order_id", "name"])
            lines.add(order.pk, "Print")
            lines.write()
        assert _replication_role() == "origin"
    assert OrderLine.objects.filter(order=order).count() == 1


def test_a_missing_parent_leaves_the_triggers_on_and_the_constraint_refuses_the_row():
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            with foreign_keys_checked_once({Location: [987654]}) as quick:
                assert not quick
                assert _replication_role() == "origin"
                lines = BulkRows(OrderLine, ["order_id", "name"])
                lines.add(123456789, "names an order that does not exist")
                lines.write()
    assert not OrderLine.objects.exists()


def test_outside_a_transaction_nothing_is_turned_off():
    with foreign_keys_checked_once({}) as quick:
        assert not quick
        assert _replication_role() == "origin"


def test_a_role_without_the_right_keeps_the_triggers(monkeypatch):
    monkeypatch.setattr(connection, "_orderdesk_may_turn_triggers_off", False, raising=False)
    with transaction.atomic():
        with foreign_keys_checked_once({}) as quick:
            assert not quick
            assert _replication_role() == "origin"
