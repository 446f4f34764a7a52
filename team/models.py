from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import Establishment, Membership


class Invitation(models.Model):
    """A manager's invitation to join an establishment, opened through a signed link (team.services).

    The row makes the link single-use and lets the manager cancel it (deleting
    the row voids the link); the signature makes it unguessable.
    """

    LIFETIME = timedelta(days=7)

    establishment = models.ForeignKey(
        Establishment, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("establishment")
    )
    name = models.CharField(_("name"), max_length=150)
    role = models.CharField(_("role"), max_length=16, choices=Membership.Role.choices, default=Membership.Role.STAFF)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("invited by")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("account")
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} → {self.establishment} ({self.get_role_display()})"

    @property
    def expires_at(self) -> datetime:
        return self.created_at + self.LIFETIME

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and timezone.now() < self.expires_at
