from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from orders import extensions

        # The orders app's own pages come first in the top bar, before those other apps add.
        extensions.establishment_menu[0:0] = [(_("Today"), "orders:today"), (_("Service"), "orders:service")]
        # Whether orders are paused or the kitchen very busy: on every page, as long as it lasts.
        extensions.establishment_banners.insert(0, "orders/_service_banner.html")

        from django.db.models.signals import post_delete

        from orders import live_poll
        from orders.models import Membership

        # Every way a membership ends (the team page, the admin, a deleted user or establishment): the live
        # refresh stops answering that user for that establishment at once (orders.live_poll).
        post_delete.connect(
            lambda sender, instance, **kwargs: live_poll.revoke(instance.user_id, instance.establishment_id),
            sender=Membership,
            weak=False,
            dispatch_uid="orders_membership_revokes_live_poll",
        )

        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save

        def deactivated(sender, instance, **kwargs) -> None:
            # Django refuses an inactive user's session at once; the live refresh's grants would last their 2 minutes.
            if not instance.is_active:
                for establishment_id in Membership.objects.filter(user=instance).values_list("establishment_id", flat=True):
                    live_poll.revoke(instance.pk, establishment_id)

        post_save.connect(deactivated, sender=get_user_model(), weak=False, dispatch_uid="orders_inactive_user_revokes_live_poll")
