import itertools
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.utils import timezone

from orders import signals
from orders.inputs import NewCharge, NewDeal, NewDiscount, NewItem, NewOption, NewPayment
from orders.models import Order, StatusChange
from orders.services import (
    InvalidOrder,
    OutdatedChange,
    ReasonRequired,
    StaleStatus,
    TransitionNotAllowed,
    UnknownStatus,
    change_status,
    create_order,
)
from tests.factories import croque_order, make_establishment, make_order, make_user

pytestmark = pytest.mark.django_db
Source = StatusChange.Source


def test_an_order_is_recorded_with_exact_totals_lines_and_a_first_history_entry():
    establishment = make_establishment()
    data = croque_order(
        items=(
            NewItem(
                "Steak frites",
                Decimal("18.50"),
                Decimal("3"),
                options=(
                    NewOption("Cuisson", "Saignant"),
                    NewOption("Accompagnement", "Haricots verts", price=Decimal("1.50")),
                    NewOption("Sauce", "Poivre", price=Decimal("0.10"), quantity=2),
                ),
            ),
            NewItem("Café", Decimal("2.20"), Decimal("0.5"), deal_key="0", deal_label="Café"),
        ),
        deals=(NewDeal("0", "Formule midi", "FORMULE-MIDI"),),
        charges=(NewCharge("Frais de livraison", Decimal("3.50")),),
        discounts=(NewDiscount("Code BIENVENUE", Decimal("5.00")),),
        payments=(NewPayment(Decimal("59.30")),),
    )

    order = create_order(establishment, data, source=Source.API)

    order.refresh_from_db()
    # (18.50 + 1.50 + 2 × 0.10) × 3 = 60.60; 2.20 × 0.5 = 1.10; + 3.50 − 5.00
    assert order.total == Decimal("60.20")
    assert [item.subtotal for item in order.items.all()] == [Decimal("60.60"), Decimal("1.10")]
    assert order.items.first().options.count() == 3
    assert order.deals.get().name == "Formule midi"
    assert order.currency == "EUR"
    assert order.ref == "0001"
    assert list(order.history.values_list("from_status", "to_status", "source")) == [("", "new", "api")]


@pytest.mark.parametrize(
    ("items", "payments"),
    [(1, 0), (1, 1), (20, 1)],
    ids=["items only", "items and a payment", "more items than one kept statement holds"],
)
def test_every_line_of_a_new_order_refers_to_it_whatever_the_order_s_shape(items, payments):
    establishment = make_establishment()
    data = croque_order(
        items=tuple(NewItem(f"Plat {n}", Decimal("9.50"), Decimal("1")) for n in range(items)),
        payments=(NewPayment(Decimal("9.50") * items),) * payments,
    )

    order = create_order(establishment, data, source=Source.API)
    make_order(establishment)

    stored = Order.objects.get(ref="0001")
    assert stored.pk == order.pk
    assert [item.product_name for item in stored.items.order_by("position")] == [f"Plat {n}" for n in range(items)]
    assert stored.payments.count() == payments
    assert list(stored.history.values_list("to_status", flat=True)) == ["new"]


def test_refs_count_up_per_establishment():
    bistrot, brasserie = make_establishment("Bistrot"), make_establishment("Brasserie")
    assert [make_order(bistrot).ref, make_order(bistrot).ref, make_order(brasserie).ref] == ["0001", "0002", "0001"]


def test_an_order_without_items_is_refused_and_nothing_is_written():
    establishment = make_establishment()
    with pytest.raises(InvalidOrder):
        create_order(establishment, croque_order(items=()), source=Source.API)
    assert Order.objects.count() == 0


def test_an_item_pointing_to_a_missing_deal_is_refused():
    with pytest.raises(InvalidOrder):
        create_order(
            make_establishment(),
            croque_order(items=(NewItem("Café", Decimal("2.20"), Decimal("1"), deal_key="7"),)),
            source=Source.API,
        )
    assert Order.objects.count() == 0


def test_a_status_change_is_saved_with_its_history_entry():
    establishment = make_establishment()
    cook = make_user(establishment)
    order = make_order(establishment)

    change = change_status(order, "accepted", source=Source.STAFF, actor=cook)

    order.refresh_from_db()
    assert order.status == "accepted"
    assert order.confirmed_time is not None
    assert (change.from_status, change.to_status, change.actor, change.source) == ("new", "accepted", cook, "staff")
    assert order.history.count() == 2


def test_setting_the_current_status_again_changes_nothing():
    order = make_order(make_establishment())
    assert change_status(order, "new", source=Source.STAFF) is None
    assert order.history.count() == 1


def test_an_unknown_status_is_refused():
    order = make_order(make_establishment())
    with pytest.raises(UnknownStatus):
        change_status(order, "shipped", source=Source.HUBRISE)


def test_staff_cannot_reopen_a_completed_order_but_hubrise_can():
    order = make_order(make_establishment())
    change_status(order, "completed", source=Source.STAFF)
    with pytest.raises(TransitionNotAllowed):
        change_status(order, "in_preparation", source=Source.STAFF)
    change_status(order, "in_preparation", source=Source.HUBRISE, source_detail="Caisse")
    order.refresh_from_db()
    assert order.status == "in_preparation"
    assert order.history.last().source_detail == "Caisse"


def test_cancelling_needs_a_reason_that_is_kept():
    order = make_order(make_establishment())
    with pytest.raises(ReasonRequired):
        change_status(order, "cancelled", source=Source.STAFF, reason="  ")
    change_status(order, "cancelled", source=Source.STAFF, reason="Client parti")
    assert order.history.last().reason == "Client parti"


def test_a_change_from_a_stale_page_is_refused():
    order = make_order(make_establishment())
    change_status(order, "accepted", source=Source.HUBRISE)
    with pytest.raises(StaleStatus):
        change_status(order.pk, "received", source=Source.STAFF, expected_current="new")
    order.refresh_from_db()
    assert order.status == "accepted"


def test_a_change_made_elsewhere_before_our_last_change_does_not_roll_back():
    order = make_order(make_establishment())
    before = timezone.now() - timedelta(seconds=5)
    change_status(order, "in_preparation", source=Source.STAFF)
    with pytest.raises(OutdatedChange):
        change_status(order, "accepted", source=Source.HUBRISE, unless_changed_after=before)
    order.refresh_from_db()
    assert order.status == "in_preparation"


def test_listeners_run_inside_the_transaction_and_roll_back_with_it():
    order = make_order(make_establishment())

    def refuse(**kwargs):
        raise RuntimeError("listener failed")

    signals.status_changed.connect(refuse)
    try:
        with pytest.raises(RuntimeError):
            change_status(order, "accepted", source=Source.STAFF)
    finally:
        signals.status_changed.disconnect(refuse)
    order.refresh_from_db()
    assert order.status == "new"
    assert order.history.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_of_one_order_are_serialised_by_the_row_lock():
    order = make_order(make_establishment())
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def click(target: str) -> None:
        try:
            barrier.wait()
            change_status(order.pk, target, source=Source.STAFF)
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click, args=(target,)) for target in ("accepted", "received")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    history = list(Order.objects.get(pk=order.pk).history.values_list("from_status", "to_status"))
    # Whatever the order of the two clicks, each saw the status the other wrote:
    # the history is a chain, never two changes from "new".
    assert history[0] == ("", "new")
    for (_, previous_to), (next_from, _) in itertools.pairwise(history):
        assert next_from == previous_to
    assert len(history) == 3 or (len(history) == 2 and len(errors) == 1)
    assert connection.vendor == "postgresql"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_first_order_of_a_new_channel_waits_for_a_concurrent_order_instead_of_deadlocking():
    """A concurrent order ends by locking its status counter, then the establishment's row (orders.recording):
    an order of a channel not seen yet must not take that row before the counter."""
    from django.db import transaction

    from orders.models import Establishment, OrderStatusCount

    establishment = make_establishment()
    make_order(establishment)  # the counter of "new" orders exists
    holding, release = threading.Event(), threading.Event()
    errors: list[Exception] = []

    def concurrent_order_at_its_numbering() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT 1 FROM {OrderStatusCount._meta.db_table} WHERE establishment_id = %s AND status = 'new' FOR UPDATE",  # noqa: S608
                    [establishment.pk],
                )
                holding.set()
                release.wait(10)
                cursor.execute(
                    f"UPDATE {Establishment._meta.db_table} SET screen_version = screen_version + 1 WHERE id = %s",  # noqa: S608
                    [establishment.pk],
                )
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    other = threading.Thread(target=concurrent_order_at_its_numbering)
    other.start()
    assert holding.wait(10)
    # The other order moves on to the establishment's row while this one is under way.
    threading.Timer(1.0, release.set).start()
    order = create_order(establishment, croque_order(channel="Borne"), source=Source.API)
    other.join(20)

    assert errors == []
    assert "Borne" in Establishment.objects.get(pk=establishment.pk).channels
    assert Order.objects.get(pk=order.pk).channel == "Borne"
