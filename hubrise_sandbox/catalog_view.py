"""A stored catalog in HubRise's retrieve shapes, and the helpers that read stored content.

The stored form is the upload with an ``id`` on every object (``catalog_rules``); a read links
objects by ids (``category_id``, ``option_list_ids``, deal line skus ``{id, ref}``), as HubRise's
retrieve examples of each part show.
"""

from __future__ import annotations


def to_upload(data: dict) -> dict:
    """The stored content as an upload body again (ids dropped), to edit it and PUT it whole."""
    if isinstance(data, dict):
        return {key: to_upload(value) for key, value in data.items() if key != "id"}
    if isinstance(data, list):
        return [to_upload(value) for value in data]
    return data


class CatalogView:
    """Renders stored catalog content in HubRise's retrieve shapes (ids instead of refs for links)."""

    def __init__(self, data: dict) -> None:
        self.data = data
        self._category_ids = {c["ref"]: c["id"] for c in data.get("categories", [])}
        self._option_list_ids = {o["ref"]: o["id"] for o in data.get("option_lists", [])}
        self._sku_ids: dict[str, str] = {}
        for product in data.get("products", []):
            for sku in product.get("skus", []):
                if sku.get("ref") and sku["ref"] not in self._sku_ids:
                    self._sku_ids[sku["ref"]] = sku["id"]

    def full(self) -> dict:
        return {
            "variants": [self.variant(v) for v in self.data.get("variants", [])],
            "categories": self.categories(),
            "products": [self.product(p) for p in self.data.get("products", [])],
            "option_lists": [self.option_list(o) for o in self.data.get("option_lists", [])],
            "deals": [self.deal(d) for d in self.data.get("deals", [])],
            "discounts": [self.discount(d) for d in self.data.get("discounts", [])],
            "charges": [self.charge(c) for c in self.data.get("charges", [])],
        }

    @staticmethod
    def variant(variant: dict) -> dict:
        return {"id": variant["id"], "ref": variant["ref"], "name": variant["name"]}

    def categories(self) -> list[dict]:
        """Depth first: each category followed by its children, in upload order."""
        children: dict[str | None, list[dict]] = {}
        for category in self.data.get("categories", []):
            children.setdefault(category.get("parent_ref"), []).append(category)
        ordered: list[dict] = []

        def walk(parent_ref: str | None) -> None:
            for category in children.get(parent_ref, []):
                ordered.append(self.category(category))
                walk(category["ref"])

        walk(None)
        return ordered

    def category(self, category: dict) -> dict:
        return {
            "id": category["id"],
            "ref": category["ref"],
            "parent_id": self._category_ids.get(category.get("parent_ref")),
            "name": category["name"],
            "description": category.get("description"),
            "tags": category.get("tags", []),
            "image_ids": category.get("image_ids", []),
        }

    def product(self, product: dict) -> dict:
        return {
            "id": product["id"],
            "ref": product.get("ref"),
            "category_id": self._category_ids.get(product["category_ref"]),
            "name": product["name"],
            "description": product.get("description"),
            "tags": product.get("tags", []),
            "image_ids": product.get("image_ids", []),
            "skus": [self.sku(sku, product["id"]) for sku in product.get("skus", [])],
        }

    def sku(self, sku: dict, product_id: str) -> dict:
        view = {
            "id": sku["id"],
            "ref": sku.get("ref"),
            "name": sku.get("name"),
            "product_id": product_id,
            "price": sku["price"],
            "price_overrides": sku.get("price_overrides", []),
            "option_list_ids": [self._option_list_ids[ref] for ref in sku.get("option_list_refs", [])],
            "tags": sku.get("tags", []),
        }
        if sku.get("restrictions") is not None:
            view["restrictions"] = sku["restrictions"]
        return view

    def option_list(self, option_list: dict) -> dict:
        single = option_list["min_selections"] == 1 and option_list["max_selections"] == 1
        return {
            "id": option_list["id"],
            "ref": option_list["ref"],
            "name": option_list["name"],
            "min_selections": option_list["min_selections"],
            "max_selections": option_list["max_selections"],
            "type": "single" if single else "multiple",
            "tags": option_list.get("tags", []),
            "options": [self.option(option, option_list["id"]) for option in option_list.get("options", [])],
        }

    @staticmethod
    def option(option: dict, option_list_id: str) -> dict:
        view = {
            "id": option["id"],
            "ref": option.get("ref"),
            "option_list_id": option_list_id,
            "name": option["name"],
            "price": option["price"],
            "price_overrides": option.get("price_overrides", []),
            "default": option.get("default", False),
            "tags": option.get("tags", []),
        }
        if option.get("restrictions") is not None:
            view["restrictions"] = option["restrictions"]
        return view

    def deal(self, deal: dict) -> dict:
        view = {
            "id": deal["id"],
            "ref": deal.get("ref"),
            "category_id": self._category_ids.get(deal.get("category_ref")),
            "name": deal["name"],
            "description": deal.get("description"),
            "coupon_codes": deal.get("coupon_codes", []),
            "tags": deal.get("tags", []),
            "image_ids": deal.get("image_ids", []),
            "lines": [
                {
                    "label": line.get("label"),
                    "pricing_effect": line["pricing_effect"],
                    "pricing_value": line.get("pricing_value"),
                    "skus": [
                        {"id": self._sku_ids.get(sku["ref"]), "ref": sku["ref"], "extra_charge": sku.get("extra_charge")}
                        for sku in line["skus"]
                    ],
                }
                for line in deal.get("lines", [])
            ],
        }
        if deal.get("restrictions") is not None:
            view["restrictions"] = deal["restrictions"]
        return view

    @staticmethod
    def discount(discount: dict) -> dict:
        view = {key: discount.get(key) for key in ("id", "ref", "name", "description", "pricing_effect", "pricing_value")}
        view["coupon_codes"] = discount.get("coupon_codes", [])
        view["image_ids"] = discount.get("image_ids", [])
        if discount.get("restrictions") is not None:
            view["restrictions"] = discount["restrictions"]
        return view

    @staticmethod
    def charge(charge: dict) -> dict:
        return {key: charge.get(key) for key in ("id", "ref", "name", "type", "price")}


def sku_and_option_refs(data: dict) -> tuple[set[str], set[str]]:
    """Every sku ref and option ref of a stored catalog (raw uploads included, best effort)."""
    sku_refs, option_refs = set(), set()
    for product in data.get("products") or []:
        for sku in (product.get("skus") or []) if isinstance(product, dict) else []:
            if isinstance(sku, dict) and isinstance(sku.get("ref"), str):
                sku_refs.add(sku["ref"])
    for option_list in data.get("option_lists") or []:
        for option in (option_list.get("options") or []) if isinstance(option_list, dict) else []:
            if isinstance(option, dict) and isinstance(option.get("ref"), str):
                option_refs.add(option["ref"])
    return sku_refs, option_refs
