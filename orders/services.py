"""The only places where orders are created and their status changes.

The staff pages, the intake API, the admin, the HubRise webhook and the Celery
tasks all call these functions, so each rule exists once.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from getresto import statements
from orders import screen_versions, signals
from orders.inputs import NewItem, NewOrder
from orders.models import (
    Acceptance,
    Charge,
    Deal,
    Discount,
    Establishment,
    Order,
    OrderItem,
    OrderItemOption,
    OrderStatusCount,
    Payment,
    ReadyTimeChange,
    StatusChange,
)
from orders.ready_time import default_ready_time
from orders.recording import creation, recorded
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
    """A finished order: what it promised no longer changes."""


class PastReadyTime(OrderError):
    """A ready time that has already passed: the guest would be told a time that cannot be kept."""


class NotDelayable(OrderError):
    """Only an order the kitchen has accepted and not yet finished has a ready time to push back."""


class OrdersPaused(OrderError):
    """The establishment takes no new orders from the ordering front for now."""

    def __init__(self, message: str, resume_at: datetime | None) -> None:
        super().__init__(message)
        self.resume_at = resume_at


# Statuses of an order the kitchen has committed to a ready time for and not yet finished.
_HAS_READY_TIME = (OrderStatus.ACCEPTED, OrderStatus.IN_PREPARATION)
# A ready time this close to now counts as now (the seconds a click takes), not as the past.
_CLOCK_SLACK = timedelta(minutes=1)


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


def creation_problems(data: NewOrder) -> dict[str, str]:
    """What no restaurant means in an order placed by a front, by field: empty when it is sound.

    The intake API refuses such orders with these messages; the demo generator and
    tests may still create finished orders directly.

    An order is placed to be prepared: one that arrives already finished would go
    straight to the Terminé or Annulé tab, unseen by the kitchen and sent to HubRise
    as such. Discounts larger than what is sold would make the restaurant owe the guest.
    """
    problems = {}
    if data.status in FINISHED_STATUSES:
        problems["status"] = _("An order cannot be created already “%(status)s”: it is placed to be prepared.") % {
            "status": _label(data.status)
        }
    due = sum((item_subtotal(item) for item in data.items), Decimal("0")) + sum(
        (charge.price for charge in data.charges), Decimal("0")
    )
    discounts = sum((discount.price_off for discount in data.discounts), Decimal("0"))
    if discounts > due:
        problems["discounts"] = _("The discounts (%(discounts)s) are larger than the items and charges (%(due)s).") % {
            "discounts": money(discounts),
            "due": money(due),
        }
    return problems


def _check(data: NewOrder) -> None:
    if not data.items:
        raise InvalidOrder(_("An order needs at least one item."))
    if not is_known_status(data.status):
        raise UnknownStatus(_("Unknown status: %(status)s.") % {"status": data.status})
    deal_keys = {deal.key for deal in data.deals}
    for item in data.items:
        if item.deal_key and item.deal_key not in deal_keys:
            raise InvalidOrder(_("Item %(product)s refers to an unknown deal.") % {"product": item.product_name})


@transaction.atomic
def create_order(
    establishment: Establishment,
    data: NewOrder,
    *,
    source: str = Source.API,
    actor: AbstractBaseUser | None = None,
    created_at: datetime | None = None,
    source_detail: str = "",
    keep_lines: bool = False,
    facts: dict | None = None,
) -> Order:
    """Record an order, its lines and its first history entry in one transaction.

    ``source_detail`` names the app an order placed elsewhere came from (HubRise's
    ``created_by``: "Uber Eats", the POS), kept in its first history line.

    While the establishment is paused, orders from the ordering front (source API)
    are refused with OrdersPaused and nothing is written; orders placed elsewhere
    (a delivery platform through HubRise, the admin) are recorded all the same.

    ``facts``: what the intake API read about the establishment in the request (orders.extensions.intake_facts),
    for order_created's receivers; none by default.

    ``keep_lines``: ``order.written_lines`` holds the lines and the first history entry as written (a
    ``WrittenLines``), for a caller that answers with them (the intake API) rather than reading them back.
    """
    _check(data)
    now = created_at or timezone.now()
    if source == Source.API:
        _refuse_while_paused(establishment, now)
    confirmed_time = _confirmed_time_at_creation(establishment, data, source, now)
    customer = data.customer
    # statements.new: Order(…) built from a plan made once (as are the lines below).
    order = statements.new(
        Order,
        establishment=establishment,
        ref=data.ref,
        status=data.status,
        tab=tab_of(data.status),
        status_changed_at=now,
        created_at=now,
        # HubRise never changes an order's expected time after its creation, so the due time is fixed here.
        due_at=confirmed_time or data.expected_time or now,
        source=source,
        channel=data.channel,
        service_type=data.service_type,
        service_type_ref=data.service_type_ref,
        table_name=data.table_name,
        expected_time=data.expected_time,
        confirmed_time=confirmed_time,
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
    actor_id = actor.pk if actor is not None else None
    facts = facts or {}
    # One statement: the order's id from its sequence, its lines, what order_rows' receivers add, then its row,
    # numbered, its history, counter and the list's version (orders.recording).
    recording = creation(order, at=now, actor_id=actor_id, source=source, source_detail=source_detail)
    lines, handed_back = _write_lines(order, data, _receivers_rows(order, source, facts), recording)
    first = recorded(order, handed_back, at=now, actor_id=actor_id, source=source, source_detail=source_detail)
    if confirmed_time is not None and order.status in _HAS_READY_TIME:
        ReadyTimeChange.objects.create(
            order=order, at=now, actor=actor, source=source, source_detail=source_detail, confirmed_time=confirmed_time
        )
    signals.order_created.send(sender=Order, order=order, source=source, facts=facts)
    if data.channel:
        # After the numbering, which locked the establishment's row after its counter: taking that row
        # earlier would wait in a circle with a concurrent order holding the counter.
        _remember_channel(establishment, data.channel)
    if keep_lines:
        order.written_lines = WrittenLines(history=[first], **lines)
    return order


def _refuse_while_paused(establishment: Establishment, now: datetime) -> None:
    if establishment.acceptance_now(now) != Acceptance.PAUSED:
        return
    resume_at = establishment.acceptance_until
    if resume_at is None:
        message = _("%(name)s is not taking orders at the moment, until further notice.") % {"name": establishment.name}
    else:
        local = timezone.localtime(resume_at, establishment.tzinfo)
        message = _("%(name)s is not taking orders at the moment: orders resume at %(time)s (%(date)s).") % {
            "name": establishment.name,
            "time": formats.time_format(local, "H:i"),
            "date": formats.date_format(local, "SHORT_DATE_FORMAT"),
        }
    if establishment.pause_reason:
        message = f"{message} {establishment.pause_reason}"
    raise OrdersPaused(message, resume_at)


def _confirmed_time_at_creation(establishment: Establishment, data: NewOrder, source: str, now: datetime) -> datetime | None:
    """An order that arrives already accepted has a ready time, and the ordering front may not set one in the past."""
    if data.confirmed_time is not None:
        if source in _RULE_BOUND_SOURCES and data.confirmed_time < now - _CLOCK_SLACK:
            raise PastReadyTime(_("The confirmed time has already passed."))
        return data.confirmed_time
    if data.status in _HAS_READY_TIME:
        return default_ready_time(now, data.expected_time, establishment.preparation_time_now(now))
    return None


def _remember_channel(establishment: Establishment, channel: str) -> None:
    """Adds a channel to those the list's filter offers; only the first order of a channel writes."""
    if channel in establishment.channels:
        return
    # Under the row lock, so that two first orders of two new channels keep both.
    known = Establishment.objects.select_for_update().values_list("channels", flat=True).get(pk=establishment.pk)
    if channel not in known:
        known = sorted([*known, channel])
        Establishment.objects.filter(pk=establishment.pk).update(channels=known)
    establishment.channels = known


@dataclass(frozen=True)
class WrittenLines:
    """A new order's lines as written, each list in its relation's order; ``options[i]`` are ``items[i]``'s."""

    items: list[OrderItem]
    options: list[list[OrderItemOption]]
    deals: list[Deal]
    discounts: list[Discount]
    charges: list[Charge]
    payments: list[Payment]
    history: list[StatusChange]


def _receivers_rows(order: Order, source: str, facts: dict) -> list[list]:
    """The rows order_rows' receivers want written with the order (signals.order_rows), a list per model."""
    answers = signals.order_rows.send(sender=Order, order=order, source=source, facts=facts)
    return [group for _receiver, groups in answers if groups for group in groups if group]


def _write_lines(order: Order, data: NewOrder, other_rows: list[list], then: statements.Then) -> tuple[dict[str, list], tuple]:
    """Every line of the order in one statement, the options with the ids their items get in it, ``other_rows``
    and ``then``; the lines written, by relation name (the options: each item's list), and what ``then`` hands back."""
    items = _new_items(order, data.items)
    lines = {
        "items": items,
        "deals": [statements.new(Deal, order=order, key=d.key, name=d.name, ref=d.ref) for d in data.deals],
        "discounts": [
            statements.new(Discount, order=order, position=i, name=d.name, ref=d.ref, price_off=d.price_off)
            for i, d in enumerate(data.discounts)
        ],
        "charges": [
            statements.new(Charge, order=order, position=i, name=c.name, ref=c.ref, price=c.price, tax_rate=c.tax_rate)
            for i, c in enumerate(data.charges)
        ],
        "payments": [
            statements.new(Payment, order=order, position=i, name=p.name, ref=p.ref, amount=p.amount, info=p.info)
            for i, p in enumerate(data.payments)
        ],
    }
    options = _new_options(items, data.items)
    # The order's rows run on every order: their SQL is built once (getresto.statements).
    all_options = [option for of_item in options for option in of_item]
    handed_back = statements.insert_together(*lines.values(), all_options, *other_rows, parent=order, then=then)
    lines["options"] = options
    return lines, handed_back


def write_items(order: Order, new_items: tuple[NewItem, ...]) -> list[OrderItem]:
    """The order's items and their options (orders.remote_edits, when another app changes them)."""
    items = _new_items(order, new_items)
    statements.insert(items)
    _write_options(items, new_items)
    return items


def _new_items(order: Order, new_items: tuple[NewItem, ...]) -> list[OrderItem]:
    return [
        statements.new(
            OrderItem,
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
        for position, item in enumerate(new_items)
    ]


def _write_options(items: list[OrderItem], new_items: tuple[NewItem, ...]) -> list[list[OrderItemOption]]:
    """The options of items just written, in one INSERT; each item's, in the items' order."""
    options_of_items = _new_options(items, new_items)
    statements.insert([option for options in options_of_items for option in options])
    return options_of_items


def _new_options(items: list[OrderItem], new_items: tuple[NewItem, ...]) -> list[list[OrderItemOption]]:
    return [
        [
            statements.new(OrderItemOption, item=saved, position=position, **option.__dict__)
            for position, option in enumerate(item.options)
        ]
        for saved, item in zip(items, new_items, strict=True)
    ]


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
    confirmed_time: datetime | None = None,
) -> StatusChange | None:
    """Move an order to ``new_status`` and record why, who and from where.

    Returns the history entry, or None when the order already has that status
    (a repeated click is not an error). ``expected_current`` is the status the
    user was looking at: if the order moved since, the change is refused rather
    than silently overwriting the newer status. ``unless_changed_after`` is when
    the change happened elsewhere: an order changed later here is left alone,
    so that a late event cannot roll it back. ``order_locked`` says the caller
    read ``order`` under its row lock in this transaction: it is not read again.
    ``confirmed_time`` is when an order being accepted will be ready (HubRise wants
    it with "accepted"); without it, or when the one it had has passed, the
    establishment's usual time is taken (orders.ready_time.default_ready_time).
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
    previous_time = locked.confirmed_time
    if new_status == OrderStatus.ACCEPTED:
        # HubRise expects confirmed_time to be set together with "accepted", and a time already
        # past would tell the guest something nobody can keep.
        if confirmed_time is None and (previous_time is None or previous_time < now):
            timing = Establishment.objects.only("preparation_time", "acceptance", "acceptance_until", "busy_extra_time")
            minutes = timing.get(pk=locked.establishment_id).preparation_time_now(now)
            confirmed_time = default_ready_time(now, locked.expected_time, minutes)
        if confirmed_time is not None and confirmed_time != previous_time:
            locked.confirmed_time = confirmed_time
            fields.append("confirmed_time")
    locked.due_at = _due_at(locked)
    fields.append("due_at")
    locked.save(update_fields=fields)
    _add_to_counts(locked.establishment_id, {previous: -1, new_status: 1})
    if "confirmed_time" in fields:
        ReadyTimeChange.objects.create(
            order=locked, at=now, actor=actor, source=source, previous_time=previous_time, confirmed_time=locked.confirmed_time
        )
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
        order.due_at = locked.due_at
    signals.status_changed.send(sender=Order, order=locked, change=change)
    # Last: see orders.screen_versions.changed_for_orders on the order of locks.
    screen_versions.changed(locked.establishment_id, locked.pk)
    return change


def _due_at(order: Order) -> datetime:
    """When the order is wanted: the time the restaurant promised, else the guest's, else now (as soon as possible)."""
    return order.confirmed_time or order.expected_time or order.created_at


def accept_order(
    order: Order | int,
    *,
    source: str,
    actor: AbstractBaseUser | None = None,
    ready_at: datetime | None = None,
    expected_current: str | None = None,
) -> StatusChange | None:
    """Accept an order for ``ready_at`` (the establishment's usual time when None).

    The one way staff, the admin and the API accept: a ready time already past is
    refused (PastReadyTime), so HubRise and the guest are never told one.
    """
    if ready_at is not None and ready_at < timezone.now() - _CLOCK_SLACK:
        raise PastReadyTime(_("This ready time has already passed: choose a later one."))
    return change_status(
        order, OrderStatus.ACCEPTED, source=source, actor=actor, expected_current=expected_current, confirmed_time=ready_at
    )


@transaction.atomic
def set_ready_time(
    order: Order | int, ready_at: datetime, *, source: str, actor: AbstractBaseUser | None = None, source_detail: str = ""
) -> ReadyTimeChange | None:
    """Set when the order will be ready (HubRise's confirmed_time) without changing its status.

    The one way the order page, a delay and HubRise (the POS moved it: ``source_detail``
    names it) change it. A finished
    order keeps its time; staff and the ordering front cannot set one already past (HubRise
    reports what happened elsewhere and is taken as it is). Returns None when the order
    already had that time. Sends orders.signals.order_updated with fields {"confirmed_time"}
    inside the transaction, so that HubRise is told the new time like a status change.
    """
    order_id = order.pk if isinstance(order, Order) else order
    locked = Order.objects.select_for_update().get(pk=order_id)
    if locked.status in FINISHED_STATUSES:
        raise OrderFinished(_("Order %(ref)s is finished: its ready time no longer changes.") % {"ref": locked.ref})
    now = timezone.now()
    if source in _RULE_BOUND_SOURCES and ready_at < now - _CLOCK_SLACK:
        raise PastReadyTime(_("This ready time has already passed: choose a later one."))
    previous_time = locked.confirmed_time
    if previous_time == ready_at:
        return None
    locked.confirmed_time = ready_at
    locked.due_at = _due_at(locked)
    locked.save(update_fields=["confirmed_time", "due_at"])
    change = ReadyTimeChange.objects.create(
        order=locked,
        at=now,
        actor=actor,
        source=source,
        source_detail=source_detail,
        previous_time=previous_time,
        confirmed_time=ready_at,
    )
    if isinstance(order, Order):
        order.confirmed_time = locked.confirmed_time
        order.due_at = locked.due_at
    signals.order_updated.send(sender=Order, order=locked, fields={"confirmed_time"}, source=source)
    # The list shows the ready time; the order page's live part only the status.
    screen_versions.changed(locked.establishment_id)
    return change


def delay_order(order: Order | int, minutes: int, *, source: str, actor: AbstractBaseUser | None = None) -> ReadyTimeChange:
    """Push an accepted order's ready time back by ``minutes`` (counted from now if it has passed)."""
    if minutes < 1:
        raise NotDelayable(_("A delay is a positive number of minutes."))
    order_id = order.pk if isinstance(order, Order) else order
    with transaction.atomic():
        current = Order.objects.select_for_update().only("status", "confirmed_time").get(pk=order_id)
        if current.status not in _HAS_READY_TIME:
            raise NotDelayable(
                _("An order that is “%(status)s” has no ready time to push back.") % {"status": current.get_status_display()}
            )
        now = timezone.now()
        ready_at = max(current.confirmed_time or now, now) + timedelta(minutes=minutes)
        return set_ready_time(order, ready_at, source=source, actor=actor)


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
    if Order.objects.filter(pk=order.pk, first_opened_at__isnull=True).update(first_opened_at=now):
        # Its "Not seen yet" tag leaves the order list.
        screen_versions.changed(order.establishment_id)
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
