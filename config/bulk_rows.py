"""Write many rows of one model at once: COPY on PostgreSQL, bulk_create elsewhere.

For demo data and bulk histories at scale, where a model instance (or a psycopg adaptation)
per value would cost more than the database does. A `BulkRows` is compiled once per model
and call: the columns a caller gives vary per row; every other column gets a constant (its
field default, `now` for auto_now fields, or a value the caller fixes for the whole call),
encoded once. On PostgreSQL, rows given column by column (`add_columns`) are converted a
column at a time and joined into COPY's text format; a single row is one `str.format`.

`BulkRows.ids(count)` takes primary keys from the table's sequence up front (one round trip),
so that child rows can name their parents before anything is written.
"""

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time
from decimal import Decimal
from itertools import repeat
from typing import Any
from uuid import UUID

from django.db import connection, models

NULL = r"\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SPECIAL = re.compile(r"[\\\t\n\r]").search
COPY_CHUNK = 1 << 20  # characters per write to the COPY stream


def copy_text(value: Any) -> str:
    """One value in COPY's text format."""
    if value is None:
        return NULL
    kind = type(value)
    if kind is str:
        return value.translate(_ESCAPES) if _SPECIAL(value) else value
    if kind is bool:
        return "t" if value else "f"
    if kind is int or kind is Decimal or kind is float:
        return str(value)
    if kind is datetime or kind is date or kind is time:
        return value.isoformat()
    if kind is list or kind is dict or kind is tuple:
        return json.dumps(value).translate(_ESCAPES)
    if kind is UUID:
        return value.hex
    return str(value).translate(_ESCAPES)


# Column converters: what `copy_text` makes of each value, a whole column at a time. The
# common columns (one type, nothing to escape) are converted in C: the types of a column are
# found by one `set(map(type, ...))`, and whether any of its strings needs an escape by one
# search of their concatenation (joining strings makes no character none of them has).
# Anything else goes through copy_text value by value (the same text).
_NoneType = type(None)
_STR = frozenset({str})
_STR_OR_NONE = frozenset({str, _NoneType})
_NUMBERS = frozenset({int, Decimal})
_NUMBERS_OR_NONE = frozenset({int, Decimal, _NoneType})
_BOOLEAN_TEXTS = {True: "t", False: "f", None: NULL}
_BOOLEANS = frozenset({bool, _NoneType})
_DATES = frozenset({date, _NoneType})
_MOMENTS = frozenset({date, datetime, time, _NoneType})


def _texts_of_text(values: Sequence[Any]) -> Sequence[str]:
    kinds = set(map(type, values))
    if kinds == _STR:
        if not _SPECIAL("".join(values)):
            return values
    elif kinds <= _STR_OR_NONE and not _SPECIAL("".join(filter(None, values))):
        return [NULL if value is None else value for value in values]
    special = _SPECIAL
    return [
        value if type(value) is str and not special(value) else copy_text(value) for value in values
    ]


def _texts_of_numbers(values: Sequence[Any]) -> list[str]:
    kinds = set(map(type, values))
    if kinds <= _NUMBERS:
        return list(map(str, values))
    if kinds <= _NUMBERS_OR_NONE:  # a nullable foreign key
        return [NULL if value is None else str(value) for value in values]
    return [copy_text(value) for value in values]


def _texts_of_booleans(values: Sequence[Any]) -> list[str]:
    if set(map(type, values)) <= _BOOLEANS:
        return list(map(_BOOLEAN_TEXTS.__getitem__, values))
    return [copy_text(value) for value in values]


def _texts_of_moments(values: Sequence[Any]) -> list[str]:
    kinds = set(map(type, values))
    if kinds <= _DATES:
        # dates repeat (an import's order and due dates), and equal dates have one text
        texts = {value: copy_text(value) for value in set(values)}
        return list(map(texts.__getitem__, values))
    if kinds <= _MOMENTS:
        # equal datetimes may differ in their zones: one text per object instead
        by_object = {id(value): copy_text(value) for value in values}
        return list(map(by_object.__getitem__, map(id, values)))
    return [copy_text(value) for value in values]


def _texts_of_json(values: Sequence[Any]) -> list[str]:
    # lists of strings (an import's add-ons) repeat: each distinct one is encoded once (a
    # list holding other types, whose equal items may differ in JSON, 1 and true, each time)
    known: dict[tuple, str] = {}
    texts = []
    for value in values:
        if type(value) is list and set(map(type, value)) <= _STR:
            key = tuple(value)
            text = known.get(key)
            if text is None:
                text = known[key] = copy_text(value)
            texts.append(text)
        else:
            texts.append(copy_text(value))
    return texts


def _texts_of_any(values: Sequence[Any]) -> list[str]:
    return [copy_text(value) for value in values]


_TEXTS_BY_TYPE = {
    "CharField": _texts_of_text,
    "TextField": _texts_of_text,
    "SlugField": _texts_of_text,
    "EmailField": _texts_of_text,
    "IntegerField": _texts_of_numbers,
    "BigIntegerField": _texts_of_numbers,
    "PositiveIntegerField": _texts_of_numbers,
    "PositiveSmallIntegerField": _texts_of_numbers,
    "SmallIntegerField": _texts_of_numbers,
    "AutoField": _texts_of_numbers,
    "BigAutoField": _texts_of_numbers,
    "DecimalField": _texts_of_numbers,
    "BooleanField": _texts_of_booleans,
    "DateField": _texts_of_moments,
    "DateTimeField": _texts_of_moments,
    "TimeField": _texts_of_moments,
    "JSONField": _texts_of_json,
}


def _column_texts_for(field: models.Field):
    """How a column of `field`'s values becomes COPY text: what `copy_text` makes of each
    value, with the field type's common case inline. Foreign keys take their target's."""
    target = field.target_field if field.is_relation else field
    return _TEXTS_BY_TYPE.get(target.get_internal_type(), _texts_of_any)


def _braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


class BulkRows:
    """Rows of `model` given as tuples of `columns` (attnames), the rest constant.

    `constants` fixes columns for the whole call (attname → value); `now` fills auto_now and
    auto_now_add fields that are neither given nor constant. The primary key is written only
    when it is one of `columns` (take it from `ids`); otherwise the database assigns it.
    """

    def __init__(
        self,
        model: type[models.Model],
        columns: Sequence[str],
        *,
        constants: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> None:
        self.model = model
        self.columns = list(columns)
        self.postgresql = connection.vendor == "postgresql"
        constants = dict(constants or {})
        fields = [
            f for f in model._meta.concrete_fields if f.attname in self.columns or not f.primary_key
        ]
        unknown = set(self.columns) - {f.attname for f in fields}
        if unknown:
            raise ValueError(f"{model.__name__} has no column {sorted(unknown)[0]}")
        for field in fields:
            if field.attname in self.columns or field.attname in constants:
                continue
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                constants[field.attname] = now
            else:
                constants[field.attname] = field.get_default()
        by_name = {f.attname: f for f in fields}
        # COPY's columns: the given ones first, then the constants, whose text ends each row
        fixed = [f for f in fields if f.attname not in self.columns]
        self.fields = [by_name[name] for name in self.columns] + fixed
        self.constants = constants
        self._fixed = bool(fixed)
        self._constant_text = "\t".join(copy_text(constants[f.attname]) for f in fixed)
        self._template = (
            "\t".join(
                [f"{{{index}}}" for index in range(len(self.columns))]
                + ([_braces(self._constant_text)] if fixed else [])
            )
            + "\n"
        )
        self._sql = "COPY {} ({}) FROM STDIN".format(
            connection.ops.quote_name(model._meta.db_table),
            ", ".join(connection.ops.quote_name(f.column) for f in self.fields),
        )
        self._column_texts = [_column_texts_for(by_name[name]) for name in self.columns]
        self._lines: list[str] = []
        self._objects: list[models.Model] = []
        self.count = 0

    def ids(self, count: int) -> list[int]:
        """`count` fresh primary keys for rows that give `id` (in increasing order)."""
        if count <= 0:
            return []
        table = self.model._meta.db_table
        with connection.cursor() as cursor:
            if self.postgresql:
                # the sequence found once (a CTE), not once per id: 1.2 ms for 2,000 ids
                # instead of 7.5 (pg_get_serial_sequence reads the catalogue at every call)
                cursor.execute(
                    "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, 'id')::regclass"
                    " AS id) SELECT nextval(s.id) FROM s, generate_series(1, %s)",
                    [table, count],
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite (small demo data): above the largest id, inside the caller's transaction
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")
            start = cursor.fetchone()[0] + 1
            return list(range(start, start + count))

    def add(self, *values: Any) -> None:
        """One row: values in the order of `columns`."""
        self.count += 1
        if self.postgresql:
            self._lines.append(self._template.format(*map(copy_text, values)))
        else:
            given = dict(zip(self.columns, values, strict=True))
            self._objects.append(self.model(**self.constants, **given))

    def add_text(self, *texts: str) -> None:
        """One row of values already in COPY text (hot loops); see `copy_text`."""
        self.count += 1
        if self.postgresql:
            self._lines.append(self._template.format(*texts))
        else:
            raise TypeError("add_text is for PostgreSQL; use add()")

    def add_columns(self, *columns: Sequence[Any]) -> None:
        """Many rows at once, given column by column in the order of `columns` (hot loops):
        each column is converted by a converter made for its field's type (a column at a
        time), and the rows are joined into one block of COPY text."""
        count = len(columns[0]) if columns else 0
        if not count:
            return
        self.count += count
        if self.postgresql:
            if len(columns) != len(self.columns) or any(len(c) != count for c in columns):
                raise ValueError(f"add_columns takes {len(self.columns)} columns of {count} rows")
            texts = [
                convert(values) for convert, values in zip(self._column_texts, columns, strict=True)
            ]
            if self._fixed:
                texts.append(repeat(self._constant_text, count))
            self._lines.append("\n".join(map("\t".join, zip(*texts, strict=True))) + "\n")
        else:
            for values in zip(*columns, strict=True):
                given = dict(zip(self.columns, values, strict=True))
                self._objects.append(self.model(**self.constants, **given))

    def write(self) -> int:
        """Write the rows added so far; returns how many."""
        written = self.count
        if self.postgresql:
            _copy(self._sql, self._lines)
        elif self._objects:
            self.model.objects.bulk_create(self._objects, batch_size=2000)
        self._lines, self._objects, self.count = [], [], 0
        return written


def _copy(sql: str, lines: Iterable[str]) -> None:
    # psycopg's own copy: its errors become Django's (IntegrityError...) as for execute()
    with connection.cursor() as cursor, connection.wrap_database_errors:
        with cursor.cursor.copy(sql) as copy:
            chunk, size = [], 0
            for line in lines:
                chunk.append(line)
                size += len(line)
                if size >= COPY_CHUNK:
                    copy.write("".join(chunk))
                    chunk, size = [], 0
            if chunk:
                copy.write("".join(chunk))


def _may_turn_triggers_off() -> bool:
    """Whether this role may set session_replication_role: a superuser, or (PostgreSQL 15+)
    a role granted it (`GRANT SET ON PARAMETER session_replication_role TO <role>`)."""
    cached = getattr(connection, "_orderdesk_may_turn_triggers_off", None)
    if cached is None:
        with connection.cursor() as cursor:
            if connection.pg_version >= 150000:
                cursor.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
            else:
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            row = cursor.fetchone()
        cached = bool(row and row[0])
        connection._orderdesk_may_turn_triggers_off = cached
    return cached


def _lock_parents(parents: Mapping[type[models.Model], Iterable[Any]]) -> bool:
    """Lock each named parent row FOR KEY SHARE, as a foreign-key trigger does for each row
    that names it; False when one of them does not exist."""
    with connection.cursor() as cursor:
        for model, keys in parents.items():
            wanted = sorted({key for key in keys if key is not None})
            if not wanted:
                continue
            table = connection.ops.quote_name(model._meta.db_table)
            pk = connection.ops.quote_name(model._meta.pk.column)
            cursor.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {pk} = ANY(%s) "  # noqa: S608
                "FOR KEY SHARE) locked",
                [wanted],
            )
            if cursor.fetchone()[0] != len(wanted):
                return False
    return True


@contextmanager
def foreign_keys_checked_once(
    parents: Mapping[type[models.Model], Iterable[Any]],
) -> Iterator[bool]:
    """Check the foreign keys of the rows written inside once per parent, not once per row.

    PostgreSQL checks every foreign key of every inserted row with a trigger (queued until
    COMMIT for deferred constraints): for a bulk write, a lookup per row and key, about a
    third of its time. Here the parents the rows name (`parents`: model → primary keys;
    rows that name rows written in the same transaction need none) are locked FOR KEY SHARE
    up front — what those triggers would do — and the triggers are off
    (`session_replication_role = replica`, as pg_restore --disable-triggers) until the block
    ends. Yields whether it did: only inside a transaction, on PostgreSQL, for a role that
    may set the parameter, and when every parent exists; otherwise the constraints are
    checked as usual and refuse a missing parent.
    """
    quick = (
        connection.vendor == "postgresql"
        and connection.in_atomic_block
        and _may_turn_triggers_off()
        and _lock_parents(parents)
    )
    if quick:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
    yield quick
    if quick:  # on an error the transaction (or savepoint) rolls the setting back itself
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = origin")
