"""A catalog change HubRise sends to our callback URL (an active connection) re-imports the menu, unless the
connection's automatic re-import is switched off."""

from __future__ import annotations

import json

import pytest

from hubrise_sync import catalog_import
from hubrise_sync.models import CatalogImport, InboundEvent
from tests.factories import make_establishment
from tests.hubrise.callbacks import LOCATION_ID, SECRET, connect, post_callback

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def client_secret(settings, sandbox, worker_applies_at_once):
    # The import the callback asks for reads the catalog from the sandbox (which does not know this token).
    settings.HUBRISE_CLIENT_SECRET = SECRET


@pytest.fixture
def connection():
    connection = connect(make_establishment())
    connection.catalog_id = "cat-7"
    connection.save(update_fields=["catalog_id"])
    return connection


def catalog_update(event_id: str) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "resource_type": "catalog",
            "event_type": "update",
            "created_at": "2026-12-06T10:00:00+01:00",
            "location_id": LOCATION_ID,
            "catalog_id": "cat-7",
        }
    ).encode()


def test_a_catalog_update_callback_asks_for_an_import(client, connection):
    response = post_callback(client, catalog_update("cat01"))

    assert response.status_code == 200
    assert InboundEvent.objects.get(event_id="cat01").outcome == InboundEvent.Outcome.APPLIED
    assert CatalogImport.objects.filter(establishment=connection.establishment, trigger=CatalogImport.Trigger.CALLBACK).exists()


def test_with_the_automatic_re_import_off_the_callback_is_recorded_and_the_menu_left_alone(client, connection):
    catalog_import.set_auto_import(connection, False)

    response = post_callback(client, catalog_update("cat02"))

    assert response.status_code == 200
    event = InboundEvent.objects.get(event_id="cat02")
    assert event.outcome == InboundEvent.Outcome.IGNORED_UNSUPPORTED
    assert "automatic re-import is off" in event.detail
    assert not CatalogImport.objects.filter(establishment=connection.establishment).exists()
