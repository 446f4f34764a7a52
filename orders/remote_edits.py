"""Changes another app made to an order elsewhere (the POS, a delivery platform): applied here, said in the history.

HubRise lets any app add or delete an order's items and change its seller notes
and confirmed time (docs/hubrise/orders.md, "Update"). The inbound side reports
each such change through these functions, the one place that writes them; the
ready time goes through ``services.set_ready_time`` like every other change of it.
Nothing here is sent back to HubRise: it already holds these changes.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from orders import screen_versions, services
from orders.inputs import NewItem
from orders.models import Charge, Discount, Order, OrderEdit
from orders.status import FINISHED_STATUSES

# The history says what the order holds now in a line this long at most.
SUMMARY_LENGTH = 500


def _summary(items: tuple[NewItem, ...]) -> str:
    text = ", ".join(f"{item.quantity.normalize()} × {item.product_name}" for item in items)
    return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1] + "…"


@transaction.atomic
def replace_items(order: Order, items: tuple[NewItem, ...], *, source: str, source_detail: str = "") -> OrderEdit | None:
    """Gives the order the items another app left on it; its total and item count follow. None when unchanged.

    HubRise never edits an item in place (it deletes it and adds another), so the
    items as they now stand replace ours whole. An order with no item left keeps
    its last ones: HubRise's own rule is that an order has items, and the status
    (cancelled, rejected) is how an app withdraws one.
    """
    if not items:
        return None
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if _same_items(locked, items):
        return None
    locked.items.all().delete()
    services.write_items(locked, items)
    charges = sum(Charge.objects.filter(order=locked).values_list("price", flat=True), Decimal("0"))
    discounts = sum(Discount.objects.filter(order=locked).values_list("price_off", flat=True), Decimal("0"))
    locked.total = services.money(sum((services.item_subtotal(item) for item in items), Decimal("0")) + charges - discounts)
    locked.item_count = int(sum((item.quantity for item in items), Decimal("0")))
    locked.save(update_fields=["total", "item_count"])
    order.total, order.item_count = locked.total, locked.item_count
    edit = OrderEdit.objects.create(
        order=locked, field=OrderEdit.Field.ITEMS, source=source, source_detail=source_detail, summary=_summary(items)
    )
    # Last in the transaction (orders.screen_versions): the list's dishes and the order page change.
    screen_versions.changed(locked.establishment_id, locked.pk)
    return edit


def _same_items(order: Order, items: tuple[NewItem, ...]) -> bool:
    ours = [(i.product_name, i.sku_ref, i.price, i.quantity, i.options.count()) for i in order.items.all()]
    theirs = [(i.product_name, i.sku_ref, i.price, i.quantity, len(i.options)) for i in items]
    return ours == theirs


@transaction.atomic
def set_seller_notes(order: Order, notes: str, *, source: str, source_detail: str = "") -> OrderEdit | None:
    """The seller's notes another app wrote on the order (HubRise's ``seller_notes``). None when unchanged."""
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if locked.seller_notes == notes:
        return None
    locked.seller_notes = notes
    locked.save(update_fields=["seller_notes"])
    order.seller_notes = notes
    edit = OrderEdit.objects.create(
        order=locked,
        field=OrderEdit.Field.SELLER_NOTES,
        source=source,
        source_detail=source_detail,
        summary=notes[:SUMMARY_LENGTH],
        at=timezone.now(),
    )
    screen_versions.changed(locked.establishment_id, locked.pk)
    return edit


def set_confirmed_time(order: Order, confirmed_time, *, source: str, source_detail: str = ""):
    """The time another app promised the order for; a finished order keeps its own (None then)."""
    if order.status in FINISHED_STATUSES:
        return None
    return services.set_ready_time(order, confirmed_time, source=source, source_detail=source_detail)
