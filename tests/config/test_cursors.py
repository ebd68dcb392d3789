"""config.cursors: one cursor kept per PostgreSQL connection for the compiled statements,
with Django's wrapper around it; a new cursor each time where queries are logged."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from config.cursors import statement_cursor
from config.statements import ModelStatement
from orders.models import Order
from tests.factories.orders import OrderFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

_ORDER = ModelStatement(Order, lambda p: Order.objects.filter(pk=p.int("order_id")).values("id"))


def _one(sql, params=()):
    with statement_cursor(connection) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_the_cursor_is_kept_while_the_connection_is_the_same():
    with statement_cursor(connection) as first:
        first.execute("SELECT 1")
    with statement_cursor(connection) as second:
        second.execute("SELECT %s", [2])
        assert second.fetchone() == (2,)
    assert second is first
    assert not first.cursor.closed  # the `with` block left it open

    connection.close()  # the next request's connection: a new cursor on it
    with statement_cursor(connection) as third:
        third.execute("SELECT 3")
        assert third.fetchone() == (3,)
    assert third is not first
    assert third.cursor.connection is connection.connection


def test_statements_are_logged_through_a_new_cursor_where_queries_are_counted():
    order = OrderFactory()
    with statement_cursor(connection) as kept:
        pass
    with CaptureQueriesContext(connection) as queries:
        assert [o.pk for o in _ORDER.objects(order_id=order.pk)] == [order.pk]
        with statement_cursor(connection) as logged:
            logged.execute("SELECT 1")
    assert logged is not kept
    assert len(queries) == 2


def test_errors_are_djangos_and_a_broken_transaction_is_refused():
    order = OrderFactory()
    negative = "UPDATE orders_order SET order_total = -1 WHERE id = %s"
    with transaction.atomic():
        with pytest.raises(IntegrityError), transaction.atomic(savepoint=False):
            _one(negative, [order.pk])
        with pytest.raises(TransactionManagementError):  # the transaction is broken
            _one("SELECT 1")
    assert _one("SELECT order_total >= 0 FROM orders_order WHERE id = %s", [order.pk]) == [(True,)]


def test_execute_wrappers_still_see_every_statement():
    seen = []

    def watch(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        _one("SELECT 42")
    assert seen == ["SELECT 42"]
