"""Small builders for the objects most tests need."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from orders.inputs import NewItem, NewOption, NewOrder, NewPayment
from orders.models import ApiKey, Company, Establishment, Membership, Order, StatusChange
from orders.services import create_order

# The password of every user make_user creates, for the tests that log in through the form.
PASSWORD = "correct-horse-battery"


def make_establishment(name: str = "Le Petit Bistrot", **fields) -> Establishment:
    company = Company.objects.create(name=f"Société {name}")
    return Establishment.objects.create(company=company, name=name, **fields)


def make_user(establishment: Establishment | None = None, username: str = "camille", role: str = Membership.Role.STAFF):
    user = get_user_model().objects.create_user(username, f"{username}@example.fr", PASSWORD)
    if establishment is not None:
        Membership.objects.create(user=user, establishment=establishment, role=role)
    return user


def croque_order(**fields) -> NewOrder:
    values = {
        "items": (
            NewItem(
                product_name="Croque-monsieur",
                sku_ref="CROQ-M",
                price=Decimal("9.50"),
                quantity=Decimal("2"),
                options=(NewOption("Suppléments", "Œuf", ref="SUPP-OEUF", price=Decimal("1.00")),),
            ),
        ),
        "service_type": "eat_in",
        "table_name": "12",
        "payments": (NewPayment(amount=Decimal("21.00"), name="Carte bancaire", ref="CB"),),
    }
    values.update(fields)
    return NewOrder(**values)


def make_order(establishment: Establishment, **fields) -> Order:
    return create_order(establishment, croque_order(**fields), source=StatusChange.Source.API)


def api_client(establishment: Establishment) -> APIClient:
    """A client of the intake API with a new key of the establishment, reading the English messages."""
    _api_key, raw = ApiKey.generate(establishment, "QR menu")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}", HTTP_ACCEPT_LANGUAGE="en")
    return api
