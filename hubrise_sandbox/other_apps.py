"""The other apps connected to a location, played by the sandbox: Uber Eats, Deliveroo and the POS.

Their orders are built from the location's catalog the way each app's HubRise bridge encodes
them (HubRise's app pages "Receive Orders"): the platforms' prices (the "Livraison" variant),
one option object per unit, the customer's first name and last initial with the platform's
support number and access code, a payment of the total by the platform. Deliveroo puts the ref
code in ``product_name`` and option ``name`` when there is one, and "Options" as the option
list name: that is what its bridge sends, and a client must cope with it. Items out of stock
in the location's inventory, or restricted away from the app's variant, are never ordered.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import orders as order_rules
from .catalogs import visible_catalogs
from .demo_catalog import POS_CODES
from .errors import ValidationFailed, not_found
from .formats import format_money, local_time, parse_money

if TYPE_CHECKING:
    from .sandbox import Connection, Sandbox

APP_SCOPE = "location[orders.write,catalog.read,inventory.read]"
# The sandbox's own connections for the apps it plays, apart from any token a test made for them.
PLAYED_DEVICE = "played-by-the-sandbox"
FIRST_NAMES = ("Camille", "Léa", "Hugo", "Chloé", "Nathan", "Manon", "Louis", "Inès", "Jules", "Sarah", "Yanis", "Emma")
LAST_INITIALS = "BDFGLMPRST"
STREETS = (
    ("8 rue Oberkampf", "75011", "48.8652", "2.3713"),
    ("27 rue de Clignancourt", "75018", "48.8867", "2.3475"),
    ("3 avenue Trudaine", "75009", "48.8823", "2.3440"),
    ("54 rue Lamarck", "75018", "48.8899", "2.3382"),
)
DELIVERY_NOTES = ("Digicode 4521B, 3e étage gauche", "Sonner chez Martin", "Laisser devant la porte", "")
ORDER_NOTES = ("", "", "Sans oignons s'il vous plaît", "Allergie aux arachides !", "Couverts en plus merci")


@dataclass(frozen=True)
class App:
    role: str
    channel: str
    variant: str
    payment: tuple[str, str] | None
    # French fictional-use numbers (ARCEP keeps 01 99 00 … for fiction).
    support_phone: str | None
    service_refs: dict[str, str]


APPS = {
    "uber_eats": App(
        "uber_eats",
        "Uber Eats",
        "LIVRAISON",
        ("Uber Eats", "UBER"),
        "+33199001010",
        {"delivery": "UBER-LIV", "collection": "UBER-EMP"},
    ),
    "deliveroo": App(
        "deliveroo",
        "Deliveroo",
        "LIVRAISON",
        ("Deliveroo", "DELIVEROO"),
        "+33199002020",
        {"delivery": "DELIVEROO-LIV", "restaurant_delivery": "DELIVEROO-LIV-RESTO", "collection": "DELIVEROO-EMP"},
    ),
    "pos": App(
        "pos", "Caisse", "SUR-PLACE", None, None, {"eat_in": "SUR-PLACE", "collection": "EMPORTER", "delivery": "LIVRAISON"}
    ),
}
DISH_PRICE = Decimal("9.00")
REQUEST_FIELDS = {
    "as",
    "service_type",
    "delivery_by",
    "seed",
    "items",
    "status",
    "customer_notes",
    "with_deal",
    "step_seconds",
    "dispatch",
}


class OtherApps:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.store = sandbox.store

    def connection(self, role: str, location_id: str) -> Connection:
        """The app's connection to the location, made on first use as its owner would through OAuth."""
        client = self.sandbox.client_by_role(role)
        answer = self.sandbox.connect(client["id"], location_id, APP_SCOPE, PLAYED_DEVICE)
        return self.sandbox.authenticate(answer["access_token"])

    def create_order(self, location_id: str, request: dict) -> dict:
        """Creates an order as one of the other apps (``request["as"]``); returns it as HubRise holds it.

        A platform's delivery order gets the platform's courier, moving on every ``step_seconds``
        (default 20; 0 moves only on ``advance``) unless ``dispatch`` is false.
        """
        location = self.sandbox.location(location_id)
        if location is None:
            raise not_found(f"Unknown location {location_id!r}")
        app, options = self._check_request(request)
        connection = self.connection(app.role, location_id)
        payload = self._payload(app, location, options)
        order = self.sandbox.create_order(connection, payload)
        platform_courier = app.role != "pos" and options["service_type"] == "delivery" and options["delivery_by"] == "platform"
        if platform_courier and options.get("dispatch", True):
            self.sandbox.deliveries.dispatch(
                connection.client_id, order["id"], app.channel, step_seconds=options.get("step_seconds", 20)
            )
        return next(o for o in self.sandbox.orders_as_hubrise_holds_them(location_id) if o["id"] == order["id"])

    def _check_request(self, request: Any) -> tuple[App, dict]:
        errors = []
        if not isinstance(request, dict):
            raise ValidationFailed([{"field": "base", "message": "the body must be a JSON object"}])
        app = APPS.get(request.get("as", ""))
        if app is None:
            errors.append({"field": "as", "message": f"must be one of {', '.join(APPS)}"})
        errors += [{"field": key, "message": "is not a known field"} for key in request if key not in REQUEST_FIELDS]
        default_service = "eat_in" if request.get("as") == "pos" else "delivery"
        service_type = request.get("service_type", default_service)
        allowed = ("eat_in", "collection", "delivery") if request.get("as") == "pos" else ("collection", "delivery")
        if service_type not in allowed:
            errors.append({"field": "service_type", "message": f"must be one of {', '.join(allowed)} for this app"})
        delivery_by = request.get("delivery_by", "restaurant" if request.get("as") == "pos" else "platform")
        if delivery_by not in ("platform", "restaurant"):
            errors.append({"field": "delivery_by", "message": "must be platform or restaurant"})
        step_seconds = request.get("step_seconds", 20)
        if isinstance(step_seconds, bool) or not isinstance(step_seconds, (int, float)) or step_seconds < 0:
            errors.append({"field": "step_seconds", "message": "must be a non-negative number of seconds"})
        if "items" in request and (not isinstance(request["items"], list) or not request["items"]):
            errors.append({"field": "items", "message": "must be a non-empty array of HubRise order items"})
        if errors:
            raise ValidationFailed(errors)
        return app, {**request, "service_type": service_type, "delivery_by": delivery_by, "step_seconds": step_seconds}

    # Building the order -------------------------------------------------------------------------

    def _payload(self, app: App, location: dict, options: dict) -> dict:
        rng = random.Random(options.get("seed"))  # noqa: S311 - demo content, not security
        currency = location["currency"]
        service_type = options["service_type"]
        menu, deals_on_sale = self._menu(location["id"], app)
        payload: dict[str, Any] = {"status": options.get("status") or ("accepted" if app.role == "pos" else "new")}
        if options.get("items"):
            payload["items"] = options["items"]
        else:
            with_deal = options.get("with_deal", app.role == "pos" and rng.random() < 0.4)
            payload["items"], deals = self._items(rng, app, menu, deals_on_sale if with_deal else [], currency)
            if deals:
                payload["deals"] = deals
        now = time.time()
        acceptance = location["details"]["order_acceptance"]
        preparation = location["details"]["preparation_time"] + (acceptance.get("extra_preparation_time") or 0)
        ready_at = now + preparation * 60
        timezone = location["timezone"]
        restaurant_delivers = service_type == "delivery" and options["delivery_by"] == "restaurant"
        service_ref = app.service_refs["restaurant_delivery" if restaurant_delivers else service_type]
        payload.update(channel=app.channel, service_type=service_type, service_type_ref=service_ref)
        if app.role == "pos":
            ticket = rng.randint(1, 999)
            payload.update(ref=f"T-{ticket:04d}", confirmed_time=local_time(ready_at, timezone))
            if service_type == "eat_in":
                payload["custom_fields"] = {"restaurant": {"table_name": str(rng.randint(1, 24))}}
            else:
                payload["customer"] = {"first_name": rng.choice(FIRST_NAMES)}
                payload["collection_code"] = f"{ticket:04d}"
        else:
            display_id = f"{rng.getrandbits(20):05X}" if app.role == "uber_eats" else f"{rng.randint(1000, 9999)}"
            payload.update(
                ref=display_id,
                # The platform's own order id: unique even for two orders made with the same seed.
                private_ref=str(uuid.uuid4()),
                collection_code=display_id,
                expected_time=local_time(ready_at, timezone),
                customer=self._platform_customer(rng, app, restaurant_delivers),
            )
            note = options.get("customer_notes", rng.choice(ORDER_NOTES))
            if note:
                payload["customer_notes"] = note
            payload["discounts"], payload["charges"] = self._platform_extras(rng, app, options, currency, payload["items"])
        if options.get("customer_notes") and app.role == "pos":
            payload["customer_notes"] = options["customer_notes"]
        payload["payments"] = self._payments(rng, app, payload, currency)
        return payload

    def _menu(self, location_id: str, app: App) -> tuple[list[tuple[dict, dict, list[dict]]], list[dict]]:
        """(product, sku, its option lists) the app may sell, not out of stock nor restricted away;
        and the catalog's deals the app may sell."""
        catalogs = visible_catalogs(self.store, location_id)
        if not catalogs or catalogs[0]["unchecked"]:
            return [], []
        data = json.loads(catalogs[0]["data"])
        out_of_stock = {
            (row["kind"], row["ref"])
            for row in self.store.query(
                "SELECT kind, ref, stock FROM inventory_entries WHERE catalog_id = ? AND location_id = ?",
                (catalogs[0]["id"], location_id),
            )
            if Decimal(row["stock"]) == 0
        }
        option_lists = {
            ol["ref"]: {
                **ol,
                "options": [o for o in ol["options"] if ("option", o.get("ref")) not in out_of_stock and _offered(o, app)],
            }
            for ol in data.get("option_lists", [])
        }
        menu = []
        for product in data.get("products", []):
            for sku in product["skus"]:
                if ("sku", sku.get("ref")) in out_of_stock or not _offered(sku, app):
                    continue
                lists = [option_lists[ref] for ref in sku.get("option_list_refs", [])]
                if any(len(ol["options"]) < ol["min_selections"] for ol in lists):
                    continue
                menu.append((product, sku, lists))
        return menu, [deal for deal in data.get("deals", []) if _offered(deal, app)]

    def _items(
        self, rng: random.Random, app: App, menu: list, deals_on_sale: list[dict], currency: str
    ) -> tuple[list[dict], dict]:
        if not menu:
            raise ValidationFailed(
                [
                    {
                        "field": "base",
                        "message": "the location's catalog has nothing this app can order (empty or all out of stock)",
                    }
                ]
            )
        # A dish first (what costs 9 € or more, when there is one), then what goes with it.
        dishes = [entry for entry in menu if parse_money(entry[1]["price"], currency) >= DISH_PRICE] or menu
        first = rng.choice(dishes)
        others = [entry for entry in menu if entry is not first]
        picks = [first, *rng.sample(others, min(rng.choice((0, 1, 1, 2)), len(others)))]
        items = [self._item(rng, app, product, sku, lists, currency) for product, sku, lists in picks]
        deal = self._deal_items(rng, app, menu, deals_on_sale, currency)
        if deal is None:
            return items, {}
        return items + deal[1], {"0": deal[0]}

    def _item(
        self, rng: random.Random, app: App, product: dict, sku: dict, lists: list[dict], currency: str, price: str | None = None
    ) -> dict:
        deliveroo = app.role == "deliveroo"
        item: dict[str, Any] = {
            "product_name": sku.get("ref") if deliveroo and sku.get("ref") else product["name"],
            "price": price or _price(sku, app),
            "quantity": "1" if price else rng.choice(("1", "1", "1", "2")),
        }
        if sku.get("name") and not deliveroo:
            item["sku_name"] = sku["name"]
        if sku.get("ref"):
            item["sku_ref"] = sku["ref"]
        options = []
        for option_list in lists:
            chosen = [o for o in option_list["options"] if o.get("default")][: option_list["min_selections"] or None]
            if len(chosen) < option_list["min_selections"]:
                rest = [o for o in option_list["options"] if o not in chosen]
                chosen += rng.sample(rest, option_list["min_selections"] - len(chosen))
            if not chosen and option_list["options"] and rng.random() < 0.35:
                chosen = [rng.choice(option_list["options"])]
            for option in chosen:
                options.append(
                    {
                        "option_list_name": "Options" if deliveroo else option_list["name"],
                        "name": option["ref"] if deliveroo and option.get("ref") else option["name"],
                        "ref": option.get("ref"),
                        "price": _price(option, app),
                        "quantity": 1,
                    }
                )
        if options:
            item["options"] = [{k: v for k, v in option.items() if v is not None} for option in options]
        if app.role == "uber_eats" and rng.random() < 0.2:
            item["customer_notes"] = "Bien chaud s'il vous plaît"
        return item

    def _deal_items(
        self, rng: random.Random, app: App, menu: list, deals: list[dict], currency: str
    ) -> tuple[dict, list[dict]] | None:
        """The first deal whose every line has something on sale: one item per line at the line's price."""
        by_ref = {sku.get("ref"): (product, sku, lists) for product, sku, lists in menu if sku.get("ref")}
        for deal in deals:
            lines = [[(s, by_ref[s["ref"]]) for s in line["skus"] if s["ref"] in by_ref] for line in deal["lines"]]
            if not all(lines):
                continue
            items = []
            for line, candidates in zip(deal["lines"], lines, strict=True):
                deal_sku, (product, sku, lists) = rng.choice(candidates)
                price = _deal_price(line, deal_sku, sku, app, currency)
                item = self._item(rng, app, product, sku, lists, currency, price=price)
                item["deal_line"] = {
                    "deal_key": "0",
                    "label": line.get("label"),
                    "pricing_effect": line["pricing_effect"],
                    "pricing_value": line.get("pricing_value"),
                }
                items.append(item)
            return {"name": deal["name"], "ref": deal.get("ref")}, items
        return None

    def _platform_customer(self, rng: random.Random, app: App, with_address: bool) -> dict:
        access_code = f"{rng.randint(100, 999)} {rng.randint(100, 999)} {rng.randint(100, 999)}"
        note = rng.choice(DELIVERY_NOTES)
        customer = {
            "first_name": rng.choice(FIRST_NAMES),
            "last_name": f"{rng.choice(LAST_INITIALS)}.",
            "phone": app.support_phone,
            "phone_access_code": access_code.replace(" ", ""),
            "delivery_notes": f"Phone access code: {access_code}." + (f" {note}" if note else ""),
        }
        if with_address:
            street, postal_code, latitude, longitude = rng.choice(STREETS)
            customer.update(
                address_1=street, postal_code=postal_code, city="Paris", country="FR", latitude=latitude, longitude=longitude
            )
        return customer

    def _platform_extras(self, rng: random.Random, app: App, options: dict, currency: str, items: list) -> tuple[list, list]:
        subtotal = sum((_item_total(item, currency) for item in items), Decimal(0))
        discounts, charges = [], []
        if subtotal >= 25 and rng.random() < 0.5:
            discounts.append(
                {"name": "Discount", "ref": "REMISE-PLATEFORME", "price_off": format_money(Decimal("3.00"), currency)}
            )
        restaurant_delivery = options["service_type"] == "delivery" and options["delivery_by"] == "restaurant"
        if restaurant_delivery:
            charges.append(
                {
                    "name": "Delivery charge",
                    "type": "delivery",
                    "ref": "LIVRAISON-PLATEFORME",
                    "price": format_money(Decimal("2.49"), currency),
                }
            )
            if app.role == "uber_eats" and rng.random() < 0.5:
                charges.append(
                    {"name": "Tip", "type": "tip", "ref": "POURBOIRE", "price": format_money(Decimal("2.00"), currency)}
                )
        if app.role == "deliveroo":
            charges.append({"name": "Bag fee", "type": "other", "ref": "SAC", "price": format_money(Decimal("0.10"), currency)})
        return discounts, charges

    def _payments(self, rng: random.Random, app: App, payload: dict, currency: str) -> list[dict]:
        # Validating a copy gives HubRise's own total, so the payment matches it to the cent.
        body, _ = order_rules.validate_create(payload, currency, "", lambda **_: None)
        total = body["total"]
        if app.payment is not None:
            name, ref = app.payment
            return [{"name": name, "ref": ref, "amount": total, "info": {"paid_online": True}}]
        if parse_money(total, currency) == 0:
            return []
        # Mostly by card, as in a French bistro.
        ref = rng.choice(("CB", "CB", "CB", "ESPECES", "TITRE-RESTO"))
        method = next(m for m in POS_CODES["payment_methods"] if m["ref"] == ref)
        return [{"name": method["name"], "ref": method["ref"], "amount": total}]

    # Edits ------------------------------------------------------------------------------------

    def edit_order(self, order_id: str, request: Any) -> dict:
        """A PATCH of the order as another app (the POS by default): status, confirmed_time,
        seller_notes, items added or deleted…; fires ``order.update`` to the others."""
        if not isinstance(request, dict):
            raise ValidationFailed([{"field": "base", "message": "the body must be a JSON object"}])
        changes = dict(request)
        role = changes.pop("as", "pos")
        if role not in APPS:
            raise ValidationFailed([{"field": "as", "message": f"must be one of {', '.join(APPS)}"}])
        return self.sandbox.change_status_as(self.sandbox.client_by_role(role)["id"], order_id, changes)


def _offered(element: dict, app: App) -> bool:
    restrictions = element.get("restrictions") or {}
    if restrictions.get("enabled") is False:
        return False
    variants = restrictions.get("variant_refs")
    return variants is None or app.variant in variants


def _price(element: dict, app: App) -> str:
    """The element's price for the app's variant: the last matching override wins."""
    price = element["price"]
    for rule in element.get("price_overrides") or []:
        if set(rule) <= {"variant_refs", "price"} and app.variant in (rule.get("variant_refs") or []):
            price = rule["price"]
    return price


def _deal_price(line: dict, deal_sku: dict, sku: dict, app: App, currency: str) -> str:
    base = parse_money(_price(sku, app), currency)
    effect, value = line["pricing_effect"], line.get("pricing_value")
    if effect == "fixed_price":
        base = parse_money(value, currency)
    elif effect == "price_off":
        base -= parse_money(value, currency)
    elif effect == "percentage_off":
        base -= base * Decimal(value) / 100
    if deal_sku.get("extra_charge"):
        base += parse_money(deal_sku["extra_charge"], currency)
    return format_money(max(base, Decimal(0)), currency)


def _item_total(item: dict, currency: str) -> Decimal:
    options = sum((parse_money(o["price"], currency) * o.get("quantity", 1) for o in item.get("options", [])), Decimal(0))
    return (parse_money(item["price"], currency) + options) * Decimal(item["quantity"])
