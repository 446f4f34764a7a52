"""Shared builders for the staff pages' tests."""

from datetime import datetime

from django.test import Client

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
