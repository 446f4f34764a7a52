"""The intake API's bodies, in HubRise's order vocabulary (docs/hubrise/orders.md).

Input serializers only validate and build orders.inputs.NewOrder; the order is
created by orders.services.create_order. Output serializers render a stored
order in the same vocabulary.
"""

import math
from dataclasses import replace
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders import extensions
from orders.api.fields import (
    DecimalStringField,
    MoneyField,
    NonNegativeMoneyField,
    OffsetDateTimeField,
    StrictBooleanField,
    StrictCharField,
    StrictEmailField,
    StrictPositiveIntegerField,
)
from orders.inputs import NewCharge, NewCustomer, NewDeal, NewDiscount, NewItem, NewOption, NewOrder, NewPayment
from orders.models import Order, OrderItem, StatusChange
from orders.phones import InvalidPhoneNumber, to_e164
from orders.services import creation_problems, item_subtotal, order_total
from orders.status import OrderStatus, ServiceType

MAX_ITEMS = 200
MAX_OPTIONS = 50
MAX_LINES = 50
# Order.total and line subtotals are stored with 12 digits, 2 of them decimals.
MONEY_LIMIT = Decimal("10000000000")
QUANTITY_LIMIT = Decimal("10000000")
TAX_RATE_LIMIT = Decimal("1000")
PRICING_EFFECTS = ("unchanged", "fixed_price", "price_off", "percentage_off")


def text(max_length: int, **kwargs: Any) -> StrictCharField:
    """An optional HubRise string; null and absent both mean empty."""
    kwargs.setdefault("required", False)
    return StrictCharField(max_length=max_length, allow_blank=True, allow_null=True, default="", **kwargs)


def _clean(value: str | None) -> str:
    return value or ""


def _has_forbidden_text(value: Any) -> bool:
    # PostgreSQL's jsonb refuses NUL characters and infinities (1e400 parses
    # as one), and UTF-8 cannot encode lone surrogates.
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, str):
        return "\x00" in value or any("\ud800" <= char <= "\udfff" for char in value)
    if isinstance(value, dict):
        return any(_has_forbidden_text(key) or _has_forbidden_text(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_forbidden_text(item) for item in value)
    return False


def quantity_field(**kwargs: Any) -> DecimalStringField:
    return DecimalStringField(decimal_places=3, above=Decimal("0"), below=QUANTITY_LIMIT, **kwargs)


def tax_rate_field(**kwargs: Any) -> DecimalStringField:
    return DecimalStringField(
        decimal_places=3,
        min_value=Decimal("0"),
        below=TAX_RATE_LIMIT,
        required=False,
        allow_null=True,
        default=None,
        help_text=_('Percentage as a decimal string, e.g. "20.0".'),
        **kwargs,
    )


# --- Input -------------------------------------------------------------------


def _fresh(field: serializers.Field) -> serializers.Field:
    """A new, unbound copy of a declared field: a shallow copy, with fresh copies of what binding changes.

    DRF deep-copies every declared field for each serializer instance, help texts,
    choices and nested serializers included; building each field again from its
    arguments still cost about a millisecond per order. A shallow copy shares only
    what a field never changes after its construction (its validators, choices, error
    messages, arguments); what binding and validation set is the copy's own: its name
    and parent (set by bind), a list's or dict's child (copied in turn and given this
    copy as parent), a nested serializer's fields (built again for the copy, from its
    own declared fields). So no copy shares a bound field with another request.
    """
    # copy.copy(field), without its generic __reduce_ex__ round (a third of the copy's cost).
    copied = object.__new__(type(field))
    copied.__dict__.update(field.__dict__)
    if isinstance(copied, serializers.BaseSerializer):
        # A cached_property: the copy builds its own.
        copied.__dict__.pop("fields", None)
    child = getattr(field, "child", None)
    if child is not None:
        # Bound once, at the list's construction (its name "" never changes): only its parent is this copy.
        copied.child = _fresh(child)
        copied.child.parent = copied
    return copied


# A body's part, its fields copied with _fresh rather than deep-copied. No docstring: the schema would give it
# to every serializer that has none of its own.
class InputSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        return {name: _fresh(field) for name, field in self._declared_fields.items()}


FROM_MENU = _("May be left out when the establishment has a menu: it is then taken from the menu (by ref).")


class OptionInputSerializer(InputSerializer):
    option_list_name = StrictCharField(max_length=200, required=False, help_text=FROM_MENU)
    name = StrictCharField(max_length=200, required=False, help_text=FROM_MENU)
    ref = text(100, help_text=_("Required when the establishment has a menu: an option code of the item's SKU."))
    price = NonNegativeMoneyField(required=False, help_text=_("Omitted means the menu's price, or free when there is no menu."))
    quantity = StrictPositiveIntegerField(required=False, default=1, help_text=_("Per item unit; a JSON integer."))
    removed = StrictBooleanField(required=False, default=False)


class DealLineInputSerializer(InputSerializer):
    deal_key = StrictCharField(max_length=16, help_text=_("A key of the order's deals map."))
    label = text(200)
    pricing_effect = serializers.ChoiceField(
        choices=PRICING_EFFECTS, required=False, allow_blank=True, allow_null=True, default=""
    )
    pricing_value = text(
        32, help_text=_('Money ("2.00 EUR") for fixed_price and price_off, a decimal ("10") for percentage_off.')
    )

    def validate(self, attrs: dict) -> dict:
        effect, value = _clean(attrs.get("pricing_effect")), _clean(attrs.get("pricing_value"))
        if value and effect in ("fixed_price", "price_off"):
            self._check_money(value)
        elif value and effect == "percentage_off":
            self._check_percentage(value)
        return attrs

    def _check_money(self, value: str) -> None:
        field = NonNegativeMoneyField()
        field.bind("pricing_value", self)
        try:
            field.to_internal_value(value)
        except serializers.ValidationError as error:
            raise serializers.ValidationError({"pricing_value": error.detail}) from None

    def _check_percentage(self, value: str) -> None:
        field = DecimalStringField(decimal_places=3, min_value=Decimal("0"), below=Decimal("1000"))
        field.bind("pricing_value", self)
        try:
            percentage = field.to_internal_value(value)
        except serializers.ValidationError as error:
            raise serializers.ValidationError({"pricing_value": error.detail}) from None
        if percentage > 100:
            raise serializers.ValidationError({"pricing_value": [_("A percentage off cannot exceed 100.")]})


class ItemInputSerializer(InputSerializer):
    product_name = StrictCharField(max_length=200, required=False, help_text=FROM_MENU)
    sku_name = text(200)
    sku_ref = text(100, help_text=_("Required when the establishment has a menu: a SKU code of its menu."))
    price = NonNegativeMoneyField(
        required=False,
        help_text=_(
            "Unit price, options excluded. May be left out when the establishment has a menu; "
            "when sent, it must be the menu's unless the establishment accepts other prices."
        ),
    )
    quantity = quantity_field()
    tax_rate = tax_rate_field()
    customer_notes = text(2000)
    options = serializers.ListField(child=OptionInputSerializer(), required=False, default=list, max_length=MAX_OPTIONS)
    deal_line = DealLineInputSerializer(required=False, allow_null=True, default=None)


class DealInputSerializer(InputSerializer):
    name = StrictCharField(max_length=200)
    ref = text(100)


class DiscountInputSerializer(InputSerializer):
    name = StrictCharField(max_length=200)
    ref = text(100)
    price_off = NonNegativeMoneyField()


class ChargeInputSerializer(InputSerializer):
    name = StrictCharField(max_length=200)
    ref = text(100)
    price = NonNegativeMoneyField()
    tax_rate = tax_rate_field()


class PaymentInputSerializer(InputSerializer):
    name = text(200)
    ref = text(100)
    amount = NonNegativeMoneyField()
    info = serializers.DictField(
        required=False, allow_null=True, default=dict, help_text=_("Free object, e.g. a transaction id.")
    )

    def validate_info(self, value: dict | None) -> dict:
        if value and _has_forbidden_text(value):
            raise serializers.ValidationError(_("Contains characters that cannot be stored."))
        return value or {}


class CustomerInputSerializer(InputSerializer):
    first_name = text(100)
    last_name = text(100)
    company_name = text(200)
    email = StrictEmailField(max_length=254, required=False, allow_blank=True, allow_null=True, default="")
    phone = text(
        32,
        help_text=_(
            "Stored and answered in E.164 (+33612345678); a number without country code, such as "
            "06 12 34 56 78, is read as the establishment's country's. A number that cannot exist is refused."
        ),
    )
    address_1 = text(255)
    address_2 = text(255)
    postal_code = text(20)
    city = text(100)
    country = text(100)
    delivery_notes = text(2000)

    def validate_phone(self, value: str | None) -> str:
        if not value or not value.strip():
            return ""
        country = self.context.get("country", "FR")
        try:
            return to_e164(value, country)
        except InvalidPhoneNumber:
            raise serializers.ValidationError(
                _("Not a valid phone number. Send it with its country code (+33…) or as a %(country)s number.")
                % {"country": country}
            ) from None


# NewCustomer's fields, named as in the body (building the serializer's fields to list them cost a copy of each).
CUSTOMER_FIELDS = tuple(CustomerInputSerializer._declared_fields)


class RestaurantFieldsSerializer(InputSerializer):
    table_name = text(64)


class CustomFieldsInputSerializer(InputSerializer):
    restaurant = RestaurantFieldsSerializer(required=False, allow_null=True)


class OrderInputSerializer(InputSerializer):
    """A new order. Needs context["currency"], the establishment's currency, and context["establishment"]
    for the checks of orders.extensions.order_checkers (the menu)."""

    status = serializers.ChoiceField(choices=OrderStatus.choices, required=False, default=OrderStatus.NEW)
    ref = text(64, help_text=_("Your reference; a number is given when empty."))
    channel = text(
        100, help_text=_("Where the guest ordered, e.g. \"Menu QR code\" (HubRise's channel); the API key's name when empty.")
    )
    service_type = serializers.ChoiceField(
        choices=ServiceType.choices, required=False, allow_blank=True, allow_null=True, default=""
    )
    service_type_ref = text(100)
    expected_time = OffsetDateTimeField(
        required=False, allow_null=True, default=None, help_text=_("Null means as soon as possible.")
    )
    confirmed_time = OffsetDateTimeField(required=False, allow_null=True, default=None)
    # ListField rather than many=True: the schema then carries minItems and maxItems.
    items = serializers.ListField(child=ItemInputSerializer(), allow_empty=False, min_length=1, max_length=MAX_ITEMS)
    deals = serializers.DictField(
        child=DealInputSerializer(),
        required=False,
        allow_null=True,
        default=dict,
        help_text=_('Map of deal key to deal, e.g. {"0": {...}}.'),
    )
    discounts = serializers.ListField(child=DiscountInputSerializer(), required=False, default=list, max_length=MAX_LINES)
    charges = serializers.ListField(child=ChargeInputSerializer(), required=False, default=list, max_length=MAX_LINES)
    payments = serializers.ListField(child=PaymentInputSerializer(), required=False, default=list, max_length=MAX_LINES)
    customer = CustomerInputSerializer(required=False, allow_null=True, default=None)
    customer_notes = text(2000)
    seller_notes = text(2000)
    collection_code = text(32)
    coupon_codes = serializers.ListField(child=StrictCharField(max_length=100), required=False, default=list, max_length=20)
    custom_fields = CustomFieldsInputSerializer(
        required=False, allow_null=True, default=None, help_text=_("Only restaurant.table_name is kept (eat-in table).")
    )
    table_name = text(64, help_text=_("Shortcut for custom_fields.restaurant.table_name."))

    def validate_deals(self, deals: dict | None) -> dict:
        deals = deals or {}
        if len(deals) > MAX_LINES:
            raise serializers.ValidationError(_("At most %(max)s deals.") % {"max": MAX_LINES})
        for key in deals:
            if not key or len(key) > 16 or _has_forbidden_text(key):
                raise serializers.ValidationError(_('Deal keys are 1 to 16 characters, e.g. "0".'))
        return deals

    def validate(self, attrs: dict) -> dict:
        errors: dict[str, Any] = {}
        deal_keys = set(attrs["deals"])
        item_errors = []
        for item in attrs["items"]:
            line = item["deal_line"]
            if line and line["deal_key"] not in deal_keys:
                item_errors.append({"deal_line": {"deal_key": [_("No deal has this key in deals.")]}})
            else:
                item_errors.append({})
        if any(item_errors):
            errors["items"] = item_errors

        table_from_custom = _clean(((attrs.get("custom_fields") or {}).get("restaurant") or {}).get("table_name"))
        table_top_level = _clean(attrs.get("table_name"))
        if table_from_custom and table_top_level and table_from_custom != table_top_level:
            errors["table_name"] = [_("Differs from custom_fields.restaurant.table_name.")]
        if errors:
            raise serializers.ValidationError(errors)
        attrs["table_name"] = table_from_custom or table_top_level

        new_order = _completed(self._build(attrs), self.context.get("establishment"))
        too_big = _("The amounts are too large.")
        if any(abs(item_subtotal(item)) >= MONEY_LIMIT for item in new_order.items) or abs(order_total(new_order)) >= MONEY_LIMIT:
            raise serializers.ValidationError({"items": [too_big]})
        problems = creation_problems(new_order)
        if problems:
            raise serializers.ValidationError({field: [message] for field, message in problems.items()})
        attrs["new_order"] = new_order
        return attrs

    def _build(self, data: dict) -> NewOrder:
        customer = data.get("customer") or {}
        return NewOrder(
            status=data["status"],
            ref=_clean(data["ref"]),
            channel=_clean(data["channel"]).strip() or self.context.get("channel", ""),
            service_type=_clean(data["service_type"]),
            service_type_ref=_clean(data["service_type_ref"]),
            table_name=data["table_name"],
            expected_time=data["expected_time"],
            confirmed_time=data["confirmed_time"],
            items=tuple(_build_item(item) for item in data["items"]),
            deals=tuple(NewDeal(key=key, name=deal["name"], ref=_clean(deal["ref"])) for key, deal in data["deals"].items()),
            discounts=tuple(
                NewDiscount(name=d["name"], ref=_clean(d["ref"]), price_off=d["price_off"]) for d in data["discounts"]
            ),
            charges=tuple(
                NewCharge(name=c["name"], ref=_clean(c["ref"]), price=c["price"], tax_rate=c["tax_rate"]) for c in data["charges"]
            ),
            payments=tuple(
                NewPayment(amount=p["amount"], name=_clean(p["name"]), ref=_clean(p["ref"]), info=p["info"])
                for p in data["payments"]
            ),
            customer=NewCustomer(**{name: _clean(customer.get(name)) for name in CUSTOMER_FIELDS}),
            customer_notes=_clean(data["customer_notes"]),
            seller_notes=_clean(data["seller_notes"]),
            collection_code=_clean(data["collection_code"]),
            coupon_codes=tuple(data["coupon_codes"]),
        )

    def new_order(self) -> NewOrder:
        return self.validated_data["new_order"]


def _completed(order: NewOrder, establishment: Any) -> NewOrder:
    """The order once the order checkers (the menu) have checked and completed it; what is still missing is required."""
    if establishment is not None:
        try:
            order = extensions.check_new_order(establishment, order)
        except extensions.OrderRefused as refused:
            raise serializers.ValidationError(refused.errors) from None
    required = _("This field is required.")
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(order.items):
        for name in ("product_name", "price"):
            if getattr(item, name) in ("", None):
                errors[f"items[{index}].{name}"] = [required]
        for position, option in enumerate(item.options):
            for name in ("option_list_name", "name"):
                if not getattr(option, name):
                    errors[f"items[{index}].options[{position}].{name}"] = [required]
    if errors:
        raise serializers.ValidationError(errors)
    # Without a menu, an option without price is free, as before menus existed. The lines are frozen: an order
    # whose options all have their price is kept as it is (copying it took four dataclasses.replace per order).
    if all(option.price is not None for item in order.items for option in item.options):
        return order
    items = tuple(
        replace(item, options=tuple(replace(o, price=Decimal("0")) if o.price is None else o for o in item.options))
        for item in order.items
    )
    return replace(order, items=items)


def _build_item(item: dict) -> NewItem:
    line = item["deal_line"] or {}
    return NewItem(
        product_name=item.get("product_name", ""),
        sku_name=_clean(item["sku_name"]),
        sku_ref=_clean(item["sku_ref"]),
        price=item.get("price"),
        quantity=item["quantity"],
        tax_rate=item["tax_rate"],
        customer_notes=_clean(item["customer_notes"]),
        options=tuple(
            NewOption(
                option_list_name=o.get("option_list_name", ""),
                name=o.get("name", ""),
                ref=_clean(o["ref"]),
                price=o.get("price"),
                quantity=o["quantity"],
                removed=o["removed"],
            )
            for o in item["options"]
        ),
        deal_key=line.get("deal_key", ""),
        deal_label=_clean(line.get("label")),
        deal_pricing_effect=_clean(line.get("pricing_effect")),
        deal_pricing_value=_clean(line.get("pricing_value")),
    )


# --- Output ------------------------------------------------------------------
# Nested lines reach their order through the caches that prefetch_related
# fills, so rendering a page of orders costs no query per line.


def _item_currency(item: OrderItem) -> str:
    return item.order.currency


class OptionSerializer(serializers.Serializer):
    option_list_name = serializers.CharField()
    name = serializers.CharField()
    ref = serializers.CharField()
    price = MoneyField(per_instance=lambda option: option.item.order.currency)
    quantity = serializers.IntegerField()
    removed = serializers.BooleanField()


class DealLineSerializer(serializers.Serializer):
    deal_key = serializers.CharField()
    label = serializers.CharField()
    pricing_effect = serializers.CharField()
    pricing_value = serializers.CharField()


class ItemSerializer(serializers.Serializer):
    product_name = serializers.CharField()
    sku_name = serializers.CharField()
    sku_ref = serializers.CharField()
    price = MoneyField(per_instance=_item_currency)
    quantity = DecimalStringField(decimal_places=3, below=QUANTITY_LIMIT)
    tax_rate = DecimalStringField(decimal_places=3, below=TAX_RATE_LIMIT, allow_null=True)
    subtotal = MoneyField(per_instance=_item_currency, help_text=_("(price + options) × quantity."))
    customer_notes = serializers.CharField()
    options = OptionSerializer(many=True)
    deal_line = serializers.SerializerMethodField()

    @extend_schema_field(DealLineSerializer(allow_null=True))
    def get_deal_line(self, item: OrderItem) -> dict | None:
        if not item.deal_key:
            return None
        return {
            "deal_key": item.deal_key,
            "label": item.deal_label,
            "pricing_effect": item.deal_pricing_effect,
            "pricing_value": item.deal_pricing_value,
        }


class DealSerializer(serializers.Serializer):
    name = serializers.CharField()
    ref = serializers.CharField()


class DiscountSerializer(serializers.Serializer):
    name = serializers.CharField()
    ref = serializers.CharField()
    price_off = MoneyField(per_instance=lambda discount: discount.order.currency)


class ChargeSerializer(serializers.Serializer):
    name = serializers.CharField()
    ref = serializers.CharField()
    price = MoneyField(per_instance=lambda charge: charge.order.currency)
    tax_rate = DecimalStringField(decimal_places=3, below=TAX_RATE_LIMIT, allow_null=True)


class PaymentSerializer(serializers.Serializer):
    name = serializers.CharField()
    ref = serializers.CharField()
    amount = MoneyField(per_instance=lambda payment: payment.order.currency)
    info = serializers.DictField()


class CustomerSerializer(serializers.Serializer):
    first_name = serializers.CharField(source="customer_first_name")
    last_name = serializers.CharField(source="customer_last_name")
    company_name = serializers.CharField(source="customer_company_name")
    email = serializers.CharField(source="customer_email")
    phone = serializers.CharField(source="customer_phone")
    address_1 = serializers.CharField(source="customer_address_1")
    address_2 = serializers.CharField(source="customer_address_2")
    postal_code = serializers.CharField(source="customer_postal_code")
    city = serializers.CharField(source="customer_city")
    country = serializers.CharField(source="customer_country")
    delivery_notes = serializers.CharField(source="customer_delivery_notes")


class HistoryEntrySerializer(serializers.Serializer):
    from_status = serializers.ChoiceField(choices=OrderStatus.choices, allow_blank=True, help_text=_("Empty for the creation."))
    to_status = serializers.ChoiceField(choices=OrderStatus.choices)
    at = OffsetDateTimeField(per_instance=lambda change: change.order.establishment.tzinfo)
    source = serializers.ChoiceField(choices=StatusChange.Source.choices)
    source_detail = serializers.CharField()
    reason = serializers.CharField()


class TableSerializer(serializers.Serializer):
    table_name = serializers.CharField()


class CustomFieldsSerializer(serializers.Serializer):
    restaurant = TableSerializer(required=False)


def _order_tz(order: Order):
    return order.establishment.tzinfo


class OrderSerializer(serializers.Serializer):
    """An order as stored, times in the establishment's time zone."""

    id = serializers.IntegerField()
    uid = serializers.UUIDField(help_text=_("Our unique id, sent to HubRise as private_ref."))
    ref = serializers.CharField()
    channel = serializers.CharField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    status_changed_at = OffsetDateTimeField(per_instance=_order_tz)
    created_at = OffsetDateTimeField(per_instance=_order_tz)
    service_type = serializers.ChoiceField(choices=ServiceType.choices, allow_blank=True)
    service_type_ref = serializers.CharField()
    expected_time = OffsetDateTimeField(per_instance=_order_tz, allow_null=True)
    confirmed_time = OffsetDateTimeField(per_instance=_order_tz, allow_null=True)
    items = ItemSerializer(many=True)
    deals = serializers.SerializerMethodField()
    discounts = DiscountSerializer(many=True)
    charges = ChargeSerializer(many=True)
    payments = PaymentSerializer(many=True)
    customer = CustomerSerializer(source="*")
    customer_notes = serializers.CharField()
    seller_notes = serializers.CharField()
    collection_code = serializers.CharField()
    coupon_codes = serializers.ListField(child=serializers.CharField())
    custom_fields = serializers.SerializerMethodField()
    total = MoneyField(per_instance=lambda order: order.currency, help_text=_("Items + charges − discounts."))
    item_count = serializers.IntegerField()
    history = HistoryEntrySerializer(many=True)

    @extend_schema_field(serializers.DictField(child=DealSerializer()))
    def get_deals(self, order: Order) -> dict:
        return {deal.key: {"name": deal.name, "ref": deal.ref} for deal in order.deals.all()}

    @extend_schema_field(CustomFieldsSerializer())
    def get_custom_fields(self, order: Order) -> dict:
        return {"restaurant": {"table_name": order.table_name}} if order.table_name else {}
