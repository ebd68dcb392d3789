"""The orders changelist's date drill-down without a scan of the whole table.

Django's date hierarchy asks the filtered queryset for its distinct years, months and days
(`SELECT DISTINCT DATE_TRUNC(...)`), which reads every order. Here the periods offered come
from the first and last `date_added` of all orders (two index look-ups) and the calendar: a
period may turn out empty for the current filters, which costs one click, never a scan.
"""

import calendar
from datetime import date, datetime

from django import template
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.db.models import Max, Min
from django.utils import timezone

register = template.Library()


class _CalendarPeriods:
    """Stands in for the changelist's queryset in Django's date_hierarchy()."""

    def __init__(self, model, field_name: str, params) -> None:
        self.model = model
        self.field_name = field_name
        self.params = params

    def aggregate(self, **_):
        return self.model._default_manager.aggregate(
            first=Min(self.field_name), last=Max(self.field_name)
        )

    def _range(self) -> tuple[datetime, datetime] | None:
        bounds = self.aggregate()
        if not (bounds["first"] and bounds["last"]):
            return None
        return timezone.localtime(bounds["first"]), timezone.localtime(bounds["last"])

    def datetimes(self, field_name: str, kind: str):
        bounds = self._range()
        if bounds is None:
            return []
        first, last = bounds
        zone = timezone.get_current_timezone()
        if kind == "year":
            return [datetime(year, 1, 1, tzinfo=zone) for year in range(first.year, last.year + 1)]
        # Django picks the year (and month) itself when all orders share it
        year = int(self.params.get(f"{field_name}__year") or first.year)
        if kind == "month":
            months = [
                month
                for month in range(1, 13)
                if (first.year, first.month) <= (year, month) <= (last.year, last.month)
            ]
            return [datetime(year, month, 1, tzinfo=zone) for month in months]
        month = int(self.params.get(f"{field_name}__month") or first.month)
        days = range(1, calendar.monthrange(year, month)[1] + 1)
        return [
            datetime(year, month, day, tzinfo=zone)
            for day in days
            if first.date() <= date(year, month, day) <= last.date()
        ]


class _ChangeListView:
    def __init__(self, changelist) -> None:
        self._changelist = changelist
        self.queryset = _CalendarPeriods(
            changelist.model, changelist.date_hierarchy, changelist.params
        )

    def __getattr__(self, name):
        return getattr(self._changelist, name)


@register.inclusion_tag("admin/date_hierarchy.html")
def calendar_date_hierarchy(changelist):
    """Django's date hierarchy with calendar periods (see the module docstring)."""
    return date_hierarchy(_ChangeListView(changelist))
