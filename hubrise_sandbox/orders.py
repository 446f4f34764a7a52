"""Order rules: validation of a create or a PATCH, computed fields, and the per-client view.

Stored orders keep every element's private refs as a ``{client_id: ref}`` map; the order's
own private refs live in the ``order_private_refs`` table so SQLite enforces uniqueness.
These functions are pure: the caller loads and saves rows.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from . import delivery_rules
from .errors import Errors
from .formats import FormatError, format_money, local_time, new_id, parse_decimal, parse_money, parse_time

STATUSES = (
    "new",
    "received",
    "accepted",
    "in_preparation",
    "awaiting_shipment",
    "awaiting_collection",
    "in_delivery",
    "completed",
    "rejected",
    "cancelled",
    "delivery_failed",
)
SERVICE_TYPES = ("delivery", "collection", "eat_in")
PRIVATE_REF_MAX = 255

CREATE_FIELDS = {
    "status",
    "ref",
    "private_ref",
    "channel",
    "service_type",
    "service_type_ref",
    "expected_time",
    "confirmed_time",
    "customer_notes",
    "seller_notes",
    "collection_code",
    "coupon_codes",
    "items",
    "deals",
    "discounts",
    "charges",
    "payments",
    "loyalty_operations",
    "custom_fields",
    "customer_id",
    "customer_list_id",
    "customer_private_ref",
    "customer",
    # Accepted for older clients; HubRise computes it anyway.
    "total",
}
UPDATABLE_FIELDS = {"status", "confirmed_time", "seller_notes", "collection_code", "private_ref", "custom_fields"}
COLLECTIONS = ("items", "discounts", "charges", "payments")
ITEM_FIELDS = {
    "private_ref",
    "product_name",
    "sku_name",
    "sku_ref",
    "price",
    "quantity",
    "tax_rate",
    "customer_notes",
    "points_earned",
    "points_used",
    "options",
    "deal_line",
    "deleted",
}
OPTION_FIELDS = {"option_list_name", "name", "ref", "price", "quantity", "removed"}
DEAL_LINE_FIELDS = {"deal_key", "label", "pricing_effect", "pricing_value"}
PRICING_EFFECTS = ("unchanged", "fixed_price", "price_off", "percentage_off")
DISCOUNT_FIELDS = {"name", "ref", "price_off", "private_ref", "deleted", "pricing_effect", "pricing_value"}
CHARGE_FIELDS = {"name", "ref", "price", "tax_rate", "private_ref", "deleted", "type"}
PAYMENT_FIELDS = {"name", "ref", "amount", "info", "private_ref", "deleted", "type"}
LOYALTY_FIELDS = {"name", "ref", "delta", "reason"}
GUEST_CUSTOMER_FIELDS = {
    "email",
    "first_name",
    "last_name",
    "gender",
    "birth_date",
    "company_name",
    "phone",
    "phone_access_code",
    "address_1",
    "address_2",
    "postal_code",
    "city",
    "state",
    "country",
    "latitude",
    "longitude",
    "delivery_notes",
    "sms_marketing",
    "email_marketing",
}


def _string(errors: Errors, data: dict, key: str, path: str, required: bool = False) -> None:
    value = data.get(key)
    if value is None:
        if required:
            errors.add(path, "is required")
        return
    if not isinstance(value, str) or (required and not value.strip()):
        errors.add(path, "must be a non-empty string" if required else "must be a string")


def _money(errors: Errors, data: dict, key: str, path: str, currency: str, required: bool = False) -> Decimal:
    value = data.get(key)
    if value is None:
        if required:
            errors.add(path, "is required")
        return Decimal(0)
    try:
        return parse_money(value, currency)
    except FormatError as error:
        errors.add(path, str(error))
        return Decimal(0)


def _decimal(errors: Errors, data: dict, key: str, path: str, required: bool = False) -> Decimal | None:
    value = data.get(key)
    if value is None:
        if required:
            errors.add(path, "is required")
        return None
    try:
        return parse_decimal(value)
    except FormatError as error:
        errors.add(path, str(error))
        return None


def _time(errors: Errors, data: dict, key: str, path: str) -> None:
    value = data.get(key)
    if value is None:
        return
    try:
        parse_time(value)
    except FormatError as error:
        errors.add(path, str(error))


def _unknown_fields(errors: Errors, data: dict, allowed: set[str], prefix: str) -> None:
    for key in data:
        if key not in allowed:
            errors.add(f"{prefix}{key}", "is not a known field")


def _private_ref(errors: Errors, data: dict, path: str) -> None:
    value = data.get("private_ref")
    if value is None:
        return
    if not isinstance(value, str) or not value:
        errors.add(path, "must be a non-empty string")
    elif len(value) > PRIVATE_REF_MAX:
        errors.add(path, f"is too long (maximum is {PRIVATE_REF_MAX} characters)")


def _deleted_flag(errors: Errors, data: dict, path: str) -> None:
    if "deleted" in data and not isinstance(data["deleted"], bool):
        errors.add(path, "must be a boolean")


def _element_private_refs(data: dict, client_id: str) -> dict[str, str]:
    return {client_id: data["private_ref"]} if data.get("private_ref") else {}


def build_item(errors: Errors, data: Any, path: str, currency: str, deal_keys: dict[str, str], client_id: str) -> dict:
    if not isinstance(data, dict):
        errors.add(path, "must be an object")
        return {}
    _unknown_fields(errors, data, ITEM_FIELDS, f"{path}.")
    _string(errors, data, "product_name", f"{path}.product_name", required=True)
    for key in ("sku_name", "sku_ref", "customer_notes"):
        _string(errors, data, key, f"{path}.{key}")
    _private_ref(errors, data, f"{path}.private_ref")
    _deleted_flag(errors, data, f"{path}.deleted")
    price = _money(errors, data, "price", f"{path}.price", currency, required=True)
    quantity = _decimal(errors, data, "quantity", f"{path}.quantity", required=True)
    for key in ("tax_rate", "points_earned", "points_used"):
        _decimal(errors, data, key, f"{path}.{key}")

    options_total = Decimal(0)
    options = []
    raw_options = data.get("options") or []
    if not isinstance(raw_options, list):
        errors.add(f"{path}.options", "must be an array")
        raw_options = []
    for index, raw in enumerate(raw_options):
        option_path = f"{path}.options[{index}]"
        if not isinstance(raw, dict):
            errors.add(option_path, "must be an object")
            continue
        _unknown_fields(errors, raw, OPTION_FIELDS, f"{option_path}.")
        _string(errors, raw, "option_list_name", f"{option_path}.option_list_name", required=True)
        _string(errors, raw, "name", f"{option_path}.name", required=True)
        _string(errors, raw, "ref", f"{option_path}.ref")
        option_price = _money(errors, raw, "price", f"{option_path}.price", currency)
        option_quantity = raw.get("quantity", 1)
        # bool is an int subclass in Python, but not an integer in JSON.
        if isinstance(option_quantity, bool) or not isinstance(option_quantity, int) or option_quantity < 1:
            errors.add(f"{option_path}.quantity", f"{option_quantity!r} is not a positive integer")
            option_quantity = 1
        if "removed" in raw and not isinstance(raw["removed"], bool):
            errors.add(f"{option_path}.removed", "must be a boolean")
        options_total += option_price * option_quantity
        options.append(
            {
                "option_list_name": raw.get("option_list_name"),
                "name": raw.get("name"),
                "ref": raw.get("ref"),
                "price": raw.get("price"),
                "quantity": option_quantity,
                "removed": bool(raw.get("removed", False)),
            }
        )

    deal_line = data.get("deal_line")
    if deal_line is not None:
        if not isinstance(deal_line, dict):
            errors.add(f"{path}.deal_line", "must be an object")
            deal_line = None
        else:
            _unknown_fields(errors, deal_line, DEAL_LINE_FIELDS, f"{path}.deal_line.")
            key = deal_line.get("deal_key")
            if key is None:
                errors.add(f"{path}.deal_line.deal_key", "is required")
            elif str(key) not in deal_keys:
                errors.add(f"{path}.deal_line.deal_key", f"{key!r} does not match any key in deals")
            effect = deal_line.get("pricing_effect")
            if effect is not None and effect not in PRICING_EFFECTS:
                errors.add(f"{path}.deal_line.pricing_effect", f"{effect!r} is not one of {', '.join(PRICING_EFFECTS)}")
            deal_line = {
                "deal_key": deal_keys.get(str(key)),
                "label": deal_line.get("label"),
                "pricing_effect": effect,
                "pricing_value": deal_line.get("pricing_value"),
            }

    subtotal = (price + options_total) * (quantity if quantity is not None else Decimal(0))
    return {
        "id": new_id(6),
        "private_refs": _element_private_refs(data, client_id),
        "product_name": data.get("product_name"),
        "sku_name": data.get("sku_name"),
        "sku_ref": data.get("sku_ref"),
        "price": data.get("price"),
        "quantity": data.get("quantity"),
        "subtotal": format_money(subtotal, currency),
        "tax_rate": data.get("tax_rate"),
        "customer_notes": data.get("customer_notes"),
        "points_earned": data.get("points_earned"),
        "points_used": data.get("points_used"),
        "options": options,
        "deal_line": deal_line,
        "deleted": bool(data.get("deleted", False)),
    }


def build_discount(errors: Errors, data: Any, path: str, currency: str, client_id: str) -> dict:
    if not isinstance(data, dict):
        errors.add(path, "must be an object")
        return {}
    _unknown_fields(errors, data, DISCOUNT_FIELDS, f"{path}.")
    _string(errors, data, "name", f"{path}.name", required=True)
    _string(errors, data, "ref", f"{path}.ref")
    _money(errors, data, "price_off", f"{path}.price_off", currency, required=True)
    _private_ref(errors, data, f"{path}.private_ref")
    _deleted_flag(errors, data, f"{path}.deleted")
    return {
        "id": new_id(6),
        "private_refs": _element_private_refs(data, client_id),
        "name": data.get("name"),
        "ref": data.get("ref"),
        "price_off": data.get("price_off"),
        "deleted": bool(data.get("deleted", False)),
    }


def build_charge(errors: Errors, data: Any, path: str, currency: str, client_id: str) -> dict:
    if not isinstance(data, dict):
        errors.add(path, "must be an object")
        return {}
    _unknown_fields(errors, data, CHARGE_FIELDS, f"{path}.")
    _string(errors, data, "name", f"{path}.name", required=True)
    for key in ("ref", "type"):
        _string(errors, data, key, f"{path}.{key}")
    _money(errors, data, "price", f"{path}.price", currency, required=True)
    _decimal(errors, data, "tax_rate", f"{path}.tax_rate")
    _private_ref(errors, data, f"{path}.private_ref")
    _deleted_flag(errors, data, f"{path}.deleted")
    return {
        "id": new_id(6),
        "private_refs": _element_private_refs(data, client_id),
        "type": data.get("type"),
        "name": data.get("name"),
        "ref": data.get("ref"),
        "price": data.get("price"),
        "tax_rate": data.get("tax_rate"),
        "deleted": bool(data.get("deleted", False)),
    }


def build_payment(errors: Errors, data: Any, path: str, currency: str, client_id: str) -> dict:
    if not isinstance(data, dict):
        errors.add(path, "must be an object")
        return {}
    _unknown_fields(errors, data, PAYMENT_FIELDS, f"{path}.")
    for key in ("name", "ref", "type"):
        _string(errors, data, key, f"{path}.{key}")
    _money(errors, data, "amount", f"{path}.amount", currency, required=True)
    if data.get("info") is not None and not isinstance(data["info"], dict):
        errors.add(f"{path}.info", "must be an object")
    _private_ref(errors, data, f"{path}.private_ref")
    _deleted_flag(errors, data, f"{path}.deleted")
    return {
        "id": new_id(6),
        "private_refs": _element_private_refs(data, client_id),
        "type": data.get("type"),
        "name": data.get("name"),
        "ref": data.get("ref"),
        "amount": data.get("amount"),
        "info": data.get("info"),
        "deleted": bool(data.get("deleted", False)),
    }


BUILDERS = {"discounts": build_discount, "charges": build_charge, "payments": build_payment}


def _build_collection(errors: Errors, payload: dict, key: str, currency: str, client_id: str, deal_keys: dict) -> list:
    raw = payload.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors.add(key, "must be an array")
        return []
    if key == "items":
        return [build_item(errors, e, f"items[{i}]", currency, deal_keys, client_id) for i, e in enumerate(raw)]
    return [BUILDERS[key](errors, e, f"{key}[{i}]", currency, client_id) for i, e in enumerate(raw)]


def _build_deals(errors: Errors, raw: Any) -> tuple[dict, dict[str, str]]:
    """HubRise renumbers deal keys to "0", "1"…; returns the deals and the old→new key map."""
    if raw is None:
        return {}, {}
    if not isinstance(raw, dict):
        errors.add("deals", "must be an object keyed by deal key")
        return {}, {}
    deals, renumbered = {}, {}
    for position, (key, deal) in enumerate(raw.items()):
        new_key = str(position)
        renumbered[str(key)] = new_key
        if not isinstance(deal, dict):
            errors.add(f"deals.{key}", "must be an object")
            continue
        _string(errors, deal, "name", f"deals.{key}.name", required=True)
        _string(errors, deal, "ref", f"deals.{key}.ref")
        deals[new_key] = {"name": deal.get("name"), "ref": deal.get("ref")}
    return deals, renumbered


def compute_total(order: dict, currency: str) -> str:
    total = Decimal(0)
    for item in order["items"]:
        if not item["deleted"]:
            total += parse_money(item["subtotal"], currency)
    for charge in order["charges"]:
        if not charge["deleted"]:
            total += parse_money(charge["price"], currency)
    for discount in order["discounts"]:
        if not discount["deleted"]:
            total -= parse_money(discount["price_off"], currency)
    return format_money(total, currency)


def _payment_discrepancy(order: dict, currency: str) -> str:
    paid = sum(
        (parse_money(p["amount"], currency) for p in order["payments"] if not p["deleted"]),
        Decimal(0),
    )
    return format_money(paid - parse_money(order["total"], currency), currency)


def validate_create(payload: Any, currency: str, client_id: str, customer_lookup) -> tuple[dict, str | None]:
    """Returns the stored order body and the creator's private ref, or raises ValidationFailed.

    ``customer_lookup(customer_id=..., customer_list_id=..., private_ref=...)`` returns the
    customer snapshot or None when it does not exist.
    """
    errors = Errors()
    if not isinstance(payload, dict):
        errors.add("base", "the body must be a JSON object")
        errors.raise_if_any()
    _unknown_fields(errors, payload, CREATE_FIELDS, "")

    status = payload.get("status")
    if status is None:
        errors.add("status", "is required")
    elif status not in STATUSES:
        errors.add("status", f"{status!r} is not a valid status")
    service_type = payload.get("service_type")
    if service_type is not None and service_type not in SERVICE_TYPES:
        errors.add("service_type", f"{service_type!r} is not one of {', '.join(SERVICE_TYPES)}")
    for key in ("ref", "channel", "service_type_ref", "customer_notes", "seller_notes", "collection_code"):
        _string(errors, payload, key, key)
    _private_ref(errors, payload, "private_ref")
    for key in ("expected_time", "confirmed_time"):
        _time(errors, payload, key, key)
    coupon_codes = payload.get("coupon_codes")
    if coupon_codes is not None and (
        not isinstance(coupon_codes, list) or not all(isinstance(code, str) for code in coupon_codes)
    ):
        errors.add("coupon_codes", "must be an array of strings")
    custom_fields = payload.get("custom_fields")
    if custom_fields is not None and not isinstance(custom_fields, dict):
        errors.add("custom_fields", "must be an object")

    deals, deal_keys = _build_deals(errors, payload.get("deals"))
    order: dict = {
        "status": status,
        "ref": payload.get("ref"),
        "channel": payload.get("channel"),
        "service_type": service_type,
        "service_type_ref": payload.get("service_type_ref"),
        "expected_time": payload.get("expected_time"),
        "confirmed_time": payload.get("confirmed_time"),
        "customer_notes": payload.get("customer_notes"),
        "seller_notes": payload.get("seller_notes"),
        "collection_code": payload.get("collection_code"),
        "coupon_codes": coupon_codes or [],
        "deals": deals,
        "custom_fields": custom_fields or {},
    }
    for key in COLLECTIONS:
        order[key] = _build_collection(errors, payload, key, currency, client_id, deal_keys)

    customer_id, customer_list_id, customer = _attach_customer(errors, payload, customer_lookup)
    order["customer_id"] = customer_id
    order["customer_list_id"] = customer_list_id
    order["customer"] = customer

    order["loyalty_operations"] = _build_loyalty(errors, payload.get("loyalty_operations"), customer_id)
    errors.raise_if_any()
    order["total"] = compute_total(order, currency)
    return order, payload.get("private_ref")


def _attach_customer(errors: Errors, payload: dict, customer_lookup) -> tuple[str | None, str | None, dict | None]:
    by_id = payload.get("customer_id") is not None
    by_private_ref = payload.get("customer_list_id") is not None or payload.get("customer_private_ref") is not None
    as_guest = payload.get("customer") is not None
    if by_id + by_private_ref + as_guest > 1:
        errors.add(
            "customer",
            "use only one of customer_id, customer_list_id + customer_private_ref, or a guest customer",
        )
        return None, None, None
    if by_id:
        found = customer_lookup(customer_id=payload["customer_id"])
        if found is None:
            errors.add("customer_id", f"{payload['customer_id']!r} is not a known customer")
            return None, None, None
        return found["id"], found["customer_list_id"], found
    if by_private_ref:
        list_id, private_ref = payload.get("customer_list_id"), payload.get("customer_private_ref")
        if list_id is None or private_ref is None:
            errors.add("customer_private_ref", "customer_list_id and customer_private_ref go together")
            return None, None, None
        found = customer_lookup(customer_list_id=list_id, private_ref=private_ref)
        if found is None:
            errors.add("customer_private_ref", f"{private_ref!r} is not a known customer in list {list_id!r}")
            return None, None, None
        return found["id"], found["customer_list_id"], found
    if as_guest:
        guest = payload["customer"]
        if not isinstance(guest, dict):
            errors.add("customer", "must be an object")
            return None, None, None
        _unknown_fields(errors, guest, GUEST_CUSTOMER_FIELDS, "customer.")
        for key in ("latitude", "longitude"):
            _decimal(errors, guest, key, f"customer.{key}")
        snapshot = {key: guest.get(key) for key in sorted(GUEST_CUSTOMER_FIELDS)}
        snapshot["id"] = None
        return None, None, snapshot
    return None, None, None


def _build_loyalty(errors: Errors, raw: Any, customer_id: str | None) -> list:
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors.add("loyalty_operations", "must be an array")
        return []
    if raw and customer_id is None:
        errors.add("loyalty_operations", "need a customer attached to the order")
    operations = []
    for index, operation in enumerate(raw):
        path = f"loyalty_operations[{index}]"
        if not isinstance(operation, dict):
            errors.add(path, "must be an object")
            continue
        _unknown_fields(errors, operation, LOYALTY_FIELDS, f"{path}.")
        _decimal(errors, operation, "delta", f"{path}.delta", required=True)
        operations.append({key: operation.get(key) for key in ("name", "ref", "delta", "reason")})
    return operations


def apply_patch(order: dict, payload: Any, currency: str, client_id: str) -> tuple[dict, bool, str | None]:
    """Returns (updated order body, whether the private ref is being set, the new private ref)."""
    errors = Errors()
    if not isinstance(payload, dict):
        errors.add("base", "the body must be a JSON object")
        errors.raise_if_any()
    updated = copy.deepcopy(order)
    for key in payload:
        if key not in UPDATABLE_FIELDS and key not in COLLECTIONS:
            errors.add(key, "cannot be updated")

    if "status" in payload:
        if payload["status"] not in STATUSES:
            errors.add("status", f"{payload['status']!r} is not a valid status")
        else:
            updated["status"] = payload["status"]
    if "confirmed_time" in payload:
        _time(errors, payload, "confirmed_time", "confirmed_time")
        updated["confirmed_time"] = payload["confirmed_time"]
    for key in ("seller_notes", "collection_code"):
        if key in payload:
            _string(errors, payload, key, key)
            updated[key] = payload[key]
    if "private_ref" in payload:
        _private_ref(errors, payload, "private_ref")
    if "custom_fields" in payload:
        changes = payload["custom_fields"]
        if not isinstance(changes, dict):
            errors.add("custom_fields", "must be an object")
        else:
            merged = dict(updated.get("custom_fields") or {})
            for key, value in changes.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            updated["custom_fields"] = merged

    for key in COLLECTIONS:
        if key in payload:
            _patch_collection(errors, updated, key, payload[key], currency, client_id)

    errors.raise_if_any()
    updated["total"] = compute_total(updated, currency)
    return updated, "private_ref" in payload, payload.get("private_ref")


def _patch_collection(errors: Errors, order: dict, key: str, changes: Any, currency: str, client_id: str) -> None:
    if not isinstance(changes, list):
        errors.add(key, "must be an array")
        return
    by_id = {element["id"]: element for element in order[key]}
    deal_keys = {deal_key: deal_key for deal_key in order.get("deals", {})}
    for index, change in enumerate(changes):
        path = f"{key}[{index}]"
        if not isinstance(change, dict):
            errors.add(path, "must be an object")
            continue
        if "id" not in change:
            if key == "items":
                order[key].append(build_item(errors, change, path, currency, deal_keys, client_id))
            else:
                order[key].append(BUILDERS[key](errors, change, path, currency, client_id))
            continue
        element = by_id.get(change["id"])
        if element is None:
            errors.add(f"{path}.id", f"{change['id']!r} is not an element of this order")
            continue
        edited = set(change) - {"id", "deleted", "private_ref"}
        if edited:
            errors.add(path, "elements cannot be edited: delete this one and add a new one")
            continue
        if "deleted" in change:
            if change["deleted"] is True:
                element["deleted"] = True
            elif change["deleted"] is False:
                if element["deleted"]:
                    errors.add(f"{path}.deleted", "a deleted element cannot be restored")
            else:
                errors.add(f"{path}.deleted", "must be a boolean")
        if "private_ref" in change:
            _private_ref(errors, change, f"{path}.private_ref")
            if change["private_ref"]:
                element["private_refs"][client_id] = change["private_ref"]
            else:
                element["private_refs"].pop(client_id, None)


def _view_element(element: dict, client_id: str) -> dict:
    view = {"id": element["id"], "private_ref": element["private_refs"].get(client_id)}
    view.update({k: v for k, v in element.items() if k not in ("id", "private_refs")})
    return view


def render_order(
    order_id: str,
    body: dict,
    *,
    location_id: str,
    timezone: str,
    currency: str,
    created_at: float,
    created_by: str,
    private_ref: str | None,
    client_id: str,
) -> dict:
    """The order as ``client_id`` sees it: its own private refs only, times in the store timezone."""

    def in_store_time(value: str | None) -> str | None:
        return local_time(parse_time(value), timezone) if value else None

    view = {
        "id": order_id,
        "location_id": location_id,
        "private_ref": private_ref,
        "status": body["status"],
        "ref": body["ref"],
        "channel": body["channel"] or created_by,
        "service_type": body["service_type"],
        "service_type_ref": body["service_type_ref"],
        "created_at": local_time(created_at, timezone),
        "created_by": created_by,
        "expected_time": in_store_time(body["expected_time"]),
        "confirmed_time": in_store_time(body["confirmed_time"]),
        "customer_notes": body["customer_notes"],
        "seller_notes": body["seller_notes"],
        "collection_code": body["collection_code"],
        "coupon_codes": body["coupon_codes"],
        "total": body["total"],
        "total_discrepancy": format_money(Decimal(0), currency),
        "payment_discrepancy": _payment_discrepancy(body, currency),
        "items": [_view_element(e, client_id) for e in body["items"]],
        "deals": body["deals"],
        "discounts": [_view_element(e, client_id) for e in body["discounts"]],
        "charges": [_view_element(e, client_id) for e in body["charges"]],
        "payments": [_view_element(e, client_id) for e in body["payments"]],
        "loyalty_operations": body["loyalty_operations"],
        "customer_id": body["customer_id"],
        "customer_list_id": body["customer_list_id"],
        "customer": body["customer"],
        "delivery": delivery_rules.on_order(body.get("delivery"), order_id=order_id, location_id=location_id, timezone=timezone),
        "custom_fields": body["custom_fields"],
    }
    return view
