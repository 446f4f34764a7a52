"""Orders other apps create at HubRise (Uber Eats, Deliveroo, the POS), imported through the sandbox, exactly once."""

from __future__ import annotations

import threading
from datetime import datetime
from decimal import Decimal

import pytest
from django.db import connection as db_connection

from hubrise_sync import order_import, polling
from hubrise_sync.models import Connection, InboundEvent, OrderDelivery, OutboxMessage
from hubrise_sync.outbox import drain
from orders.models import Order, StatusChange
from orders.services import change_status
from tests.factories import make_establishment
from tests.hubrise.callbacks import pushed_order, sandbox_connection

pytestmark = pytest.mark.django_db

Outcome = InboundEvent.Outcome


@pytest.fixture
def establishment():
    return make_establishment()


@pytest.fixture
def connection(sandbox, establishment):
    return sandbox_connection(sandbox, establishment)


def money(value: str) -> Decimal:
    return Decimal(value.split()[0])


def test_an_uber_eats_order_arrives_with_everything_hubrise_carries(sandbox, connection):
    placed = sandbox.create_order_as("uber_eats", seed=1, step_seconds=0)

    polling.poll_connection(connection)

    order = Order.objects.get()
    assert (order.source, order.channel, order.status) == ("hubrise", "Uber Eats", "new")
    assert (order.service_type, order.service_type_ref) == ("delivery", placed["service_type_ref"])
    assert (order.ref, order.collection_code) == (placed["ref"], placed["collection_code"])
    assert order.expected_time == datetime.fromisoformat(placed["expected_time"])
    assert order.total == money(placed["total"])
    items = list(order.items.prefetch_related("options"))
    assert [(i.product_name, i.sku_ref, i.price, i.quantity) for i in items] == [
        (i["product_name"], i["sku_ref"] or "", money(i["price"]), Decimal(i["quantity"])) for i in placed["items"]
    ]
    assert [[(o.option_list_name, o.name, o.ref) for o in i.options.all()] for i in items] == [
        [(o["option_list_name"], o["name"], o["ref"] or "") for o in i["options"]] for i in placed["items"]
    ]
    assert order.customer_first_name == placed["customer"]["first_name"]
    assert order.customer_delivery_notes == placed["customer"]["delivery_notes"]
    assert [(p.name, p.ref, p.amount) for p in order.payments.all()] == [("Uber Eats", "UBER", money(placed["total"]))]
    assert order.history.get().source_detail == "Uber Eats"
    assert OrderDelivery.objects.get(order=order).carrier == "Uber Eats"
    assert order.hubrise.hubrise_order_id == placed["id"]


def test_a_pos_order_with_a_deal_keeps_its_deal_and_table(sandbox, connection):
    placed = sandbox.create_order_as("pos", seed=3, with_deal=True)

    polling.poll_connection(connection)

    order = Order.objects.get()
    assert order.status == "accepted"
    assert order.table_name == placed["custom_fields"]["restaurant"]["table_name"]
    assert [deal.name for deal in order.deals.all()] == [deal["name"] for deal in placed["deals"].values()]
    assert any(item.deal_key for item in order.items.all())


def test_a_status_change_on_an_imported_order_is_a_patch_never_a_create(sandbox, connection):
    placed = sandbox.create_order_as("deliveroo", dispatch=False)
    polling.poll_connection(connection)
    order = Order.objects.get()

    change_status(order, "accepted", source=StatusChange.Source.STAFF)
    drain.drain(threads=1)

    assert [message.kind for message in OutboxMessage.objects.filter(order=order)] == ["update_status"]
    assert sandbox.orders()[0]["status"] == "accepted"
    ours = [r for r in sandbox.requests_log(client_name="Get Resto") if "/orders" in r["path"]]
    assert {r["method"] for r in ours} <= {"PATCH", "GET"}
    assert any(r["method"] == "PATCH" and placed["id"] in r["path"] for r in ours)


def test_our_own_orders_are_never_imported(sandbox, connection, establishment):
    ours = pushed_order(establishment)
    state = sandbox.orders()[0]
    assert state["id"] == ours.hubrise.hubrise_order_id

    result = order_import.import_order(connection, {**state, "private_ref": str(ours.uid)})

    assert result.outcome == Outcome.NO_CHANGE
    assert Order.objects.count() == 1


def test_the_acknowledgement_setting_sends_received_for_each_new_order(sandbox, connection):
    Connection.objects.filter(pk=connection.pk).update(acknowledge_new_orders=True)
    connection.refresh_from_db()
    placed = sandbox.create_order_as("uber_eats", dispatch=False)

    polling.poll_connection(connection)
    drain.drain(threads=1)

    assert Order.objects.get().status == "received"
    assert [o["status"] for o in sandbox.orders() if o["id"] == placed["id"]] == ["received"]


@pytest.mark.django_db(transaction=True)
def test_two_imports_of_one_order_at_the_same_moment_give_one_order(sandbox):
    establishment = make_establishment()
    connection = sandbox_connection(sandbox, establishment)
    state = sandbox.create_order_as("uber_eats", dispatch=False)
    results = []
    start = threading.Barrier(4)

    def one() -> None:
        start.wait()
        try:
            results.append(order_import.import_order(connection, state).outcome)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [Outcome.IMPORTED] + [Outcome.NO_CHANGE] * 3
    assert Order.objects.count() == 1


def test_the_pos_moving_the_ready_time_and_a_courier_on_the_way_show_on_the_order(sandbox, connection, client, establishment):
    from datetime import timedelta

    from django.urls import reverse

    from orders.models import Membership
    from tests.factories import make_user

    placed = sandbox.create_order_as("uber_eats", seed=2, step_seconds=0)
    polling.poll_connection(connection)
    order = Order.objects.get()
    later = (datetime.fromisoformat(placed["expected_time"]) + timedelta(minutes=20)).isoformat()
    sandbox.edit_order_as(placed["id"], confirmed_time=later, seller_notes="Sans couverts")
    sandbox.advance_delivery(placed["id"])
    polling.poll_connection(connection)

    order.refresh_from_db()
    assert order.confirmed_time == datetime.fromisoformat(later)
    assert order.seller_notes == "Sans couverts"
    assert OrderDelivery.objects.get(order=order).status == "pickup_enroute"
    client.force_login(make_user(establishment, username="lina", role=Membership.Role.STAFF))
    page = client.get(reverse("orders:detail", args=[establishment.pk, order.pk])).content.decode()
    assert "Uber Eats" in page and "coursier en route vers le restaurant" in page.lower()
    assert "Heure confirmée modifiée par" in page
    listing = client.get(reverse("orders:list", args=[establishment.pk])).content.decode()
    assert "coursier en route vers le restaurant" in listing.lower()


def test_the_pos_adding_and_deleting_items_changes_our_order_and_its_total_and_says_so(sandbox, connection):
    placed = sandbox.create_order_as("pos", seed=4)
    polling.poll_connection(connection)
    order = Order.objects.get()
    first = placed["items"][0]

    sandbox.edit_order_as(
        placed["id"],
        items=[{"id": first["id"], "deleted": True}, {"product_name": "Café", "price": "2.50 EUR", "quantity": "2"}],
    )
    polling.poll_connection(connection)

    order.refresh_from_db()
    now = next(i for i in sandbox.orders() if i["id"] == placed["id"])
    kept = [(i["product_name"], Decimal(i["quantity"])) for i in now["items"] if not i.get("deleted")]
    assert [(i.product_name, i.quantity) for i in order.items.all()] == kept
    assert order.total == money(now["total"])
    edit = order.edits.get()
    assert (edit.field, edit.source) == ("items", "hubrise")
    assert "2 × Café" in edit.summary


def test_the_courier_section_of_the_order_page_refreshes_itself_for_the_establishment_only(
    sandbox, connection, client, establishment
):
    from django.urls import reverse

    from orders.models import Membership
    from tests.factories import make_user

    placed = sandbox.create_order_as("uber_eats", seed=5, step_seconds=0)
    polling.poll_connection(connection)
    order = Order.objects.get()
    client.force_login(make_user(establishment, username="lina", role=Membership.Role.STAFF))
    live = reverse("hubrise:delivery_live", args=[establishment.pk, order.pk])
    assert f'hx-get="{live}"' in client.get(reverse("orders:detail", args=[establishment.pk, order.pk])).text

    sandbox.advance_delivery(placed["id"])
    polling.poll_connection(connection)

    assert "coursier en route vers le restaurant" in client.get(live).text.lower()
    other = make_establishment(name="Ailleurs")
    client.force_login(make_user(other, username="paul", role=Membership.Role.STAFF))
    assert client.get(reverse("hubrise:delivery_live", args=[other.pk, order.pk])).status_code == 404
