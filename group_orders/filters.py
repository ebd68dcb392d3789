"""The group order list's filters, shared by the API and the selectors."""

import django_filters
from django import forms

from group_orders.models import GroupOrder


class IdFilter(django_filters.NumberFilter):
    """A whole-number id (`0.5` is refused, not rounded or matched as a decimal)."""

    field_class = forms.IntegerField


class GroupOrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=GroupOrder.Status.choices)
    client = IdFilter(field_name="client_id")
    uploader = IdFilter(field_name="uploader_id")
    file_format = django_filters.ChoiceFilter(choices=[("csv", "CSV"), ("xlsx", "XLSX")])
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    # true/false (or 1/0); anything else is invalid-param rather than ignored
    has_rejections = django_filters.TypedChoiceFilter(
        choices=[(v, v) for v in ("true", "false", "1", "0")],
        coerce=lambda value: value in ("true", "1"),
        method="filter_has_rejections",
    )
    search = django_filters.CharFilter(method="filter_search")

    class Meta:
        model = GroupOrder
        fields: list[str] = []

    def filter_has_rejections(self, queryset, name, value):
        return (
            queryset.filter(rejected_orders__gt=0) if value else queryset.filter(rejected_orders=0)
        )

    def filter_search(self, queryset, name, value):
        return queryset.filter(original_filename__icontains=value.strip())
