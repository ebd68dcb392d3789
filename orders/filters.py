"""The order list's filters, shared by the integrator API and the selectors."""

import uuid

import django_filters
from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema_field

from config.filtersets import IdFilter, NamedFilterSet, id_of
from orders.models import Order, OrderType


def _id_or_slug(value: str) -> tuple[list[int], list[str]]:
    """ "3,in-production" → ([3], ["in-production"]): a filter value may list several."""
    ids, slugs = [], []
    for part in (item.strip() for item in value.split(",")):
        if not part:
            continue
        if part.isascii() and part.isdigit():
            number = id_of(part)
            if number is not None:  # a bigger number is no id: it matches nothing
                ids.append(number)
        else:
            slugs.append(part)
    return ids, slugs


def order_search_q(term: str) -> Q:
    """What `search` matches: number, external id, e-mail, telephone exactly (e-mail in any
    case), first or last name by prefix. Each branch can use an index."""
    term = term.strip()
    return (
        Q(number=term)
        | Q(external_id=term)
        | Q(email__iexact=term)
        | Q(telephone=term)
        | Q(first_name__istartswith=term)
        | Q(last_name__istartswith=term)
    )


# the query string carries text: the schema says so (a boolean type with text choices
# contradicts itself, and clients generated from it send `True`)
@extend_schema_field({"type": "string", "enum": ["true", "false", "1", "0"]})
class StrictBooleanFilter(django_filters.TypedChoiceFilter):
    """`true`/`false` (or 1/0); anything else is invalid-param rather than ignored."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [(v, v) for v in ("true", "false", "1", "0")])
        kwargs.setdefault("coerce", lambda value: value in ("true", "1"))
        super().__init__(*args, **kwargs)


class OrderFilter(NamedFilterSet):
    status = django_filters.CharFilter(
        method="filter_status",
        help_text="Current stage: slug or id; several separated by commas.",
    )
    order_type = django_filters.ChoiceFilter(choices=OrderType.choices)
    location = IdFilter(field_name="location_id", help_text="Location id.")
    customer = IdFilter(field_name="customer_id", help_text="Client id.")
    assignee = django_filters.CharFilter(
        method="filter_assignee", help_text="Staff user id, or `none` for unassigned orders."
    )
    date_added = django_filters.DateFromToRangeFilter(
        help_text="`date_added_after` / `date_added_before` (YYYY-MM-DD, inclusive)."
    )
    order_date = django_filters.DateFromToRangeFilter(
        help_text="`order_date_after` / `order_date_before` (YYYY-MM-DD, inclusive)."
    )
    processed = StrictBooleanFilter()
    on_hold = StrictBooleanFilter(field_name="is_on_hold")
    invalid = StrictBooleanFilter(field_name="is_invalid")
    completed = StrictBooleanFilter(
        field_name="completed_at",
        lookup_expr="isnull",
        exclude=True,
        help_text="true: completed orders (completed_at set); false: the others.",
    )
    service_type = django_filters.CharFilter(
        method="filter_service_type", help_text="Service type slug or id."
    )
    group_order = django_filters.CharFilter(
        method="filter_group_order", help_text="Group order `_id` (UUID) or id."
    )
    search = django_filters.CharFilter(
        method="filter_search",
        help_text="Number, external id, e-mail, telephone (exact) or name (prefix).",
    )

    class Meta:
        model = Order
        fields: list[str] = []

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        ids, slugs = _id_or_slug(value)
        return queryset.filter(
            Q(current_status__stage_id__in=ids) | Q(current_status__stage__slug__in=slugs)
        )

    def filter_assignee(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value.strip().lower() == "none":
            return queryset.filter(assignee__isnull=True)
        assignee_id = id_of(value)
        if assignee_id is None:
            return queryset.none()
        return queryset.filter(assignee_id=assignee_id)

    def filter_service_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        ids, slugs = _id_or_slug(value)
        return queryset.filter(Q(service_type_id__in=ids) | Q(service_type__slug__in=slugs))

    def filter_group_order(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if value.isascii() and value.isdigit():
            group_order_id = id_of(value)
            if group_order_id is None:
                return queryset.none()
            return queryset.filter(group_order_id=group_order_id)
        try:
            public_id = uuid.UUID(value)
        except ValueError:
            return queryset.none()
        return queryset.filter(group_order__public_id=public_id)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(order_search_q(value)) if value.strip() else queryset
