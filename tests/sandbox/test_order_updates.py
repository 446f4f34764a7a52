"""PATCH: only the updatable fields, custom_fields merged, elements added or soft-deleted, never edited."""

from __future__ import annotations

import pytest

from tests.sandbox.conftest import an_item
from tests.sandbox.test_order_validation import rejected_fields


@pytest.fixture
def order(app_api) -> dict:
    return app_api.create_order(
        items=[an_item(price="10.00 EUR"), an_item(product_name="Frites", price="3.00 EUR")],
        charges=[{"name": "Livraison", "price": "2.00 EUR"}],
        custom_fields={"restaurant": {"table_name": "12"}, "source": "web"},
    )


def patch(app_api, order: dict, body: dict):
    return app_api.patch(f"/location/orders/{order['id']}", body)


def test_status_and_confirmed_time_change_together(app_api, order):
    updated = patch(app_api, order, {"status": "accepted", "confirmed_time": "2030-06-24T19:30:00+02:00"}).json()

    assert updated["status"] == "accepted"
    assert updated["confirmed_time"] == "2030-06-24T19:30:00+02:00"


def test_seller_notes_and_collection_code_are_updatable(app_api, order):
    updated = patch(app_api, order, {"seller_notes": "Sans sel", "collection_code": "A12"}).json()

    assert (updated["seller_notes"], updated["collection_code"]) == ("Sans sel", "A12")


def test_custom_fields_are_merged_and_a_null_removes_a_key(app_api, order):
    updated = patch(app_api, order, {"custom_fields": {"source": None, "epos": {"order_id": "T-9"}}}).json()

    assert updated["custom_fields"] == {"restaurant": {"table_name": "12"}, "epos": {"order_id": "T-9"}}


@pytest.mark.parametrize("field", ["expected_time", "service_type", "customer_notes", "ref", "total"])
def test_a_field_that_is_not_updatable_is_rejected(app_api, order, field):
    errors = rejected_fields(patch(app_api, order, {field: "anything"}))

    assert errors == {field: "cannot be updated"}


def test_an_unknown_status_is_rejected_on_patch(app_api, order):
    assert "status" in rejected_fields(patch(app_api, order, {"status": "shipped"}))


def test_a_soft_deleted_item_stays_in_the_order_and_leaves_the_total(app_api, order):
    fries = order["items"][1]

    updated = patch(app_api, order, {"items": [{"id": fries["id"], "deleted": True}]}).json()

    assert [item["deleted"] for item in updated["items"]] == [False, True]
    assert updated["total"] == "12.00 EUR"


def test_a_deleted_item_cannot_be_restored(app_api, order):
    fries = order["items"][1]
    patch(app_api, order, {"items": [{"id": fries["id"], "deleted": True}]})

    errors = rejected_fields(patch(app_api, order, {"items": [{"id": fries["id"], "deleted": False}]}))

    assert "items[0].deleted" in errors


def test_an_item_without_id_is_added_and_counted_in_the_total(app_api, order):
    updated = patch(app_api, order, {"items": [an_item(product_name="Dessert", price="4.50 EUR")]}).json()

    assert [item["product_name"] for item in updated["items"]] == ["Burger", "Frites", "Dessert"]
    assert updated["items"][2]["id"]
    assert updated["total"] == "19.50 EUR"


def test_an_element_cannot_be_edited_in_place(app_api, order):
    burger = order["items"][0]

    errors = rejected_fields(patch(app_api, order, {"items": [{"id": burger["id"], "price": "1.00 EUR"}]}))

    assert "items[0]" in errors


def test_an_elements_private_ref_can_be_set_by_id(app_api, pos_api, order):
    charge = order["charges"][0]

    updated = patch(app_api, order, {"charges": [{"id": charge["id"], "private_ref": "fee-1"}]}).json()

    assert updated["charges"][0]["private_ref"] == "fee-1"
    assert pos_api.get(f"/location/orders/{order['id']}").json()["charges"][0]["private_ref"] is None


def test_an_unknown_element_id_is_rejected(app_api, order):
    assert "items[0].id" in rejected_fields(patch(app_api, order, {"items": [{"id": "nope", "deleted": True}]}))


def test_the_order_private_ref_can_be_set_later_and_must_stay_unique(app_api, order):
    app_api.create_order(private_ref="GR-7")

    assert patch(app_api, order, {"private_ref": "GR-8"}).json()["private_ref"] == "GR-8"
    assert rejected_fields(patch(app_api, order, {"private_ref": "GR-7"})) == {"private_ref": "'GR-7' has already been taken"}


def test_a_rejected_patch_changes_nothing(app_api, order):
    patch(app_api, order, {"status": "accepted", "expected_time": "2030-01-01T12:00:00+02:00"})

    assert app_api.get(f"/location/orders/{order['id']}").json() == order
