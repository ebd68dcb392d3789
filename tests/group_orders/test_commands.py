"""manage.py import_orders: dry run, an import, bad input."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from group_orders.models import GroupOrder, Job
from orders.models import Order
from tests.factories import ClientFactory, EmployeeFactory, UserFactory
from tests.factories.group_orders import FIXTURES, catalogue

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("import_orders", *args, stdout=out)
    return out.getvalue()


def test_dry_run_reports_what_would_happen_and_creates_nothing():
    catalogue()
    out = run(str(FIXTURES / "orders_mixed.csv"), "--dry-run")
    assert "11 rows; 2 would become orders, 9 would be rejected" in out
    assert "row 8: external_id: 'M-1' is also on row 2." in out
    assert not GroupOrder.objects.exists() and not Order.objects.exists()


def test_import_runs_the_job_and_prints_a_summary():
    catalogue()
    client = ClientFactory()
    uploader = EmployeeFactory(user__email="ops@example.com").user
    out = run(
        str(FIXTURES / "orders_valid.csv"), "--client", str(client.pk), "--uploader", uploader.email
    )
    group_order = GroupOrder.objects.get()
    assert "Imported 5 rows: 5 orders created, 0 rejected" in out
    assert group_order.status == "complete" and group_order.client == client
    assert group_order.uploader == uploader
    assert Order.objects.filter(customer=client).count() == 5
    assert "rejected_orders_xlsx:" in out
    assert Job.objects.get().status == Job.Status.SUCCEEDED


def test_background_only_queues():
    catalogue()
    out = run(str(FIXTURES / "orders_valid.csv"), "--background")
    assert "Queued" in out
    assert GroupOrder.objects.get().status == "processing"
    assert Job.objects.get().status == Job.Status.QUEUED


def test_the_client_rule_holds_for_the_command_too():
    catalogue()
    user = UserFactory(email="someone@example.com")
    with pytest.raises(CommandError, match="may not upload orders for this client"):
        run(
            str(FIXTURES / "orders_valid.csv"),
            "--client",
            str(ClientFactory().pk),
            "--uploader",
            user.email,
        )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["binary_garbage.csv"], "binary data"),
        (["nope.csv"], "No file at"),
        (["orders_valid.csv", "--client", "999999"], "No client with id 999999"),
        (["orders_valid.csv", "--uploader", "ghost@example.com"], "No user with e-mail"),
    ],
)
def test_bad_input_is_a_command_error(args, message):
    with pytest.raises(CommandError, match=message):
        run(str(FIXTURES / args[0]), *args[1:])
    assert not GroupOrder.objects.exists()
