"""The database a bench creates for itself and drops at the end, and the Django environment it runs on it.

Shared by ``order_list.py`` and ``outbox_backlog.py``. The name must start with
``gr_bench_``: a run drops the database it is given, and this keeps it from dropping
anyone else's.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent


def add_arguments(parser: argparse.ArgumentParser, default_name: str) -> None:
    """``--database-url`` (default: ``default_name`` on the local PostgreSQL, or BENCH_DATABASE_URL) and ``--keep``."""
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{default_name}"),
        help="created and dropped by the run; its name must start with gr_bench_",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")


def admin_connection(database_url: str):
    import psycopg2

    parts = urlparse(database_url)
    connection = psycopg2.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username, password=parts.password, dbname="postgres"
    )
    connection.autocommit = True
    return connection


def recreate_database(database_url: str, drop_only: bool = False) -> None:
    name = urlparse(database_url).path.lstrip("/")
    if not re.fullmatch(r"gr_bench_\w+", name):
        sys.exit(f"Refusing to drop {name!r}: the database name must start with gr_bench_.")
    connection = admin_connection(database_url)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


@contextlib.contextmanager
def own_database(database_url: str, keep: bool) -> Iterator[None]:
    """The database created afresh; at the end this process's connections closed and, unless ``keep``, the database dropped."""
    recreate_database(database_url)
    try:
        yield
    finally:
        from django.db import connections

        connections.close_all()
        if not keep:
            recreate_database(database_url, drop_only=True)


def environment(database_url: str, settings_module: str, **variables: str) -> dict[str, str]:
    """This process's environment for Django on ``database_url``, as a developer runs it but without debug pages.

    The broker is in memory: a bench measures the web or the outbox, and nothing
    consumes the tasks it publishes.
    """
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": settings_module,
        "GETRESTO_ENV": "development",
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": "memory://",
        "LOG_LEVEL": "WARNING",
        **variables,
    }
