"""config.bulk_rows: a column converted at once gives what copy_text gives value by value,
and rows added column by column are the same COPY text as rows added one at a time."""

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

from config import bulk_rows
from config.bulk_rows import NULL, BulkRows, copy_text
from orders.models import Order, OrderLine, OrderType

EAST = timezone(timedelta(hours=5))
NOON_UTC = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

COLUMNS = {
    "plain text": ["Ada", "Grace", "", "Ada", "é ü"],
    "text to escape": ["a\tb", "line\nbreak", "back\\slash", "cr\r", "plain"],
    "escape in the last value only": ["plain", "also plain", "tab\tat the end"],
    "text and None": ["x", None, "", None, "y"],
    "None and text to escape": [None, "a\\N", "b"],
    "only None": [None, None],
    "text and other types": ["x", 12, Decimal("1.50"), True, None, OrderType.DELIVERY],
    "enum members": [OrderType.DELIVERY, OrderType.COLLECTION, OrderType.DELIVERY],
    "numbers": [1, 22, Decimal("3.5000"), Decimal("0"), 10**20],
    "numbers and None": [1, None, Decimal("2.25")],
    "numbers and booleans": [1, True, False, 0],
    "floats": [1.5, 2.0],
    "booleans": [True, False, True],
    "booleans and None": [True, None, False],
    "booleans and other": [True, 1, "yes", None],
    "dates": [date(2026, 1, 2), date(2026, 1, 2), date(2027, 12, 31)],
    "dates and None": [None, date(2026, 1, 2), None],
    "equal instants in two zones": [NOON_UTC, NOON_UTC.astimezone(EAST), NOON_UTC],
    "naive and aware datetimes": [datetime(2026, 1, 2, 3, 4, 5), NOON_UTC, None],  # noqa: DTZ001
    "times": [time(9, 30), time(9, 30, 1, 5), None],
    "dates and datetimes": [date(2026, 5, 1), datetime(2026, 5, 1, tzinfo=UTC)],
    "moments and text": [date(2026, 5, 1), "2026-05-01", None],
    "lists": [[], ["a", "b\tc"], None],
    "lists of strings that repeat": [["a", "b"], [], ["a", "b"], ["b", "a"], [], ["\\"]],
    "equal lists that differ in JSON": [[1], [True], [1.0], ["1"], [[1]], [(1,)], {"a": 1}],
    "ids and None": [3, None, 4],
}
CONVERTERS = [
    bulk_rows._texts_of_text,
    bulk_rows._texts_of_numbers,
    bulk_rows._texts_of_booleans,
    bulk_rows._texts_of_moments,
    bulk_rows._texts_of_json,
    bulk_rows._texts_of_any,
]


@pytest.mark.parametrize("convert", CONVERTERS, ids=lambda convert: convert.__name__)
@pytest.mark.parametrize("values", COLUMNS.values(), ids=list(COLUMNS))
def test_a_column_converted_at_once_is_copy_text_of_each_value(convert, values):
    assert list(convert(values)) == [copy_text(value) for value in values]


def test_the_escapes_and_nulls_themselves():
    assert list(bulk_rows._texts_of_text(["a\tb", None, "c\\"])) == ["a\\tb", NULL, "c\\\\"]
    assert bulk_rows._texts_of_booleans([True, None, False]) == ["t", NULL, "f"]
    zones = bulk_rows._texts_of_moments([NOON_UTC, NOON_UTC.astimezone(EAST)])
    assert zones == ["2026-05-01T12:00:00+00:00", "2026-05-01T17:00:00+05:00"]


def _rows(columns, constants=None, model=Order):
    rows = BulkRows(model, columns, constants=constants, now=NOON_UTC)
    rows.postgresql = True  # the COPY text only: nothing is written
    return rows


ORDER_COLUMNS = ["id", "number", "first_name", "notify", "order_total", "due_date", "date_added"]
ORDER_ROWS = [
    (1, "100", "Ada", True, Decimal("12.50"), date(2026, 1, 2), NOON_UTC),
    (2, "101", "Gr\tace", None, None, None, NOON_UTC.astimezone(EAST)),
    (3, "102", "", False, Decimal("0"), date(2026, 1, 2), NOON_UTC),
]


@pytest.mark.parametrize("constants", [{}, {"payment": "card\nnew line", "notes": ""}])
def test_rows_added_column_by_column_are_the_rows_added_one_by_one(constants):
    one_by_one = _rows(ORDER_COLUMNS, constants)
    for row in ORDER_ROWS:
        one_by_one.add(*row)
    at_once = _rows(ORDER_COLUMNS, constants)
    at_once.add_columns(*(list(column) for column in zip(*ORDER_ROWS, strict=True)))

    assert "".join(at_once._lines) == "".join(one_by_one._lines)
    assert at_once.count == one_by_one.count == 3
    first = "".join(at_once._lines).splitlines()[0].split("\t")
    assert first[: len(ORDER_COLUMNS)] == ["1", "100", "Ada", "t", "12.50", "2026-01-02"] + [
        "2026-05-01T12:00:00+00:00"
    ]
    assert len(first) == len(at_once.fields)  # every column of the COPY, constants last
    assert [field.attname for field in at_once.fields[: len(ORDER_COLUMNS)]] == ORDER_COLUMNS


def test_a_constant_whose_text_is_empty_still_has_its_column():
    given = ["order_id", "name", "option", "quantity", "price", "subtotal"]
    rows = _rows(given, model=OrderLine)  # the one constant: comment, ""
    rows.add_columns([7, 8], ["a", "b"], ["", ""], [1, 2], [Decimal(1)] * 2, [Decimal(2)] * 2)
    assert [field.attname for field in rows.fields] == [*given, "comment"]
    assert "".join(rows._lines) == "7\ta\t\t1\t1\t2\t\n8\tb\t\t2\t1\t2\t\n"


def test_columns_of_unequal_length_are_refused():
    rows = _rows(["id", "number"])
    with pytest.raises(ValueError, match="2 columns of 2 rows"):
        rows.add_columns([1, 2], ["100"])
