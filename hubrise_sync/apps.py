from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HubriseSyncConfig(AppConfig):
    name = "hubrise_sync"
    verbose_name = "HubRise"

    def ready(self) -> None:
        # Registers the Celery tasks in every process (web too): hubrise_sync.queue queues them by
        # name, and a registered task honours CELERY_TASK_ALWAYS_EAGER where send_task would not.
        from hubrise_sync import catalog_push, checks, location_sync, tasks  # noqa: F401 (checks registers the system checks)
        from hubrise_sync.outbox import kinds
        from orders import extensions

        # Each kind of outbox message writes its message from the orders signal that calls for it.
        kinds.connect_receivers()
        # The pause, busy mode and preparation time go to the HubRise location.
        location_sync.connect_receivers()
        # Menu edits (when the manager wants them sent) and availability go to the catalog and inventory.
        catalog_push.connect_receivers()
        # What the sync badge reads, loaded with the order pages' own queries.
        extensions.list_select_related.append("hubrise")
        # Without the stored HubRise payload of each message (JSON the badge never shows).
        from django.db.models import Prefetch

        from hubrise_sync.models import OutboxMessage

        extensions.list_prefetch_related.append(Prefetch("hubrise_messages", queryset=OutboxMessage.objects.defer("payload")))
        extensions.detail_prefetch_related.append("hubrise_messages__attempts_log")
        # The badge and the broken-connection banner read the connection from
        # the page's establishment, loaded in the list's own query.
        extensions.establishment_select_related.append("hubrise_connection")
        # The create message of each new order reads it too.
        extensions.intake_select_related.append("hubrise_connection")
        extensions.establishment_menu.append((_("HubRise"), "hubrise:settings"))
        extensions.establishment_banners.append("hubrise_sync/_connection_banner.html")
        # The courier of a delivery order, joined by the pages' own queries (a one-to-one: no query per row).
        extensions.list_select_related.append("hubrise_delivery")
        extensions.order_detail_sections.append("hubrise_sync/_delivery_section.html")
        extensions.order_row_extras.append("hubrise_sync/_delivery_row.html")
