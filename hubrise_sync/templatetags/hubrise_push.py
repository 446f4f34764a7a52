from django import template

from hubrise_sync.models import Connection
from hubrise_sync.outbox import kinds
from hubrise_sync.outbox.badge import SyncState, sync_state
from orders.models import Establishment, Order

register = template.Library()


@register.simple_tag
def hubrise_sync_state(order: Order, establishment: Establishment) -> SyncState:
    """The order's sync badge, from what the order pages prefetched (orders.extensions)."""
    try:
        # Cached on the page's establishment: one query for the whole list.
        connection = establishment.hubrise_connection
    except Connection.DoesNotExist:
        connection = None
    return sync_state(order, connection)


@register.filter
def outbox_kind(name: str) -> str:
    """What an outbox message does, in the reader's language ("Send the status")."""
    return kinds.label(name)
