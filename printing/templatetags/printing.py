from django import template

from orders.models import Establishment, Order
from printing import selectors
from printing.models import Printer
from printing.ticket import Ticket

register = template.Library()


@register.simple_tag
def ticket_state(order: Order) -> selectors.TicketState:
    """The order's ticket state, from the print jobs the order pages prefetched (orders.extensions)."""
    return selectors.ticket_state(order)


@register.simple_tag
def printers_in_trouble(establishment: Establishment) -> list[selectors.PrinterAlert]:
    return selectors.printers_in_trouble(establishment)


@register.simple_tag
def has_printers(establishment: Establishment) -> bool:
    return Printer.objects.filter(establishment=establishment).exists()


@register.inclusion_tag("printing/_ticket.html")
def ticket_paper(ticket: Ticket, narrow: bool = False) -> dict:
    return {"ticket": ticket, "narrow": narrow}
