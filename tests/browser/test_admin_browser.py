"""Gate 3: a person's afternoon in the admin, in a real browser (Chromium, headless).

Log in as staff → filter the orders by stage → search by name → edit an order → advance its
stage → upload a group-order file → watch the progress reach complete → download the
rejected-orders workbook → request completion of an order and see it completed.

On PostgreSQL (CI) the upload's import and the completion run in a real `manage.py db_worker`
against the live server's database; on SQLite (a laptop) the ImmediateBackend runs them
in-process when the admin's transaction commits.
"""

import io
import os
import re

import pytest
from django.db import connection
from python_calamine import CalamineWorkbook

from group_orders.models import GroupOrder
from orders.models import Order
from tests.factories import EmployeeFactory, UserFactory
from tests.factories.accounts import PASSWORD
from tests.factories.group_orders import FIXTURES, catalogue
from tests.factories.orders import OrderFactory
from tests.quality.world import completed_order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def job_runner(settings):
    """A db_worker process on PostgreSQL; in-process jobs on SQLite."""
    if connection.vendor != "postgresql":
        yield None
        return
    from tests.group_orders.test_worker import start_worker, stop

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    worker = start_worker("browser-worker")
    try:
        yield worker
    finally:
        stop(worker)


@pytest.fixture
def staff():
    user = UserFactory(is_staff=True, first_name="Ada", last_name="Admin")
    EmployeeFactory(user=user)
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get(name="order manager"))
    return user


def wait_until(page, condition, *, timeout_s: float, what: str):
    """Poll `condition` (the page refreshes itself, or we reload) until true."""
    for _ in range(int(timeout_s * 2)):
        if condition():
            return
        page.wait_for_timeout(500)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_staff_afternoon_in_the_admin(live_server, page, steps, staff, job_runner, tmp_path):
    catalogue()
    target = OrderFactory(first_name="Quentin", last_name="Zephyrine", stage="received")
    OrderFactory(first_name="Other", last_name="Person", stage="received")
    OrderFactory(first_name="Shipped", last_name="Already", stage="shipped")
    ready = OrderFactory(first_name="Ready", last_name="Tocomplete", stage="quality-check")
    completed_order(target.customer)  # a completed order too, for the completed filter
    base = live_server.url

    with steps("log in as staff"):
        page.goto(f"{base}/admin/")
        assert "/admin/login/" in page.url
        page.fill("#id_username", staff.email)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_selector("#user-tools")
        assert "ada" in page.inner_text("#user-tools").lower()

    with steps("filter the orders by stage"):
        page.goto(f"{base}/admin/orders/order/")
        page.click("#changelist-filter a:text-is('Received')")
        page.wait_for_url(re.compile(r"stage=\d+"))
        shown = page.locator("#result_list tbody tr").count()
        assert shown == 2, page.inner_text("#result_list")
        assert "Shipped" not in page.inner_text("#result_list")

    with steps("search by last name"):
        page.goto(f"{base}/admin/orders/order/")
        page.fill("#searchbar", "Zephyr")
        page.press("#searchbar", "Enter")
        page.wait_for_url(re.compile(r"q=Zephyr"))
        rows = page.locator("#result_list tbody tr")
        assert rows.count() == 1 and target.number in rows.first.inner_text()

    with steps("edit the order"):
        rows.first.locator("th a").click()
        page.wait_for_selector("#id_telephone")
        page.fill("#id_telephone", "+1 604 555 0199")
        page.fill("#id_comment", "Call before delivery")
        page.click("input[name=_continue]")
        page.wait_for_selector(".messagelist .success")
        target.refresh_from_db()
        assert target.telephone == "+1 604 555 0199"
        assert target.comment == "Call before delivery"
        assert page.input_value("#id_telephone") == "+1 604 555 0199"

    with steps("advance its stage"):
        page.goto(f"{base}/admin/orders/order/?q={target.number}")
        page.check(f"input.action-select[value='{target.pk}']")
        page.select_option("select[name=action]", "advance_stage")
        page.click("button[name=index]")
        page.wait_for_selector("#id_stage")
        page.select_option("#id_stage", label="In production")
        page.fill("#id_notes", "Started from the browser test")
        page.click("input[name=apply]")
        page.wait_for_selector(".messagelist")
        target.refresh_from_db()
        assert target.current_status.stage.slug == "in-production"
        assert target.stages.order_by("-id").first().notes == ("Started from the browser test")

    with steps("upload a group-order file"):
        page.goto(f"{base}/admin/group_orders/grouporder/add/")
        page.set_input_files("#id_file", str(FIXTURES / "orders_mixed.csv"))
        page.click("input[type=submit][value='Upload and import']")
        page.wait_for_selector(".messagelist .success")
        assert "being imported" in page.inner_text(".messagelist")
        group_order = GroupOrder.objects.get()

    with steps("watch the progress reach complete"):
        # the page refreshes itself every 3 s while the import runs
        assert page.inner_text(".field-status .readonly") in ("Processing", "Complete")
        wait_until(
            page,
            lambda: (
                page.inner_text(".field-status .readonly") == "Complete"
                and "100%" in page.inner_text(".field-progress_bar .readonly")
            ),
            timeout_s=120,
            what="the import to complete on the page",
        )
        group_order.refresh_from_db()
        assert group_order.status == GroupOrder.Status.COMPLETE
        assert (group_order.total_orders, group_order.rejected_orders) == (11, 9)

    with steps("download the rejected-orders file"):
        page.reload()
        with page.expect_download() as download_info:
            page.click("a:text-is('rejected orders xlsx')")
        download = download_info.value
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        assert saved.name.endswith(".xlsx")
        rows = (
            CalamineWorkbook.from_filelike(io.BytesIO(saved.read_bytes()))
            .get_sheet_by_index(0)
            .to_python()
        )
        assert rows[0][:2] == ["rejected_reason", "source_row"]
        assert len(rows) == 1 + 9

    with steps("request completion"):
        page.goto(f"{base}/admin/orders/order/?q={ready.number}")
        page.check(f"input.action-select[value='{ready.pk}']")
        page.select_option("select[name=action]", "request_completion")
        page.click("button[name=index]")
        page.wait_for_selector(".messagelist .success")
        assert "Completion requested" in page.inner_text(".messagelist")
        ready.refresh_from_db()  # requested (a worker completes it) or already completed
        assert ready.completion_requested_at is not None or ready.completed_at is not None

    with steps("see the order completed"):
        wait_until(
            page,
            lambda: Order.objects.filter(pk=ready.pk, completed_at__isnull=False).exists(),
            timeout_s=60,
            what="the completion job",
        )
        page.goto(f"{base}/admin/orders/order/{ready.pk}/change/")
        ready.refresh_from_db()
        assert ready.current_status.stage.slug == "complete"
        assert "Complete" in page.inner_text("#content")

    assert len(steps.done) == 10
    if os.environ.get("BROWSER_STEPS"):
        print("browser steps:", "; ".join(steps.done))
