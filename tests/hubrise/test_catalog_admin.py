"""Support reads the catalog imports, each connection's catalog switches and the inventory reads in the admin;
nobody edits or deletes them there, and a manager never reaches them."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from hubrise_sync.models import CatalogImport, CatalogSync, Connection, InventoryRefresh
from orders.models import Membership
from tests.factories import make_establishment, make_user

pytestmark = pytest.mark.django_db

ADMIN = "/admin/hubrise_sync"


@pytest.fixture
def connection():
    establishment = make_establishment("Chez Odette")
    return Connection.objects.create(
        establishment=establishment, access_token="secret-token-0123", location_id="abc12-0", catalog_id="cat-7"
    )


@pytest.fixture
def support():
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.fr", "pw-long-enough-1"))
    return client


def test_support_sees_why_an_import_was_refused_and_what_one_changed(support, connection):
    refused = CatalogImport.objects.create(
        establishment=connection.establishment,
        catalog_id="cat-7",
        trigger=CatalogImport.Trigger.CALLBACK,
        outcome=CatalogImport.Outcome.REFUSED,
        finished_at=timezone.now(),
        details={"problems": ["products[3].skus[0].price: 8.5 is a number, not a money string", "a second problem"]},
    )
    CatalogImport.objects.create(
        establishment=connection.establishment,
        trigger=CatalogImport.Trigger.MANUAL,
        outcome=CatalogImport.Outcome.IMPORTED,
        details={"counts": {"added": 3, "removed": 1, "prices": 2, "updated": 0}},
    )

    listing = support.get(f"{ADMIN}/catalogimport/").content.decode()
    only_refused = support.get(f"{ADMIN}/catalogimport/?outcome=refused").content.decode()
    page = support.get(f"{ADMIN}/catalogimport/{refused.pk}/change/").content.decode()

    assert "Chez Odette" in listing and "3 added, 1 removed, 2 prices, 0 other changes" in listing
    assert "is a number, not a money string (+1)" in only_refused and "3 added" not in only_refused
    assert "a second problem" in page and 'name="_save"' not in page
    assert support.get(f"{ADMIN}/catalogimport/add/").status_code == 403
    assert support.post(f"{ADMIN}/catalogimport/{refused.pk}/delete/", {"post": "yes"}).status_code == 403
    assert CatalogImport.objects.filter(pk=refused.pk).exists()


def test_support_sees_each_connections_switches_and_a_stuck_inventory_read(support, connection):
    CatalogSync.objects.create(connection=connection, auto_import=False, auto_push=True, pending_stock={"sku:TATIN": False})
    refresh = InventoryRefresh.objects.create(
        connection=connection, wanted_at=timezone.now(), last_error="HubRise answered 503 Service Unavailable"
    )

    switches = support.get(f"{ADMIN}/catalogsync/?auto_import__exact=0").content.decode()
    reads = support.get(f"{ADMIN}/inventoryrefresh/?last_error__isempty=0").content.decode()

    assert "Chez Odette" in switches and 'alt="False"' in switches and 'alt="True"' in switches
    assert "Chez Odette" in reads and "503 Service Unavailable" in reads
    assert support.post(f"{ADMIN}/inventoryrefresh/{refresh.pk}/delete/", {"post": "yes"}).status_code == 403
    assert InventoryRefresh.objects.filter(pk=refresh.pk).exists()


def test_a_manager_is_kept_out_of_these_lists(connection):
    manager = Client()
    manager.force_login(make_user(connection.establishment, role=Membership.Role.MANAGER))

    for model in ("catalogimport", "catalogsync", "inventoryrefresh"):
        response = manager.get(f"{ADMIN}/{model}/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
