from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hubrise_sync.crypto import EncryptedTextField
from orders.models import Establishment


class ConnectionQuerySet(models.QuerySet):
    def healthy(self):
        return self.filter(last_failed_at__isnull=True)


class Connection(models.Model):
    """An establishment's link to one HubRise location, through our OAuth client.

    HubRise tokens never expire; a 401 means the restaurant must reconnect, so
    the failure is kept here (and shown to staff) until a call succeeds again.
    """

    class CallbackMode(models.TextChoices):
        NONE = "none", _("None")
        ACTIVE = "active", _("Active (webhook)")
        PASSIVE = "passive", _("Passive (polling)")

    establishment = models.OneToOneField(
        Establishment, on_delete=models.CASCADE, related_name="hubrise_connection", verbose_name=_("establishment")
    )
    access_token = EncryptedTextField(_("access token"))
    account_id = models.CharField(_("account id"), max_length=64, blank=True)
    account_name = models.CharField(_("account"), max_length=200, blank=True)
    location_id = models.CharField(_("location id"), max_length=64, db_index=True)
    location_name = models.CharField(_("location"), max_length=200, blank=True)
    catalog_id = models.CharField(_("catalog id"), max_length=64, blank=True)
    catalog_name = models.CharField(_("catalog"), max_length=200, blank=True)
    customer_list_id = models.CharField(_("customer list id"), max_length=64, blank=True)
    customer_list_name = models.CharField(_("customer list"), max_length=200, blank=True)
    callback_mode = models.CharField(_("callback"), max_length=16, choices=CallbackMode.choices, default=CallbackMode.NONE)
    connected_at = models.DateTimeField(_("connected since"), default=timezone.now)
    connected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    last_success_at = models.DateTimeField(_("last successful call"), null=True, blank=True)
    last_failed_at = models.DateTimeField(_("last failure"), null=True, blank=True)
    last_failed_reason = models.TextField(_("last failure reason"), blank=True)
    # HubRise asks an app receiving orders to acknowledge each new one with "received" (its
    # integration guide, "Updating orders"); off unless the manager wants the delivery platforms
    # to see the order reached the restaurant before staff accept it (docs/hubrise/orders-from-other-apps.md).
    acknowledge_new_orders = models.BooleanField(
        _("acknowledge new orders"),
        default=False,
        help_text=_("Tell HubRise at once that each order created by another app has reached the back office (“received”)."),
    )
    # When the open orders of the last 24 hours at HubRise were imported, after the first connection.
    open_orders_imported_at = models.DateTimeField(_("open orders imported at"), null=True, blank=True)
    # When the manager answered the one-time offer to send the orders recorded before the connection.
    earlier_orders_answered_at = models.DateTimeField(_("earlier orders offer answered at"), null=True, blank=True)

    objects = ConnectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("HubRise connection")
        verbose_name_plural = _("HubRise connections")

    def __str__(self) -> str:
        return f"{self.establishment} → {self.location_name or self.location_id}"

    @property
    def is_broken(self) -> bool:
        return self.last_failed_at is not None

    def mark_broken(self, reason: str) -> None:
        type(self).objects.filter(pk=self.pk).update(last_failed_at=timezone.now(), last_failed_reason=reason)

    def mark_healthy(self) -> None:
        type(self).objects.filter(pk=self.pk).update(last_success_at=timezone.now(), last_failed_at=None, last_failed_reason="")

    @property
    def masked_token(self) -> str:
        return "••••" + self.access_token[-4:] if self.access_token else ""
