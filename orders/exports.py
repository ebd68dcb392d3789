"""Exports of orders to CSV and XLSX for staff (admin actions).

Every text cell that a spreadsheet would read as a formula (starting with = + - @, a tab or
a carriage return) is prefixed with a single quote, so an order's data can never run in the
reader's spreadsheet (CSV/formula injection). XLSX is written with `strings_to_formulas`
off as well, and in constant memory.
"""

import csv
import tempfile
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO

import xlsxwriter
from django.db.models import QuerySet
from django.utils import timezone

from orders.models import Order

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

COLUMNS = [
    ("number", "Number"),
    ("pk", "Order id"),
    ("external_id", "External id"),
    ("date_added", "Added"),
    ("stage", "Stage"),
    ("customer", "Customer"),
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("email", "E-mail"),
    ("telephone", "Telephone"),
    ("order_type", "Type"),
    ("order_date", "Order date"),
    ("order_time", "Order time"),
    ("location", "Location"),
    ("service_type", "Service type"),
    ("total_items", "Items"),
    ("order_total", "Total"),
    ("processed", "Processed"),
    ("is_on_hold", "On hold"),
    ("is_invalid", "Invalid"),
    ("assignee", "Assignee"),
    ("completed_at", "Completed"),
]


def safe_cell(value):
    """A value as a spreadsheet cell: text that could start a formula gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, (int, float, Decimal)):
        return value
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def export_queryset(queryset: QuerySet[Order]) -> QuerySet[Order]:
    return queryset.select_related(
        "current_status__stage", "customer", "location", "service_type", "assignee"
    ).order_by("pk")


def _value(order: Order, name: str):
    if name == "stage":
        status = getattr(order, "current_status", None)
        return status.stage.name if status else ""
    if name in ("customer", "location", "service_type"):
        related = getattr(order, name)
        return str(related) if related else ""
    if name == "assignee":
        return order.assignee.email if order.assignee else ""
    return getattr(order, name)


def order_rows(queryset: QuerySet[Order]) -> Iterator[list]:
    """The header, then one row of safe cells per order (streamed in chunks)."""
    yield [label for _, label in COLUMNS]
    for order in export_queryset(queryset).iterator(chunk_size=2000):
        yield [safe_cell(_value(order, name)) for name, _ in COLUMNS]


class _Echo:
    def write(self, value: str) -> str:
        return value


def orders_csv_lines(queryset: QuerySet[Order]) -> Iterator[str]:
    """CSV lines for a StreamingHttpResponse."""
    writer = csv.writer(_Echo())
    for row in order_rows(queryset):
        yield writer.writerow(row)


def orders_xlsx(queryset: QuerySet[Order]) -> IO[bytes]:
    """An XLSX workbook of the orders in a temporary file, rewound (constant memory: rows go
    to disk as they are written; strings never become formulas or links)."""
    target = tempfile.TemporaryFile()
    workbook = xlsxwriter.Workbook(
        target,
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
    )
    sheet = workbook.add_worksheet("Orders")
    bold = workbook.add_format({"bold": True})
    for index, row in enumerate(order_rows(queryset)):
        for column, cell in enumerate(row):
            if isinstance(cell, (int, float, Decimal)) and not isinstance(cell, bool):
                sheet.write_number(index, column, float(cell))
            else:
                sheet.write_string(index, column, str(cell), bold if index == 0 else None)
    workbook.close()
    target.seek(0)
    return target
