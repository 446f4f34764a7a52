"""getresto.statements: the values prepared_values sends as they are must be what Django's preparing gives, and the
instances new builds what Model.__init__ builds."""

import warnings
from datetime import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection, models
from django.db.models.signals import post_init
from django.utils import timezone
from django.utils.translation import gettext_lazy
from rest_framework.test import APIClient

from getresto import statements
from hubrise_sync.crypto import EncryptedTextField
from hubrise_sync.models import Connection
from orders.models import ApiKey, Order, OrderItem, OrderItemOption, StatusChange
from orders.status import OrderStatus
from tests.orders.test_api import CROQUE

pytestmark = pytest.mark.django_db


def django_values(instance, fields, relations=None):
    """Every value through its field's pre_save and get_db_prep_save, as Django's save does."""
    return statements.prepared_values(instance, list(fields), connection, relations)


def sent(values):
    """The values as the driver writes them into the statement."""
    with connection.cursor() as cursor:
        return [cursor.mogrify("%s", [value]) for value in values]


def assert_same(fast, slow):
    assert sent(fast) == sent(slow)
    assert [type(value) for value in fast] == [type(value) for value in slow]


@pytest.fixture
def compared(monkeypatch):
    """Every call of prepared_values during the test also prepares each value Django's way, and compares."""
    original = statements.prepared_values
    calls = []

    def both(instance, fields, connection, relations=None):
        assert getattr(fields, "kinds", None) is not None, "an INSERT's fields without their kinds"
        # An auto_now_add field is stamped on each call: the same instant for both.
        now = timezone.now()
        with mock.patch("django.utils.timezone.now", return_value=now):
            slow = original(instance, list(fields), connection, relations)
            fast = original(instance, fields, connection, relations)
        assert_same(fast, slow)
        calls.append(type(instance).__name__)
        return fast

    monkeypatch.setattr(statements, "prepared_values", both)
    return calls


def test_the_api_s_orders_send_the_values_django_would(compared, establishment):
    Connection.objects.create(establishment=establishment, location_id="loc-1", access_token="t", callback_mode="active")
    _key, raw = ApiKey.generate(establishment, "QR menu")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    accepted = {**CROQUE, "status": "accepted", "confirmed_time": timezone.now().isoformat()}
    minimal = {"items": [{"product_name": "Café", "price": "2.00 EUR", "quantity": "1"}]}
    for body in (CROQUE, accepted, minimal):
        response = api.post("/api/v1/orders/", body, format="json")
        assert response.status_code == 201, response.json()
    assert {"Order", "OrderItem", "OrderItemOption", "Payment", "OutboxMessage"} <= set(compared)


def test_values_of_other_types_are_prepared_by_django():
    order = Order(
        establishment_id=3,
        # A choice's member, a lazy text, a naive datetime, a float for a decimal, a string for an integer.
        status=OrderStatus.NEW,
        channel=gettext_lazy("Borne"),
        created_at=datetime(2026, 6, 24, 19, 30),
        status_changed_at=timezone.now(),
        due_at=timezone.now(),
        total=2.5,
        item_count="3",
        currency="EUR",
        coupon_codes=["A"],
    )
    order.pk = 7
    fields = [field for field in Order._meta.concrete_fields if not field.primary_key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fast = statements.prepared_values(order, statements.prepared_fields(fields, connection), connection)
        slow = django_values(order, fields)
    assert_same(fast, slow)


def test_the_values_of_each_kind_pass_unchanged_or_are_prepared():
    item = OrderItem(order_id=1, position=0, product_name="Café", price=Decimal("2.00"), quantity=Decimal("1"), tax_rate=None)
    option = OrderItemOption(item_id=4, position=True, name="Sucre", price=Decimal("NaN"), quantity=1, removed=False)
    for instance in (item, option):
        fields = [field for field in type(instance)._meta.concrete_fields if not field.primary_key]
        try:
            slow = django_values(instance, fields)
        except Exception as error:  # the same error either way
            with pytest.raises(type(error)):
                statements.prepared_values(instance, statements.prepared_fields(fields, connection), connection)
            continue
        assert_same(statements.prepared_values(instance, statements.prepared_fields(fields, connection), connection), slow)


def test_fields_that_prepare_their_own_way_are_not_passed_through():
    class Stamped(models.CharField):
        def get_prep_value(self, value):
            return f"#{value}"

    kinds = statements.prepared_fields(
        [EncryptedTextField(), Stamped(max_length=3), models.DateTimeField(auto_now_add=True), models.JSONField()], connection
    ).kinds
    assert all(kind is statements._SLOW for kind in kinds)
    kinds = statements.prepared_fields(
        [models.CharField(max_length=3), models.PositiveIntegerField(), models.DecimalField(), models.EmailField()], connection
    ).kinds
    assert kinds == [str, int, Decimal, str]


# statements.new: Model(**values) from a plan made once per model.


def same_instance(built, expected, *, differing=()):
    """The same attributes in the same order, values and related objects cached alike (a default made by a
    call, a new UUID or the time, of the same type)."""
    differing = {*differing, *(f.attname for f in type(built)._meta.concrete_fields if callable(f.default))}
    built_state, expected_state = vars(built).pop("_state"), vars(expected).pop("_state")
    assert list(vars(built)) == list(vars(expected))
    for name, value in vars(expected).items():
        if name in differing:
            assert type(vars(built)[name]) is type(value)
        else:
            assert vars(built)[name] == value, name
    assert vars(built_state) == vars(expected_state)
    vars(built)["_state"], vars(expected)["_state"] = built_state, expected_state


def test_new_builds_the_instance_django_builds(establishment):
    order = Order(establishment=establishment, status=OrderStatus.NEW, total=Decimal("1.00"), currency="EUR")
    values = {"establishment": establishment, "status": OrderStatus.NEW, "total": Decimal("1.00"), "currency": "EUR"}
    same_instance(statements.new(Order, **values), Order(**values))
    for model, values in (
        (OrderItem, {"order": order, "position": 0, "product_name": "Café", "price": Decimal("2"), "quantity": Decimal("1")}),
        (OrderItem, {"order_id": 12, "position": 1, "product_name": "Thé", "price": Decimal("2"), "quantity": Decimal("1")}),
        (OrderItemOption, {"item": OrderItem(order=order), "position": 0, "name": "Sucre", "price": Decimal("0")}),
        (Connection, {"establishment": establishment, "location_id": "loc-1"}),
        (StatusChange, {"id": 7, "order": order, "from_status": "", "to_status": "new", "at": timezone.now(), "actor_id": None}),
    ):
        built, expected = statements.new(model, **values), model(**values)
        same_instance(built, expected)
        for relation in ("order", "item", "establishment"):
            if relation in values:
                assert getattr(built, relation) is values[relation]


def test_new_leaves_what_its_plan_does_not_cover_to_django():
    # A property (pk), an unknown name: Model.__init__'s own result, or its error.
    assert statements.new(StatusChange, pk=5, to_status="new").id == 5
    with pytest.raises(TypeError, match="unexpected keyword"):
        statements.new(StatusChange, colour="blue")
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=StatusChange)
    try:
        change = statements.new(StatusChange, to_status="new")
    finally:
        post_init.disconnect(receiver, sender=StatusChange)
    assert seen == [change]
