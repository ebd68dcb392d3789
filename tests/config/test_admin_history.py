"""The History pages of every simple-history admin: readable by whoever may view the object
(who changed what, when), never a way back to an old snapshot. django-simple-history's
history form view saves any POST after checking only view permission; here a POST is refused
for everyone, superusers included, and the row is left as it was."""

from collections.abc import Callable

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db.models import Model
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from accounts.actors import Actor
from config.admin_history import ReadOnlyHistoryAdmin
from group_orders.models import GroupOrder
from group_orders.services.group_orders import group_order_update
from orders.models import JobFlowRule, Order
from orders.services.changes import order_hold, order_update
from stages.models import Stage
from tests.factories import EmployeeFactory, UserFactory
from tests.factories.group_orders import GroupOrderFactory
from tests.factories.orders import OrderFactory

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def _group_order() -> GroupOrder:
    group_order = GroupOrderFactory()  # its first history row: processing, counts 0
    group_order_update(
        group_order=group_order,
        actor=SYSTEM,
        changes={
            "status": "complete",
            "total_orders": 3,
            "successful_orders": 2,
            "rejected_orders": 1,
            "normalized_csv": "https://files.example.com/normalized.csv",
        },
    )
    return group_order


def _order() -> Order:
    order = OrderFactory(stage="received")
    order_update(order=order, actor=SYSTEM, changes={"first_name": "Renamed"})
    order_hold(order=order, actor=SYSTEM, reason="Waiting for artwork")
    return order


def _stage() -> Stage:
    stage = Stage.objects.create(name="Gluing", slug="gluing", position=99)
    stage.name = "Laminating"
    stage.save()
    return stage


def _job_flow_rule() -> JobFlowRule:
    rule = JobFlowRule.objects.create(
        stage=Stage.objects.get(slug="quality-check"), message="Needs a check", position=1
    )
    rule.message = "Needs a quality check"
    rule.is_active = False
    rule.save()
    return rule


# model -> (an object with at least two history rows, the role that may only view it,
#           what its oldest snapshot shows and the current object does not)
HISTORY_ADMINS: dict[type[Model], tuple[Callable[[], Model], str, str]] = {
    GroupOrder: (_group_order, "viewer", "Processing"),
    Order: (_order, "viewer", "Tucker"),
    Stage: (_stage, "viewer", "Gluing"),
    JobFlowRule: (_job_flow_rule, "order manager", "Needs a check"),  # views, cannot change
}


def _viewer(role_name: str):
    user = EmployeeFactory(user__is_staff=True).user
    user.groups.add(Group.objects.get(name=role_name))
    return user


def _history_url(obj: Model, history_id) -> str:
    opts = obj._meta
    return reverse(
        f"admin:{opts.app_label}_{opts.model_name}_simple_history", args=[obj.pk, history_id]
    )


def _revert_data(page) -> dict:
    """What a browser's Revert button would send: the snapshot's values in the page's form."""
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value, key = form[name].value(), form.add_prefix(name)
        if isinstance(field.widget, forms.MultiWidget):
            parts = field.widget.decompress(value) if value is not None else []
            data.update({f"{key}_{i}": str(part) for i, part in enumerate(parts) if part})
        elif isinstance(value, (list, tuple)) and not isinstance(field, forms.JSONField):
            data[key] = [str(item) for item in value]
        elif value is not None and value is not False:
            data[key] = "on" if value is True else str(value)
    return data


def _row(obj: Model) -> dict:
    return type(obj).objects.filter(pk=obj.pk).values().get()


def test_every_history_admin_is_read_only_and_tested_here():
    history_admins = {
        model: model_admin
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, SimpleHistoryAdmin)
    }
    assert set(history_admins) == set(HISTORY_ADMINS)
    assert all(isinstance(a, ReadOnlyHistoryAdmin) for a in history_admins.values())


@pytest.mark.parametrize("model", list(HISTORY_ADMINS), ids=lambda m: m.__name__)
@pytest.mark.parametrize("who", ["viewer", "superuser"])
def test_a_history_snapshot_is_shown_but_never_written_back(client, model, who):
    make, role_name, _ = HISTORY_ADMINS[model]
    obj = make()
    oldest = obj.history.earliest("history_id")
    user = (
        UserFactory(is_staff=True, is_superuser=True) if who == "superuser" else _viewer(role_name)
    )
    client.force_login(user)
    url = _history_url(obj, oldest.history_id)
    before = _row(obj)
    rows_before = obj.history.count()

    history = client.get(
        reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_history", args=[obj.pk])
    )
    page = client.get(url)

    assert history.status_code == 200
    assert b"Choose a date from the list below to revert" not in history.content
    assert page.status_code == 200
    assert b'name="_save"' not in page.content  # no Revert button
    assert b"Press the 'Revert' button" not in page.content
    # what a browser's Revert would send: the snapshot the page shows
    revert = client.post(url, _revert_data(page))
    assert revert.status_code == 405
    assert client.post(url, {}).status_code == 405
    assert _row(obj) == before
    assert obj.history.count() == rows_before


@pytest.mark.parametrize("model", list(HISTORY_ADMINS), ids=lambda m: m.__name__)
def test_a_history_snapshot_page_shows_every_field_read_only(admin_client, model):
    make, _, old_text = HISTORY_ADMINS[model]
    obj = make()
    oldest = obj.history.earliest("history_id")

    page = admin_client.get(_history_url(obj, oldest.history_id))

    assert page.status_code == 200
    assert old_text in page.content.decode()
    adminform = page.context["adminform"]
    shown = [field for fieldset in adminform for line in fieldset for field in line]
    assert shown and all(field.is_readonly for field in shown)


@pytest.mark.parametrize("model", list(HISTORY_ADMINS), ids=lambda m: m.__name__)
@pytest.mark.parametrize(
    "path", ["{pk}/history/abc/", "{pk}/history/99999999/", "abc/history/{hid}/", "abc/history/"]
)
def test_a_history_url_naming_nothing_is_not_found(admin_client, model, path):
    make, _, _ = HISTORY_ADMINS[model]
    obj = make()
    oldest = obj.history.earliest("history_id")
    base = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_changelist")

    response = admin_client.get(base + path.format(pk=obj.pk, hid=oldest.history_id))

    assert response.status_code == 404
