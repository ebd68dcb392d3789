"""The columns of an order file: canonical names, the aliases people use, and header matching.

A header cell is matched after normalisation: lower-cased, every run of characters other
than letters and digits turned into `_`, trimmed of `_` ("First Name" → `first_name`,
"E-mail" → `e_mail`). Unknown columns are ignored (and listed on the group order); the
columns our own report files add (`rejected_reason`, `source_row`, `order_number`) are
ignored silently, so a report can be uploaded again as it is.
"""

import re
from dataclasses import dataclass

from config.api.errors import InvalidParam


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    aliases: tuple[str, ...]
    help: str


COLUMNS: tuple[Column, ...] = (
    Column(
        "external_id",
        False,
        ("external_reference", "ext_id", "reference", "ref", "order_reference", "your_reference"),
        "Your own id of the order; unique across all orders (a duplicate row is rejected).",
    ),
    Column(
        "first_name",
        True,
        ("firstname", "first", "given_name", "givenname", "forename", "fname"),
        "Customer's first name (required).",
    ),
    Column(
        "last_name",
        True,
        ("lastname", "last", "surname", "family_name", "familyname", "lname"),
        "Customer's last name (required).",
    ),
    Column(
        "email",
        True,
        ("e_mail", "email_address", "e_mail_address", "mail"),
        "Customer's e-mail address (required); stored lower-cased.",
    ),
    Column(
        "telephone",
        False,
        ("phone", "phone_number", "telephone_number", "tel", "mobile", "mobile_phone", "cell"),
        "Phone number; stored as +<country code><number>.",
    ),
    Column(
        "service_type",
        True,
        ("service", "servicetype", "service_slug", "product"),
        "Slug or name of a known service type (required).",
    ),
    Column(
        "order_type",
        False,
        ("type", "fulfilment", "fulfillment", "delivery_method"),
        "delivery or collection (also: ship, shipping, pickup, pick up); default collection.",
    ),
    Column(
        "order_date",
        False,
        ("date", "ordered_on", "orderdate"),
        "Date of the order.",
    ),
    Column(
        "order_time",
        False,
        ("time", "ordered_at_time", "ordertime"),
        "Time of the order (HH:MM, HH:MM:SS or h:mm AM/PM).",
    ),
    Column(
        "due_date",
        False,
        ("due", "duedate", "deadline", "needed_by"),
        "Date the order is due; not in the past.",
    ),
    Column(
        "delivery_rush",
        False,
        ("rush", "rush_delivery", "express", "urgent"),
        "Boolean; default false.",
    ),
    Column(
        "notify",
        False,
        ("notify_customer", "notifications", "send_notifications"),
        "Boolean: whether the customer wants to be notified; empty = unknown.",
    ),
    Column(
        "order_total",
        False,
        ("total", "amount", "order_amount", "price"),
        "Amount, not negative, at most 4 decimals (1234.5, 1,234.50, $12 are fine).",
    ),
    Column("payment", False, ("payment_method", "paid_with"), "Payment method, free text."),
    Column(
        "location",
        False,
        ("location_code", "store", "shop", "site"),
        "Code or name of a known location.",
    ),
    Column(
        "services_addons",
        False,
        ("addons", "add_ons", "extras", "services_addon_array", "service_addons"),
        "Add-ons, separated by , ; or |.",
    ),
    Column("notes", False, ("note", "instructions", "internal_notes"), "Notes for the staff."),
    Column("comment", False, ("comments", "customer_comment", "message"), "Customer's comment."),
)

COLUMN_NAMES: tuple[str, ...] = tuple(column.name for column in COLUMNS)
REQUIRED_COLUMNS: tuple[str, ...] = tuple(column.name for column in COLUMNS if column.required)
# Columns our own report files add; ignored without a warning when a report is uploaded.
REPORT_COLUMNS = ("rejected_reason", "source_row", "order_number")

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_ALIASES: dict[str, str] = {}
for _column in COLUMNS:
    _ALIASES[_column.name] = _column.name
    _ALIASES[_column.name.replace("_", "")] = _column.name
    for _alias in _column.aliases:
        _ALIASES[_alias] = _column.name


def header_key(cell: object) -> str:
    """`"  First Name "` → `first_name`; `"E-mail"` → `e_mail`."""
    text = str(cell if cell is not None else "").replace("\ufeff", "").strip().lower()
    return _NON_ALNUM.sub("_", text).strip("_")


def canonical_column(cell: object) -> str | None:
    return _ALIASES.get(header_key(cell))


@dataclass(frozen=True)
class HeaderMatch:
    columns: list[str | None]  # per file column: the canonical name, or None (ignored)
    ignored: list[str]  # the header cells of ignored columns (not our report columns)

    @property
    def found(self) -> set[str]:
        return {name for name in self.columns if name}


def header_match(cells: list[object]) -> HeaderMatch:
    """Map a header row to the canonical columns (no checks)."""
    columns: list[str | None] = []
    ignored: list[str] = []
    width = len(cells)
    while width and not str(cells[width - 1] if cells[width - 1] is not None else "").strip():
        width -= 1  # trailing blank header cells (a spreadsheet pads rows) are not columns
    for cell in cells[:width]:
        name = canonical_column(cell)
        columns.append(name)
        text = str(cell if cell is not None else "").strip()
        if name is None and text and header_key(cell) not in REPORT_COLUMNS:
            ignored.append(text[:100])
    return HeaderMatch(columns=columns, ignored=ignored)


def header_check(cells: list[object]) -> HeaderMatch:
    """The header row's columns; invalid-param naming `file` when a required column is
    missing or two columns mean the same field."""
    match = header_match(cells)
    seen: dict[str, int] = {}
    for index, name in enumerate(match.columns):
        if name is None:
            continue
        if name in seen:
            first = str(cells[seen[name]]).strip()
            again = str(cells[index]).strip()
            raise InvalidParam(
                "file",
                f"The columns '{first}' and '{again}' both mean {name}; keep one of them.",
            )
        seen[name] = index
    missing = [name for name in REQUIRED_COLUMNS if name not in seen]
    if missing:
        shown = ", ".join(str(cell).strip() for cell in cells if str(cell).strip())[:300]
        raise InvalidParam(
            "file",
            f"The header row lacks the required column(s) {', '.join(missing)}. "
            f"Required: {', '.join(REQUIRED_COLUMNS)}. Found: {shown or 'nothing'}.",
        )
    return match
