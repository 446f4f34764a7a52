"""Inserts and updates of many rows in one statement each, for replace_menu.

Django's bulk_create and bulk_update spend most of a large menu's time
building SQL (bulk_update writes one CASE WHEN per row and column, which
PostgreSQL then evaluates row by row). On PostgreSQL the rows are written by
one INSERT … RETURNING id, or one UPDATE … FROM (VALUES …), whatever their
number, their values quoted by psycopg2 (as its execute_values does) and the
statement run through Django's cursor, so that it is counted and logged like
any query. Other databases (SQLite in development) use Django's own.
"""

from __future__ import annotations

import json

from django.db import connection, models


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _columns(model: type[models.Model], names: list[str]) -> list[models.Field]:
    return [model._meta.get_field(name) for name in names]


def insert(model: type[models.Model], rows: list[models.Model]) -> None:
    """Insert ``rows`` (unsaved instances) and set their primary keys."""
    if not rows:
        return
    if not _postgres():
        model.objects.bulk_create(rows)
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    ids = _insert(model, fields, [[getattr(row, field.attname) for field in fields] for row in rows])
    for row, pk in zip(rows, ids, strict=True):
        row.pk = pk
        row._state.adding = False


def insert_values(model: type[models.Model], names: list[str], rows: list[list]) -> None:
    """Insert rows given as lists of values of the columns ``names``, for link tables whose ids nobody needs."""
    if not rows:
        return
    if not _postgres():
        model.objects.bulk_create(model(**dict(zip(names, row, strict=True))) for row in rows)
        return
    _insert(model, _columns(model, names), rows)


def _insert(model: type[models.Model], fields: list[models.Field], rows: list[list]) -> list[int]:
    # Table and column names come from the model, never from input; values are quoted by the driver.
    sql = 'INSERT INTO {} ({}) VALUES %s RETURNING "id"'.format(  # noqa: S608
        connection.ops.quote_name(model._meta.db_table), ", ".join(connection.ops.quote_name(field.column) for field in fields)
    )
    template = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        cursor.execute(sql.replace("%s", _values(cursor, template, _prepared(fields, rows))))
        return [pk for (pk,) in cursor.fetchall()]


def update(model: type[models.Model], rows: list[models.Model], names: list[str]) -> None:
    """Write the columns ``names`` of ``rows`` (saved instances) to the database."""
    if not rows:
        return
    if not _postgres():
        model.objects.bulk_update(rows, names)
        return
    fields = _columns(model, names)
    quote = connection.ops.quote_name
    values = _prepared([model._meta.pk, *fields], [[row.pk, *(getattr(row, field.attname) for field in fields)] for row in rows])
    # VALUES has no column types: each value is cast to its column's type.
    casts = ["%s::" + model._meta.pk.rel_db_type(connection)] + [f"%s::{_db_type(field)}" for field in fields]
    sql = "UPDATE {table} AS t SET {sets} FROM (VALUES %s) AS v(id, {names}) WHERE t.id = v.id".format(  # noqa: S608
        table=quote(model._meta.db_table),
        sets=", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in fields),
        names=", ".join(quote(field.column) for field in fields),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql.replace("%s", _values(cursor, "(" + ", ".join(casts) + ")", values)))


def _prepared(fields: list[models.Field], rows: list[list]) -> list[list]:
    """The rows' values as the driver takes them. The driver adapts numbers, text, booleans and None
    itself; JSON goes as its text, which PostgreSQL reads into the jsonb column (None stays NULL)."""
    for index, field in enumerate(fields):
        if isinstance(field, models.JSONField):
            for row in rows:
                if row[index] is not None:
                    row[index] = json.dumps(row[index], cls=field.encoder)
    return rows


def _values(cursor, template: str, rows: list[tuple]) -> str:
    """The rows as SQL literals, "(…), (…)", quoted by the driver."""
    mogrify = cursor.cursor.mogrify
    return b", ".join(mogrify(template, row) for row in rows).decode(connection.connection.encoding)


def _db_type(field: models.Field) -> str:
    if isinstance(field, models.ForeignKey):
        return field.target_field.rel_db_type(connection)
    return field.cast_db_type(connection)
