"""Statements: a query built with the ORM, compiled to SQL once, run with each call's values.

The API's hottest requests run the same few queries with different values (a token prefix,
an order id). Django builds and compiles a queryset anew on each call — for a query of thirty
columns with a join that is ~2 ms of Python, more than PostgreSQL spends answering it. A
`Statement` builds the queryset once per database alias and shape with placeholder values,
compiles it, finds where each placeholder's value went in the parameter list, and from then
on only substitutes the call's values and converts the columns as Django would.

    ORDER_ROW = Statement(Order, lambda p: Order.objects.filter(pk=p.int("order_id"))
                                                .values("id", "email")[:1])
    ORDER_ROW.dicts(order_id=5)   # [{"id": 5, "email": ...}] or []

`build(p, *shape)` must return a `values()` or `values_list()` queryset whose SQL depends only
on `shape` (a hashable, e.g. how many ids an IN list holds): the SQL is cached per shape. Each
placeholder must reach the parameter list exactly once, unchanged (a plain equality or IN
lookup on a column of the placeholder's type; not inside LIKE patterns or casts that rewrite
it) — compiling refuses otherwise. Nothing about the data is cached: every call queries.
"""

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connections, router
from django.db.models import Model, QuerySet, signals
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.sql import UpdateQuery

from config.cursors import statement_cursor

_INT_BASE = -7_340_000_000_000_000  # far outside any id or count a column holds
_MOMENT_BASE = datetime(1111, 1, 1, tzinfo=UTC)


class Placeholders:
    """Hands out one recognisable value per named parameter while a statement compiles."""

    def __init__(self):
        self.values: dict[str, Any] = {}
        self.moments: set[str] = set()

    def _add(self, name: str, value: Any) -> Any:
        if name in self.values:
            raise ValueError(f"placeholder {name!r} used twice")
        self.values[name] = value
        return value

    def int(self, name: str) -> int:
        return self._add(name, _INT_BASE - len(self.values))

    def ints(self, name: str, count: int) -> list[int]:
        """`count` placeholders for an IN list; fill them with `id_list`."""
        return [self.int(f"{name}.{at}") for at in range(count)]

    def text(self, name: str) -> str:
        return self._add(name, f"\x1fplaceholder:{name}\x1f")

    def moment(self, name: str) -> datetime:
        """An aware datetime for a DateTimeField lookup (adapted as the backend adapts one)."""
        self.moments.add(name)
        return self._add(name, _MOMENT_BASE + timedelta(seconds=len(self.values)))


def id_list(name: str, ids: Sequence[int]) -> tuple[int, dict[str, int]]:
    """(count, values) for `Placeholders.ints(name, count)`: the count is len(ids) rounded up
    to a power of two, so that a statement has a few shapes, not one per length; the extra
    places repeat the last id (an IN list does not mind). `ids` must not be empty."""
    count = 1 << (len(ids) - 1).bit_length()
    padded = [*ids, *[ids[-1]] * (count - len(ids))]
    return count, {f"{name}.{at}": value for at, value in enumerate(padded)}


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: tuple[tuple[str, int, Callable | None], ...]  # (name, position, adapter)
    names: tuple[str, ...]  # column names, in the row's order
    converters: tuple  # (position, converters, expression)


class Statement:
    def __init__(self, model: type[Model], build: Callable[..., QuerySet]):
        self.model = model
        self.build = build
        self._compiled: dict[tuple[str, Hashable], _Compiled] = {}

    def _compile(self, connection, shape: tuple) -> _Compiled:
        key = (connection.alias, shape)
        compiled = self._compiled.get(key)
        if compiled is None:
            placeholders = Placeholders()
            sql, params, names, converters = self._sql(self.build(placeholders, *shape), connection)
            slots = []
            for name, value in placeholders.values.items():
                adapt = (
                    connection.ops.adapt_datetimefield_value
                    if name in placeholders.moments
                    else None
                )
                expected = adapt(value) if adapt else value
                positions = [at for at, param in enumerate(params) if param == expected]
                if len(positions) != 1:
                    raise ValueError(f"placeholder {name!r} reached the SQL {len(positions)} times")
                slots.append((name, positions[0], adapt))
            compiled = _Compiled(
                sql=sql, params=params, slots=tuple(slots), names=names, converters=converters
            )
            self._compiled[key] = compiled
        return compiled

    def _sql(self, queryset: QuerySet, connection) -> tuple[str, tuple, tuple, tuple]:
        """(SQL, parameters, column names, converters) of the built queryset."""
        query = queryset.query
        compiler = query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        names = (*query.extra_select, *query.values_select, *query.annotation_select)
        if len(names) != len(compiler.select):
            raise ValueError("a Statement needs a values() or values_list() queryset")
        converters = compiler.get_converters([column[0] for column in compiler.select])
        return (
            sql,
            tuple(params),
            names,
            tuple((at, convs, expr) for at, (convs, expr) in converters.items()),
        )

    def _params(self, compiled: _Compiled, values: dict[str, Any]) -> list:
        params = list(compiled.params)
        for name, at, adapt in compiled.slots:
            params[at] = adapt(values[name]) if adapt else values[name]
        return params

    def _run(self, shape: tuple, values: dict[str, Any]) -> tuple[_Compiled, list[list]]:
        connection = connections[router.db_for_read(self.model)]
        compiled = self._compile(connection, shape)
        with statement_cursor(connection) as cursor:
            cursor.execute(compiled.sql, self._params(compiled, values))
            rows = [list(row) for row in cursor.fetchall()]
        for at, convs, expression in compiled.converters:
            for row in rows:
                value = row[at]
                for converter in convs:
                    value = converter(value, expression, connection)
                row[at] = value
        return compiled, rows

    def names(self, shape: tuple = ()) -> tuple[str, ...]:
        """The column names of the rows, in their order."""
        return self._compile(connections[router.db_for_read(self.model)], shape).names

    def rows(self, shape: tuple = (), **values: Any) -> list[list]:
        """The rows, each a list of column values as Django would convert them, in the
        compiled SELECT's order: values()'s fields first, then its annotations."""
        return self._run(shape, values)[1]

    def dicts(self, shape: tuple = (), **values: Any) -> list[dict]:
        """The rows as values() gives them: {column name: value}."""
        compiled, rows = self._run(shape, values)
        return [dict(zip(compiled.names, row, strict=True)) for row in rows]


_PLAIN_ATTRIBUTES = (DeferredAttribute, ForeignKeyDeferredAttribute)
_FROM_DB = Model.from_db.__func__
_plain_rows: dict[tuple[type[Model], tuple[str, ...]], bool] = {}


def _loads_plainly(model: type[Model], attnames: tuple[str, ...]) -> bool:
    """Whether `from_db` of these columns amounts to writing them into the instance's
    `__dict__`: Django's own `from_db` and `__init__`, no pre_init/post_init receivers, and
    each column's descriptor one of Django's plain ones (the first keeps the value as it is;
    the second, a foreign key's, drops a cached related object a new instance has not got)."""
    key = (model, attnames)
    plain = _plain_rows.get(key)
    if plain is None:
        plain = _plain_rows[key] = (
            model.from_db.__func__ is _FROM_DB
            and model.__init__ is Model.__init__
            and all(type(vars(model).get(name)) in _PLAIN_ATTRIBUTES for name in attnames)
        )
    return (
        plain
        and not signals.pre_init.has_listeners(model)
        and not signals.post_init.has_listeners(model)
    )


def model_from_row(
    model: type[Model], alias: str, attnames: tuple[str, ...], values: Sequence[Any]
) -> Model:
    """`model.from_db(alias, attnames, values)` — the instance a queryset would give, the
    columns not named deferred — without `Model.__init__`'s walk over every field and its
    descriptors, where that walk would only store the values (`_loads_plainly`)."""
    if not _loads_plainly(model, attnames):
        return model.from_db(alias, list(attnames), values)
    instance = object.__new__(model)
    instance.__dict__.update(zip(attnames, values, strict=True))
    state = instance._state = ModelState()
    state.adding = False
    state.db = alias
    return instance


class ModelStatement(Statement):
    """A Statement whose rows are model instances, with forward relations joined as
    select_related joins them (a null foreign key gives None) and annotations set as
    attributes: for the hot paths that save what they read.

    `build(p, *shape)` returns a queryset of `model` (filtered, annotated, locked, ordered);
    the statement reads every concrete column of the model (or its primary key and `fields`,
    as only() would) and of each related model, then the annotations (in the order they were
    annotated).
    """

    def __init__(
        self,
        model: type[Model],
        build: Callable[..., QuerySet],
        *,
        related: tuple[str, ...] = (),
        annotations: tuple[str, ...] = (),
        fields: tuple[str, ...] | None = None,
    ):
        own = _attnames(model)
        if fields is not None:  # like only(): the primary key and these columns
            own = (own[0], *(name for name in own[1:] if name in fields))
        self.parts = [(model, None, own)]
        for name in related:
            related_model = model._meta.get_field(name).related_model
            self.parts.append((related_model, name, _attnames(related_model)))
        self.annotations = annotations
        columns = [
            f"{name}__{column}" if name else column
            for _, name, columns in self.parts
            for column in columns
        ]
        columns += annotations  # a values_list() selects fields first, then annotations
        super().__init__(model, lambda p, *shape: build(p, *shape).values_list(*columns))

    def first(self, shape: tuple = (), **values: Any) -> Model | None:
        """The first instance, or None (for a queryset sliced to one row)."""
        found = self.objects(shape, **values)
        return found[0] if found else None

    def objects(self, shape: tuple = (), **values: Any) -> list[Model]:
        rows = self._run(shape, values)[1]
        alias = router.db_for_read(self.model)
        objects = []
        for row in rows:
            at, instance = 0, None
            for model, name, columns in self.parts:
                values_ = row[at : at + len(columns)]
                at += len(columns)
                if name is None:
                    instance = model_from_row(model, alias, columns, values_)
                else:
                    related = None
                    if values_[0] is not None:
                        related = model_from_row(model, alias, columns, values_)
                    self.model._meta.get_field(name).set_cached_value(instance, related)
            for name, value in zip(self.annotations, row[at:], strict=True):
                setattr(instance, name, value)
            objects.append(instance)
        return objects


class UpdateStatement(Statement):
    """A queryset's update() compiled once: `build(p, *shape)` returns (queryset, the
    values update() would take), placeholders among them; `run` answers the rows updated.

        BUMP = UpdateStatement(Order, lambda p: (Order.objects.filter(pk=p.int("order_id")),
                                                 {"version": F("version") + 1}))
        BUMP.run(order_id=5)   # 1

    For a plain update of the model's own table (no related models' fields, no join in the
    filter that update() would turn into a subquery of ids)."""

    def _sql(self, built: tuple[QuerySet, dict[str, Any]], connection):
        queryset, values = built
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(values)
        if query.related_updates or len(query.alias_map) > 1:
            raise ValueError("an UpdateStatement updates one table, filtered on its own columns")
        sql, params = query.get_compiler(connection=connection).as_sql()
        return sql, tuple(params), (), ()

    def run(self, shape: tuple = (), **values: Any) -> int:
        connection = connections[router.db_for_write(self.model)]
        compiled = self._compile(connection, shape)
        with statement_cursor(connection) as cursor:
            cursor.execute(compiled.sql, self._params(compiled, values))
            return cursor.rowcount


def _attnames(model: type[Model]) -> tuple[str, ...]:
    """The concrete columns of a model, its primary key first (a null pk: no related row)."""
    pk = model._meta.pk.attname
    return (pk, *(f.attname for f in model._meta.concrete_fields if f.attname != pk))
