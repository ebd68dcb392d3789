"""The group order list's filters, shared by the API and the selectors."""

from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

from config.filtersets import IdFilter, NamedFilterSet
from group_orders.models import GroupOrder


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, converted to UTC: PostgreSQL accepts offsets up to ±15:59 only, and
    Python parses up to ±23:59 (`-16:33` reached the database and failed there)."""

    def clean(self, value):
        moment = super().clean(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValidationError("This date and time is out of range.") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class GroupOrderFilter(NamedFilterSet):
    status = django_filters.ChoiceFilter(choices=GroupOrder.Status.choices)
    client = IdFilter(field_name="client_id")
    uploader = IdFilter(field_name="uploader_id")
    file_format = django_filters.ChoiceFilter(choices=[("csv", "CSV"), ("xlsx", "XLSX")])
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
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
