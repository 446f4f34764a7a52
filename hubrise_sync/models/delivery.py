from django.db import models
from django.utils.translation import gettext_lazy as _

from orders.models import Order


class OrderDelivery(models.Model):
    """The courier of an order, as HubRise's delivery object says (docs/hubrise/deliveries.md).

    Written from the ``delivery`` of an order's states and from ``delivery.create`` /
    ``delivery.update`` events; ``changed_at`` is HubRise's time of the newest
    change kept, so that an older event arriving late never rolls it back.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for a courier")
        PICKUP_ENROUTE = "pickup_enroute", _("Courier on the way to the restaurant")
        PICKUP_APPROACHING = "pickup_approaching", _("Courier arriving at the restaurant")
        PICKUP_WAITING = "pickup_waiting", _("Courier waiting at the restaurant")
        DROPOFF_ENROUTE = "dropoff_enroute", _("Courier on the way to the guest")
        DROPOFF_APPROACHING = "dropoff_approaching", _("Courier arriving at the guest")
        DROPOFF_WAITING = "dropoff_waiting", _("Courier waiting at the guest")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Delivery cancelled")

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="hubrise_delivery", verbose_name=_("order"))
    hubrise_delivery_id = models.CharField(_("HubRise delivery id"), max_length=64, blank=True)
    carrier = models.CharField(_("carrier"), max_length=200, blank=True)
    ref = models.CharField(_("tracking number"), max_length=200, blank=True)
    status = models.CharField(_("delivery status"), max_length=32, blank=True)
    estimated_pickup_at = models.DateTimeField(_("estimated pickup"), null=True, blank=True)
    estimated_dropoff_at = models.DateTimeField(_("estimated drop-off"), null=True, blank=True)
    driver_name = models.CharField(_("courier"), max_length=200, blank=True)
    driver_phone = models.CharField(_("courier's phone"), max_length=64, blank=True)
    tracking_url = models.URLField(_("tracking page"), max_length=1000, blank=True)
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)
    # The object as HubRise last sent it, for admins (fields we do not show, such as the fee).
    raw = models.JSONField(_("as HubRise sent it"), default=dict, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    def __str__(self) -> str:
        return f"{self.order_id}: {self.carrier} {self.status}"

    @property
    def status_label(self) -> str:
        return self.Status(self.status).label if self.status in self.Status.values else self.status
