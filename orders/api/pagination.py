"""Keyset (cursor) pagination: every page costs the same, on page 1 or deep in a million rows.

The queryset may be a values() queryset (rows as dicts with `id` and the ordering field):
lists that render rows need no model instances.

The cursor is an opaque token holding the ordering, the last (or first) row's sort value and
id, and the direction. Each ordering sorts by (field, id), which an index covers. A nullable
field sorts NULL as the largest value (PostgreSQL's own default), split into a non-null and a
null segment so that each query is an index range scan; a page that crosses the boundary
costs one more query.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import F, Q, QuerySet, prefetch_related_objects

from config.api.errors import InvalidParam

NEXT, PREV = "next", "prev"


@dataclass(frozen=True)
class KeysetPage:
    items: list[Any]
    next_cursor: str | None
    prev_cursor: str | None


@dataclass(frozen=True)
class _Position:
    value: Any
    pk: int


def _encode(ordering: str, value: Any, pk: int, direction: str) -> str:
    if isinstance(value, (datetime, date)):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = str(value)
    raw = json.dumps({"o": ordering, "v": value, "i": pk, "d": direction}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _parse_value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "DateTimeField":
        return datetime.fromisoformat(value)
    if kind == "DateField":
        return date.fromisoformat(value)
    if kind == "DecimalField":
        return Decimal(value)
    return int(value)


class Keyset:
    """Orderings a list offers: name → model field; `-name` sorts descending."""

    def __init__(self, model, fields: tuple[str, ...], default: str) -> None:
        self.model = model
        self.fields = fields
        self.default = default

    @property
    def choices(self) -> list[str]:
        return [f"{sign}{name}" for name in self.fields for sign in ("", "-")]

    def _field(self, ordering: str):
        return self.model._meta.get_field(ordering.lstrip("-"))

    def _decode(self, cursor: str, ordering: str) -> tuple[_Position, str]:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            if data["o"] != ordering or data["d"] not in (NEXT, PREV):
                raise ValueError("ordering")
            kind = self._field(ordering).get_internal_type()
            position = _Position(_parse_value(kind, data["v"]), int(data["i"]))
        except (ValueError, KeyError, TypeError, binascii.Error, InvalidOperation):
            raise InvalidParam(
                "cursor",
                "The cursor is not valid for this ordering; use the links of a previous page.",
            ) from None
        return position, data["d"]

    def _segments(self, queryset: QuerySet, name: str, ascending: bool, nullable: bool):
        """The querysets that, one after the other, make up the whole ordering."""
        order = F(name).asc() if ascending else F(name).desc()
        pk_order = "pk" if ascending else "-pk"
        if not nullable:
            return [("value", queryset.order_by(order, pk_order))]
        values = ("value", queryset.filter(**{f"{name}__isnull": False}).order_by(order, pk_order))
        nulls = ("null", queryset.filter(**{f"{name}__isnull": True}).order_by(pk_order))
        return [values, nulls] if ascending else [nulls, values]

    def _fetch(
        self, queryset: QuerySet, name: str, ascending: bool, after: _Position | None, limit: int
    ) -> list[Any]:
        nullable = self._field(name).null
        segments = self._segments(queryset, name, ascending, nullable)
        if after is not None:
            start = "null" if after.value is None else "value"
            segments = segments[[kind for kind, _ in segments].index(start) :]
        items: list[Any] = []
        for kind, segment in segments:
            if after is not None:
                pk_after = Q(pk__gt=after.pk) if ascending else Q(pk__lt=after.pk)
                if kind == "null":
                    segment = segment.filter(pk_after)
                else:
                    bound, beyond = ("gte", "gt") if ascending else ("lte", "lt")
                    segment = segment.filter(
                        Q(**{f"{name}__{bound}": after.value})
                        & (Q(**{f"{name}__{beyond}": after.value}) | pk_after)
                    )
                after = None  # later segments are read from their start
            items.extend(segment[: limit - len(items)])
            if len(items) >= limit:
                break
        return items

    def paginate(
        self, queryset: QuerySet, *, ordering: str | None, cursor: str | None, per_page: int
    ) -> KeysetPage:
        ordering = ordering or self.default
        if ordering not in self.choices:
            raise InvalidParam("ordering", f"ordering must be one of {', '.join(self.choices)}.")
        name = ordering.lstrip("-")
        ascending = not ordering.startswith("-")
        lookups = queryset._prefetch_related_lookups
        queryset = queryset.prefetch_related(None)
        position, direction = self._decode(cursor, ordering) if cursor else (None, NEXT)

        if direction == NEXT:
            items = self._fetch(queryset, name, ascending, position, per_page + 1)
            has_next, has_prev = len(items) > per_page, position is not None
            items = items[:per_page]
        else:
            items = self._fetch(queryset, name, not ascending, position, per_page + 1)
            has_prev, has_next = len(items) > per_page, True
            items = list(reversed(items[:per_page]))
        if lookups:
            prefetch_related_objects(items, *lookups)

        def cursor_at(item, way):
            if isinstance(item, dict):  # a values() row
                return _encode(ordering, item[name], item["id"], way)
            return _encode(ordering, getattr(item, name), item.pk, way)

        next_cursor = cursor_at(items[-1], NEXT) if has_next and items else None
        prev_cursor = cursor_at(items[0], PREV) if has_prev and items else None
        if not items and position is not None:  # past the end: offer the way back
            way = PREV if direction == NEXT else NEXT
            turned = _encode(ordering, position.value, position.pk, way)
            next_cursor, prev_cursor = (turned, None) if way == NEXT else (None, turned)
        return KeysetPage(items=items, next_cursor=next_cursor, prev_cursor=prev_cursor)
