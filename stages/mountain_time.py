"""Mountain Time (America/Denver) wall-clock values of the Plano stage documents.

Integrators send `stage_at_mt`, `created_at_mt`, `notified_at_mt` (and the appointment
times) as the clock on the wall in Denver. We store aware UTC and show both back.

Rules (documented in docs/stages.md):
- ISO 8601 date and time, `T` or a space between them, seconds and fractions optional:
  `2026-03-08 14:05`, `2026-03-08T14:05:09.250`.
- Without an offset the value is Denver wall-clock time, DST-aware (MST -07:00 in winter,
  MDT -06:00 in summer).
- A time that does not exist (the spring-forward gap, e.g. 2026-03-08 02:30) is refused.
- A time that happens twice (the fall-back hour, e.g. 2026-11-01 01:30) is the FIRST
  occurrence (MDT, -06:00). Send an explicit offset (`-07:00`) to mean the second one.
- With an explicit offset (`-06:00`, `-0700`, `Z`, `+00:00`) the value is that instant as
  given, whatever the offset.
"""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

MOUNTAIN = ZoneInfo("America/Denver")

_DATE_AND_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


class MountainTimeError(ValueError):
    """The value is not a Mountain Time timestamp; the message says why, for a person."""


def parse_mountain(value: str) -> datetime:
    """A Mountain Time wall-clock string (or one with an explicit offset) → aware UTC."""
    text = value.strip()
    if not _DATE_AND_TIME.match(text):
        raise MountainTimeError(
            "Give a date and time like '2026-03-08 14:05:00' (Mountain Time) "
            "or with an offset like '2026-03-08T14:05:00-07:00'."
        )
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as error:
        raise MountainTimeError(f"Not a valid date and time: {error}.") from None
    try:  # at the ends of the calendar (year 1, year 9999) UTC may not exist
        if parsed.tzinfo is not None:
            return parsed.astimezone(UTC)
        local = parsed.replace(tzinfo=MOUNTAIN, fold=0)  # fold=0: the first of a repeated hour
        instant = local.astimezone(UTC)
    except OverflowError:
        raise MountainTimeError(f"{text} is out of range.") from None
    if instant.astimezone(MOUNTAIN).replace(tzinfo=None) != parsed:
        raise MountainTimeError(
            f"{parsed:%Y-%m-%d %H:%M} does not exist in Mountain Time: the clocks "
            "spring forward from 02:00 to 03:00 that night."
        )
    return instant


def to_mountain(value: datetime | None) -> str | None:
    """An aware datetime as Mountain Time ISO 8601 with its offset, e.g. ...T13:00:00-06:00."""
    if value is None:
        return None
    return value.astimezone(MOUNTAIN).isoformat()
