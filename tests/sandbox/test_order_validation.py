"""Order validation: each refusal is a 422 in HubRise's format naming the field (or a 415 / 400)."""

from __future__ import annotations

import requests

from tests.sandbox.conftest import ApiClient, an_item


def rejected_fields(response: requests.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["message"] == "Validation failed"
    assert body["error_type"] == "unprocessable_entity"
    return {error["field"]: error["message"] for error in body["errors"]}


def create(api: ApiClient, **fields) -> requests.Response:
    return api.post("/location/orders", {"status": "new", **fields})


def test_a_malformed_money_string_is_rejected(app_api):
    errors = rejected_fields(create(app_api, items=[an_item(price="8.9 EUR")]))

    assert errors == {"items[0].price": "'8.9 EUR' is not a valid monetary amount"}


def test_a_money_amount_as_a_json_number_is_rejected(app_api):
    errors = rejected_fields(create(app_api, charges=[{"name": "Livraison", "price": 2.5}]))

    assert "charges[0].price" in errors


def test_money_in_another_currency_than_the_accounts_is_rejected(app_api):
    errors = rejected_fields(create(app_api, payments=[{"amount": "10.00 GBP"}]))

    assert "payments[0].amount" in errors


def test_an_item_quantity_sent_as_a_json_number_is_rejected(app_api):
    errors = rejected_fields(create(app_api, items=[an_item(quantity=1.0)]))

    assert "items[0].quantity" in errors


def test_an_item_quantity_sent_as_a_json_integer_is_rejected(app_api):
    errors = rejected_fields(create(app_api, items=[an_item(quantity=2)]))

    assert "items[0].quantity" in errors


def test_an_option_quantity_sent_as_a_float_is_rejected(app_api):
    option = {"option_list_name": "Extras", "name": "Bacon", "quantity": 1.5}

    errors = rejected_fields(create(app_api, items=[an_item(options=[option])]))

    assert "items[0].options[0].quantity" in errors


def test_an_option_quantity_sent_as_a_string_is_rejected(app_api):
    option = {"option_list_name": "Extras", "name": "Bacon", "quantity": "2"}

    errors = rejected_fields(create(app_api, items=[an_item(options=[option])]))

    assert "items[0].options[0].quantity" in errors


def test_an_item_without_product_name_is_rejected(app_api):
    item = an_item()
    del item["product_name"]

    errors = rejected_fields(create(app_api, items=[item]))

    assert errors == {"items[0].product_name": "is required"}


def test_an_item_without_price_is_rejected(app_api):
    item = an_item()
    del item["price"]

    assert "items[0].price" in rejected_fields(create(app_api, items=[item]))


def test_a_deal_key_missing_from_deals_is_rejected(app_api):
    errors = rejected_fields(create(app_api, deals={"0": {"name": "Menu"}}, items=[an_item(deal_line={"deal_key": "1"})]))

    assert "items[0].deal_line.deal_key" in errors


def test_two_customer_modes_at_once_are_rejected(hubrise_sandbox, app_api):
    customer = hubrise_sandbox.locations()[0]["customer_lists"][0]["customers"][0]

    errors = rejected_fields(create(app_api, customer_id=customer["id"], customer={"first_name": "Inès"}))

    assert "customer" in errors


def test_an_unknown_customer_id_is_rejected(app_api):
    assert "customer_id" in rejected_fields(create(app_api, customer_id="nobody"))


def test_an_unknown_customer_private_ref_is_rejected(hubrise_sandbox, app_api):
    customer_list_id = hubrise_sandbox.locations()[0]["customer_lists"][0]["id"]

    errors = rejected_fields(create(app_api, customer_list_id=customer_list_id, customer_private_ref="C-404"))

    assert "customer_private_ref" in errors


def test_loyalty_operations_without_a_customer_are_rejected(app_api):
    errors = rejected_fields(create(app_api, loyalty_operations=[{"ref": "card", "delta": "10"}]))

    assert "loyalty_operations" in errors


def test_a_duplicate_private_ref_is_rejected(app_api):
    app_api.create_order(private_ref="GR-1")

    errors = rejected_fields(create(app_api, private_ref="GR-1"))

    assert errors == {"private_ref": "'GR-1' has already been taken"}


def test_an_unknown_status_is_rejected(app_api):
    assert rejected_fields(create(app_api, status="shipped")) == {"status": "'shipped' is not a valid status"}


def test_a_missing_status_is_rejected(app_api):
    assert rejected_fields(app_api.post("/location/orders", {})) == {"status": "is required"}


def test_an_unknown_field_is_rejected(app_api):
    assert "customer_note" in rejected_fields(create(app_api, customer_note="typo"))


def test_a_time_without_offset_is_rejected(app_api):
    assert "expected_time" in rejected_fields(create(app_api, expected_time="2030-01-01T12:00:00"))


def test_all_errors_of_a_request_are_reported_together(app_api):
    errors = rejected_fields(create(app_api, status="nope", items=[an_item(price="x", quantity=1)]))

    assert set(errors) == {"status", "items[0].price", "items[0].quantity"}


def test_a_rejected_order_is_not_created(hubrise_sandbox, app_api):
    create(app_api, status="nope")

    assert hubrise_sandbox.orders() == []


def test_a_non_json_body_gets_415(app_api):
    response = app_api.request(
        "POST", "/location/orders", data="status=new", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )

    assert response.status_code == 415
    assert response.json()["error_type"] == "unsupported_media_type"


def test_a_patch_with_a_non_json_body_gets_415(app_api):
    order = app_api.create_order()

    response = app_api.request(
        "PATCH", f"/location/orders/{order['id']}", data="status=accepted", headers={"Content-Type": "text/plain"}
    )

    assert response.status_code == 415


def test_a_malformed_json_body_gets_400(app_api):
    response = app_api.request("POST", "/location/orders", data="{not json", headers={"Content-Type": "application/json"})

    assert response.status_code == 400
