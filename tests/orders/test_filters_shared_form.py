"""OrderFilter builds its form class once and shares it; each request still validates its
own data."""

import pytest

from orders.filters import OrderFilter
from orders.models import Order

pytestmark = pytest.mark.django_db


def test_one_form_class_and_independent_validation():
    good = OrderFilter(data={"processed": "true"}, queryset=Order.objects.all())
    bad = OrderFilter(data={"processed": "maybe"}, queryset=Order.objects.all())

    assert good.get_form_class() is bad.get_form_class()
    assert good.is_valid() and good.form.cleaned_data["processed"] is True
    assert not bad.is_valid() and list(bad.errors) == ["processed"]
    assert good.form is not bad.form and good.form.fields is not bad.form.fields
