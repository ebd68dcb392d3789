"""Row validation and normalisation, cell by cell."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from group_orders.services.columns import COLUMN_NAMES
from group_orders.services.rows import Catalogue, RowNormaliser
from tests.factories.group_orders import catalogue

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 1)


@pytest.fixture
def normaliser():
    catalogue()
    return RowNormaliser(columns=list(COLUMN_NAMES), catalogue=Catalogue.load(), today=TODAY)


def row(**cells):
    base = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "service_type": "portrait",
    }
    base.update(cells)
    return [base.get(name, "") for name in COLUMN_NAMES]


def normalise(normaliser, **cells):
    return normaliser.normalise(row(**cells))


def value(normaliser, name, cell):
    values, errors = normalise(normaliser, **{name: cell})
    assert errors == [], errors
    return values[name]


def error(normaliser, name, cell) -> str:
    _, errors = normalise(normaliser, **{name: cell})
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{name}: ")
    return errors[0]


def test_a_good_row_is_normalised(normaliser):
    values, errors = normalise(
        normaliser,
        first_name="  Ada   Augusta ",
        email=" ADA@Example.COM ",
        telephone="(604) 555-0101",
        service_type="Portrait",
        location="DOWNTOWN",
    )
    assert errors == []
    assert values["first_name"] == "Ada Augusta"
    assert values["email"] == "ada@example.com"
    assert values["telephone"] == "+16045550101"
    assert values["service_type"].slug == "portrait"
    assert values["location"].code == "downtown"
    assert values["order_type"] == "collection"
    assert values["delivery_rush"] is False and values["notify"] is None


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("+44 20 7946 0958", "+442079460958"),
        ("604.555.0101", "+16045550101"),
        ("1-604-555-0101", "+16045550101"),
        ("0044 20 7946 0958", "+442079460958"),
        ("604-555-0101 ext. 12", "+16045550101"),
        (6045550101.0, "+16045550101"),
        ("", ""),
    ],
)
def test_phone_numbers_are_normalised(normaliser, cell, expected):
    assert value(normaliser, "telephone", cell) == expected


@pytest.mark.parametrize("cell", ["call me", "555-0101", "+12", "+1 234 567 890 123 456"])
def test_bad_phone_numbers_are_rejected(normaliser, cell):
    error(normaliser, "telephone", cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-03-15", date(2026, 3, 15)),
        ("2026/03/15", date(2026, 3, 15)),
        ("03/15/2026", date(2026, 3, 15)),
        ("15.03.2026", date(2026, 3, 15)),
        ("2026-03-15T10:30:00", date(2026, 3, 15)),
        (datetime(2026, 3, 15, 0, 0, tzinfo=UTC), date(2026, 3, 15)),  # calamine: naive
        (date(2026, 3, 15), date(2026, 3, 15)),
        ("", None),
    ],
)
def test_dates_are_read_in_the_documented_forms(normaliser, cell, expected):
    assert value(normaliser, "order_date", cell) == expected


@pytest.mark.parametrize("cell", ["2026-13-45", "31/31/2026", "not a date", "2026-02-30", "3/4/26"])
def test_malformed_dates_are_rejected(normaliser, cell):
    assert "is not a date" in error(normaliser, "order_date", cell)


@pytest.mark.parametrize(
    ("cell", "shown"), [("0026-03-15", "0026-03-15"), (date(1899, 12, 31), "1899-12-31")]
)
def test_dates_before_1900_are_rejected(normaliser, cell, shown):
    assert error(normaliser, "order_date", cell) == f"order_date: {shown} is before 1900."
    assert value(normaliser, "order_date", "1900-01-01") == date(1900, 1, 1)


def test_day_first_dates_with_the_setting(settings, normaliser):
    settings.ORDERDESK_GROUP_ORDER_DATE_ORDER = "DMY"
    day_first = RowNormaliser(
        columns=list(COLUMN_NAMES), catalogue=normaliser.catalogue, today=TODAY
    )
    assert value(day_first, "order_date", "03/04/2026") == date(2026, 4, 3)
    assert value(normaliser, "order_date", "03/04/2026") == date(2026, 3, 4)


def test_a_due_date_in_the_past_is_rejected_today_is_fine(normaliser):
    assert "2026-02-28 is in the past" in error(normaliser, "due_date", "2026-02-28")
    assert value(normaliser, "due_date", "2026-03-01") == TODAY


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("14:30", time(14, 30)),
        ("14:30:15", time(14, 30, 15)),
        ("2:30 PM", time(14, 30)),
        ("12:05 am", time(0, 5)),
        (time(9, 0), time(9, 0)),
        (timedelta(hours=9, minutes=15), time(9, 15)),
    ],
)
def test_times(normaliser, cell, expected):
    assert value(normaliser, "order_time", cell) == expected


def test_a_bad_time_is_rejected(normaliser):
    assert "is not a time" in error(normaliser, "order_time", "25:99")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("yes", True),
        ("Y", True),
        ("TRUE", True),
        ("1", True),
        ("x", True),
        (True, True),
        ("no", False),
        ("0", False),
        ("off", False),
        ("", False),
    ],
)
def test_booleans(normaliser, cell, expected):
    assert value(normaliser, "delivery_rush", cell) is expected


def test_notify_empty_is_unknown_and_bad_boolean_rejected(normaliser):
    assert value(normaliser, "notify", "") is None
    assert "is not yes or no" in error(normaliser, "notify", "maybe")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1,234.50", Decimal("1234.50")),
        ("1.234,50", Decimal("1234.50")),
        ("12,5", Decimal("12.5")),
        ("$12", Decimal("12")),
        ("€ 9.99", Decimal("9.99")),
        (129.5, Decimal("129.5")),
        (10, Decimal("10")),
        ("", None),
    ],
)
def test_amounts(normaliser, cell, expected):
    assert value(normaliser, "order_total", cell) == expected


@pytest.mark.parametrize(
    ("cell", "text"), [("1e3", "1000"), ("1.5E+3", "1500"), ("2.50e1", "25.0")]
)
def test_amounts_in_exponent_form_are_written_out(normaliser, cell, text):
    # the normalized CSV shows str() of the value: 1000, not 1E+3
    assert str(value(normaliser, "order_total", cell)) == text


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("-5", "must not be negative"),
        ("12.34567", "more than 4 decimals"),
        ("lots", "is not an amount"),
        ("NaN", "is not an amount"),
        ("1e12", "is too large"),
    ],
)
def test_bad_amounts(normaliser, cell, reason):
    assert reason in error(normaliser, "order_total", cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("ship", "delivery"), ("Pick Up", "collection"), ("DELIVERY", "delivery"), ("", "collection")],
)
def test_order_types(normaliser, cell, expected):
    assert value(normaliser, "order_type", cell) == expected


def test_unknown_order_type_service_type_and_location(normaliser):
    assert "is not delivery or collection" in error(normaliser, "order_type", "teleport")
    assert "known: framing, portrait" in error(normaliser, "service_type", "knitting")
    assert "not a known location" in error(normaliser, "location", "mars")


def test_required_cells(normaliser):
    for name in ("first_name", "last_name", "email", "service_type"):
        assert error(normaliser, name, "  ") == f"{name}: is required."


def test_bad_email(normaliser):
    assert "not a valid e-mail address" in error(normaliser, "email", "ada@")


@pytest.mark.parametrize("name", ["first_name", "notes", "external_id", "comment"])
def test_formula_cells_are_rejected(normaliser, name):
    reason = error(normaliser, name, '=HYPERLINK("http://evil.example","click")')
    assert "looks like a spreadsheet formula" in reason


def test_a_cell_longer_than_excel_allows_is_rejected(normaliser):
    reason = error(normaliser, "notes", "x" * 40000)
    assert "40,000 characters; at most 32,767" in reason


def test_addons_are_split(normaliser):
    assert value(normaliser, "services_addons", "retouch; frame | gift wrap,") == [
        "retouch",
        "frame",
        "gift wrap",
    ]


def test_too_many_and_too_few_cells(normaliser):
    cells = row()
    _, errors = normaliser.normalise(cells + ["surplus"])
    assert errors == [
        f"The row has {len(cells) + 1} cells; the header has {len(cells)} "
        "(a delimiter inside a value needs quotes)."
    ]
    _, errors = normaliser.normalise(cells[:4])
    assert errors == [f"The row has 4 cells; the header has {len(cells)}."]
    # empty trailing cells (a spreadsheet's habit) are fine
    assert normaliser.normalise(cells + ["", " "])[1] == []


def test_undecodable_characters_are_rejected(normaliser):
    assert "not valid in the file's encoding" in error(normaliser, "last_name", "M\ufffdller")


def test_several_problems_are_all_reported(normaliser):
    _, errors = normalise(normaliser, email="nope", order_total="-1", due_date="2001-01-01")
    assert len(errors) == 3


def test_many_rows_at_once_are_normalised_as_each_row_alone(normaliser):
    """normalise_many reads a repeated text once per batch: the values and reasons are
    those of each row normalised alone, in the rows' order, wrong widths included."""
    cells = [
        row(service_type="Portrait", due_date="2026-03-02", delivery_rush="yes"),
        row(service_type="portrait", due_date="2026-03-02", delivery_rush="yes"),
        row(service_type="knitting", due_date="2001-01-01", email="nope"),
        row(service_type="knitting", first_name="  Ada   King ", order_type="pick up"),
        row()[:4],
        row() + ["surplus"],
        row(order_total="=1+1", notify=""),
        row(order_total="=1+1", notify="maybe", first_name="x" * 40000),
        # typed cells, as an XLSX gives them: equal as keys, not as cells
        row(delivery_rush=True, order_total=1, order_date=date(2026, 2, 1)),
        row(delivery_rush=1, order_total=1.0, order_date=datetime(2026, 2, 1, 9, 30)),  # noqa: DTZ001
        row(delivery_rush="1", order_total="1", order_date="2026-02-01"),
        row(services_addons="frame; gift", comment=None),
        row(services_addons="frame; gift", comment=None),
    ]
    alone = [normaliser.normalise(one) for one in cells]

    together = normaliser.normalise_many(cells)

    assert together == alone
    assert [len(errors) for _, errors in together] == [0, 0, 3, 1, 1, 1, 1, 3, 0, 0, 0, 0, 0]
    assert [values.get("order_total") for values, _ in together[8:11]] == [
        Decimal("1"),
        Decimal("1.0"),
        Decimal("1"),
    ]
    assert together[0][0]["service_type"] is together[1][0]["service_type"]
    # every row has lists of its own
    assert together[11][0]["services_addons"] == ["frame", "gift"]
    assert together[11][0]["services_addons"] is not together[12][0]["services_addons"]
    assert normaliser.normalise_many([]) == []


def test_report_columns_hold_plain_values_in_column_order(normaliser):
    from group_orders.services.rows import report_columns

    rows = [
        normalise(normaliser, location="downtown", order_type="ship", due_date="2026-03-02")[0],
        normalise(normaliser, order_total="12.5", services_addons="a|b")[0],
    ]
    columns = report_columns(rows)
    assert len(columns) == len(COLUMN_NAMES)
    by_name = dict(zip(COLUMN_NAMES, columns, strict=True))
    assert by_name["service_type"] == ["portrait", "portrait"]  # the slug
    assert by_name["location"] == ["downtown", ""]  # the code; none: empty
    assert by_name["order_type"] == ["delivery", "collection"]
    assert by_name["due_date"] == [date(2026, 3, 2), ""]
    assert by_name["order_total"] == ["", Decimal("12.5")]
    assert by_name["services_addons"] == [[], ["a", "b"]]
    plain = {str, bool, int, Decimal, date, list}
    assert {type(value) for column in columns for value in column} <= plain
