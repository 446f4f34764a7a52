"""The order status vocabulary, which is HubRise's, and the rules staff follow.

HubRise enforces no transitions: any app may set any status. The rules below
only decide which buttons staff get; a change that comes from HubRise (the POS,
a kitchen screen) is always applied.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class OrderStatus(models.TextChoices):
    # Placed by the guest, not yet acknowledged by the restaurant's software.
    NEW = "new", _("New")
    # Acknowledged by the POS or by staff.
    RECEIVED = "received", _("Received")
    # Accepted by the restaurant; HubRise's default for orders made at the POS.
    ACCEPTED = "accepted", _("Accepted")
    IN_PREPARATION = "in_preparation", _("In preparation")
    # Ready, waiting for a courier.
    AWAITING_SHIPMENT = "awaiting_shipment", _("Awaiting shipment")
    # Ready, waiting for the guest (at the counter or at the table).
    AWAITING_COLLECTION = "awaiting_collection", _("Awaiting collection")
    IN_DELIVERY = "in_delivery", _("In delivery")
    COMPLETED = "completed", _("Completed")
    # Could not be passed to or taken by the restaurant.
    REJECTED = "rejected", _("Rejected")
    # Cancelled by the guest or by the restaurant.
    CANCELLED = "cancelled", _("Cancelled")
    DELIVERY_FAILED = "delivery_failed", _("Delivery failed")


class ServiceType(models.TextChoices):
    EAT_IN = "eat_in", _("Eat in")
    COLLECTION = "collection", _("Collection")
    DELIVERY = "delivery", _("Delivery")


class Tab(models.TextChoices):
    """The four tabs of the order list. Values are the URL slugs.

    The labels have their own translation context: in French a tab names the
    group ("Reçu", masculine) while a status describes the order ("Reçue").
    """

    RECEIVED = "recu", pgettext_lazy("order list tab", "Received")
    IN_PREPARATION = "en-preparation", pgettext_lazy("order list tab", "In preparation")
    COMPLETED = "termine", pgettext_lazy("order list tab", "Completed")
    CANCELLED = "annule", pgettext_lazy("order list tab", "Cancelled")


S = OrderStatus

TAB_STATUSES: dict[Tab, tuple[str, ...]] = {
    Tab.RECEIVED: (S.NEW, S.RECEIVED, S.ACCEPTED),
    Tab.IN_PREPARATION: (S.IN_PREPARATION, S.AWAITING_SHIPMENT, S.AWAITING_COLLECTION, S.IN_DELIVERY),
    Tab.COMPLETED: (S.COMPLETED,),
    Tab.CANCELLED: (S.REJECTED, S.CANCELLED, S.DELIVERY_FAILED),
}
STATUS_TAB: dict[str, Tab] = {status: tab for tab, statuses in TAB_STATUSES.items() for status in statuses}

# Our own policy, not HubRise's: once an order is finished, staff cannot reopen it.
FINISHED_STATUSES = frozenset({S.COMPLETED, S.REJECTED, S.CANCELLED, S.DELIVERY_FAILED})

# Staff must say why, and the reason is kept in the history (and, for a
# rejection, sent to HubRise as custom_fields.epos.rejection).
REASON_REQUIRED = frozenset({S.REJECTED, S.CANCELLED})

# Position of each status in the usual life of an order. Staff buttons only
# move an order forward; HubRise's examples show that steps may be skipped.
_FLOW_RANK = {
    S.NEW: 0,
    S.RECEIVED: 1,
    S.ACCEPTED: 2,
    S.IN_PREPARATION: 3,
    S.AWAITING_SHIPMENT: 4,
    S.AWAITING_COLLECTION: 4,
    S.IN_DELIVERY: 5,
    S.COMPLETED: 6,
}

# Steps that only make sense for some service types: nobody ships an eat-in order.
_ONLY_FOR = {
    S.AWAITING_SHIPMENT: {ServiceType.DELIVERY},
    S.IN_DELIVERY: {ServiceType.DELIVERY},
    S.DELIVERY_FAILED: {ServiceType.DELIVERY},
    S.AWAITING_COLLECTION: {ServiceType.COLLECTION, ServiceType.EAT_IN},
}

# The step a busy cook most likely wants next, shown as the main button.
_NEXT_USUAL_STEP = {
    S.NEW: S.ACCEPTED,
    S.RECEIVED: S.ACCEPTED,
    S.ACCEPTED: S.IN_PREPARATION,
    S.AWAITING_SHIPMENT: S.IN_DELIVERY,
    S.AWAITING_COLLECTION: S.COMPLETED,
    S.IN_DELIVERY: S.COMPLETED,
}


def is_known_status(value: str) -> bool:
    return value in OrderStatus.values


def tab_of(status: str) -> Tab:
    return STATUS_TAB[status]


def _applies_to(status: str, service_type: str | None) -> bool:
    allowed = _ONLY_FOR.get(status)
    return allowed is None or not service_type or service_type in allowed


def staff_transitions(current: str, service_type: str | None) -> list[str]:
    """Statuses staff may move an order to from ``current``, in display order."""
    if current in FINISHED_STATUSES:
        return []
    rank = _FLOW_RANK[current]
    targets = [
        status
        for status in OrderStatus.values
        if status in _FLOW_RANK and _FLOW_RANK[status] > rank and _applies_to(status, service_type)
    ]
    if current in (S.NEW, S.RECEIVED):
        targets.append(S.REJECTED)
    targets.append(S.CANCELLED)
    if current in (S.AWAITING_SHIPMENT, S.IN_DELIVERY) and _applies_to(S.DELIVERY_FAILED, service_type):
        targets.append(S.DELIVERY_FAILED)
    return targets


def next_usual_step(current: str, service_type: str | None) -> str | None:
    """The most likely next status, or None when the order is finished."""
    if current in FINISHED_STATUSES:
        return None
    if current == S.IN_PREPARATION:
        return S.AWAITING_SHIPMENT if service_type == ServiceType.DELIVERY else S.AWAITING_COLLECTION
    return _NEXT_USUAL_STEP[current]


def can_staff_change(current: str, target: str, service_type: str | None) -> bool:
    return target in staff_transitions(current, service_type)
