from django import template

from hubrise_sync.models import Connection
from orders.models import Establishment

register = template.Library()


@register.simple_tag
def broken_hubrise_connection(establishment: Establishment) -> bool:
    """True when the establishment's HubRise connection needs a reconnect (one small query, no token read)."""
    return Connection.objects.filter(establishment=establishment, last_failed_at__isnull=False).exists()
