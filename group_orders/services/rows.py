"""Validating and normalising one row of an order file.

`RowNormaliser.normalise(cells)` returns the row's values in canonical form (Python types)
and the reasons it must be rejected (empty when it may become an order). It never touches
the database: the catalogue lookups (service types, locations) are loaded once per import,
and duplicate external ids are checked per batch by the import (see `imports.py`).

Rules, per column (docs/group_orders.md lists them for users):
- text: trimmed; names also have inner runs of spaces collapsed; a value starting with
  `=` is refused as a spreadsheet formula; a cell longer than Excel's 32,767 characters is
  refused;
- email: lower-cased, a valid address; telephone: digits with an optional leading `+`
  (spaces, dots, dashes, parentheses dropped), stored as `+<country><number>` (10 digits are
  taken as North American, `+1`, configurable);
- dates: ISO `YYYY-MM-DD`, `YYYY/MM/DD`, `DD.MM.YYYY`, `MM/DD/YYYY` (or `DD/MM/YYYY` with
  the setting), Excel date cells; `due_date` not in the past;
- booleans: true/false, yes/no, y/n, 1/0, t/f, on/off, x; decimals: not negative, at most 4
  decimals, currency signs and thousands separators allowed;
- service_type / location: slug or code, or name, of an active catalogue entry;
- order_type: delivery or collection (ship/shipping/deliver, pickup/pick up/collect).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal, InvalidOperation
from itertools import repeat
from operator import itemgetter
from typing import Any

from group_orders.services.columns import COLUMN_NAMES
from group_orders.services.uploads import setting
from group_orders.spreadsheets import EXCEL_MAX_CELL_CHARS, UnreadableCell
from orders.models import Location, OrderType, ServiceType
from orders.services.drafts import email_is_valid

DEFAULT_COUNTRY_CODE = "1"

_TRUE = frozenset({"true", "t", "yes", "y", "1", "on", "x", "1.0"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "off", "0.0"})
# plain text, not the enum's members: COPY converts a column of str at once
DELIVERY, COLLECTION = str(OrderType.DELIVERY.value), str(OrderType.COLLECTION.value)
_ORDER_TYPES = {
    "delivery": DELIVERY,
    "deliver": DELIVERY,
    "ship": DELIVERY,
    "shipping": DELIVERY,
    "shipped": DELIVERY,
    "collection": COLLECTION,
    "collect": COLLECTION,
    "pickup": COLLECTION,
    "pick up": COLLECTION,
    "pick-up": COLLECTION,
    "in store": COLLECTION,
}
_PHONE_JUNK = re.compile(r"[\s().\-/]")
_PHONE_EXTENSION = re.compile(r"\s*(ext\.?|x|#)\s*\d+$", re.IGNORECASE)
_PHONE_MAY_HAVE_EXTENSION = re.compile(r"[xX#]").search
_SLASH_DATE = re.compile(r"(\d{1,4})/(\d{1,2})/(\d{1,4})")
_DOT_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_TIME_12H = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap])\.?m\.?", re.IGNORECASE)
_ADDON_SPLIT = re.compile(r"[,;|]")
_MONEY_JUNK = re.compile(r"[\s$€£¥]|USD|EUR|GBP|CAD", re.IGNORECASE)
_MAX_TOTAL = Decimal("99999999.9999")
_UNITS = Decimal(1)  # quantize to whole units
_FIRST_DAY = date(1900, 1, 1)
_PLAIN_AMOUNT = re.compile(r"\d+(?:\.\d+)?").fullmatch

NAME_MAX = 150
_TEXT_ONLY = {str}
# columns whose values are mutable (lists): each row gets a copy of its own
_FRESH_VALUES = frozenset({"services_addons"})
_WHOLE = itemgetter(slice(None))


class _Reject(Exception):
    pass


def storable(text: str) -> str:
    """The text with each NUL character (which no database text can hold) as U+FFFD: how a
    rejected row's cells are stored and reported."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def _text(value: Any) -> str:
    """A cell as text: typed XLSX cells formatted as a person would type them."""
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


@dataclass(frozen=True)
class Catalogue:
    """What rows may refer to, loaded once per import."""

    service_types: dict[str, ServiceType]
    locations: dict[str, Location]

    @classmethod
    def load(cls) -> "Catalogue":
        service_types: dict[str, ServiceType] = {}
        for service_type in ServiceType.objects.filter(is_active=True):
            service_types.setdefault(service_type.name.strip().lower(), service_type)
        for service_type in ServiceType.objects.filter(is_active=True):
            service_types[service_type.slug.lower()] = service_type  # a slug wins over a name
        locations: dict[str, Location] = {}
        for location in Location.objects.filter(is_active=True):
            locations.setdefault(location.name.strip().lower(), location)
        for location in Location.objects.filter(is_active=True):
            locations[location.code.lower()] = location
        return cls(service_types=service_types, locations=locations)


class RowNormaliser:
    """Turns a row's cells into canonical values; see the module docstring for the rules."""

    def __init__(
        self,
        *,
        columns: list[str | None],
        catalogue: Catalogue,
        today: date,
    ) -> None:
        self.width = len(columns)
        # (cell index, canonical name) of the columns the file has
        self.present = [(index, name) for index, name in enumerate(columns) if name]
        self.catalogue = catalogue
        self.today = today
        self.country_code = str(setting("DEFAULT_COUNTRY_CODE", DEFAULT_COUNTRY_CODE))
        self.day_first = setting("DATE_ORDER", "MDY").upper() == "DMY"
        self._parsers = {
            "external_id": self._external_id,
            "first_name": self._name_required,
            "last_name": self._name_required,
            "email": self._email,
            "telephone": self._telephone,
            "service_type": self._service_type,
            "order_type": self._order_type,
            "order_date": self._date,
            "order_time": self._time,
            "due_date": self._due_date,
            "delivery_rush": self._boolean_false,
            "notify": self._boolean_or_none,
            "order_total": self._decimal,
            "payment": self._short_text(40),
            "location": self._location,
            "services_addons": self._addons,
            "notes": self._long_text,
            "comment": self._long_text,
        }
        self._present_parsers = [(index, name, self._parsers[name]) for index, name in self.present]
        self.defaults: dict[str, Any] = {
            "external_id": "",
            "last_name": "",
            "telephone": "",
            "order_type": COLLECTION,
            "order_date": None,
            "order_time": None,
            "due_date": None,
            "delivery_rush": False,
            "notify": None,
            "order_total": None,
            "payment": "",
            "location": None,
            "services_addons": [],
            "notes": "",
            "comment": "",
        }

    def normalise(self, cells: list[Any]) -> tuple[dict[str, Any], list[str]]:
        """(values by canonical column, reasons to reject). Values of failed cells are the
        trimmed text, so a report can still show them."""
        return self.normalise_many([cells])[0]

    def normalise_many(self, rows: list[list[Any]]) -> list[tuple[dict[str, Any], list[str]]]:
        """`normalise` of each row (the same values and reasons), a column at a time: a cell
        text that repeats in the rows (a service type, a date, a name) is read once."""
        if set(map(len, rows)) <= {self.width}:  # the common case: every row fits
            refused: dict[int, str] = {}
            fitting = rows
        else:
            refusals = list(map(self._width_refusal, rows))
            refused = {position: reason for position, reason in enumerate(refusals) if reason}
            fitting = [cells for cells, reason in zip(rows, refusals, strict=True) if not reason]
        count = len(fitting)
        errors: list[list[str]] = [[] for _ in range(count)]
        by_name: dict[str, Any] = {}
        for index, name, parse in self._present_parsers:
            values, failed = self._column(name, parse, list(map(itemgetter(index), fitting)))
            by_name[name] = values
            for position, reason in failed:
                errors[position].append(reason)
        # each row's values: the defaults, then the file's columns (as dict.update orders them)
        names = [*self.defaults, *(name for name in by_name if name not in self.defaults)]
        columns = [
            by_name[name] if name in by_name else repeat(self.defaults[name], count)
            for name in names
        ]
        values = map(dict, map(zip, repeat(names), zip(*columns, strict=True)))
        normalised = list(zip(values, errors, strict=True))
        if not refused:
            return normalised
        rows_normalised = iter(normalised)
        return [
            ({}, [refused[position]]) if position in refused else next(rows_normalised)
            for position in range(len(rows))
        ]

    def _width_refusal(self, cells: list[Any]) -> str:
        count = len(cells)
        if count == self.width:
            return ""
        if count < self.width:
            return f"The row has {count} cells; the header has {self.width}."
        used = count
        while used > self.width and not _text(cells[used - 1]):
            used -= 1
        if used > self.width:
            return (
                f"The row has {used} cells; the header has {self.width} "
                "(a delimiter inside a value needs quotes)."
            )
        return ""

    def _column(
        self, name: str, parse: Callable[[Any], Any], cells: list[Any]
    ) -> tuple[list[Any], list[tuple[int, str]]]:
        """One column's values, and (position, reason) of the cells refused. Text cells
        are read once per distinct text (the parsers depend on the cell alone); other cells
        (typed XLSX cells: 1, 1.0 and True are equal keys but not the same cell) cell by
        cell."""
        cell = self._cell
        if set(map(type, cells)) != _TEXT_ONLY:
            outcomes = [cell(name, parse, one) for one in cells]
            values = [value for value, _ in outcomes]
            failed = [(at, reason) for at, (_, reason) in enumerate(outcomes) if reason]
            return values, failed
        value_of, reason_of = {}, {}
        for text in set(cells):
            value_of[text], reason = cell(name, parse, text)
            if reason:
                reason_of[text] = reason
        values = list(map(value_of.__getitem__, cells))
        if name in _FRESH_VALUES:  # a list of its own for each row (a text is itself)
            values = list(map(_WHOLE, values))
        if not reason_of:
            return values, []
        return values, [(at, reason_of[text]) for at, text in enumerate(cells) if text in reason_of]

    @staticmethod
    def _cell(name: str, parse: Callable[[Any], Any], cell: Any) -> tuple[Any, str]:
        """(value, "") or (the value a report shows, the reason it is refused)."""
        if type(cell) is UnreadableCell:  # a formula without its result, an error
            return "", f"{name}: {cell.reason}"
        if type(cell) is str and "\x00" in cell:  # no database text can hold it
            return _text(storable(cell))[:100], (
                f"{name}: holds a NUL character (\\x00), which cannot be stored."
            )
        if type(cell) is str and len(cell) > EXCEL_MAX_CELL_CHARS:
            return cell[:100], (
                f"{name}: the cell holds {len(cell):,} characters; "
                f"at most {EXCEL_MAX_CELL_CHARS:,}."
            )
        try:
            return parse(cell), ""
        except _Reject as reason:
            return _text(cell), f"{name}: {reason}"

    # ------------------------------------------------------------------ text

    @staticmethod
    def _no_formula(text: str) -> str:
        if text.startswith("="):
            raise _Reject("looks like a spreadsheet formula (starts with '=').")
        if "\ufffd" in text:
            raise _Reject("holds characters that are not valid in the file's encoding.")
        return text

    def _name_required(self, cell: Any) -> str:
        text = " ".join(_text(cell).split())
        if not text:
            raise _Reject("is required.")
        if len(text) > NAME_MAX:
            raise _Reject(f"is longer than {NAME_MAX} characters.")
        return self._no_formula(text)

    def _short_text(self, limit: int):
        def parse(cell: Any) -> str:
            text = _text(cell)
            if len(text) > limit:
                raise _Reject(f"is longer than {limit} characters.")
            return self._no_formula(text)

        return parse

    def _long_text(self, cell: Any) -> str:
        return self._no_formula(_text(cell))

    def _external_id(self, cell: Any) -> str:
        text = _text(cell)
        if len(text) > 120:
            raise _Reject("is longer than 120 characters.")
        return self._no_formula(text)

    # ------------------------------------------------------------------ contact

    def _email(self, cell: Any) -> str:
        text = _text(cell).lower()
        if not text:
            raise _Reject("is required.")
        if not email_is_valid(text):  # the orders' own rule
            raise _Reject(f"'{text[:100]}' is not a valid e-mail address.")
        return text

    def _telephone(self, cell: Any) -> str:
        text = _text(cell)
        if not text:
            return ""
        raw = _PHONE_EXTENSION.sub("", text) if _PHONE_MAY_HAVE_EXTENSION(text) else text
        compact = _PHONE_JUNK.sub("", raw)
        plus = compact.startswith("+")
        digits = compact[1:] if plus else compact
        if not digits.isdigit() or not digits.isascii():
            raise _Reject(f"'{text[:40]}' is not a phone number.")
        if plus:
            number = digits
        elif digits.startswith("00"):
            number = digits[2:]
        elif len(digits) == 10 and self.country_code == "1":
            number = "1" + digits
        elif len(digits) == 11 and digits.startswith("1") and self.country_code == "1":
            number = digits
        elif digits.startswith("0") and self.country_code != "1":
            number = self.country_code + digits[1:]
        else:
            raise _Reject(
                f"'{text[:40]}': write it with + and the country code, e.g. +16045551234."
            )
        if not 7 <= len(number) <= 15:
            raise _Reject(f"'{text[:40]}' has {len(number)} digits; a phone number has 7-15.")
        return "+" + number

    # ------------------------------------------------------------------ catalogue

    def _service_type(self, cell: Any) -> ServiceType:
        text = _text(cell)
        if not text:
            raise _Reject("is required.")
        found = self.catalogue.service_types.get(text.lower())
        if found is None:
            known = sorted({st.slug for st in self.catalogue.service_types.values()})
            listed = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
            raise _Reject(f"'{text[:60]}' is not a known service type (known: {listed}).")
        return found

    def _location(self, cell: Any) -> Location | None:
        text = _text(cell)
        if not text:
            return None
        found = self.catalogue.locations.get(text.lower())
        if found is None:
            raise _Reject(f"'{text[:60]}' is not a known location code or name.")
        return found

    def _order_type(self, cell: Any) -> str:
        text = " ".join(_text(cell).lower().split())
        if not text:
            return COLLECTION
        try:
            return _ORDER_TYPES[text]
        except KeyError:
            raise _Reject(f"'{text[:40]}' is not delivery or collection.") from None

    def _addons(self, cell: Any) -> list[str]:
        text = _text(cell)
        if not text:
            return []
        addons = [part.strip() for part in _ADDON_SPLIT.split(text) if part.strip()]
        for addon in addons:
            if len(addon) > 60:
                raise _Reject("an add-on is longer than 60 characters.")
            self._no_formula(addon)
        return addons

    # ------------------------------------------------------------------ dates, numbers

    def _date(self, cell: Any) -> date | None:
        value = self._parse_date(cell)
        if value is not None and value < _FIRST_DAY:
            # a typo (0026 for 2026); Excel has no day before 1900 either
            raise _Reject(f"{value.isoformat()} is before 1900.")
        return value

    def _parse_date(self, cell: Any) -> date | None:
        if isinstance(cell, datetime):
            return cell.date()
        if isinstance(cell, date):
            return cell
        text = _text(cell)
        if not text:
            return None
        try:
            if len(text) == 10 and text[4] == "-":
                return date.fromisoformat(text)
            if "T" in text or (len(text) > 10 and text[4] == "-"):
                return datetime.fromisoformat(text).date()
        except ValueError:
            raise _Reject(f"'{text[:40]}' is not a date (use YYYY-MM-DD).") from None
        try:
            if match := _SLASH_DATE.fullmatch(text):
                a, b, c = (int(part) for part in match.groups())
                if len(match.group(1)) == 4:
                    return date(a, b, c)
                if len(match.group(3)) != 4:
                    raise ValueError
                return date(c, a, b) if not self.day_first else date(c, b, a)
            if match := _DOT_DATE.fullmatch(text):
                day, month, year = (int(part) for part in match.groups())
                return date(year, month, day)
        except ValueError:
            pass
        raise _Reject(f"'{text[:40]}' is not a date (use YYYY-MM-DD).")

    def _due_date(self, cell: Any) -> date | None:
        value = self._date(cell)
        if value is not None and value < self.today:
            raise _Reject(f"{value.isoformat()} is in the past.")
        return value

    def _time(self, cell: Any) -> dtime | None:
        if isinstance(cell, datetime):
            return cell.time()
        if isinstance(cell, dtime):
            return cell
        if isinstance(cell, timedelta):
            seconds = int(cell.total_seconds())
            if 0 <= seconds < 86400:
                return dtime(seconds // 3600, seconds % 3600 // 60, seconds % 60)
        text = _text(cell)
        if not text:
            return None
        try:
            if match := _TIME_12H.fullmatch(text):
                hour, minute = int(match.group(1)), int(match.group(2))
                second = int(match.group(3) or 0)
                if not 1 <= hour <= 12:
                    raise ValueError
                hour = hour % 12 + (12 if match.group(4).lower() == "p" else 0)
                return dtime(hour, minute, second)
            return dtime.fromisoformat(text)
        except ValueError:
            raise _Reject(f"'{text[:40]}' is not a time (use HH:MM).") from None

    @staticmethod
    def _boolean(cell: Any) -> bool | None:
        if isinstance(cell, bool):
            return cell
        text = _text(cell).lower()
        if not text:
            return None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise _Reject(f"'{text[:20]}' is not yes or no (true/false, 1/0).")

    def _boolean_false(self, cell: Any) -> bool:
        return bool(self._boolean(cell))

    def _boolean_or_none(self, cell: Any) -> bool | None:
        return self._boolean(cell)

    @staticmethod
    def _decimal(cell: Any) -> Decimal | None:
        if isinstance(cell, bool):
            raise _Reject("is not an amount.")
        if isinstance(cell, (int, float)):
            text = repr(cell)
        else:
            text = _text(cell)
            if not _PLAIN_AMOUNT(text):
                text = _MONEY_JUNK.sub("", text)
        if not text:
            return None
        if "," in text:
            if "." in text:  # 1,234.50 (or 1.234,50)
                if text.rfind(",") > text.rfind("."):
                    text = text.replace(".", "").replace(",", ".")
                else:
                    text = text.replace(",", "")
            elif re.fullmatch(r"\d{1,3}(,\d{3})+", text):
                text = text.replace(",", "")
            else:  # 12,5 → 12.5
                text = text.replace(",", ".")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise _Reject(f"'{_text(cell)[:40]}' is not an amount.") from None
        if not value.is_finite():
            raise _Reject("is not an amount.")
        if value < 0:
            raise _Reject("must not be negative.")
        if value > _MAX_TOTAL:
            raise _Reject("is too large.")
        exponent = value.as_tuple().exponent
        if exponent < -4:
            raise _Reject("has more than 4 decimals.")
        if exponent > 0:  # 1e3, 1.5E+3: written out (1000, 1500), not as the exponent form
            value = value.quantize(_UNITS)
        return value


def _report_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, ServiceType):
        return value.slug
    if isinstance(value, Location):
        return value.code
    if isinstance(value, str) and type(value) is not str:
        return str(value)  # a TextChoices member: plain text for the report process
    return value


_PLAIN = frozenset({str, bool, int, Decimal, date, list})


def report_columns(rows: list[dict[str, Any]]) -> list[list[Any]]:
    """The canonical values of `rows`, column by column in column order, as the report
    files show them (plain types only: they are pickled to the report writer process)."""
    columns = []
    for name in COLUMN_NAMES:
        values = list(map(dict.get, rows, repeat(name)))
        if not set(map(type, values)) <= _PLAIN:
            # catalogue entries and None: few distinct objects, each converted once
            objects = dict(zip(map(id, values), values, strict=True))
            shown = {
                key: value if type(value) in _PLAIN else _report_value(value)
                for key, value in objects.items()
            }
            values = list(map(shown.__getitem__, map(id, values)))
        columns.append(values)
    return columns
