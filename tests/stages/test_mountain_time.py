"""Mountain Time wall-clock parsing: DST-aware, gap refused, fall-back is the first."""

from datetime import UTC, datetime

import pytest

from stages.mountain_time import MountainTimeError, parse_mountain, to_mountain


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-01-15 09:00", datetime(2026, 1, 15, 16, 0, tzinfo=UTC)),
        ("2026-07-15T09:00:30.250", datetime(2026, 7, 15, 15, 0, 30, 250000, tzinfo=UTC)),
        ("2026-03-08 01:59:59", datetime(2026, 3, 8, 8, 59, 59, tzinfo=UTC)),
        ("2026-03-08 03:00:00", datetime(2026, 3, 8, 9, 0, tzinfo=UTC)),
        ("2026-11-01 00:59:59", datetime(2026, 11, 1, 6, 59, 59, tzinfo=UTC)),
        ("2026-11-01 01:00", datetime(2026, 11, 1, 7, 0, tzinfo=UTC)),  # first 01:00, MDT
        ("2026-11-01 02:00", datetime(2026, 11, 1, 9, 0, tzinfo=UTC)),  # after: MST
        ("2026-11-01T01:00:00-07:00", datetime(2026, 11, 1, 8, 0, tzinfo=UTC)),  # second
        ("2026-06-01T12:00:00Z", datetime(2026, 6, 1, 12, 0, tzinfo=UTC)),
        ("  2026-06-01 12:00  ", datetime(2026, 6, 1, 18, 0, tzinfo=UTC)),
    ],
)
def test_parse_mountain(text, utc):
    assert parse_mountain(text) == utc


@pytest.mark.parametrize("text", ["2026-03-08 02:00", "2026-03-08 02:59:59", "2027-03-14 02:30"])
def test_the_spring_forward_gap_does_not_exist(text):
    with pytest.raises(MountainTimeError, match="does not exist"):
        parse_mountain(text)


@pytest.mark.parametrize("text", ["", "2026-03-08", "08/03/2026 10:00", "2026-03-08 25:00", "x"])
def test_what_is_not_a_date_and_time(text):
    with pytest.raises(MountainTimeError):
        parse_mountain(text)


def test_to_mountain_shows_the_offset_in_effect():
    assert to_mountain(datetime(2026, 1, 15, 16, 0, tzinfo=UTC)) == "2026-01-15T09:00:00-07:00"
    assert to_mountain(datetime(2026, 7, 15, 15, 0, tzinfo=UTC)) == "2026-07-15T09:00:00-06:00"
    assert to_mountain(None) is None
