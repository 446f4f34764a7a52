"""The intake API's compiled input plan and OrderInputSerializer agree: on every body of a corpus of good and bad ones,
the plan either gives what the serializer validates, or gives up on a body the serializer refuses (or, rarely, on a
valid one it cannot vouch for: the serializer then takes it). Never does it accept a body the serializer refuses."""

import copy
from typing import Any

import pytest

from orders.api import input_plan
from orders.api.serializers import OrderInputSerializer
from tests.factories import make_establishment

FULL = {
    "status": "accepted",
    "ref": "WEB-1042",
    "channel": "Menu QR code",
    "service_type": "delivery",
    "service_type_ref": "LIV",
    "expected_time": "2030-08-20T19:30:00+02:00",
    "confirmed_time": None,
    "items": [
        {
            "product_name": "Steak frites",
            "sku_name": "Grand",
            "sku_ref": "STEAK-FR",
            "price": "18.50 EUR",
            "quantity": "1.5",
            "tax_rate": "10.0",
            "customer_notes": "Sans sel",
            "options": [
                {"option_list_name": "Cuisson", "name": "Saignant", "ref": "CUIS", "price": "0.00 EUR", "quantity": 1},
                {"option_list_name": "Sauce", "name": "Béarnaise", "price": "1.50 EUR", "quantity": 2, "removed": False},
            ],
            "deal_line": {"deal_key": "0", "label": "Menu midi", "pricing_effect": "fixed_price", "pricing_value": "15.00 EUR"},
        },
        {"product_name": "Café", "price": "2.00 EUR", "quantity": "2", "deal_line": None},
    ],
    "deals": {"0": {"name": "Menu midi", "ref": "MIDI"}},
    "discounts": [{"name": "Fidélité", "ref": "FID", "price_off": "1.00 EUR"}],
    "charges": [{"name": "Livraison", "ref": "LIV", "price": "3.00 EUR", "tax_rate": "20"}],
    "payments": [{"name": "Carte bancaire", "ref": "CB", "amount": "20.00 EUR", "info": {"transaction": "t-1"}}],
    "customer": {
        "first_name": "Camille",
        "last_name": "Durand",
        "email": "camille@example.fr",
        "phone": "+33 6 12 34 56 78",
        "address_1": "3 rue des Lilas",
        "postal_code": "75011",
        "city": "Paris",
    },
    "customer_notes": "Interphone 12",
    "seller_notes": "",
    "collection_code": "A12",
    "coupon_codes": ["BIENVENUE"],
    "custom_fields": {"restaurant": {"table_name": "12"}},
    "table_name": "12",
}
MINIMAL = {"items": [{"product_name": "Croque-monsieur", "price": "9.50 EUR", "quantity": "2"}]}
# What a client gets wrong, or right in an unusual way, in any place of a body.
VALUES: list[Any] = [
    None,
    "",
    "  ",
    " padded ",
    "x" * 3000,
    "a\x00b",
    "\ud800",
    "Œuf à la coque",
    0,
    1,
    -1,
    1.5,
    10**30,
    True,
    False,
    [],
    {},
    ["x"],
    [None],
    {"a": 1},
    {"": {"name": "x"}},
    "9.50 EUR",
    "9.50 GBP",
    "-1.00 EUR",
    "99999999999.00 EUR",
    "1",
    "0",
    "0.0001",
    "1e3",
    "2030-08-20T06:42:46+02:00",
    "2030-08-20T06:42:46",
    "1900-01-01T00:00:00Z",
    "new",
    "accepted",
    "delivered",
    "eat_in",
    "bogus",
    "+33612345678",
]


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    found = [path] if path else []
    if isinstance(value, dict):
        for key, entry in value.items():
            found += _paths(entry, (*path, key))
    elif isinstance(value, list):
        for index, entry in enumerate(value):
            found += _paths(entry, (*path, index))
    return found


def _with(body: dict, path: tuple, value: Any) -> dict:
    changed = copy.deepcopy(body)
    target = changed
    for step in path[:-1]:
        target = target[step]
    if value is _REMOVED:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return changed


_REMOVED = object()


def corpus(values: list[Any]) -> list[Any]:
    bodies: list[Any] = [FULL, MINIMAL, None, [], "order", 12, {}]
    for base in (FULL, MINIMAL):
        for path in _paths(base):
            bodies.append(_with(base, path, _REMOVED))
            bodies += [_with(base, path, value) for value in values]
    return bodies


def _in_pounds(body: Any) -> Any:
    """The body with its amounts in pounds (and the pounds of VALUES in euros)."""
    if isinstance(body, dict):
        return {key: _in_pounds(value) for key, value in body.items()}
    if isinstance(body, list):
        return [_in_pounds(value) for value in body]
    if isinstance(body, str) and body.endswith((" EUR", " GBP")):
        return body[:-3] + ("GBP" if body.endswith("EUR") else "EUR")
    return body


def _context(establishment) -> dict:
    return {
        "currency": establishment.currency,
        "country": establishment.country,
        "channel": "front",
        "establishment": establishment,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("place", "values"),
    # In pounds, a shorter corpus: what differs is the currency and the phone's country.
    [({}, VALUES), ({"currency": "GBP", "country": "GB"}, VALUES[::3])],
    ids=["EUR/FR", "GBP/GB"],
)
def test_the_plan_accepts_only_what_the_serializer_accepts_and_gives_the_same_order(place, values):
    establishment = make_establishment(**place)
    context = _context(establishment)
    bodies = corpus(values)
    if establishment.currency == "GBP":
        bodies = [_in_pounds(body) for body in bodies]
    taken = refused = left_to_the_serializer = 0
    for body in bodies:
        planned = input_plan.validated(OrderInputSerializer, copy.deepcopy(body), context)
        serializer = OrderInputSerializer(data=copy.deepcopy(body), context=context)
        if planned is None:
            if serializer.is_valid():
                left_to_the_serializer += 1
            else:
                refused += 1
            continue
        assert serializer.is_valid(), (body, serializer.errors)
        assert planned == serializer.validated_data, body
        taken += 1
    # The corpus exercises both sides, and the plan takes most valid bodies itself.
    assert refused > len(bodies) / 4
    assert taken > len(bodies) / 10
    assert left_to_the_serializer < taken / 4


@pytest.mark.django_db
def test_the_plan_takes_the_usual_bodies_itself():
    context = _context(make_establishment())
    for body in (FULL, MINIMAL):
        planned = input_plan.validated(OrderInputSerializer, copy.deepcopy(body), context)
        assert planned is not None
        expected = OrderInputSerializer(data=copy.deepcopy(body), context=context)
        assert expected.is_valid()
        assert planned["new_order"] == expected.validated_data["new_order"]
