"""Printing pages: the printers of an establishment, the print view of a ticket, and the print buttons.

Every member sees the printers page; only managers add, change, test or remove
printers and change the settings (staff get the page read-only and a 403 on
the actions). Another establishment's ids are a 404, as everywhere.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orders import selectors as order_selectors
from orders.models import Establishment
from orders.permissions import is_manager
from printing import services
from printing.forms import AutoPrintForm, PrinterForm
from printing.models import Printer, TicketKind
from printing.ticket import order_ticket


def _establishment(request: HttpRequest, establishment_id: int) -> Establishment:
    return order_selectors.establishment_for(request.user, establishment_id)


def _managed(request: HttpRequest, establishment_id: int) -> Establishment:
    establishment = _establishment(request, establishment_id)
    if not is_manager(request.user, establishment):
        raise PermissionDenied
    return establishment


def _render(request: HttpRequest, establishment: Establishment, template: str, context: dict, status: int = 200) -> HttpResponse:
    with timezone.override(establishment.tzinfo):
        return render(request, template, {"establishment": establishment, **context}, status=status)


def _back(request: HttpRequest, default: str) -> HttpResponse:
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    return redirect(default)


# Printers and settings ---------------------------------------------------------------


@login_required
@require_GET
def printers(request: HttpRequest, establishment_id: int) -> HttpResponse:
    establishment = _establishment(request, establishment_id)
    context = {
        "printers": Printer.objects.filter(establishment=establishment),
        "can_manage": is_manager(request.user, establishment),
        "settings_form": AutoPrintForm(initial={"auto_print": services.settings_of(establishment).auto_print}),
    }
    return _render(request, establishment, "printing/printers.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def printer_form(request: HttpRequest, establishment_id: int, printer_id: int | None = None) -> HttpResponse:
    establishment = _managed(request, establishment_id)
    printer = get_object_or_404(Printer, establishment=establishment, pk=printer_id) if printer_id else None
    form = PrinterForm(request.POST or None, instance=printer, establishment=establishment)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, _("Printer “%(name)s” saved.") % {"name": saved.name})
        return redirect("printing:printers", establishment_id=establishment.pk)
    status = 400 if request.method == "POST" else 200
    return _render(request, establishment, "printing/printer_form.html", {"form": form, "printer": printer}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def printer_delete(request: HttpRequest, establishment_id: int, printer_id: int) -> HttpResponse:
    establishment = _managed(request, establishment_id)
    printer = get_object_or_404(Printer, establishment=establishment, pk=printer_id)
    waiting = printer.jobs.filter(state="pending").count()
    if request.method == "POST":
        failed = services.remove_printer(printer)
        messages.success(request, _("Printer “%(name)s” removed.") % {"name": printer.name})
        if failed:
            messages.warning(
                request,
                ngettext(
                    "%(count)d waiting ticket could not go to another printer: print it again from its order.",
                    "%(count)d waiting tickets could not go to another printer: print them again from their orders.",
                    failed,
                )
                % {"count": failed},
            )
        return redirect("printing:printers", establishment_id=establishment.pk)
    return _render(request, establishment, "printing/printer_delete.html", {"printer": printer, "waiting": waiting})


@login_required
@require_POST
def printer_test(request: HttpRequest, establishment_id: int, printer_id: int) -> HttpResponse:
    establishment = _managed(request, establishment_id)
    printer = get_object_or_404(Printer, establishment=establishment, pk=printer_id)
    services.print_test_page(printer, requested_by=request.user)
    messages.success(request, _("Test page sent to “%(name)s”.") % {"name": printer.name})
    return redirect("printing:printers", establishment_id=establishment.pk)


@login_required
@require_POST
def printer_retry(request: HttpRequest, establishment_id: int, printer_id: int) -> HttpResponse:
    """Staff put paper back or switched the printer on: its waiting tickets go now. Any member may."""
    establishment = _establishment(request, establishment_id)
    printer = get_object_or_404(Printer, establishment=establishment, pk=printer_id)
    count = services.retry_now(printer)
    messages.info(
        request,
        ngettext("%(count)d ticket sent again to “%(name)s”.", "%(count)d tickets sent again to “%(name)s”.", count)
        % {"count": count, "name": printer.name},
    )
    return _back(request, reverse("printing:printers", args=[establishment.pk]))


@login_required
@require_POST
def auto_print(request: HttpRequest, establishment_id: int) -> HttpResponse:
    establishment = _managed(request, establishment_id)
    form = AutoPrintForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose when to print automatically."))
        return redirect("printing:printers", establishment_id=establishment.pk)
    services.save_auto_print(establishment, form.cleaned_data["auto_print"])
    messages.success(request, _("Printing settings saved."))
    return redirect("printing:printers", establishment_id=establishment.pk)


@login_required
@require_GET
def banner(request: HttpRequest, establishment_id: int) -> HttpResponse:
    """The printers' banner alone, which refreshes itself on every page of the establishment."""
    establishment = _establishment(request, establishment_id)
    # Its "try again" button brings staff back to the page they are on, not to this fragment.
    back = urlsplit(request.headers.get("HX-Current-URL", "")).path
    return _render(request, establishment, "printing/_printer_banner.html", {"back": back, "refreshed": True})


# An order's ticket ------------------------------------------------------------------------


@login_required
@require_GET
def ticket_view(request: HttpRequest, establishment_id: int, order_id: int) -> HttpResponse:
    """The ticket alone, for a browser printing on the tablet's USB printer (static/js/print_ticket.js)."""
    establishment = _establishment(request, establishment_id)
    order = order_selectors.order_for(establishment, order_id)
    receipt = request.GET.get("kind") == TicketKind.RECEIPT
    narrow = request.GET.get("width") == "58"
    with timezone.override(establishment.tzinfo):
        ticket = order_ticket(order, receipt=receipt, columns=32 if narrow else 48)
    context = {"order": order, "ticket": ticket, "receipt": receipt, "narrow": narrow}
    return _render(request, establishment, "printing/ticket_print.html", context)


@login_required
@require_POST
def print_order(request: HttpRequest, establishment_id: int, order_id: int) -> HttpResponse:
    """Send the order to the establishment's printers: a duplicate when it was printed before."""
    establishment = _establishment(request, establishment_id)
    order = get_object_or_404(order_selectors.orders_of(establishment), pk=order_id)
    jobs = services.print_order(order, requested_by=request.user)
    if not jobs:
        messages.error(request, _("This establishment has no printer: a manager can add one on the Printers page."))
    elif jobs[0].reason == jobs[0].Reason.REPRINT:
        messages.success(request, _("Duplicate of order %(ref)s sent to the printers.") % {"ref": order.ref})
    else:
        messages.success(request, _("Order %(ref)s sent to the printers.") % {"ref": order.ref})
    return _back(request, reverse("orders:detail", args=[establishment.pk, order.pk]))


@login_required
@require_GET
def order_print_state(request: HttpRequest, establishment_id: int, order_id: int) -> HttpResponse:
    """The order page's printing section alone, refreshed every few seconds."""
    establishment = _establishment(request, establishment_id)
    order = get_object_or_404(order_selectors.orders_of(establishment).prefetch_related("print_jobs"), pk=order_id)
    return _render(request, establishment, "printing/_order_section.html", {"order": order})
