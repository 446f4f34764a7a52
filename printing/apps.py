from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrintingConfig(AppConfig):
    name = "printing"
    verbose_name = _("Kitchen tickets")

    def ready(self) -> None:
        from orders import extensions, signals

        # Registers the tasks in every process (web too), so that a drain queued by name runs eagerly
        # where CELERY_TASK_ALWAYS_EAGER is set.
        from printing import jobs, tasks  # noqa: F401

        # Print jobs are written inside the order's own transaction (orders.signals).
        signals.order_created.connect(jobs.on_order_created, dispatch_uid="printing_order_created")
        # Whether the establishment has printers, read with the API key: an order of one without any skips their query.
        extensions.intake_facts["has_printers"] = jobs.has_printers
        signals.status_changed.connect(jobs.on_status_changed, dispatch_uid="printing_status_changed")
        # Each order's print state, loaded with the order pages' own queries.
        extensions.list_prefetch_related.append("print_jobs")
        extensions.detail_prefetch_related.append("print_jobs")
        extensions.establishment_menu.append((_("Printers"), "printing:printers"))
        extensions.establishment_banners.append("printing/_printer_banner.html")
        extensions.order_detail_sections.append("printing/_order_section.html")
        extensions.order_row_extras.append("printing/_order_row.html")
