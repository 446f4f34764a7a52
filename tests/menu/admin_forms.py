"""The Django admin's forms for the menu, as a browser posts them: a SKU's change form and inline rows."""

from __future__ import annotations

from menu.models import Sku


def inline_forms(prefix: str, rows: list[dict]) -> dict:
    """An inline formset's management form and its rows (existing ones, as the change page shows them)."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(len(rows)),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{name}": value for name, value in row.items() if value != ""})
    return data


def sku_form(sku: Sku, **changes) -> dict:
    """The SKU's change form as the admin fills it, with these fields changed; empty fields are left out."""
    data = {
        "menu": sku.menu_id,
        "position": sku.position,
        "product": sku.product_id,
        "ref": sku.ref,
        "name": sku.name,
        "price": str(sku.price),
        "tags": "[]",
        "available": "on" if sku.available else "",
        **inline_forms("option_list_links", []),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}
