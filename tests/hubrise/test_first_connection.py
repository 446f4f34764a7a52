"""Connecting mid-service: the orders already open at HubRise come in, and the orders recorded here before the
connection are offered once to be sent (the promise the settings page makes)."""

from __future__ import annotations

import pytest

from hubrise_sync import open_orders
from hubrise_sync.models import Connection, OutboxMessage
from hubrise_sync.outbox import drain
from orders.models import Order, StatusChange
from orders.services import change_status, create_order
from tests.factories import croque_order
from tests.hubrise.oauth_steps import connect

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def tasks_run_at_once(worker_applies_at_once):
    """The first import is queued to a worker; here it runs in the connecting request."""


def test_connecting_imports_the_open_orders_of_other_apps_and_nothing_else(client, manager, establishment, hubrise):
    uber = hubrise.create_order_as("uber_eats", dispatch=False)
    pos = hubrise.create_order_as("pos")
    finished = hubrise.create_order_as("deliveroo", dispatch=False)
    hubrise.change_status_as_pos(finished["id"], "completed")

    connect(client, hubrise, establishment.pk)

    imported = {order.hubrise.hubrise_order_id: order for order in Order.objects.select_related("hubrise")}
    assert set(imported) == {uber["id"], pos["id"]}
    assert imported[uber["id"]].channel == "Uber Eats"
    connection = Connection.objects.get()
    assert connection.open_orders_imported_at is not None
    assert open_orders.first_import(connection) is None  # once
    assert not OutboxMessage.objects.filter(kind="create").exists()


def test_the_orders_recorded_before_connecting_are_offered_once_and_sent(client, manager, establishment, hubrise):
    waiting = create_order(establishment, croque_order(), source=StatusChange.Source.API)
    done = create_order(establishment, croque_order(), source=StatusChange.Source.API)
    change_status(done, "completed", source=StatusChange.Source.ADMIN)

    page = connect(client, hubrise, establishment.pk)
    assert "1 commande en cours a été enregistrée ici avant la connexion" in page.text

    client.post(f"/hubrise/e/{establishment.pk}/imports/earlier/", {"send": "yes"})
    drain.drain(threads=1)

    sent = hubrise.orders()
    assert [order["private_refs"][hubrise.client_id] for order in sent] == [str(waiting.uid)]
    again = client.get(f"/hubrise/e/{establishment.pk}/settings/")
    assert "avant la connexion" not in again.text
    client.post(f"/hubrise/e/{establishment.pk}/imports/earlier/", {"send": "yes"})
    assert OutboxMessage.objects.filter(kind="create").count() == 1


def test_declining_the_offer_sends_nothing_and_removes_it(client, manager, establishment, hubrise):
    create_order(establishment, croque_order(), source=StatusChange.Source.API)
    connect(client, hubrise, establishment.pk)

    client.post(f"/hubrise/e/{establishment.pk}/imports/earlier/", {"send": "no"})

    assert not OutboxMessage.objects.exists()
    assert "avant la connexion" not in client.get(f"/hubrise/e/{establishment.pk}/settings/").text


def test_a_manager_turns_the_acknowledgement_on_from_the_settings_page(client, manager, establishment, hubrise):
    connect(client, hubrise, establishment.pk)
    page = client.get(f"/hubrise/e/{establishment.pk}/settings/").text
    assert "Accuser réception des nouvelles commandes" in page

    client.post(f"/hubrise/e/{establishment.pk}/imports/acknowledge/", {"acknowledge_new_orders": "on"})

    assert Connection.objects.get().acknowledge_new_orders is True


def test_testing_an_older_connection_subscribes_it_to_the_couriers(client, manager, establishment, hubrise):
    from hubrise_sync import connection_services
    from hubrise_sync.client import HubRiseClient
    from tests.hubrise.callbacks import connect as stored_connection

    token = hubrise.create_token()
    HubRiseClient(token).set_callback(None, {"order": ["create", "update"]})
    connection = stored_connection(establishment, location_id=hubrise.location_id, mode="passive", token=token)

    assert connection_services.check_connection(connection).ok

    events = HubRiseClient(token).get_callback().data["events"]
    assert sorted(events["delivery"]) == ["create", "update"] and sorted(events["order"]) == ["create", "update"]
    connection.refresh_from_db()
    assert connection.callback_mode == "passive"
