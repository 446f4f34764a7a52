from django import template

from hubrise_sync.models import Connection
from orders.models import Establishment

register = template.Library()


@register.simple_tag
def broken_hubrise_connection(establishment: Establishment) -> bool:
    """True when the establishment's HubRise connection needs a reconnect.

    Pages that loaded the connection with the establishment (orders.extensions)
    pay no query here; the others pay one.
    """
    try:
        return establishment.hubrise_connection.is_broken
    except Connection.DoesNotExist:
        return False
