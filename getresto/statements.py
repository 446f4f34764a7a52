"""Hot statements whose SQL is built once per database, then run with each call's values.

Django compiles a queryset's SQL every time it is evaluated, and an INSERT's SQL together
with its values every time an object is saved. For the few statements run on every order
or every webhook event, that compiling was a large part of the request's CPU. Here the ORM
still writes the SQL (names, joins, quoting, the backend's dialect), once; a call only binds
its values, and rows still become model instances through Django's own loading (``from_db``
and its select_related populators).

PostgreSQL, for its part, parses and plans every statement it is sent: about half of its
CPU for an order (the API key's three joins alone took 0.3 ms to plan). So these statements
are also prepared once per connection (``PREPARE``) and run with ``EXECUTE`` (``execute``).
"""

from __future__ import annotations

import functools
import inspect
import re
import threading
import uuid
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections, models, router
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.backends.postgresql.operations import DatabaseOperations as PostgresOperations
from django.db.models import DEFERRED, BooleanField, ForeignObjectRel, Model, Prefetch, QuerySet
from django.db.models.base import ModelState
from django.db.models.expressions import RawSQL
from django.db.models.query import get_related_populators
from django.db.models.signals import post_init, pre_init
from django.dispatch.dispatcher import NO_RECEIVERS


class Select:
    """A queryset built by ``build(*stand_ins)``, compiled once per database; run with other values in their place.

    Each stand-in is a value of the right type that no call uses (an id of -1, say) and that no
    other parameter of the statement has: wherever it appears among the compiled statement's
    parameters (once, or in each subquery that uses it), a call's value goes. Each thread compiles
    its own copy, as a compiler belongs to its thread's connection.
    """

    def __init__(self, build: Callable[..., QuerySet], *stand_ins: Any) -> None:
        self._build = build
        self._stand_ins = stand_ins
        self._model: type[Model] | None = None
        self._per_thread = threading.local()

    def rows(self, *values: Any) -> list[dict[str, Any]]:
        """The rows as dicts by column name (a ``values()`` queryset's), each value converted as the ORM would."""
        _compiled, names, rows = self._run(values)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def objects(self, *values: Any) -> list[Model]:
        """The model instances, with their select_related objects and annotations, as iterating the queryset gives."""
        compiled, _names, rows = self._run(values)
        compiler, start, end = compiled.compiler, compiled.model_start, compiled.model_end
        found = []
        for row in rows:
            instance = compiler.klass_info["model"].from_db(compiler.using, compiled.model_columns, row[start:end])
            for populator in compiled.related_populators:
                populator.populate(row, instance)
            for name, position in compiler.annotation_col_map.items():
                setattr(instance, name, row[position])
            found.append(instance)
        return found

    def _run(self, values: tuple) -> tuple[_Compiled, list[str], list]:
        if self._model is None:
            self._model = self._build(*self._stand_ins).model
        alias = router.db_for_read(self._model)
        compiled = self._per_thread.__dict__.get(alias) or self._compile(alias)
        params = list(compiled.params)
        for positions, value in zip(compiled.slots, values, strict=True):
            for position in positions:
                params[position] = value
        with connections[alias].cursor() as cursor:
            execute(cursor, compiled.sql, params)
            names = [column[0] for column in cursor.description]
            rows = cursor.fetchall()
        if compiled.converters:
            rows = list(compiled.compiler.apply_converters(rows, compiled.converters))
        return compiled, names, rows

    def _compile(self, alias: str) -> _Compiled:
        compiler = self._build(*self._stand_ins).query.get_compiler(alias)
        sql, params = compiler.as_sql()
        slots = []
        for stand_in in self._stand_ins:
            positions = [index for index, param in enumerate(params) if param == stand_in]
            if not positions:
                raise AssertionError(f"{stand_in!r} is not a parameter of the statement")
            slots.append(positions)
        select, info = compiler.select, compiler.klass_info
        compiled = _Compiled(
            compiler=compiler,
            sql=sql,
            params=tuple(params),
            slots=slots,
            converters=compiler.get_converters([column[0] for column in select[: compiler.col_count]]),
        )
        if info is not None:
            compiled.model_start, compiled.model_end = info["select_fields"][0], info["select_fields"][-1] + 1
            compiled.model_columns = [column[0].target.attname for column in select[compiled.model_start : compiled.model_end]]
            compiled.related_populators = get_related_populators(info, select, alias)
        self._per_thread.__dict__[alias] = compiled
        return compiled


@dataclass
class _Compiled:
    """A thread's compiled statement, and what turning its rows into objects needs (ModelIterable's)."""

    compiler: Any
    sql: str
    params: tuple
    # Where each stand-in's value goes among the parameters.
    slots: list[list[int]]
    converters: dict
    model_start: int = 0
    model_end: int = 0
    model_columns: list[str] = field(default_factory=list)
    related_populators: list = field(default_factory=list)


# A stand-in for a list of ids: no row has the id -1.
_IDS_STAND_IN = [-1]


class Prefetched:
    """``prefetch_related`` of one reverse foreign key (``Prefetch(name, queryset)`` or its name), its statement
    compiled once: ``fill(objects)`` loads the related rows of all the objects in one query, and each object's
    ``<name>.all()`` then gives its own, as after Django's prefetch_related."""

    def __init__(self, model: type[Model], lookup: Prefetch | str) -> None:
        prefetch = lookup if isinstance(lookup, Prefetch) else Prefetch(lookup)
        relation = model._meta.get_field(prefetch.prefetch_through)
        self._name = relation.get_accessor_name()
        self._foreign_key = relation.field
        self._queryset = prefetch.queryset if prefetch.queryset is not None else relation.related_model._default_manager.all()
        quote = connections[router.db_for_read(self._queryset.model)].ops.quote_name
        column = f"{quote(self._queryset.model._meta.db_table)}.{quote(self._foreign_key.column)}"
        # "= ANY(array)": one parameter whatever the number of objects, so that the statement is compiled (and
        # prepared) once, where the ORM's IN (…) has one per object.
        self._select = Select(
            lambda ids: self._queryset.filter(RawSQL(f"{column} = ANY(%s)", (ids,), output_field=BooleanField())),  # noqa: S611
            _IDS_STAND_IN,
        )

    def fill(self, objects: Sequence[Model]) -> None:
        if not objects:
            return
        related_by_owner: dict[Any, list[Model]] = {instance.pk: [] for instance in objects}
        owners = {instance.pk: instance for instance in objects}
        attname, foreign_key = self._foreign_key.attname, self._foreign_key
        for row in self._select.objects(list(owners)):
            owner_id = getattr(row, attname)
            related_by_owner[owner_id].append(row)
            foreign_key.set_cached_value(row, owners[owner_id])
        for instance in objects:
            # What prefetch_related leaves: the manager's own queryset, its rows already fetched.
            queryset = getattr(instance, self._name)._apply_rel_filters(self._queryset)
            queryset._result_cache = related_by_owner[instance.pk]
            queryset._prefetch_done = True
            if not hasattr(instance, "_prefetched_objects_cache"):
                instance._prefetched_objects_cache = {}
            instance._prefetched_objects_cache[self._name] = queryset


def insert(objects: Sequence[Model], *, skip_conflicts_on: str | None = None) -> int:
    """INSERT new objects of one model in one statement and give them their ids; the number inserted.

    What ``bulk_create`` does for a model with an automatic id, without building the SQL again
    on every call: each field's ``pre_save`` (auto_now_add…) and ``get_db_prep_save`` give the
    values, the SQL is built once per model and number of rows. No save signals are sent, as with
    bulk_create. ``skip_conflicts_on``: a unique column; an object that would duplicate it is not
    inserted (``ON CONFLICT DO NOTHING``) and keeps no id.
    """
    if not objects:
        return 0
    if skip_conflicts_on is not None and len(objects) != 1:
        # Only a single object can be told apart from the ones not inserted by the ids returned.
        raise ValueError("skip_conflicts_on inserts one object at a time")
    model = type(objects[0])
    connection = connections[router.db_for_write(model)]
    kept = len(objects) <= ROWS_KEPT
    statement = _insert_statement if kept else _insert_statement.__wrapped__
    sql, fields = statement(model, connection.alias, len(objects), skip_conflicts_on)
    params = []
    for instance in objects:
        params.extend(prepared_values(instance, fields, connection))
    with connection.cursor() as cursor:
        if kept:
            execute(cursor, sql, params)
        else:
            cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    # Without conflicts every object was inserted, in order; with one object, an id says it was.
    for instance, pk in zip(objects, ids, strict=skip_conflicts_on is None):
        mark_inserted(instance, pk, connection.alias)
    return len(ids)


def insert_together(*groups: Sequence[Model], parent: Model | None = None, then: Then | None = None) -> tuple | None:
    """INSERT several groups of new objects, each of one model, in one statement (one round trip), and give them
    their ids: ``insert`` for rows that do not refer to each other (an order's items and its payments, say).

    ``parent``: a new object, not written yet, that the rows refer to by a foreign key (the order of its
    lines). Its id is taken from its sequence within the same statement (a round trip less than ``next_id``)
    and given to it; its row is written by ``then`` or later in the transaction, PostgreSQL checking the
    foreign keys at the commit.

    A group may also refer to the rows of an earlier group of the call, by a foreign key to that group's
    model (an order's item options to its items): each row's value is then the id its object gets in the
    same statement.

    ``then``: more of the same statement (the parent's own row, say); returns what it hands back.

    The statement is built once per sequence of models and numbers of rows, while each group has at most
    ``ROWS_KEPT`` rows (else the parent's id is taken and each group inserted on its own).
    """
    if then is not None and parent is None:
        raise ValueError("then reads the parent's id: give the parent")
    groups = tuple(group for group in groups if group)
    if any(len(group) > ROWS_KEPT for group in groups) or (parent is None and len(groups) < 2):
        return _insert_apart(groups, parent, then)
    connection = connections[router.db_for_write(type(parent if parent is not None else groups[0][0]))]
    shape = tuple((type(group[0]), len(group)) for group in groups)
    statement = _together_statement(
        shape, connection.alias, None if parent is None else type(parent), None if then is None else (then.ctes, then.returns)
    )
    # Where each object of a group that others refer to stands in it (1 for the first): the id it gets.
    referred = {index for links in statement.group_links for _key, index in links}
    places = {index: {id(instance): place for place, instance in enumerate(groups[index], 1)} for index in referred}
    params = []
    for group, fields, relations, to_groups in zip(
        groups, statement.fields_of, statement.relations_of, statement.group_links, strict=True
    ):
        for instance in group:
            params.extend(prepared_values(instance, fields, connection, relations))
            for key, index in to_groups:
                params.append(_place_in(places[index], key.get_cached_value(instance, None), key))
    if then is not None:
        params.extend(then.params)
    with connection.cursor() as cursor:
        execute(cursor, statement.sql, params)
        row = cursor.fetchone()
    if parent is not None:
        parent.pk, row = row[0], row[1:]
    row, handed_back = row[: len(groups)], row[len(groups) :]
    for group, ids, link, to_groups in zip(groups, row, statement.links, statement.group_links, strict=True):
        for instance, pk in zip(group, ids, strict=True):
            if link is not None:
                # Through the relation's descriptor: it sets the column's value and keeps the parent object.
                setattr(instance, link.name, parent)
            for key, _index in to_groups:
                # Its object got its id above (an earlier group): the column takes it.
                setattr(instance, key.name, key.get_cached_value(instance, None))
            mark_inserted(instance, pk, connection.alias)
    return None if then is None else tuple(handed_back)


@dataclass(frozen=True)
class Then:
    """The end of ``insert_together``'s statement: common table expressions after its inserts, which may read the
    parent's id as ``(SELECT id FROM p)`` (``ctes``: "name AS (…), …", with %s placeholders), their parameters in
    order, and what the statement hands back of them (``returns``: SQL expressions, comma-separated, without
    parameters). ``ctes`` and ``returns`` are the statement's (one per pair, built and prepared once); ``params``
    are each call's."""

    ctes: str
    returns: str
    params: list


def _insert_apart(groups: tuple[Sequence[Model], ...], parent: Model | None, then: Then | None) -> tuple | None:
    """insert_together's work in several statements: an order too large for a kept one."""
    if parent is not None:
        parent.pk = next_id(type(parent))
    for group in groups:
        insert(group)
    if then is None:
        return None
    connection = connections[router.db_for_write(type(parent))]
    with connection.cursor() as cursor:
        # Only our own SQL is formatted in; every value is a parameter.
        cursor.execute(f"WITH p AS (SELECT %s::bigint AS id), {then.ctes} SELECT {then.returns}", [parent.pk, *then.params])
        return tuple(cursor.fetchone())


def _place_in(places: dict[int, int], related: Model | None, field: Any) -> int | None:
    if related is None:
        return None  # a NULL place gives a NULL id
    place = places.get(id(related))
    if place is None:
        raise ValueError(f"{field} refers to an object that is not among the rows written with it")
    return place


@dataclass(frozen=True)
class _Together:
    sql: str
    # For each group: the fields whose values are parameters, its link to the parent (or None), the relations
    # to check for unsaved objects, and its foreign keys to an earlier group's rows (with that group's index).
    fields_of: list[list]
    links: list
    relations_of: list
    group_links: list[tuple[tuple[Any, int], ...]]


# Bounded: the shapes of orders' lines vary (a kept statement per shape, like _insert_statement's per number of rows).
@functools.lru_cache(maxsize=256)
def _together_statement(
    shape: tuple[tuple[type[Model], int], ...], alias: str, parent: type[Model] | None, then: tuple[str, str] | None
) -> _Together:
    quote = connections[alias].ops.quote_name
    parts, fields_of, links, relations_of, group_links, ids = [], [], [], [], [], []
    if parent is not None:
        meta = parent._meta
        # nextval is volatile: PostgreSQL evaluates this part once, however many rows read it.
        parts.append(f"p AS (SELECT nextval(pg_get_serial_sequence('{meta.db_table}', '{meta.pk.column}')) AS id)")
        ids.append("(SELECT id FROM p)")
    for index, (model, count) in enumerate(shape):
        link = None
        if parent is not None:
            # None for a group whose rows refer to the parent only through another group's (options, through items).
            link = next((f for f in _foreign_keys(model) if f.related_model is parent), None)
        earlier = {shape[i][0]: i for i in range(index)}
        to_groups = tuple(
            (field, earlier[field.related_model])
            for field in _foreign_keys(model)
            if field is not link and field.related_model in earlier
        )
        # The id of the earlier group's row at the place given as the parameter.
        id_of_group = {field: f"({_group_ids(quote, shape[i][0], i)})[%s]" for field, i in to_groups}
        sql, fields = _insert_statement(model, alias, count, None, link, tuple(id_of_group.items()))
        parts.append(f"g{index} AS ({sql})")
        fields_of.append(fields)
        links.append(link)
        group_links.append(to_groups)
        # The relations still checked for an unsaved object: not those whose ids the statement takes.
        relations_of.append(None if link is None and not to_groups else tuple(field for field in fields if field.is_relation))
        ids.append(_group_ids(quote, model, index))
    if then is not None:
        parts.append(then[0])
        ids.append(then[1])
    sql = f"WITH {', '.join(parts)} SELECT {', '.join(ids)}"
    return _Together(sql=sql, fields_of=fields_of, links=links, relations_of=relations_of, group_links=group_links)


def _foreign_keys(model: type[Model]) -> list:
    # A one-to-one key (an order's HubRise link) is a foreign key too.
    return [f for f in model._meta.concrete_fields if f.many_to_one or f.one_to_one]


def _group_ids(quote, model: type[Model], index: int) -> str:
    # The group's ids in the order of its rows, as RETURNING gives them (what bulk_create relies on too): handed
    # back to its objects, and read by a later group that refers to its rows. Only our own names are formatted in.
    return f"ARRAY(SELECT {quote(model._meta.pk.column)} FROM g{index})"  # noqa: S608


def prepared_values(instance: Model, fields: Sequence[Any], connection, relations: Sequence[Any] | None = None) -> list[Any]:
    """The values of ``fields`` of a new ``instance`` as an INSERT sends them (each field's ``pre_save`` and
    ``get_db_prep_save``, as ``save`` does).

    ``relations``: the relations to check for an unsaved object (all by default), as ``save`` does; not the
    one to a parent whose id ``insert_together`` takes in the statement (it has none yet).

    ``fields`` from ``prepared_fields`` (the INSERTs' own) say which values those methods give back unchanged
    (a str for a CharField, an int for an IntegerField…): such a value is read and sent as it is, without
    the five or so calls per value that preparing it takes (about 135 values per order).
    """
    if relations is None:
        instance._prepare_related_fields_for_save(operation_name="insert")
    elif relations:
        instance._prepare_related_fields_for_save(operation_name="insert", fields=relations)
    kinds = getattr(fields, "kinds", None) or [_SLOW] * len(fields)
    values = []
    append = values.append
    for model_field, kind in zip(fields, kinds, strict=True):
        if kind is not _SLOW:
            value = getattr(instance, model_field.attname)
            if value is None:
                append(None)
                continue
            if kind is str:
                if isinstance(value, str):
                    append(value)
                    continue
            elif kind is Decimal:
                if type(value) is Decimal and value.is_finite():
                    append(value)
                    continue
            elif kind is datetime:
                if type(value) is datetime and value.utcoffset() is not None:
                    append(value)
                    continue
            elif type(value) is kind:
                append(value)
                continue
        value = model_field.pre_save(instance, add=True)
        if hasattr(value, "resolve_expression"):
            raise TypeError(f"{type(instance).__name__}.{model_field.name} is an expression: save it with the ORM")
        append(model_field.get_db_prep_save(value, connection))
    return values


class PreparedFields(list):
    """An INSERT's fields, and for each one the type of value that its ``pre_save`` and ``get_db_prep_save``
    give back unchanged on this connection (``_SLOW``: none known)."""

    kinds: list[Any]


def prepared_fields(fields: Sequence[Any], connection) -> PreparedFields:
    prepared = PreparedFields(fields)
    prepared.kinds = [_unchanged_kind(field, connection) for field in fields]
    return prepared


_SLOW = object()
# Field classes whose preparing methods (``_PREPARING``) give back a value of the type on the right as it is,
# None too, read from Django's: str, any str (to_python keeps a str's subclass, a choice's enum member);
# Decimal, a finite one; datetime, an aware one (a naive one is made aware, with a warning). A subclass
# that overrides any of those methods (an encrypted text, say) is prepared by its own methods.
_PASS_THROUGH = {
    models.CharField: str,
    models.TextField: str,
    models.IntegerField: int,
    models.BooleanField: bool,
    models.DecimalField: Decimal,
    models.DateTimeField: datetime,
    models.UUIDField: uuid.UUID,
}
_PREPARING = ("pre_save", "get_db_prep_save", "get_db_prep_value", "get_prep_value", "to_python")
# The backend's last step for some of them, and its versions that give the value back as it is.
_ADAPTER = {int: "adapt_integerfield_value", Decimal: "adapt_decimalfield_value", datetime: "adapt_datetimefield_value"}
_UNCHANGING_ADAPTERS = {
    BaseDatabaseOperations.adapt_integerfield_value,
    BaseDatabaseOperations.adapt_decimalfield_value,
    PostgresOperations.adapt_datetimefield_value,
}
_AUTO_FIELDS = (models.AutoField, models.BigAutoField, models.SmallAutoField)


def _unchanged_kind(field: Any, connection) -> Any:
    """The type of value that ``field`` sends as it is on ``connection`` (``_SLOW``: none known)."""
    ops = type(connection.ops)
    if type(field) in (models.ForeignKey, models.OneToOneField):
        # ForeignKey.get_db_prep_save: None as it is, any other value prepared as its target field's.
        kind = _unchanged_kind(field.target_field, connection)
        return kind if kind is int else _SLOW
    if type(field) in _AUTO_FIELDS:
        # AutoFieldMixin.get_db_prep_value: IntegerField's get_prep_value (int()), then the backend's check.
        same = ops.validate_autopk_value is BaseDatabaseOperations.validate_autopk_value
        return int if same and type(field).get_prep_value is models.IntegerField.get_prep_value else _SLOW
    for base, kind in _PASS_THROUGH.items():
        if not isinstance(field, base):
            continue
        if any(getattr(type(field), name) is not getattr(base, name) for name in _PREPARING):
            return _SLOW
        if kind is datetime and (field.auto_now or field.auto_now_add):
            return _SLOW
        if kind in _ADAPTER and getattr(ops, _ADAPTER[kind]) not in _UNCHANGING_ADAPTERS:
            return _SLOW
        if kind is uuid.UUID and not connection.features.has_native_uuid_field:
            return _SLOW
        return kind
    return _SLOW


def new(model: type[M], **values: Any) -> M:
    """``model(**values)``, the same instance, for the models an order writes (about a dozen per order).

    ``Model.__init__`` finds each field's value by asking, field after field, whether it is a relation
    and which of its names was given; here that is read from a plan made once per model. Relations given
    as objects still go through their descriptor (its checks, its cache), and anything the plan does not
    cover (a property's name, an unknown name, receivers of ``pre_init`` or ``post_init`` for the model)
    is left to ``Model.__init__``.
    """
    plan = _new_plans.get(model) or _new_plan(model)
    if (
        not plan.names.issuperset(values)
        # The test Signal.send makes before it looks for receivers.
        or (pre_init.receivers and pre_init.sender_receivers_cache.get(model) is not NO_RECEIVERS)
        or (post_init.receivers and post_init.sender_receivers_cache.get(model) is not NO_RECEIVERS)
    ):
        return model(**values)
    instance = model.__new__(model)
    instance._state = ModelState()
    stored = instance.__dict__
    pop = values.pop
    for name, attname, relation, plain, get_default in plan.fields:
        if relation:
            if name in values:
                related = pop(name)
                if related is not DEFERRED:
                    setattr(instance, name, related)
                continue
            value = pop(attname) if attname in values else get_default()
        else:
            value = pop(attname, _MISSING)
            if value is _MISSING:
                value = get_default()
        if value is DEFERRED:
            continue
        if plain:
            stored[attname] = value
        else:
            setattr(instance, attname, value)
    return instance


M = TypeVar("M", bound=Model)
_MISSING = object()


@dataclass(frozen=True)
class _NewPlan:
    # The names a call may give: each field's name and attname.
    names: frozenset
    # For each field Model.__init__ sets, in its order: name, attname, whether it is a relation, whether its
    # value is a plain attribute (no descriptor of the class intercepts the setting), its default.
    fields: tuple


_new_plans: dict[type[Model], _NewPlan] = {}


def _new_plan(model: type[Model]) -> _NewPlan:
    fields = []
    for model_field in model._meta.fields:
        # What Model.__init__ skips: virtual and generated fields.
        if model_field.column is None or model_field.generated:
            continue
        relation = isinstance(model_field.remote_field, ForeignObjectRel)
        plain = not hasattr(type(inspect.getattr_static(model, model_field.attname, None)), "__set__")
        fields.append((model_field.name, model_field.attname, relation, plain, model_field.get_default))
    names = frozenset(name for entry in fields for name in entry[:2])
    plan = _new_plans[model] = _NewPlan(names=names, fields=tuple(fields))
    return plan


def mark_inserted(instance: Model, pk: Any, alias: str) -> None:
    """What ``save`` leaves on an instance it inserted."""
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = alias


def next_id(model: type[Model]) -> int:
    """The next value of ``model``'s id sequence: an id for a row written later in the transaction (rows that
    refer to it may be written first, PostgreSQL checking Django's foreign keys at the commit)."""
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    with connection.cursor() as cursor:
        execute(cursor, "SELECT nextval(pg_get_serial_sequence(%s, %s))", [meta.db_table, meta.pk.column])
        return cursor.fetchone()[0]


# An INSERT of up to this many rows (most orders' lines) is built once and prepared; a larger one, built for its
# call: keeping one statement per number of rows up to an order's 10,000 options would hold megabytes for nothing.
ROWS_KEPT = 16


@functools.cache
def _insert_statement(
    model: type[Model], alias: str, count: int, skip_conflicts_on: str | None, link: Any = None, computed: tuple = ()
) -> tuple[str, list]:
    """``link``: a foreign key whose value is the id taken by ``insert_together``'s ``p``, not a parameter.
    ``computed``: (field, SQL) pairs, columns written last whose values are those expressions (each row's
    parameters for them follow its fields' values)."""
    meta = model._meta
    quote = connections[alias].ops.quote_name
    expressions = dict(computed)
    fields = [field for field in meta.concrete_fields if not field.primary_key and field not in expressions]
    columns = ", ".join(quote(field.column) for field in [*fields, *expressions])
    # No value is formatted in: placeholders, the parent's id read from the statement's own ``p``, our own SQL.
    values = ["(SELECT id FROM p)" if field is link else "%s" for field in fields] + list(expressions.values())
    row = f"({', '.join(values)})"
    fields = [field for field in fields if field is not link]
    conflict = f" ON CONFLICT ({quote(meta.get_field(skip_conflicts_on).column)}) DO NOTHING" if skip_conflicts_on else ""
    # Only the model's own names are formatted in; every value is a parameter.
    rows = ", ".join([row] * count)
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {rows}{conflict} RETURNING {quote(meta.pk.column)}"  # noqa: S608  # nosec B608
    return sql, prepared_fields(fields, connections[alias])


# A connection keeps at most this many prepared statements (an INSERT has one per number of rows, up to
# ROWS_KEPT); past it, statements are sent as they are.
MAX_PREPARED_PER_CONNECTION = 64
# Statements prepared on each open connection (the driver's own connection object: a new one after a
# reconnection, which has none), by SQL.
_prepared: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()
_PLACEHOLDER = re.compile(r"%%|%s|%\((\w+)\)s")


def execute(cursor, sql: str, params: Sequence[Any] | dict[str, Any]) -> None:
    """Run ``sql`` (``%s`` or ``%(name)s`` placeholders, as for ``cursor.execute``) on Django's ``cursor`` as a
    statement prepared on its connection, the first time it is run there."""
    if not settings.DATABASE_PREPARED_STATEMENTS:
        cursor.execute(sql, params)
        return
    prepared = _prepared.setdefault(cursor.db.connection, {})
    name = prepared.get(sql)
    if name is None:
        if len(prepared) >= MAX_PREPARED_PER_CONNECTION:
            cursor.execute(sql, params)
            return
        name = f"getresto_{len(prepared)}"
        # A prepared statement outlives a rolled-back transaction: it lasts as long as the connection.
        cursor.execute(f"PREPARE {name} AS {_numbered(sql)[0]}")
        prepared[sql] = name
    names = _numbered(sql)[1]
    values = [params[key] for key in names] if names else list(params)
    arguments = f" ({', '.join(['%s'] * len(values))})" if values else ""
    cursor.execute(f"EXECUTE {name}{arguments}", values)


@functools.lru_cache(maxsize=256)
def _numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """``sql`` with PostgreSQL's $1, $2… for its placeholders; the names of named ones, in the order of their numbers."""
    names: list[str] = []
    positions = iter(range(1, len(sql)))

    def number(match: re.Match) -> str:
        if match.group(0) == "%%":
            return "%"
        if match.group(1) is None:
            return f"${next(positions)}"
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return _PLACEHOLDER.sub(number, sql), tuple(names)
