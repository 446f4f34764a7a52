"""What most menu tests start from: an establishment with the bistro menu, and the signals the menu sends."""

import pytest
from django.db import connection
from django.test import Client
from django.utils import translation

from menu import services, signals
from orders.models import Membership
from tests.factories import make_establishment, make_user
from tests.menu.bistro import BISTRO_MENU


@pytest.fixture
def english():
    """Messages in English, for the tests of services (the pages' tests read them in French)."""
    with translation.override("en"):
        yield


@pytest.fixture
def establishment():
    """An establishment with the bistro menu (test_replace_menu.py starts from one without)."""
    establishment = make_establishment()
    services.replace_menu(establishment, BISTRO_MENU, source="test")
    return establishment


@pytest.fixture
def announced():
    """The menu's signals as they are sent: (signal, its arguments, whether a transaction was open)."""
    seen = []

    def on_menu(sender, **kwargs):
        seen.append(("menu", kwargs, connection.in_atomic_block))

    def on_availability(sender, **kwargs):
        seen.append(("availability", kwargs, connection.in_atomic_block))

    signals.menu_changed.connect(on_menu, dispatch_uid="test-menu-changed")
    signals.availability_changed.connect(on_availability, dispatch_uid="test-availability-changed")
    yield seen
    signals.menu_changed.disconnect(dispatch_uid="test-menu-changed")
    signals.availability_changed.disconnect(dispatch_uid="test-availability-changed")


@pytest.fixture
def manager(establishment):
    """Claire, manager of the establishment, reading the pages in French."""
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(make_user(establishment, "claire", role=Membership.Role.MANAGER))
    return client


@pytest.fixture
def cook(establishment):
    """Marc, kitchen staff of the establishment, reading the pages in French."""
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(make_user(establishment, "marc"))
    return client
