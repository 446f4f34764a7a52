"""Admin of printing: printers (removed through the same service as the page), settings, print jobs with their attempts."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from printing import services
from printing.models import PrintAttempt, Printer, PrintJob, PrintSettings


@admin.register(Printer)
class PrinterAdmin(admin.ModelAdmin):
    list_display = ["name", "establishment", "host", "port", "paper_width", "ticket_kind", "failing_since", "last_success_at"]
    list_filter = ["establishment", "ticket_kind", "paper_width"]
    search_fields = ["name", "host"]
    list_select_related = ["establishment"]
    readonly_fields = ["failing_since", "problem", "last_error", "last_success_at", "created_at"]
    actions = ["print_test_page"]

    def delete_model(self, request: HttpRequest, obj: Printer) -> None:
        services.remove_printer(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for printer in queryset:
            services.remove_printer(printer)

    @admin.action(description=_("Print a test page"))
    def print_test_page(self, request: HttpRequest, queryset: QuerySet) -> None:
        for printer in queryset:
            services.print_test_page(printer, requested_by=request.user)
        messages.success(
            request, ngettext("%(count)d test page sent.", "%(count)d test pages sent.", len(queryset)) % {"count": len(queryset)}
        )


@admin.register(PrintSettings)
class PrintSettingsAdmin(admin.ModelAdmin):
    list_display = ["establishment", "auto_print"]
    list_select_related = ["establishment"]


class PrintAttemptInline(admin.TabularInline):
    model = PrintAttempt
    extra = 0
    can_delete = False
    fields = ["started_at", "outcome", "duration_ms", "bytes_sent", "error"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(PrintJob)
class PrintJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "order",
        "printer_name",
        "reason",
        "state",
        "attempts",
        "created_at",
        "next_attempt_at",
        "printed_at",
        "last_error",
    ]
    list_filter = ["state", "reason", "establishment"]
    search_fields = ["order__ref", "printer_name", "last_error"]
    list_select_related = ["order", "establishment"]
    date_hierarchy = "created_at"
    inlines = [PrintAttemptInline]
    readonly_fields = [
        "establishment",
        "order",
        "printer",
        "printer_name",
        "reason",
        "state",
        "requested_by",
        "created_at",
        "next_attempt_at",
        "queued_until",
        "leased_until",
        "attempts",
        "may_have_printed",
        "last_error",
        "printed_at",
    ]
    fields = readonly_fields
    actions = ["retry_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Send the waiting tickets of their printers now"))
    def retry_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        printers = Printer.objects.filter(jobs__in=queryset).distinct()
        count = sum(services.retry_now(printer) for printer in printers)
        messages.success(
            request, ngettext("%(count)d ticket sent again.", "%(count)d tickets sent again.", count) % {"count": count}
        )
