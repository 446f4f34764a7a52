"""The only places where orders are created and their status changes.

The staff pages, the intake API, the admin, the HubRise webhook and the Celery
tasks all call these functions, so each rule exists once.
"""

from dataclasses import replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders import signals
from orders.inputs import NewItem, NewOrder
from orders.models import (
    Charge,
    Deal,
    Discount,
    Establishment,
    Order,
    OrderItem,
    OrderItemOption,
    OrderStatusCount,
    Payment,
    StatusChange,
)
from orders.status import FINISHED_STATUSES, REASON_REQUIRED, OrderStatus, can_staff_change, is_known_status, tab_of

CENT = Decimal("0.01")
Source = StatusChange.Source

# Sources whose changes follow the staff rules; the admin may repair anything,
# and HubRise and the system report what already happened elsewhere.
_RULE_BOUND_SOURCES = {Source.STAFF, Source.API}


class OrderError(Exception):
    """A change refused for a reason the user can fix; the message says which."""


class InvalidOrder(OrderError):
    pass


class UnknownStatus(OrderError):
    pass


class TransitionNotAllowed(OrderError):
    pass


class ReasonRequired(OrderError):
    pass


class StaleStatus(OrderError):
    """The status changed since the page that asked for this change was shown."""


class OutdatedChange(OrderError):
    """A change that happened before the order's last status change."""


class OrderFinished(OrderError):
    pass


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def item_subtotal(item: NewItem) -> Decimal:
    """(unit price + options) × quantity, as HubRise computes it."""
    options = sum((option.price * option.quantity for option in item.options), Decimal("0"))
    return money((item.price + options) * item.quantity)


def order_total(data: NewOrder) -> Decimal:
    """Items plus charges minus discounts, as HubRise computes it."""
    items = sum((item_subtotal(item) for item in data.items), Decimal("0"))
    charges = sum((charge.price for charge in data.charges), Decimal("0"))
    discounts = sum((discount.price_off for discount in data.discounts), Decimal("0"))
    return money(items + charges - discounts)


def _check(data: NewOrder) -> None:
    if not data.items:
        raise InvalidOrder(_("An order needs at least one item."))
    if not is_known_status(data.status):
        raise UnknownStatus(_("Unknown status: %(status)s.") % {"status": data.status})
    deal_keys = {deal.key for deal in data.deals}
    for item in data.items:
        if item.deal_key and item.deal_key not in deal_keys:
            raise InvalidOrder(_("Item %(product)s refers to an unknown deal.") % {"product": item.product_name})


def _next_ref(establishment: Establishment) -> str:
    # Refs are for humans at the pass: short and increasing per establishment.
    # The unique id that systems rely on is Order.uid.
    Establishment.objects.filter(pk=establishment.pk).update(last_order_number=F("last_order_number") + 1)
    number = Establishment.objects.values_list("last_order_number", flat=True).get(pk=establishment.pk)
    return f"{number:04d}"


@transaction.atomic
def create_order(
    establishment: Establishment,
    data: NewOrder,
    *,
    source: str = Source.API,
    actor: AbstractBaseUser | None = None,
    created_at: datetime | None = None,
) -> Order:
    """Record an order, its lines and its first history entry in one transaction."""
    _check(data)
    if not data.ref:
        data = replace(data, ref=_next_ref(establishment))
    now = created_at or timezone.now()
    customer = data.customer
    order = Order.objects.create(
        establishment=establishment,
        ref=data.ref,
        status=data.status,
        tab=tab_of(data.status),
        status_changed_at=now,
        created_at=now,
        # HubRise never changes an order's expected time after its creation, so the due time is fixed here.
        due_at=data.expected_time or now,
        source=source,
        service_type=data.service_type,
        service_type_ref=data.service_type_ref,
        table_name=data.table_name,
        expected_time=data.expected_time,
        confirmed_time=data.confirmed_time,
        customer_first_name=customer.first_name,
        customer_last_name=customer.last_name,
        customer_company_name=customer.company_name,
        customer_email=customer.email,
        customer_phone=customer.phone,
        customer_address_1=customer.address_1,
        customer_address_2=customer.address_2,
        customer_postal_code=customer.postal_code,
        customer_city=customer.city,
        customer_country=customer.country,
        customer_delivery_notes=customer.delivery_notes,
        customer_notes=data.customer_notes,
        seller_notes=data.seller_notes,
        collection_code=data.collection_code,
        coupon_codes=list(data.coupon_codes),
        currency=establishment.currency,
        total=order_total(data),
        item_count=int(sum((item.quantity for item in data.items), Decimal("0"))),
    )
    _write_lines(order, data)
    _add_to_counts(establishment.pk, {order.status: 1})
    StatusChange.objects.create(order=order, from_status="", to_status=order.status, at=now, actor=actor, source=source)
    signals.order_created.send(sender=Order, order=order, source=source)
    return order


def _write_lines(order: Order, data: NewOrder) -> None:
    items = OrderItem.objects.bulk_create(
        OrderItem(
            order=order,
            position=position,
            product_name=item.product_name,
            sku_name=item.sku_name,
            sku_ref=item.sku_ref,
            price=item.price,
            quantity=item.quantity,
            tax_rate=item.tax_rate,
            customer_notes=item.customer_notes,
            subtotal=item_subtotal(item),
            deal_key=item.deal_key,
            deal_label=item.deal_label,
            deal_pricing_effect=item.deal_pricing_effect,
            deal_pricing_value=item.deal_pricing_value,
        )
        for position, item in enumerate(data.items)
    )
    OrderItemOption.objects.bulk_create(
        OrderItemOption(item=saved, position=position, **option.__dict__)
        for saved, item in zip(items, data.items, strict=True)
        for position, option in enumerate(item.options)
    )
    Deal.objects.bulk_create(Deal(order=order, key=d.key, name=d.name, ref=d.ref) for d in data.deals)
    Discount.objects.bulk_create(
        Discount(order=order, position=i, name=d.name, ref=d.ref, price_off=d.price_off) for i, d in enumerate(data.discounts)
    )
    Charge.objects.bulk_create(
        Charge(order=order, position=i, name=c.name, ref=c.ref, price=c.price, tax_rate=c.tax_rate)
        for i, c in enumerate(data.charges)
    )
    Payment.objects.bulk_create(
        Payment(order=order, position=i, name=p.name, ref=p.ref, amount=p.amount, info=p.info)
        for i, p in enumerate(data.payments)
    )


@transaction.atomic
def change_status(
    order: Order | int,
    new_status: str,
    *,
    source: str,
    actor: AbstractBaseUser | None = None,
    reason: str = "",
    source_detail: str = "",
    expected_current: str | None = None,
    unless_changed_after: datetime | None = None,
    order_locked: bool = False,
) -> StatusChange | None:
    """Move an order to ``new_status`` and record why, who and from where.

    Returns the history entry, or None when the order already has that status
    (a repeated click is not an error). ``expected_current`` is the status the
    user was looking at: if the order moved since, the change is refused rather
    than silently overwriting the newer status. ``unless_changed_after`` is when
    the change happened elsewhere: an order changed later here is left alone,
    so that a late event cannot roll it back. ``order_locked`` says the caller
    read ``order`` under its row lock in this transaction: it is not read again.
    """
    if not is_known_status(new_status):
        raise UnknownStatus(_("Unknown status: %(status)s.") % {"status": new_status})
    order_id = order.pk if isinstance(order, Order) else order
    # The row lock serialises a staff click racing a HubRise event or a double
    # click: each reads the status the previous one wrote.
    locked = order if order_locked and isinstance(order, Order) else Order.objects.select_for_update().get(pk=order_id)
    if isinstance(order, Order):
        order.status = locked.status
        order.status_changed_at = locked.status_changed_at

    # A double click sends the same page's status twice: the second finds the
    # order already where it asked, which is not a stale page.
    if expected_current is not None and locked.status not in (expected_current, new_status):
        raise StaleStatus(
            _("This order is now “%(status)s”: it changed while you were looking at it.")
            % {"status": locked.get_status_display()}
        )
    if unless_changed_after is not None and locked.status_changed_at > unless_changed_after:
        raise OutdatedChange(_("The order changed here after this change was made elsewhere."))
    if locked.status == new_status:
        return None
    if source in _RULE_BOUND_SOURCES:
        if not can_staff_change(locked.status, new_status, locked.service_type):
            raise TransitionNotAllowed(
                _("An order that is “%(current)s” cannot be set to “%(target)s”.")
                % {"current": locked.get_status_display(), "target": _label(new_status)}
            )
        if new_status in REASON_REQUIRED and not reason.strip():
            raise ReasonRequired(_("Please give a reason."))

    now = timezone.now()
    previous = locked.status
    locked.status = new_status
    locked.tab = tab_of(new_status)
    locked.status_changed_at = now
    fields = ["status", "tab", "status_changed_at"]
    if new_status == "accepted" and locked.confirmed_time is None:
        # HubRise expects confirmed_time to be set together with "accepted".
        locked.confirmed_time = locked.expected_time or now
        fields.append("confirmed_time")
    locked.save(update_fields=fields)
    _add_to_counts(locked.establishment_id, {previous: -1, new_status: 1})
    change = StatusChange.objects.create(
        order=locked,
        from_status=previous,
        to_status=new_status,
        at=now,
        actor=actor,
        source=source,
        source_detail=source_detail,
        reason=reason.strip(),
    )
    if isinstance(order, Order):
        order.status = new_status
        order.tab = locked.tab
        order.status_changed_at = now
        order.confirmed_time = locked.confirmed_time
    signals.status_changed.send(sender=Order, order=locked, change=change)
    return change


@transaction.atomic
def change_confirmed_time(order: Order, confirmed_time: datetime | None, *, source: str) -> bool:
    """Sets the time the restaurant commits to (HubRise's confirmed_time) without changing the status.

    Returns False when the order already had that time. Sends ``order_updated``
    (fields ["confirmed_time"]) in the transaction, so that hubrise_sync sends it on.
    """
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if locked.status in FINISHED_STATUSES:
        raise OrderFinished(_("Order %(ref)s is finished: its confirmed time no longer changes.") % {"ref": locked.ref})
    if locked.confirmed_time == confirmed_time:
        return False
    locked.confirmed_time = order.confirmed_time = confirmed_time
    locked.save(update_fields=["confirmed_time"])
    signals.order_updated.send(sender=Order, order=locked, fields=["confirmed_time"], source=source)
    return True


def _add_to_counts(establishment_id: int, deltas: dict[str, int]) -> None:
    # Always in the same (sorted) order: two transactions moving orders in
    # opposite directions then lock the same counter rows in the same order
    # and wait for each other instead of deadlocking.
    for status in sorted(deltas):
        counter = OrderStatusCount.objects.filter(establishment_id=establishment_id, status=status)
        if counter.update(count=F("count") + deltas[status]):
            continue
        try:
            # The savepoint keeps the order's transaction usable if another one created the row first.
            with transaction.atomic():
                OrderStatusCount.objects.create(establishment_id=establishment_id, status=status, count=deltas[status])
        except IntegrityError:
            counter.update(count=F("count") + deltas[status])


def mark_opened(order: Order) -> None:
    """Record that someone opened the order, which ends its highlight as a new order."""
    if order.first_opened_at is not None:
        return
    now = timezone.now()
    # Conditional, so that the first opening is the one kept when two cooks open it together.
    Order.objects.filter(pk=order.pk, first_opened_at__isnull=True).update(first_opened_at=now)
    order.first_opened_at = now


def rebuild_status_counts(establishment: Establishment | None = None) -> None:
    """Recount orders per status from the orders themselves, after a bulk load or a repair."""

    establishments = Establishment.objects.all() if establishment is None else Establishment.objects.filter(pk=establishment.pk)
    with transaction.atomic():
        OrderStatusCount.objects.filter(establishment__in=establishments).delete()
        rows = (
            Order.objects.filter(establishment__in=establishments)
            .order_by()
            .values("establishment_id", "status")
            .annotate(n=Count("id"))
        )
        OrderStatusCount.objects.bulk_create(
            OrderStatusCount(establishment_id=row["establishment_id"], status=row["status"], count=row["n"]) for row in rows
        )


def _label(status: str) -> str:
    return str(OrderStatus(status).label)
