from django import template

from hubrise_sync.models import Connection
from hubrise_sync.push import SyncState, sync_state
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
