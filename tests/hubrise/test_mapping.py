"""Our orders in HubRise's vocabulary, checked against the examples of HubRise's documentation."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from hubrise_sync import mapping
from orders.inputs import NewCharge, NewCustomer, NewDeal, NewDiscount, NewItem, NewOption, NewOrder, NewPayment
from orders.models import Order
from orders.money import format_money
from orders.services import create_order
from tests.factories import make_establishment, make_order


def full_order() -> NewOrder:
    return NewOrder(
        status="new",
        ref="0042",
        service_type="eat_in",
        service_type_ref="QR-TABLE",
        table_name="12",
        expected_time=datetime(2026, 6, 24, 17, 30, tzinfo=UTC),
        customer=NewCustomer(first_name="Élodie", last_name="Martin", phone="+33612345678", email="elodie@example.fr"),
        customer_notes="Sans moutarde",
        seller_notes="Habituée",
        collection_code="K7",
        coupon_codes=("ETE26",),
        items=(
            NewItem(
                product_name="Croque-monsieur",
                sku_name="Grand",
                sku_ref="CROQ-M-L",
                price=Decimal("9.50"),
                quantity=Decimal("2"),
                tax_rate=Decimal("10"),
                options=(
                    NewOption("Suppléments", "Œuf", ref="SUPP-OEUF", price=Decimal("1.00"), quantity=2),
                    NewOption("Sauces", "Moutarde", ref="SAUCE-MOUT", removed=True),
                ),
                deal_key="0",
                deal_label="Plat",
                deal_pricing_effect="unchanged",
            ),
            NewItem(product_name="Comté AOP", price=Decimal("24.00"), quantity=Decimal("0.5"), tax_rate=Decimal("5.5")),
        ),
        deals=(NewDeal(key="0", name="Formule midi", ref="MIDI"),),
        discounts=(NewDiscount(name="Fidélité", ref="FID", price_off=Decimal("2.00")),),
        charges=(NewCharge(name="Service", price=Decimal("1.50"), tax_rate=Decimal("20")),),
        payments=(NewPayment(amount=Decimal("35.50"), name="Carte bancaire", ref="CB", info={"transaction_id": "T-42"}),),
    )


@pytest.fixture
def order(db) -> Order:
    return create_order(make_establishment(), full_order())


def payload_of(order: Order) -> dict:
    return mapping.order_payload(order, status=order.status, timezone_name=order.establishment.timezone)


def test_money_is_two_decimals_a_space_and_the_currency_code():
    assert format_money(Decimal("8.9"), "EUR") == "8.90 EUR"
    assert format_money(Decimal("-0.05"), "GBP") == "-0.05 GBP"
    assert format_money(Decimal("0.004"), "EUR") == "0.00 EUR"
    assert format_money(Decimal("-0.001"), "EUR") == "0.00 EUR"
    assert format_money(Decimal("2.345"), "EUR") == "2.35 EUR", "half up, as the totals are computed"


def test_decimals_are_strings_without_float_noise_or_exponent():
    assert mapping.decimal_string(Decimal("1.000")) == "1"
    assert mapping.decimal_string(Decimal("-2.500")) == "-2.5"
    assert mapping.decimal_string(Decimal("20.000"), min_places=1) == "20.0"
    assert mapping.decimal_string(Decimal("100")) == "100"


def test_times_carry_the_establishment_offset_summer_and_winter():
    summer = datetime(2021, 6, 24, 17, 30, tzinfo=UTC)
    winter = datetime(2021, 12, 24, 18, 30, tzinfo=UTC)
    assert mapping.local_time(summer, "Europe/Paris") == "2021-06-24T19:30:00+02:00"
    assert mapping.local_time(winter, "Europe/Paris") == "2021-12-24T19:30:00+01:00"


def test_an_order_goes_out_with_our_uid_as_private_ref_and_its_ref_status_and_service(order):
    body = payload_of(order)
    assert body["private_ref"] == str(order.uid)
    assert body["ref"] == "0042"
    assert body["status"] == "new"
    assert body["service_type"] == "eat_in"
    assert body["service_type_ref"] == "QR-TABLE"
    assert body["expected_time"] == "2026-06-24T19:30:00+02:00"
    assert "confirmed_time" not in body


def test_items_have_money_strings_decimal_quantities_and_integer_option_quantities(order):
    croque, comte = payload_of(order)["items"]
    assert croque == {
        "product_name": "Croque-monsieur",
        "price": "9.50 EUR",
        "quantity": "2",
        "sku_name": "Grand",
        "sku_ref": "CROQ-M-L",
        "tax_rate": "10.0",
        "options": [
            {"option_list_name": "Suppléments", "name": "Œuf", "ref": "SUPP-OEUF", "price": "1.00 EUR", "quantity": 2},
            {"option_list_name": "Sauces", "name": "Moutarde", "ref": "SAUCE-MOUT", "quantity": 1, "removed": True},
        ],
        "deal_line": {"deal_key": "0", "label": "Plat", "pricing_effect": "unchanged"},
    }
    assert comte == {"product_name": "Comté AOP", "price": "24.00 EUR", "quantity": "0.5", "tax_rate": "5.5"}
    assert isinstance(croque["options"][0]["quantity"], int)


def test_deals_discounts_charges_and_payments_use_hubrise_shapes(order):
    body = payload_of(order)
    assert body["deals"] == {"0": {"name": "Formule midi", "ref": "MIDI"}}
    assert body["discounts"] == [{"name": "Fidélité", "price_off": "2.00 EUR", "ref": "FID"}]
    assert body["charges"] == [{"name": "Service", "price": "1.50 EUR", "tax_rate": "20.0"}]
    assert body["payments"] == [
        {"amount": "35.50 EUR", "name": "Carte bancaire", "ref": "CB", "info": {"transaction_id": "T-42"}}
    ]


def test_the_guest_customer_carries_only_the_fields_we_know(order):
    assert payload_of(order)["customer"] == {
        "first_name": "Élodie",
        "last_name": "Martin",
        "email": "elodie@example.fr",
        "phone": "+33612345678",
    }


def test_notes_codes_and_the_table_name_custom_field_of_an_eat_in_order(order):
    body = payload_of(order)
    assert body["customer_notes"] == "Sans moutarde"
    assert body["seller_notes"] == "Habituée"
    assert body["collection_code"] == "K7"
    assert body["coupon_codes"] == ["ETE26"]
    assert body["custom_fields"] == {"restaurant": {"table_name": "12"}}


@pytest.mark.django_db
def test_a_collection_order_has_no_table_and_no_empty_fields():
    order = make_order(make_establishment(), service_type="collection", table_name="", customer=NewCustomer())
    body = payload_of(order)
    assert "custom_fields" not in body
    assert "customer" not in body
    assert "coupon_codes" not in body
    assert "deals" not in body and "discounts" not in body and "charges" not in body


@pytest.mark.django_db
def test_an_order_without_payment_goes_out_with_one_unpaid_payment_of_its_total():
    order = make_order(make_establishment(), payments=())
    assert payload_of(order)["payments"] == [
        {"name": mapping.PAY_ON_SITE_NAME, "ref": "PAY_ON_SITE", "amount": "21.00 EUR", "info": {"paid": False}}
    ]


def test_accepted_carries_the_confirmed_time_in_the_store_timezone():
    confirmed = datetime(2021, 6, 24, 17, 30, tzinfo=UTC)
    body = mapping.status_payload("accepted", confirmed_time=confirmed, timezone_name="Europe/Paris")
    assert body == {"status": "accepted", "confirmed_time": "2021-06-24T19:30:00+02:00"}


def test_rejected_carries_the_reason_as_the_epos_rejection_cause():
    body = mapping.status_payload("rejected", confirmed_time=None, timezone_name="Europe/Paris", reason="Cuisine fermée")
    assert body == {"status": "rejected", "custom_fields": {"epos": {"rejection": {"cause": "Cuisine fermée"}}}}


def test_other_statuses_are_just_the_status():
    confirmed = datetime(2021, 6, 24, 17, 30, tzinfo=UTC)
    body = mapping.status_payload("in_preparation", confirmed_time=confirmed, timezone_name="Europe/Paris")
    assert body == {"status": "in_preparation"}
