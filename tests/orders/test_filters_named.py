"""OrderFilter (a NamedFilterSet) copies only the filters a request names and shares one form
class per set of names; each request still validates its own data, and the queryset is the
one every declared filter would give."""

import pytest

from config.filtersets import id_of
from orders.filters import OrderFilter
from orders.models import Order
from tests.factories.orders import OrderFactory

pytestmark = pytest.mark.django_db


def test_only_the_named_filters_and_one_form_class_per_set():
    good = OrderFilter(data={"processed": "true"}, queryset=Order.objects.all())
    bad = OrderFilter(data={"processed": "maybe"}, queryset=Order.objects.all())
    ranged = OrderFilter(data={"date_added_after": "2026-01-01"}, queryset=Order.objects.all())

    assert list(good.filters) == ["processed"] and list(ranged.filters) == ["date_added"]
    assert good.get_form_class() is bad.get_form_class()
    assert good.get_form_class() is not ranged.get_form_class()
    assert good.is_valid() and good.form.cleaned_data["processed"] is True
    assert not bad.is_valid() and list(bad.errors) == ["processed"]
    assert good.form is not bad.form and good.form.fields is not bad.form.fields
    # the class keeps every declared filter (the schema and the parameter check read them)
    assert {"status", "processed", "date_added", "search"} <= set(OrderFilter.base_filters)


def test_named_filters_filter_as_before():
    done = OrderFactory(processed=True)
    OrderFactory(processed=False)

    filtered = OrderFilter(data={"processed": "true"}, queryset=Order.objects.all())
    unfiltered = OrderFilter(data={}, queryset=Order.objects.all())

    assert filtered.is_valid() and list(filtered.qs) == [done]
    assert unfiltered.is_valid() and unfiltered.qs.count() == 2


def test_id_of_reads_only_ids_a_column_can_hold():
    assert id_of("42") == 42 and id_of(" 7 ") == 7 and id_of(str(2**63 - 1)) == 2**63 - 1
    for text in ("¹", "-1", "1.0", "", "abc", str(2**63)):
        assert id_of(text) is None, text
