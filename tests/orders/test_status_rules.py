import pytest

from orders.status import (
    FINISHED_STATUSES,
    OrderStatus,
    Tab,
    next_usual_step,
    staff_transitions,
    tab_of,
)

EXPECTED_TABS = {
    "new": Tab.RECEIVED,
    "received": Tab.RECEIVED,
    "accepted": Tab.RECEIVED,
    "in_preparation": Tab.IN_PREPARATION,
    "awaiting_shipment": Tab.IN_PREPARATION,
    "awaiting_collection": Tab.IN_PREPARATION,
    "in_delivery": Tab.IN_PREPARATION,
    "completed": Tab.COMPLETED,
    "rejected": Tab.CANCELLED,
    "cancelled": Tab.CANCELLED,
    "delivery_failed": Tab.CANCELLED,
}


def test_the_vocabulary_is_hubrises_eleven_statuses():
    assert set(OrderStatus.values) == set(EXPECTED_TABS)


@pytest.mark.parametrize(("status", "tab"), EXPECTED_TABS.items())
def test_each_status_belongs_to_its_tab(status, tab):
    assert tab_of(status) == tab


@pytest.mark.parametrize("status", sorted(FINISHED_STATUSES))
def test_a_finished_order_offers_no_status_button(status):
    assert staff_transitions(status, "eat_in") == []
    assert next_usual_step(status, "eat_in") is None


def test_a_new_eat_in_order_can_be_acknowledged_accepted_rejected_or_cancelled_but_not_shipped():
    targets = staff_transitions("new", "eat_in")
    assert {"received", "accepted", "in_preparation", "awaiting_collection", "completed", "rejected", "cancelled"} <= set(targets)
    assert "awaiting_shipment" not in targets
    assert "in_delivery" not in targets
    assert "delivery_failed" not in targets


def test_staff_never_move_an_order_backwards():
    assert "new" not in staff_transitions("received", "collection")
    assert "accepted" not in staff_transitions("in_preparation", "collection")


def test_an_accepted_order_can_no_longer_be_rejected_only_cancelled():
    targets = staff_transitions("accepted", "delivery")
    assert "rejected" not in targets
    assert "cancelled" in targets


def test_only_a_delivery_on_its_way_can_fail_delivery():
    assert "delivery_failed" in staff_transitions("in_delivery", "delivery")
    assert "delivery_failed" not in staff_transitions("in_preparation", "delivery")


@pytest.mark.parametrize(
    ("current", "service_type", "expected"),
    [
        ("new", "eat_in", "accepted"),
        ("accepted", "collection", "in_preparation"),
        ("in_preparation", "delivery", "awaiting_shipment"),
        ("in_preparation", "collection", "awaiting_collection"),
        ("awaiting_shipment", "delivery", "in_delivery"),
        ("in_delivery", "delivery", "completed"),
    ],
)
def test_the_main_button_is_the_usual_next_step(current, service_type, expected):
    assert next_usual_step(current, service_type) == expected
    assert expected in staff_transitions(current, service_type)
