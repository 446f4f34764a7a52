"""The establishment's order acceptance, as the banner and the service page show it."""

from dataclasses import dataclass
from datetime import datetime

from django import template
from django.utils import timezone

from orders.models import Acceptance, Establishment

register = template.Library()


@dataclass(frozen=True)
class ServiceState:
    mode: str
    until: datetime | None
    extra_minutes: int
    reason: str


@register.simple_tag
def service_state(establishment: Establishment) -> ServiceState | None:
    """None while orders are taken as usual; read from the page's establishment, no query."""
    mode = establishment.acceptance_now(timezone.now())
    if mode == Acceptance.ONLINE:
        return None
    return ServiceState(mode, establishment.acceptance_until, establishment.busy_extra_time, establishment.pause_reason)
