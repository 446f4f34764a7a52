"""Login throttling with django-axes: one username from one address, and one address across all usernames.

Axes counts failed logins per combination of AXES_LOCKOUT_PARAMETERS, but
compares every combination with the one AXES_FAILURE_LIMIT. The two need
different ceilings: 20 wrong passwords for one username from one address
(the default, so that a colleague mistyping at the same till locks only
themselves), and a higher AXES_ADDRESS_FAILURE_LIMIT for the address alone,
which stops one password sprayed across many usernames. This handler gives the
address its own ceiling, and keeps a successful login from wiping the
address's count (an attacker could otherwise log into an account of their
own between two bursts).
"""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Sum

LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]


class AddressCeilingHandler(AxesDatabaseHandler):
    def __init__(self) -> None:
        if settings.AXES_LOCKOUT_PARAMETERS != LOCKOUT_PARAMETERS:
            raise ImproperlyConfigured(f"{type(self).__name__} counts AXES_LOCKOUT_PARAMETERS = {LOCKOUT_PARAMETERS!r}.")
        super().__init__()

    def get_failures(self, request, credentials: dict | None = None) -> int:
        """The username's failures from this address, or the limit itself once the address reached its own ceiling."""
        per_username, per_address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        address_locked = per_address >= settings.AXES_ADDRESS_FAILURE_LIMIT
        return max(per_username, settings.AXES_FAILURE_LIMIT if address_locked else 0)

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """After a successful login: that username's failures from that address only."""
        username = get_client_username(request, credentials)
        deleted, _per_model = AccessAttempt.objects.filter(username=username, ip_address=request.axes_ip_address).delete()
        return deleted
