"""Shared builders for the staff pages' tests."""

from contextlib import contextmanager
from datetime import datetime

from django.core.signals import request_started
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

from orders.models import Establishment, Order, StatusChange
from orders.services import create_order
from tests.factories import croque_order


def logged_in(user, **client_options) -> Client:
    client = Client(**client_options)
    client.force_login(user)
    return client


def order_at(establishment: Establishment, created_at: datetime, **fields) -> Order:
    return create_order(establishment, croque_order(**fields), source=StatusChange.Source.API, created_at=created_at)


def shown_refs(response) -> list[str]:
    return [order.ref for order in response.context["page"].object_list]


@contextmanager
def sql_queries():
    """The SQL of the requests made inside the block, as a list filled when the block ends.

    The test client sends request_started, whose handler empties the query log
    that CaptureQueriesContext reads (even after the block, as it reads lazily):
    alone, it would see nothing. A log left full by earlier tests would hide them too.
    """
    statements: list[str] = []
    reset_queries()
    request_started.disconnect(reset_queries)
    try:
        with CaptureQueriesContext(connection) as captured:
            yield statements
        statements.extend(query["sql"] for query in captured.captured_queries)
    finally:
        request_started.connect(reset_queries)
