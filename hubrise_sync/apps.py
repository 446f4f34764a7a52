from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HubriseSyncConfig(AppConfig):
    name = "hubrise_sync"
    verbose_name = "HubRise"

    def ready(self) -> None:
        from hubrise_sync import checks, push  # noqa: F401 (checks registers itself)
        from orders import extensions, signals

        signals.order_created.connect(push.on_order_created, dispatch_uid="hubrise_push_order_created")
        signals.status_changed.connect(push.on_status_changed, dispatch_uid="hubrise_push_status_changed")
        # What the sync badge reads, loaded with the order pages' own queries.
        extensions.list_select_related.append("hubrise")
        extensions.list_prefetch_related.append("hubrise_messages")
        extensions.detail_prefetch_related.append("hubrise_messages__attempts_log")
        # The badge and the broken-connection banner read the connection from
        # the page's establishment, loaded in the list's own query.
        extensions.establishment_select_related.append("hubrise_connection")
        extensions.establishment_menu.append((_("HubRise"), "hubrise:settings"))
        extensions.establishment_banners.append("hubrise_sync/_connection_banner.html")
